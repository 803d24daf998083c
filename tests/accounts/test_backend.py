"""accounts.backends.ModelBackend: the same permissions as Django's backend, read with the
user's role groups in one query (``User.access``)."""

import pytest
from django.contrib.auth import backends as django_backends
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.backends import ModelBackend
from accounts.enums import Role
from accounts.models import User

pytestmark = pytest.mark.django_db


def fresh(user: User) -> User:
    """The user as a request loads it: no permission or role read yet."""
    return User.objects.get(pk=user.pk)


@pytest.mark.parametrize("name", ["partner", "kasubbid", "member", "kabid", "kaban", "admin", "norole"])
def test_every_role_has_the_permissions_django_gives_it(cast, name):
    user = cast[name]
    assert ModelBackend().get_all_permissions(fresh(user)) == django_backends.ModelBackend().get_all_permissions(
        fresh(user)
    )
    assert fresh(user).role_names == frozenset(fresh(user).groups.values_list("name", flat=True))


def test_own_and_group_permissions_are_both_read(cast):
    member = cast["member"]
    own = Permission.objects.get(content_type__app_label="reports", codename="view_download_log")
    member.user_permissions.add(own)
    extra = Group.objects.create(name="Uji tanpa izin")  # a group without permissions is still a role name
    member.groups.add(extra)
    user = fresh(member)
    assert user.has_perm("reports.view_download_log")
    assert user.has_perm("lokus.add_activityplan") == django_backends.ModelBackend().has_perm(
        fresh(member), "lokus.add_activityplan"
    )
    assert {"Uji tanpa izin", Role.MEMBER.value} <= user.role_names
    assert ModelBackend().get_all_permissions(user) == django_backends.ModelBackend().get_all_permissions(fresh(member))


def test_roles_and_permissions_cost_one_query(cast):
    user = fresh(cast["kasubbid"])
    with CaptureQueriesContext(connection) as queries:
        assert user.has_role(Role.KASUBBID)
        assert user.has_perm("reports.review_as_kasubbid")
        assert not user.has_perm("reports.review_as_kabid")
        user.get_all_permissions()
    assert len(queries) == 1


def test_an_inactive_user_has_no_permission_and_no_role(cast):
    user = cast["kasubbid"]
    user.is_active = False
    user.save(update_fields=["is_active"])
    user = fresh(user)
    assert ModelBackend().get_all_permissions(user) == set()
    assert not user.has_perm("reports.review_as_kasubbid")
    assert user.role_names == frozenset()


def test_a_superuser_has_every_permission(cast):
    user = cast["norole"]
    user.is_superuser = True
    user.save(update_fields=["is_superuser"])
    assert ModelBackend().get_all_permissions(fresh(user)) == {
        f"{app}.{codename}" for app, codename in Permission.objects.values_list("content_type__app_label", "codename")
    }
