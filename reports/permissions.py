"""Who may read and act on activity reports.

Readers: the Korlap of the lokus (django-guardian object permission ``coordinate_lokus``),
the Kasubbid of the lokus's sub-division, the Kabid and the Kepala Badan. Team members
contribute their own member reports but do not read the compiled intelligence report. Who
may act in each state is ``reports.models.holds``, used as the transitions' permission."""

from django.db.models import Q, QuerySet
from guardian.core import ObjectPermissionChecker

from accounts.enums import Role
from lokus.enums import LokusState
from lokus.models import Lokus, LokusUserObjectPermission
from reports.enums import HOLDER, Level
from reports.models import ActivityReport, holds


def _active(user) -> bool:
    return user.is_authenticated and user.is_active


def _coordinated_lokus_ids(user):
    return LokusUserObjectPermission.objects.filter(user=user, permission__codename="coordinate_lokus").values(
        "content_object_id"
    )


def reports_for(user) -> QuerySet[ActivityReport]:
    if not _active(user):
        return ActivityReport.objects.none()
    if user.has_perm("reports.review_as_kabid") or user.has_perm("reports.review_as_kaban"):
        return ActivityReport.objects.all()
    rule = Q(lokus_id__in=_coordinated_lokus_ids(user))
    if user.has_perm("reports.review_as_kasubbid") and user.has_role(Role.KASUBBID) and user.sub_division_id:
        rule |= Q(lokus__sub_division_id=user.sub_division_id)
    return ActivityReport.objects.filter(rule)


def can_view_report(user, report: ActivityReport) -> bool:
    if not _active(user):
        return False
    if user.has_perm("reports.review_as_kabid") or user.has_perm("reports.review_as_kaban"):
        return True
    if (
        user.has_perm("reports.review_as_kasubbid")
        and user.has_role(Role.KASUBBID)
        and user.sub_division_id
        and user.sub_division_id == report.lokus.sub_division_id
    ):
        return True
    return user.has_perm("lokus.coordinate_lokus", report.lokus)


def can_act(user, report: ActivityReport) -> bool:
    return holds(report, user)


def held_reports(user, reports) -> set[int]:
    """The pks of the (fetched, ``select_related("lokus")``) reports the user acts on now:
    ``holds`` for each, with the Korlap's object permissions read for all rows at once
    (two queries) instead of a django-guardian query per row in lists and queues."""
    reports = list(reports)
    if not _active(user):
        return set()
    korlap = [r for r in reports if HOLDER.get(r.state) == Level.KORLAP]
    checker = ObjectPermissionChecker(user)
    if korlap:
        checker.prefetch_perms([r.lokus for r in korlap])
    held = {r.pk for r in korlap if checker.has_perm("coordinate_lokus", r.lokus)}
    return held | {r.pk for r in reports if HOLDER.get(r.state) != Level.KORLAP and holds(r, user)}


def can_start_report(user, lokus: Lokus) -> bool:
    """The Korlap starts the team's report once the team has been dispatched."""
    return (
        _active(user)
        and lokus.state in (LokusState.DISPATCHED, LokusState.RUNNING, LokusState.FIELD_DONE)
        and user.has_perm("lokus.coordinate_lokus", lokus)
        and not ActivityReport.objects.filter(lokus=lokus).exists()
    )


def may_list_reports(user) -> bool:
    return _active(user) and (
        user.has_perm("reports.review_as_kasubbid")
        or user.has_perm("reports.review_as_kabid")
        or user.has_perm("reports.review_as_kaban")
        or LokusUserObjectPermission.objects.filter(user=user, permission__codename="coordinate_lokus").exists()
    )


def may_view_download_log(user) -> bool:
    return _active(user) and user.has_perm("reports.view_download_log")
