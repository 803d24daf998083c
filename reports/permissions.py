"""Who may read and act on activity reports: the one place for these rules.

The chain has four levels (``reports.enums.Level``). At each level one rule says who reviews
a report there:

- Korlap: the coordinator of the lokus, the django-guardian object permission
  ``coordinate_lokus`` that the dispatch grants (read through ``lokus.permissions``:
  ``is_coordinator`` for one lokus, ``coordinated_lokus_ids`` for lists);
- Kasubbid: the Kasubbid of the lokus's sub-division;
- Kabid Kesbang and Kepala Badan: every report.

A user reads a report when they review it at some level, and acts on it (holds it) when they
review it at the level that holds it in its state (``reports.enums.HOLDER``). Team members
contribute their own member reports but do not read the compiled intelligence report.

Each level's rule is written once, in two forms side by side: ``_reviews_at`` for one report
and ``_scope`` as a filter for lists; tests/reports/test_list_agreement.py checks that they
agree for every user of the cast and every state. The transitions' ``permission=``
(``reports.models._holder_acts``), the services, the views, the menu entry and the list
querysets all call the functions below.

Steps: a transition of the chain (by its method name), ``EDIT`` or ``EXCUSE`` is open in the
states of ``OPEN_IN`` (from the chain's maps in ``reports.enums``); ``can_take_step`` is
"open now and the user holds the report". When it refuses a reader,
``reports.services.ensure_step_open`` answers 403 only if the step waits for someone else
and ``was_open_to`` says it was never theirs on this report; otherwise it explains.

Import cycle: the models' transitions call ``can_act``, and these rules read the models. This
module imports the module (``from reports import models``), never names from it, and reads
``models.ActivityReport`` only when a function runs; models.py calls into this module only
inside a function. So either module may be imported first, and neither needs an import
inside a function."""

from __future__ import annotations

import operator
from functools import reduce

from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.db.models.lookups import Exact

from accounts.enums import Role
from lokus import permissions as lokus_permissions
from lokus.enums import LokusState
from lokus.models import Lokus
from reports import models
from reports.enums import EDITABLE, HOLDER, STEPS, Level

REVIEW_PERMISSION = {
    Level.KASUBBID: "reports.review_as_kasubbid",
    Level.KABID: "reports.review_as_kabid",
    Level.KABAN: "reports.review_as_kaban",
}
# The states each level holds the report in.
HELD_AT = {level: frozenset(state for state, holder in HOLDER.items() if holder == level) for level in Level}
# The Korlap's check reads django-guardian's table; the others only the user's cached permissions.
_CHEAPEST_FIRST = (Level.KABAN, Level.KABID, Level.KASUBBID, Level.KORLAP)

# Where each step is open: the transitions of the chain (by method name), and the two
# changes the holder makes without moving the report.
EDIT, EXCUSE = "edit", "excuse"
OPEN_IN: dict[str, frozenset[str]] = {
    **{name: frozenset(moves) for name, moves in STEPS.items()},
    EDIT: frozenset(EDITABLE),
    EXCUSE: HELD_AT[Level.KORLAP],
}


def _active(user) -> bool:
    return user.is_authenticated and user.is_active


def _kasubbid_sub_division_id(user) -> int | None:
    """The sub-division whose reports the user reviews as its Kasubbid (None: no Kasubbid)."""
    if user.has_perm(REVIEW_PERMISSION[Level.KASUBBID]) and user.has_role(Role.KASUBBID):
        return user.sub_division_id
    return None


def _reviews_at(level: Level, user, report: models.ActivityReport) -> bool:
    """The rule of one level, for one report."""
    if level == Level.KORLAP:
        return lokus_permissions.is_coordinator(user, report.lokus)
    if level == Level.KASUBBID:
        sub_division_id = _kasubbid_sub_division_id(user)
        return sub_division_id is not None and sub_division_id == report.lokus.sub_division_id
    return user.has_perm(REVIEW_PERMISSION[level])


def _scope(level: Level, user, *, few: bool = False) -> Q | None:
    """The same rule as a filter on reports (None: no report at all).

    ``few``: the filter also keeps only the few states a level holds the report in. The
    lokus's sub-division is then read for each of those reports by its primary key (an
    index probe each) instead of joining the lokus: joined, PostgreSQL reads every lokus
    to hash them (a sequential scan of the whole table on every home page of a Kasubbid)."""
    if level == Level.KORLAP:
        return Q(lokus_id__in=lokus_permissions.coordinated_lokus_ids(user))
    if level == Level.KASUBBID:
        sub_division_id = _kasubbid_sub_division_id(user)
        if sub_division_id is None:
            return None
        if few:
            of_lokus = Lokus.objects.filter(pk=OuterRef("lokus_id")).order_by().values("sub_division_id")
            return Q(Exact(Subquery(of_lokus), sub_division_id))
        return Q(lokus__sub_division_id=sub_division_id)
    return Q(pk__isnull=False) if user.has_perm(REVIEW_PERMISSION[level]) else None


def _reports_where(user, *, held_now: bool) -> QuerySet[models.ActivityReport]:
    rules = []
    if _active(user):
        for level in Level:
            scope = _scope(level, user, few=held_now)
            if scope is not None:
                rules.append(scope & Q(state__in=HELD_AT[level]) if held_now else scope)
    if not rules:
        return models.ActivityReport.objects.none()
    return models.ActivityReport.objects.filter(reduce(operator.or_, rules))


# Reading -------------------------------------------------------------------------------------


def reports_for(user) -> QuerySet[models.ActivityReport]:
    """Every report the user may read: the list, and the fetch of every report page."""
    return _reports_where(user, held_now=False)


def can_view_report(user, report: models.ActivityReport) -> bool:
    return _active(user) and any(_reviews_at(level, user, report) for level in _CHEAPEST_FIRST)


def may_list_reports(user) -> bool:
    """The menu entry and the list page: whoever reviews reports at some level."""
    return _active(user) and (
        any(user.has_perm(permission) for permission in REVIEW_PERMISSION.values())
        or lokus_permissions.coordinated_lokus_ids(user).exists()
    )


def may_view_download_log(user) -> bool:
    return _active(user) and user.has_perm("reports.view_download_log")


# Acting --------------------------------------------------------------------------------------


def holds_in(user, report: models.ActivityReport, state: str) -> bool:
    """Whether the user holds this report when it is in ``state``: they review it at the
    level that holds it there."""
    level = HOLDER.get(state)
    return _active(user) and level is not None and _reviews_at(level, user, report)


def can_act(user, report: models.ActivityReport) -> bool:
    """Whether the user holds the report now: the transitions' permission."""
    return holds_in(user, report, report.state)


def reports_held_by(user) -> QuerySet[models.ActivityReport]:
    """Every report the user must act on now (``can_act`` for lists): the home queue."""
    return _reports_where(user, held_now=True)


def held_reports(user, reports) -> set[int]:
    """The pks of those (fetched) reports the user acts on now, in one query for any number."""
    pks = [report.pk for report in reports]
    if not pks:
        return set()
    return set(reports_held_by(user).filter(pk__in=pks).values_list("pk", flat=True))


def can_take_step(user, report: models.ActivityReport, step: str) -> bool:
    """The step (a transition's name, ``EDIT`` or ``EXCUSE``) is open in the report's state and
    the user holds the report."""
    return report.state in OPEN_IN[step] and can_act(user, report)


def was_open_to(user, report: models.ActivityReport, step: str) -> bool:
    """Whether the step was ever the user's to take on this report: the report has been in a
    state where the step is open and the user holds it. A page of theirs from then may still
    show its button (a second tab, a page left open)."""
    states = [state for state in OPEN_IN[step] if holds_in(user, report, state)]
    return bool(states) and report.log.filter(to_state__in=states).exists()


def can_start_report(user, lokus: Lokus) -> bool:
    """The Korlap starts the team's report once the team has been dispatched."""
    return (
        lokus.state in (LokusState.DISPATCHED, LokusState.RUNNING, LokusState.FIELD_DONE)
        and lokus_permissions.is_coordinator(user, lokus)
        and not models.ActivityReport.objects.filter(lokus=lokus).exists()
    )
