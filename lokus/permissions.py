"""Who may see or do what with plans and lokus (need-to-know).

Each list queryset and the matching single-object check are built from the same rule, so a
list never shows what the detail page would refuse, and tests check that they agree.

- Partners see only the plans they submitted.
- Kasubbid, Kabid and Kepala Badan see every plan (the Kasubbid's queue, the leadership).
- A Kasubbid sees the lokus of their own sub-division; Kabid and Kepala Badan see all.
- A team member sees only the lokus they are on: the dispatch service grants them the
  django-guardian object permission ``view_lokus`` (and ``coordinate_lokus`` to the Korlap).
- The administrator configures people and standards but reads no field content.
"""

from django.db.models import Q, QuerySet

from accounts.enums import Role
from lokus.models import ActivityPlan, Assignment, Lokus, LokusUserObjectPermission


def _active(user) -> bool:
    return user.is_authenticated and user.is_active


# Plans -------------------------------------------------------------------------------------


def plans_for(user) -> QuerySet[ActivityPlan]:
    if not _active(user):
        return ActivityPlan.objects.none()
    if user.has_perm("lokus.view_activityplan"):
        return ActivityPlan.objects.all()
    if user.has_perm("lokus.add_activityplan"):
        return ActivityPlan.objects.filter(submitted_by=user)
    return ActivityPlan.objects.none()


def can_view_plan(user, plan: ActivityPlan) -> bool:
    if not _active(user):
        return False
    if user.has_perm("lokus.view_activityplan"):
        return True
    return user.has_perm("lokus.add_activityplan") and plan.submitted_by_id == user.pk


def can_submit_plan(user) -> bool:
    return _active(user) and user.has_perm("lokus.add_activityplan")


def submits_on_behalf(user) -> bool:
    """Kesbangpol staff enter plans on behalf of a partner or the public; partners submit
    for their own agency."""
    return can_submit_plan(user) and not user.has_role(Role.PARTNER)


def can_decide_plans(user) -> bool:
    return _active(user) and user.has_perm("lokus.decide_activityplan") and user.sub_division_id is not None


# Lokus -------------------------------------------------------------------------------------


def _member_lokus_ids(user):
    return LokusUserObjectPermission.objects.filter(user=user, permission__codename="view_lokus").values(
        "content_object_id"
    )


def lokus_for(user) -> QuerySet[Lokus]:
    if not _active(user):
        return Lokus.objects.none()
    if user.has_perm("lokus.view_all_lokus"):
        return Lokus.objects.all()
    rule = Q(pk__in=_member_lokus_ids(user))
    if user.has_perm("lokus.dispatch_lokus") and user.sub_division_id is not None:
        rule |= Q(sub_division_id=user.sub_division_id)
    return Lokus.objects.filter(rule)


def can_view_lokus(user, lokus: Lokus) -> bool:
    if not _active(user):
        return False
    if user.has_perm("lokus.view_all_lokus"):
        return True
    if can_manage_lokus(user, lokus):
        return True
    return user.has_perm("lokus.view_lokus", lokus)


def can_manage_lokus(user, lokus: Lokus) -> bool:
    """The Kasubbid of the lokus's sub-division: edits it, composes and dispatches the team."""
    return (
        _active(user)
        and user.has_perm("lokus.dispatch_lokus")
        and user.sub_division_id is not None
        and user.sub_division_id == lokus.sub_division_id
    )


def is_coordinator(user, lokus: Lokus) -> bool:
    return _active(user) and user.has_perm("lokus.coordinate_lokus", lokus)


def assignment_of(user, lokus: Lokus) -> Assignment | None:
    """The user's own place on the team, only once the team was dispatched to them."""
    if not _active(user) or not user.has_perm("lokus.view_lokus", lokus):
        return None
    return Assignment.objects.filter(lokus=lokus, member=user).first()


def assignments_for(user) -> QuerySet[Assignment]:
    if not _active(user):
        return Assignment.objects.none()
    return Assignment.objects.filter(member=user, lokus__in=_member_lokus_ids(user))


def receives_escalations(user, lokus: Lokus) -> bool:
    return can_manage_lokus(user, lokus) or user.has_role(Role.KABID)


def may_view_access_log(user) -> bool:
    """Who viewed or downloaded classified objects: the Kepala Badan."""
    return _active(user) and user.has_perm("core.view_access_records")
