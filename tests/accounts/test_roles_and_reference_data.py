import pytest
from django.contrib.auth.models import Group

from accounts.enums import Role
from accounts.models import Qualification, SubDivision
from accounts.roles import ROLE_PERMISSIONS
from lokus.models import Kecamatan, Kelurahan
from lokus.wilayah import load_wilayah

pytestmark = pytest.mark.django_db


def test_every_role_group_exists_after_migrate():
    assert set(Group.objects.values_list("name", flat=True)) >= {role.value for role in Role}


@pytest.mark.parametrize("role", list(Role))
def test_role_group_holds_its_permissions(role):
    group = Group.objects.get(name=role.value)
    held = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}
    assert set(ROLE_PERMISSIONS[role]) <= held


def test_administrator_can_configure_people_and_reference_data():
    group = Group.objects.get(name=Role.ADMIN.value)
    codenames = set(group.permissions.values_list("codename", flat=True))
    assert {"change_user", "add_user", "change_agency", "change_kelurahan", "change_qualification"} <= codenames


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
