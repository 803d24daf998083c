import pytest
from django.urls import reverse

from accounts.models import User

pytestmark = pytest.mark.django_db

NOT_POSTED = {"password", "last_login", "date_joined", "qualifications"}


def change_form_data(client, change_url):
    """The admin change form's current values, as a browser would post them back."""
    form = client.get(change_url).context["adminform"].form
    return {k: v for k, v in form.initial.items() if v is not None and k not in NOT_POSTED}


ADMIN_URLS = [
    "admin:index",
    "admin:accounts_user_changelist",
    "admin:accounts_user_add",
    "admin:accounts_agency_changelist",
    "admin:accounts_subdivision_changelist",
    "admin:accounts_qualification_changelist",
    "admin:lokus_kecamatan_changelist",
    "admin:lokus_kelurahan_changelist",
]


@pytest.mark.parametrize("url_name", ADMIN_URLS)
def test_administrator_reaches_admin(client_for, url_name):
    response = client_for("admin").get(reverse(url_name))
    assert response.status_code == 200


@pytest.mark.parametrize("who", [None, "partner", "kasubbid", "member", "kabid", "kaban", "norole"])
@pytest.mark.parametrize("url_name", ADMIN_URLS)
def test_admin_refused_to_other_roles(client_for, who, url_name):
    response = client_for(who).get(reverse(url_name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_admin_is_in_indonesian(client_for):
    html = client_for("admin").get(reverse("admin:index")).content.decode()
    assert "Administrasi Lokus" in html


def test_admin_user_list_filters_by_role_and_sub_division(client_for, cast):
    from django.contrib.auth.models import Group

    client = client_for("admin")
    group = Group.objects.get(name="Kasubbid")
    response = client.get(reverse("admin:accounts_user_changelist"), {"groups__id__exact": group.pk})
    shown = {u.username for u in response.context["cl"].result_list}
    assert shown == {"kasubbid", "kasubbid.lain"}
    wasdin = cast["kasubbid"].sub_division
    response = client.get(reverse("admin:accounts_user_changelist"), {"sub_division__id__exact": wasdin.pk})
    shown = {u.username for u in response.context["cl"].result_list}
    assert shown == {"kasubbid", "anggota", "korlap"}
    response = client.get(reverse("admin:accounts_user_changelist"), {"q": "kasubbid.lain"})
    assert [u.username for u in response.context["cl"].result_list] == ["kasubbid.lain"]


def test_administrator_creates_user_and_gives_role(client_for, cast):
    from django.contrib.auth.models import Group

    client = client_for("admin")
    response = client.post(
        reverse("admin:accounts_user_add"),
        {
            "username": "anggota.baru",
            "full_name": "Anggota Baru",
            "usable_password": "true",
            "password1": "Sandi-Anggota-Baru-1",
            "password2": "Sandi-Anggota-Baru-1",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    user = User.objects.get(username="anggota.baru")
    member_group = Group.objects.get(name="Anggota Mitigasi")
    change_url = reverse("admin:accounts_user_change", args=[user.pk])
    data = change_form_data(client, change_url)
    data.update(
        {
            "full_name": "Anggota Baru",
            "nip": "199001012015011001",
            "sub_division": cast["member"].sub_division_id,
            "groups": [member_group.pk],
            "is_active": "on",
        }
    )
    response = client.post(change_url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    user.refresh_from_db()
    assert user.nip == "199001012015011001"
    assert list(user.groups.values_list("name", flat=True)) == ["Anggota Mitigasi"]


def test_admin_rejects_bad_nip_with_clear_message(client_for, cast):
    client = client_for("admin")
    user = cast["member"]
    change_url = reverse("admin:accounts_user_change", args=[user.pk])
    data = change_form_data(client, change_url)
    data.update({"nip": "12345", "groups": [g.pk for g in user.groups.all()], "is_active": "on"})
    response = client.post(change_url, data)
    assert response.status_code == 200
    assert "NIP harus tepat 18 digit." in response.content.decode()
    user.refresh_from_db()
    assert user.nip == ""
