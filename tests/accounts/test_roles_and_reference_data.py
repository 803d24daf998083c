import pytest
from django.contrib.auth.models import Group

from accounts import roles as accounts_roles
from accounts.enums import Role
from accounts.models import Qualification, SubDivision
from lokus import roles as lokus_roles
from lokus.models import Kecamatan, Kelurahan
from lokus.wilayah import load_wilayah
from reports import roles as reports_roles

pytestmark = pytest.mark.django_db

# Every model permission of every role, written out: a permission added to or dropped from a
# role's declaration (accounts/roles.py, lokus/roles.py, reports/roles.py) fails here until
# this table says so too. Object-level access lives in each app's permissions.py instead.
PLANS = {"lokus.add_activityplan", "lokus.view_activityplan"}
EXPECTED = {
    Role.PARTNER: {"lokus.add_activityplan"},
    Role.KASUBBID: PLANS | {"lokus.decide_activityplan", "lokus.dispatch_lokus", "reports.review_as_kasubbid"},
    Role.MEMBER: set(),
    Role.KABID: PLANS | {"lokus.view_all_lokus", "reports.review_as_kabid"},
    Role.KABAN: {
        "lokus.view_activityplan",
        "lokus.view_all_lokus",
        "core.view_access_records",
        "reports.review_as_kaban",
        "reports.view_download_log",
    },
    Role.ADMIN: {
        "accounts.view_user",
        "accounts.add_user",
        "accounts.change_user",
        "accounts.view_agency",
        "accounts.add_agency",
        "accounts.change_agency",
        "accounts.view_subdivision",
        "accounts.add_subdivision",
        "accounts.change_subdivision",
        "accounts.view_qualification",
        "accounts.add_qualification",
        "accounts.change_qualification",
        "accounts.view_rolepolicy",
        "accounts.change_rolepolicy",
        "auth.view_group",
        "axes.view_accessattempt",
        "axes.delete_accessattempt",
        "axes.view_accessfailurelog",
        "accounts.view_outgoingmail",
        "accounts.change_outgoingmail",
        "lokus.view_kecamatan",
        "lokus.add_kecamatan",
        "lokus.change_kecamatan",
        "lokus.view_kelurahan",
        "lokus.add_kelurahan",
        "lokus.change_kelurahan",
        "lokus.view_stepstandard",
        "lokus.change_stepstandard",
        "reports.view_letterhead",
        "reports.change_letterhead",
    },
}


def held_by(role: Role) -> set[str]:
    group = Group.objects.get(name=role.value)
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}


def declared(role: Role) -> set[str]:
    """The union of the apps' declarations (accounts' own list is extended by the others in
    their ``ready()``; the union does not rely on that having happened)."""
    return {
        perm
        for declarations in (
            accounts_roles.ROLE_PERMISSIONS,
            lokus_roles.ROLE_PERMISSIONS,
            reports_roles.ROLE_PERMISSIONS,
        )
        for perm in declarations.get(role, [])
    }


def test_the_role_groups_are_exactly_the_roles_after_migrate():
    assert set(Group.objects.values_list("name", flat=True)) == {role.value for role in Role}


@pytest.mark.parametrize("role", list(Role))
def test_role_group_holds_exactly_its_declared_permissions(role):
    held = held_by(role)
    assert held == declared(role), "granted after migrate must be what the apps declare, no more, no less"
    assert held == EXPECTED[role]
    assert set(accounts_roles.ROLE_PERMISSIONS[role]) == EXPECTED[role], "the apps' ready() extended the roles"


def test_the_table_covers_every_role():
    assert set(EXPECTED) == set(Role)


def test_the_access_log_permission_belongs_to_core():
    """It moved with the access log from lokus to core: the old codename is gone."""
    assert "core.view_access_records" in held_by(Role.KABAN)
    assert not any(perm.startswith("lokus.view_access") for role in Role for perm in held_by(role))


def test_sub_divisions_and_qualifications_seeded():
    assert set(SubDivision.objects.values_list("code", flat=True)) == {"wasdin", "wasbang"}
    assert Qualification.objects.count() == 6
    assert Qualification.objects.filter(name="Mediasi dan negosiasi").exists()


def test_wilayah_counts_and_codes():
    assert Kecamatan.objects.count() == 13
    assert Kelurahan.objects.count() == 104
    for kel in Kelurahan.objects.select_related("kecamatan"):
        assert kel.code.startswith(kel.kecamatan.code + ".")
        assert kel.code.startswith("36.71.")
    assert Kelurahan.objects.get(code="36.71.01.1001").name == "Sukarasa"
    assert Kecamatan.objects.get(code="36.71.01").kelurahan.count() == 8


def test_wilayah_loader_is_idempotent():
    assert load_wilayah(Kecamatan, Kelurahan) == (13, 104)
    assert Kecamatan.objects.count() == 13
    assert Kelurahan.objects.count() == 104
