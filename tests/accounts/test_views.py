import pytest
from django.urls import reverse

from accounts.enums import Role
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db


def test_login_and_logout(client, cast):
    response = client.post(reverse("login"), {"username": "kasubbid", "password": TEST_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert client.get(reverse("home")).context["user"].username == "kasubbid"

    # Logging out is a change: GET is refused, POST works.
    assert client.get(reverse("logout")).status_code == 405
    assert client.get(reverse("home")).status_code == 200
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_login_failure_does_not_reveal_which_part_was_wrong(client, cast):
    wrong_password = client.post(reverse("login"), {"username": "kabid", "password": "salah-sekali-123"})
    no_such_user = client.post(reverse("login"), {"username": "tidak.ada", "password": "salah-sekali-123"})
    assert wrong_password.status_code == no_such_user.status_code == 200
    assert wrong_password.context["form"].non_field_errors() == no_such_user.context["form"].non_field_errors()
    assert "dan sandi yang benar" in wrong_password.content.decode()


def test_inactive_user_cannot_sign_in(client, cast):
    cast["kabid"].is_active = False
    cast["kabid"].save()
    response = client.post(reverse("login"), {"username": "kabid", "password": TEST_PASSWORD})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_anonymous_home_redirects_to_login(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next=/"


@pytest.mark.parametrize(
    ("who", "role_label", "sub_division"),
    [
        ("partner", Role.PARTNER.label, "tidak ada"),
        ("kasubbid", Role.KASUBBID.label, "Kewaspadaan Dini (Wasdin)"),
        ("other_kasubbid", Role.KASUBBID.label, "Wawasan Kebangsaan (Wasbang)"),
        ("member", Role.MEMBER.label, "Kewaspadaan Dini (Wasdin)"),
        ("kabid", Role.KABID.label, "tidak ada"),
        ("kaban", Role.KABAN.label, "tidak ada"),
        ("admin", Role.ADMIN.label, "tidak ada"),
    ],
)
def test_home_shows_user_roles_and_sub_division(client_for, who, role_label, sub_division):
    client = client_for(who)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    html = response.content.decode()
    assert str(role_label) in html
    assert sub_division in html
    assert f"Selamat datang, {response.context['user'].full_name}" in html


def test_home_offers_administration_only_to_the_administrator(client_for):
    admin_url = reverse("admin:index")
    assert admin_url in client_for("admin").get(reverse("home")).content.decode()
    for who in ["partner", "kasubbid", "member", "kabid", "kaban", "norole"]:
        assert admin_url not in client_for(who).get(reverse("home")).content.decode(), who


def test_user_without_role_is_told_so(client_for):
    html = client_for("norole").get(reverse("home")).content.decode()
    assert "Belum ada peran" in html


def test_password_change(client, cast):
    client.force_login(cast["member"])
    response = client.post(
        reverse("password_change"),
        {"old_password": TEST_PASSWORD, "new_password1": "pendek", "new_password2": "pendek"},
    )
    assert response.status_code == 200
    assert "setidaknya 12 karakter" in response.content.decode()
    response = client.post(
        reverse("password_change"),
        {
            "old_password": TEST_PASSWORD,
            "new_password1": "Kata-Sandi-Baru-2025!",
            "new_password2": "Kata-Sandi-Baru-2025!",
        },
    )
    assert response.status_code == 302
    cast["member"].refresh_from_db()
    assert cast["member"].check_password("Kata-Sandi-Baru-2025!")


def test_language_switch(client, cast):
    client.force_login(cast["kabid"])
    assert "Beranda" in client.get(reverse("home")).content.decode()
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    html = client.get(reverse("home")).content.decode()
    assert "Welcome," in html
    assert '<html lang="en">' in html
    client.post(reverse("set_language"), {"language": "id", "next": "/"})
    assert "Selamat datang" in client.get(reverse("home")).content.decode()


def test_browser_language_does_not_override_indonesian(client, cast):
    client.force_login(cast["kabid"])
    html = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert "Selamat datang" in html
