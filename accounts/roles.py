"""Which model permissions each role (Django group) holds.

Groups are created by a data migration; this mapping is applied after every migrate (see
``AccountsConfig.ready``) so that permissions of models added later are granted too.
Object-level access (a member's own lokus, a Kasubbid's own sub-division) is decided by
``permissions.py`` in each app and django-guardian, not here.
"""

from django.apps import apps as global_apps
from django.db import DEFAULT_DB_ALIAS

from accounts.enums import Role

# The permissions of this app's (and Django's and django-axes') models; every app above
# adds its own with ``extend_role_permissions`` in its ``AppConfig.ready()``.
ROLE_PERMISSIONS: dict[Role, list[str]] = {
    Role.PARTNER: [],
    Role.KASUBBID: [],
    Role.MEMBER: [],
    Role.KABID: [],
    Role.KABAN: [],
    Role.ADMIN: [
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
        "auth.view_group",
        "accounts.view_rolepolicy",
        "accounts.change_rolepolicy",
        "axes.view_accessattempt",
        "axes.delete_accessattempt",
        "axes.view_accessfailurelog",
        # The outgoing e-mail list; "change" is the send-again action (the rows are read-only).
        "accounts.view_outgoingmail",
        "accounts.change_outgoingmail",
    ],
}


def extend_role_permissions(extra: dict[Role, list[str]]) -> None:
    """Let other apps add the permissions of their models to the roles."""
    for role, perms in extra.items():
        for perm in perms:
            if perm not in ROLE_PERMISSIONS[role]:
                ROLE_PERMISSIONS[role].append(perm)


def sync_role_permissions(sender=None, using=DEFAULT_DB_ALIAS, apps=global_apps, **kwargs) -> None:
    """Create the role groups if missing and grant each its listed permissions
    that exist in the database (permissions of not-yet-migrated models are skipped)."""
    try:
        group_model = apps.get_model("auth", "Group")
        permission_model = apps.get_model("auth", "Permission")
    except LookupError:
        return
    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = group_model.objects.using(using).get_or_create(name=role.value)
        wanted = []
        for perm in perms:
            app_label, codename = perm.split(".")
            wanted.extend(
                permission_model.objects.using(using).filter(content_type__app_label=app_label, codename=codename)
            )
        # Add only: an administrator may grant a role more in the admin; that is kept.
        group.permissions.add(*wanted)
