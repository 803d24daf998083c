"""Who may see or do what with plans, lokus and field work (need-to-know), each rule once.

Everything that enforces a rule calls the predicate here: the transitions' ``permission=``
(lokus/models.py), the services, the views, the menu entries (lokus/navigation.py) and the
list querysets. Each list queryset and the matching single-object check are built from the
same rule, so a list never shows what the detail page would refuse; a test checks that they
agree for every role (tests/lokus/test_services.py).

- Partners see only the plans they submitted.
- Kasubbid, Kabid and Kepala Badan see every plan (the Kasubbid's queue, the leadership).
- A Kasubbid decides plans, and manages the lokus of their own sub-division; Kabid and
  Kepala Badan see every lokus.
- A team member sees only the lokus they are on: ``services.lokus_dispatch`` grants them the
  django-guardian object permission ``view_lokus`` (and ``coordinate_lokus`` to the Korlap).
  Guardian's table is the one store of team access: the object checks read it through
  ``user.has_perm(..., lokus)``, the lists through ``member_lokus_ids`` and
  ``coordinated_lokus_ids`` (which the reports app uses too, instead of the table).
- The administrator configures people and standards but reads no field content.

Predicates take (user, object). django-fsm calls a transition's permission with (instance,
user): the model passes it on in a one-line lambda that names the predicate here.

Imports: ``lokus.models`` imports this module for those lambdas and this module reads the
models, so it imports ``lokus.models`` as a module and looks up ``models.Lokus`` etc. only
inside the functions, and the models look up the predicates only when a lambda runs. Neither
module's body then needs the other finished, whichever is imported first.
"""

from __future__ import annotations

from django.contrib.auth.models import Permission
from django.db.models import QuerySet, Subquery
from guardian.core import ObjectPermissionChecker

from accounts.enums import Role
from lokus import models


def _active(user) -> bool:
    return user.is_authenticated and user.is_active


def grants_reader(user) -> ObjectPermissionChecker:
    """A reader of the user's django-guardian grants for the checks of one page: each
    object's grants are then read once (two queries), however many checks the page makes
    on it. Its answers are ``user.has_perm(perm, obj)``'s, whose guardian backend asks a
    new reader like this one on every call."""
    return ObjectPermissionChecker(user)


def _granted(user, perm: str, lokus: models.Lokus, grants: ObjectPermissionChecker | None) -> bool:
    return grants.has_perm(perm, lokus) if grants is not None else user.has_perm(perm, lokus)


def _kasubbid(user) -> bool:
    """A Kasubbid placed in a sub-division: steps 2 and 3 are done per sub-division."""
    return user.has_role(Role.KASUBBID) and user.sub_division_id is not None


# Plans -------------------------------------------------------------------------------------


def sees_all_plans(user) -> bool:
    """Kesbangpol staff (Kasubbid, Kabid, Kepala Badan): every plan with its timing and
    timeline, and the calendar."""
    return _active(user) and user.has_perm("lokus.view_activityplan")


def can_submit_plan(user) -> bool:
    return _active(user) and user.has_perm("lokus.add_activityplan")


def submits_on_behalf(user) -> bool:
    """Kesbangpol staff enter plans on behalf of a partner or the public; partners submit
    for their own agency."""
    return can_submit_plan(user) and not user.has_role(Role.PARTNER)


def may_list_plans(user) -> bool:
    return sees_all_plans(user) or can_submit_plan(user)


def plans_for(user) -> QuerySet[models.ActivityPlan]:
    if sees_all_plans(user):
        return models.ActivityPlan.objects.all()
    if can_submit_plan(user):
        return models.ActivityPlan.objects.filter(submitted_by=user)
    return models.ActivityPlan.objects.none()


def can_view_plan(user, plan: models.ActivityPlan) -> bool:
    if sees_all_plans(user):
        return True
    return can_submit_plan(user) and plan.submitted_by_id == user.pk


def can_decide_plans(user) -> bool:
    """Step 2 is the Kasubbid's: choose a plan as a lokus of their sub-division, or not."""
    return _active(user) and user.has_perm("lokus.decide_activityplan") and _kasubbid(user)


def can_decide_plan(user, plan: models.ActivityPlan) -> bool:
    """The permission of ``ActivityPlan.choose`` and ``mark_not_chosen``. It does not look
    at the plan's status: an already decided plan is a refusal that says by whom, not a 403."""
    return can_decide_plans(user) and can_view_plan(user, plan)


# Lokus -------------------------------------------------------------------------------------


def _granted_lokus_ids(user, codename: str) -> QuerySet:
    table = models.LokusUserObjectPermission.objects
    if not _active(user):
        return table.none().values("content_object_id")
    # The permission as a scalar subquery rather than a join on its codename: PostgreSQL then
    # estimates the user's grants from the table's statistics (a join made it guess about a
    # hundred for a member with thousands, and drive every list of theirs from the grants).
    permission = (
        Permission.objects.filter(content_type__app_label="lokus", codename=codename).order_by().values("pk")[:1]
    )
    return table.filter(user=user, permission_id=Subquery(permission)).values("content_object_id")


def member_lokus_ids(user) -> QuerySet:
    """The ids (a subquery) of the lokus whose team the user was dispatched with: the
    django-guardian ``view_lokus`` grants made by ``services.lokus_dispatch``."""
    return _granted_lokus_ids(user, "view_lokus")


def coordinated_lokus_ids(user) -> QuerySet:
    """The ids (a subquery) of the lokus the user coordinates as Korlap: the
    django-guardian ``coordinate_lokus`` grants made by ``services.lokus_dispatch``."""
    return _granted_lokus_ids(user, "coordinate_lokus")


def sees_all_lokus(user) -> bool:
    """The leadership (Kabid, Kepala Badan)."""
    return _active(user) and user.has_perm("lokus.view_all_lokus")


def is_lokus_manager(user) -> bool:
    """A Kasubbid who composes and dispatches the teams of their sub-division's lokus."""
    return _active(user) and user.has_perm("lokus.dispatch_lokus") and _kasubbid(user)


def oversees_lokus(user) -> bool:
    """The office's view of the lokus list (the menu entry): leadership and Kasubbid."""
    return _active(user) and (user.has_perm("lokus.view_all_lokus") or user.has_perm("lokus.dispatch_lokus"))


def may_list_lokus(user) -> bool:
    """The lokus list page: the office, and field officers (who see their own lokus)."""
    return oversees_lokus(user) or may_list_assignments(user)


def managed_lokus(user) -> QuerySet[models.Lokus]:
    """The lokus ``can_manage_lokus`` allows: those of the Kasubbid's own sub-division."""
    if not is_lokus_manager(user):
        return models.Lokus.objects.none()
    return models.Lokus.objects.filter(sub_division_id=user.sub_division_id)


def can_manage_lokus(user, lokus: models.Lokus) -> bool:
    """The Kasubbid of the lokus's sub-division: edits it, composes and dispatches the team
    (also the permission of ``Lokus.dispatch``)."""
    return is_lokus_manager(user) and user.sub_division_id == lokus.sub_division_id


def lokus_for(user) -> QuerySet[models.Lokus]:
    if sees_all_lokus(user):
        return models.Lokus.objects.all()
    return managed_lokus(user) | models.Lokus.objects.filter(pk__in=member_lokus_ids(user))


def can_view_lokus(user, lokus: models.Lokus) -> bool:
    if sees_all_lokus(user) or can_manage_lokus(user, lokus):
        return True
    return _active(user) and user.has_perm("lokus.view_lokus", lokus)


def is_coordinator(user, lokus: models.Lokus, grants: ObjectPermissionChecker | None = None) -> bool:
    """``grants``: the page's ``grants_reader`` (the grants read once for all its checks)."""
    return _active(user) and _granted(user, "lokus.coordinate_lokus", lokus, grants)


# The team's own assignments ------------------------------------------------------------------


def may_list_assignments(user) -> bool:
    """Field officers (Anggota Mitigasi), including the Korlap."""
    return _active(user) and user.has_role(Role.MEMBER)


def assignments_for(user) -> QuerySet[models.Assignment]:
    if not _active(user):
        return models.Assignment.objects.none()
    return models.Assignment.objects.filter(member=user, lokus__in=member_lokus_ids(user))


def assignment_of(
    user,
    lokus: models.Lokus,
    team: list[models.Assignment] | None = None,
    grants: ObjectPermissionChecker | None = None,
) -> models.Assignment | None:
    """The user's own place on the team, only once the team was dispatched to them.
    ``team``: the lokus's assignments when the caller has them already (the grant is then
    read only for a user on the team); ``grants``: the page's ``grants_reader``."""
    if team is not None:
        own = next((a for a in team if a.member_id == user.pk), None)
        return own if own is not None and _active(user) and _granted(user, "lokus.view_lokus", lokus, grants) else None
    if not _active(user) or not _granted(user, "lokus.view_lokus", lokus, grants):
        return None
    return models.Assignment.objects.filter(lokus=lokus, member=user).first()


def is_own_assignment(user, assignment: models.Assignment) -> bool:
    """The permission of the member's own steps (confirm, start, report): only the member."""
    return _active(user) and assignment.member_id == user.pk


def receives_escalations(user, lokus: models.Lokus) -> bool:
    return can_manage_lokus(user, lokus) or (_active(user) and user.has_role(Role.KABID))


def follows_escalations(user) -> bool:
    """The Kasubbid and the leadership see recent escalations of the lokus they may see."""
    return _active(user) and user.has_role(Role.KASUBBID, Role.KABID, Role.KABAN)


def may_view_access_log(user) -> bool:
    """Who viewed or downloaded classified objects: the Kepala Badan."""
    return _active(user) and user.has_perm("core.view_access_records")
