import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from accounts.enums import Role
from accounts.models import Agency, Qualification, RolePolicy, SubDivision, User
from lokus.models import Kecamatan, Kelurahan

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


def _listed(response, field: str) -> set:
    return {getattr(row, field) for row in response.context["cl"].result_list}


def _index_shows(response, cast):
    shown = {model["object_name"] for app in response.context["app_list"] for model in app["models"]}
    configured = {"User", "Agency", "SubDivision", "Qualification", "RolePolicy", "Kecamatan", "Kelurahan"}
    assert configured <= shown
    assert "Administrasi Lokus" in response.content.decode()


def _users_listed(response, cast):
    assert _listed(response, "username") == {user.username for user in cast.values()}


def _add_user_form(response, cast):
    assert set(response.context["adminform"].form.fields) == {
        "username",
        "full_name",
        "usable_password",
        "password1",
        "password2",
    }


def _agencies_listed(response, cast):
    assert _listed(response, "name") == set(Agency.objects.values_list("name", flat=True))
    assert {"Polres Uji", "Kelurahan Uji"} <= _listed(response, "name")


def _sub_divisions_listed(response, cast):
    assert _listed(response, "code") == {"wasdin", "wasbang"} == set(SubDivision.objects.values_list("code", flat=True))


def _qualifications_listed(response, cast):
    names = _listed(response, "name")
    assert len(names) == Qualification.objects.count() == 6
    assert "Mediasi dan negosiasi" in names


def _kecamatan_listed(response, cast):
    assert _listed(response, "code") == set(Kecamatan.objects.values_list("code", flat=True))
    assert len(_listed(response, "code")) == 13


def _kelurahan_listed(response, cast):
    cl = response.context["cl"]
    assert cl.result_count == Kelurahan.objects.count() == 104
    assert len(cl.result_list) == cl.list_per_page  # the first page of two
    html = response.content.decode()
    assert all(kelurahan.name in html for kelurahan in cl.result_list)


# What each admin page shows the administrator.
ADMIN_PAGES = {
    "admin:index": _index_shows,
    "admin:accounts_user_changelist": _users_listed,
    "admin:accounts_user_add": _add_user_form,
    "admin:accounts_agency_changelist": _agencies_listed,
    "admin:accounts_subdivision_changelist": _sub_divisions_listed,
    "admin:accounts_qualification_changelist": _qualifications_listed,
    "admin:lokus_kecamatan_changelist": _kecamatan_listed,
    "admin:lokus_kelurahan_changelist": _kelurahan_listed,
}


def test_every_admin_page_has_its_check():
    assert set(ADMIN_PAGES) == set(ADMIN_URLS)


@pytest.mark.parametrize("url_name", ADMIN_URLS)
def test_administrator_reaches_admin(client_for, cast, url_name):
    response = client_for("admin").get(reverse(url_name))
    assert response.status_code == 200
    ADMIN_PAGES[url_name](response, cast)


@pytest.mark.parametrize("who", [None, "partner", "kasubbid", "member", "kabid", "kaban", "norole"])
@pytest.mark.parametrize("url_name", ADMIN_URLS)
def test_admin_refused_to_other_roles(client_for, cast, who, url_name):
    response = client_for(who).get(reverse(url_name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    assert response.context is None or "cl" not in response.context


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


def test_administrator_renames_a_kelurahan(client_for):
    kelurahan = Kelurahan.objects.get(code="36.71.01.1001")
    change_url = reverse("admin:lokus_kelurahan_change", args=[kelurahan.pk])
    client = client_for("admin")
    data = change_form_data(client, change_url)
    data["name"] = "Sukarasa Baru"

    response = client.post(change_url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    kelurahan.refresh_from_db()
    assert kelurahan.name == "Sukarasa Baru"
    assert kelurahan.code == "36.71.01.1001"


def test_administrator_switches_two_factor_for_a_role_in_the_list(client_for):
    policies = list(RolePolicy.objects.order_by("pk"))
    kasubbid = Group.objects.get(name=Role.KASUBBID.value)
    data = {
        "form-TOTAL_FORMS": str(len(policies)),
        "form-INITIAL_FORMS": str(len(policies)),
        "_save": "Simpan",
    }
    for i, policy in enumerate(policies):
        data[f"form-{i}-id"] = str(policy.pk)
        data[f"form-{i}-idle_timeout_minutes"] = str(policy.idle_timeout_minutes)
        if policy.requires_two_factor or policy.group_id == kasubbid.pk:
            data[f"form-{i}-requires_two_factor"] = "on"

    response = client_for("admin").post(reverse("admin:accounts_rolepolicy_changelist"), data)

    assert response.status_code == 302
    strict = set(RolePolicy.objects.filter(requires_two_factor=True).values_list("group__name", flat=True))
    assert strict == {Role.KABID.value, Role.KABAN.value, Role.ADMIN.value, Role.KASUBBID.value}
