"""The step occurrences (``monev.models.StepOccurrence``): where they come from and how the
stored copy is kept in step with the rows they come from.

One row per time a step of the SOP ran for a plan, a lokus or a report, with when it started,
when it ended (NULL while it is still open), who ended it, and the sub-division and kecamatan
it belongs to. The rows come from the timestamps the product already keeps, by the rules the
pages show:

- steps 1-2 from the plan (``lokus.selectors.plan_decision_timing``: step 1 is the moment the
  plan was received, step 2 runs from its receipt to the Kasubbid's decision);
- steps 3-5 from the lokus and its team (``lokus.selectors.lokus_timings``: step 3 from the
  choice to the dispatch, step 4 from the dispatch to the last member's "Siap" once all have
  confirmed, step 5 from the start of field work, or the scheduled start, to its end or the
  last member's report, due at the scheduled end, ``field_work_due``);
- steps 6-15 from the report's log (``reports.selectors.step_spans``: each state lasts from
  the move into it to the move out of it, found with a window function, LAG, over the moves
  of each report; the step of a state is ``reports.enums.STEP_OF_STATE``; a state reached
  again after a return is a new occurrence); while a report waits in a state, its step is
  open since ``state_changed_at`` (``reports.selectors.due_at``); a lokus whose field work is
  done and whose team report was not started yet has step 6 open since the end of field
  work, as the Korlap's work queue shows it;
- the whole chain ("step 0") from the plan's receipt to the report's final approval,
  against the SOP's 20 hours (``reports.selectors.chain_elapsed``, ``SOP_TOTAL``);
- besides, one row per member and step 4 or 5 (their own "Siap" and their own report), for
  the figures per officer.

The sources are ORM querysets joined with UNION ALL; ``INSERT ... SELECT`` writes their rows.

Keeping the copy true:

- every save or delete of a plan, lokus, assignment, report or report log row (the
  ``post_save``/``post_delete`` signals connected in ``monev.apps``) marks its plan; after
  the transaction commits, the marked plans' rows are replaced (``refresh``, one DELETE and
  one INSERT ... SELECT, under a lock per plan so that two refreshes of one plan never
  interleave). Tests set ``MONEV_OCCURRENCES_IMMEDIATE`` (tests/conftest.py): the rows are
  replaced at once, inside the test's transaction, as nothing commits there;
- writes that send no signal (``bulk_create``, ``QuerySet.update``, a restore) are followed
  by ``manage.py refresh_monev`` (``rebuild``): ``seed_scale`` and ``restore`` run it, and the
  nightly job (``home/tasks.py``) rebuilds the whole table anyway.

The standard is not stored: the figures read the Mutu Baku of the moment (``monev.metrics``)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable

from django.conf import settings
from django.db import connection, transaction
from django.db.models import (
    BooleanField,
    Case,
    Count,
    DateTimeField,
    Exists,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
    Window,
)
from django.db.models.functions import Cast, Coalesce, ExtractMonth, ExtractYear, Lag
from django.utils import timezone

from lokus.enums import LokusState, PlanStatus
from lokus.models import ActivityPlan, Assignment, Lokus, StepStandard
from monev.models import StepOccurrence
from reports.enums import RETURN_STATE, STEP_OF_STATE, ReportState
from reports.models import ActivityReport, ReportLog
from reports.selectors import SOP_TOTAL

log = logging.getLogger(__name__)

CHAIN = 0  # the "step" number of the whole chain, plan received to final approval

# The columns each source gives, in the order of ``StepOccurrence``'s columns (``_COLUMNS``).
SOURCE_COLUMNS = (
    "o_kind",
    "o_step",
    "o_plan",
    "o_lokus",
    "o_report",
    "o_sub",
    "o_scope",
    "o_shared",
    "o_kecamatan",
    "o_actor",
    "o_started",
    "o_ended",
    "o_due",
    "o_returned",
    "o_rounds",
    "o_month",
    "o_keep",  # 1: a row to store (the window's source keeps earlier moves for LAG)
)
_COLUMNS = (
    "seconds",
    "month",
    "minutes",
    "late",
    "on_time",
    "kind",
    "step",
    "plan_id",
    "lokus_id",
    "report_id",
    "sub_division_id",
    "scope_id",
    "shared",
    "kecamatan_id",
    "actor_id",
    "started_at",
    "ended_at",
    "due_at",
    "returned",
    "rounds",
)


# Expressions -----------------------------------------------------------------------------------


def _null(output_field):
    """A typed NULL: every branch of the UNION ALL must give each column the same type."""
    return Cast(Value(None), output_field=output_field)


def _flag(condition: Q) -> Case:
    return Case(When(condition, then=Value(1)), default=Value(0), output_field=IntegerField())


def _boolean(condition: Q | None) -> Case | Value:
    if condition is None:
        return Value(False, output_field=BooleanField())
    return Case(When(condition, then=Value(True)), default=Value(False), output_field=BooleanField())


def _with_team(lokus: QuerySet, field_name: str) -> QuerySet:
    """The lokus with their team's size, how many members have ``field_name`` and the last
    of them (one join and GROUP BY: each expression that reads them is computed once)."""
    return lokus.annotate(
        team=Count("assignments"),
        team_done=Count(f"assignments__{field_name}"),
        team_last=Max(f"assignments__{field_name}"),
    )


def _team_done() -> Case:
    """The last member's time once every member of the team has one (NULL while anyone has
    not, or without a team): ``lokus_timings``' all_confirmed and all_reported, on a queryset
    from ``_with_team``."""
    return Case(
        When(team__gt=0, team=F("team_done"), then=F("team_last")),
        default=Value(None),
        output_field=DateTimeField(),
    )


def _field_work_started(prefix: str = ""):
    """Step 5's start (``lokus_timings``): field work started, or the scheduled start once
    the team is dispatched."""
    return Case(
        When(**{f"{prefix}field_started_at__isnull": False}, then=F(f"{prefix}field_started_at")),
        When(**{f"{prefix}dispatched_at__isnull": False}, then=F(f"{prefix}starts_at")),
        default=Value(None),
        output_field=DateTimeField(),
    )


def _step_of(state_field: str):
    return Case(
        *(When(**{state_field: state}, then=Value(step)) for state, step in STEP_OF_STATE.items()),
        default=Value(None),
        output_field=IntegerField(),
    )


def _occurrences(
    qs: QuerySet,
    *,
    kind: str,
    step,
    plan,
    lokus,
    report,
    sub,
    kecamatan,
    actor,
    started,
    ended,
    scope=None,
    shared: Q | None = None,
    due=None,
    returned: Q | None = None,
    rounds=None,
    keep: Q | None = None,
    where: Q | None = None,
) -> QuerySet:
    """One source: ``qs`` with the columns of ``SOURCE_COLUMNS``; ``scope`` defaults to
    ``sub``, ``where`` limits the rows stored."""
    integer = IntegerField()

    def given(value, output_field):
        if value is None:
            return _null(output_field)
        return Value(value, output_field=output_field) if isinstance(value, int) else value

    qs = qs.annotate(
        o_kind=Value(kind),
        o_step=given(step, integer),
        o_plan=plan,
        o_lokus=given(lokus, integer),
        o_report=given(report, integer),
        o_sub=given(sub, integer),
        o_scope=given(scope if scope is not None else sub, integer),
        o_shared=_boolean(shared),
        o_kecamatan=kecamatan,
        o_actor=given(actor, integer),
        o_started=started,
        o_ended=given(ended, DateTimeField()),
        o_due=given(due, DateTimeField()),
        o_returned=_boolean(returned),
        o_rounds=given(rounds, integer),
        o_keep=_flag(keep) if keep is not None else Value(1, output_field=integer),
    )
    # The month of the end in WIB, by Django's own time zone conversion.
    wib = timezone.get_default_timezone()
    qs = qs.annotate(o_month=ExtractYear("o_ended", tzinfo=wib) * 100 + ExtractMonth("o_ended", tzinfo=wib))
    if where is not None:
        qs = qs.filter(where)
    return qs.values(*SOURCE_COLUMNS)


def _ended_or_open() -> Q:
    """A row worth storing: ended, or open with a start."""
    return Q(o_ended__isnull=False) | Q(o_started__isnull=False)


# The sources -----------------------------------------------------------------------------------


def _plan_sources(plans: QuerySet) -> list[QuerySet]:
    # A decided plan counts for the sub-division that decided it (monev.permissions): the
    # lokus's, or the Kasubbid's who declined it; one waiting for a decision, for every one.
    sub = Coalesce(F("lokus__sub_division_id"), F("decided_by__sub_division_id"))
    scope = Coalesce(
        F("lokus__sub_division_id"),
        Case(When(status=PlanStatus.NOT_CHOSEN, then=F("decided_by__sub_division_id")), default=Value(None)),
    )
    common = {
        "plan": F("pk"),
        "lokus": F("lokus__id"),
        "report": None,
        "sub": sub,
        "scope": scope,
        "shared": Q(status=PlanStatus.RECEIVED),
        "kecamatan": F("kecamatan_id"),
    }
    return [
        _occurrences(
            plans,
            kind="step",
            step=1,
            actor=F("submitted_by_id"),
            started=F("submitted_at"),
            ended=F("submitted_at"),
            where=Q(submitted_at__isnull=False),
            **common,
        ),
        _occurrences(
            plans,
            kind="step",
            step=2,
            actor=F("decided_by_id"),
            started=F("submitted_at"),
            ended=F("decided_at"),
            where=Q(decided_at__isnull=False) | Q(status=PlanStatus.RECEIVED),
            **common,
        ),
    ]


def _lokus_sources(lokus: QuerySet) -> list[QuerySet]:
    common = {
        "plan": F("plan_id"),
        "lokus": F("pk"),
        "report": None,
        "sub": F("sub_division_id"),
        "kecamatan": F("plan__kecamatan_id"),
    }
    dispatched = Q(dispatched_at__isnull=False)
    return [
        _occurrences(
            lokus,
            kind="step",
            step=3,
            actor=F("dispatched_by_id"),
            started=F("created_at"),
            ended=F("dispatched_at"),
            **common,
        ),
        _occurrences(
            _with_team(lokus.filter(dispatched), "confirmed_at"),
            kind="step",
            step=4,
            actor=None,
            started=F("dispatched_at"),
            ended=_team_done(),
            where=_ended_or_open(),
            **common,
        ),
        _occurrences(
            _with_team(lokus.filter(dispatched), "reported_at"),
            kind="step",
            step=5,
            actor=None,
            started=_field_work_started(),
            # Field work ends when every member has reported, or when the report is sent
            # with a member excused: both set field_done_at.
            ended=Coalesce(F("field_done_at"), _team_done()),
            due=F("ends_at"),  # lokus.selectors.field_work_due
            where=_ended_or_open(),
            **common,
        ),
        # Step 6 before the report exists: the Korlap's work queue shows it from the end of
        # field work (lokus.selectors, the assignment queue).
        _occurrences(
            lokus.filter(state=LokusState.FIELD_DONE).filter(
                ~Exists(ActivityReport.objects.filter(lokus=OuterRef("pk")))
            ),
            kind="step",
            step=6,
            actor=None,
            started=F("field_done_at"),
            ended=None,
            **common,
        ),
    ]


def _member_sources(team: QuerySet) -> list[QuerySet]:
    team = team.filter(lokus__dispatched_at__isnull=False)
    common = {
        "plan": F("lokus__plan_id"),
        "lokus": F("lokus_id"),
        "report": None,
        "sub": F("lokus__sub_division_id"),
        "kecamatan": F("lokus__plan__kecamatan_id"),
        "actor": F("member_id"),
    }
    return [
        _occurrences(
            team,
            kind="member",
            step=4,
            started=F("lokus__dispatched_at"),
            ended=F("confirmed_at"),
            where=Q(confirmed_at__isnull=False),
            **common,
        ),
        _occurrences(
            team,
            kind="member",
            step=5,
            started=_field_work_started("lokus__"),
            ended=F("reported_at"),
            due=F("lokus__ends_at"),
            where=Q(reported_at__isnull=False),
            **common,
        ),
    ]


def _report_sources(moves: QuerySet, reports: QuerySet) -> list[QuerySet]:
    # The moves of the report chain, as reports.selectors.step_spans reads them: entries that
    # change the state. The span of a state runs from the move into it (the previous move,
    # LAG over the report's moves) to the move out of it; the first state of a report without
    # a "created" entry starts when field work was done, or when the report was started.
    moves = moves.exclude(to_state="").exclude(from_state=F("to_state")).order_by()
    previous = Window(Lag("created_at"), partition_by=[F("report_id")], order_by=[F("created_at").asc(), F("pk").asc()])
    started = Coalesce(previous, F("report__lokus__field_done_at"), F("report__created_at"))
    report_common = {
        "plan": F("lokus__plan_id"),
        "lokus": F("lokus_id"),
        "report": F("pk"),
        "sub": F("lokus__sub_division_id"),
        "kecamatan": F("lokus__plan__kecamatan_id"),
    }
    return [
        _occurrences(
            moves,
            kind="step",
            step=_step_of("from_state"),
            plan=F("report__lokus__plan_id"),
            lokus=F("report__lokus_id"),
            report=F("report_id"),
            sub=F("report__lokus__sub_division_id"),
            kecamatan=F("report__lokus__plan__kecamatan_id"),
            actor=F("actor_id"),
            started=started,
            ended=F("created_at"),
            returned=Q(from_state__in=list(RETURN_STATE), to_state__in=list(RETURN_STATE.values())),
            # A move out of the report's first state ends a span; the "created" entry does not.
            keep=~Q(from_state=""),
        ),
        # The state each report waits in now (reports.selectors.due_at).
        _occurrences(
            reports.exclude(state=ReportState.APPROVED),
            kind="step",
            step=_step_of("state"),
            actor=None,
            started=F("state_changed_at"),
            ended=None,
            **report_common,
        ),
        # The whole chain: the plan's receipt to the final approval (chain_elapsed).
        _occurrences(
            reports,
            kind="chain",
            step=CHAIN,
            actor=None,
            started=F("lokus__plan__submitted_at"),
            ended=F("approved_at"),
            rounds=F("revision_round"),
            **report_common,
        ),
    ]


def _sources(plan_ids: list[int] | None) -> list[QuerySet]:
    """Every source, limited to the plans ``plan_ids`` (None: all)."""

    def of(qs: QuerySet, path: str) -> QuerySet:
        qs = qs.order_by()
        return qs if plan_ids is None else qs.filter(**{f"{path}__in": plan_ids})

    return [
        *_plan_sources(of(ActivityPlan.objects.all(), "pk")),
        *_lokus_sources(of(Lokus.objects.all(), "plan_id")),
        *_member_sources(of(Assignment.objects.all(), "lokus__plan_id")),
        *_report_sources(
            of(ReportLog.objects.all(), "report__lokus__plan_id"),
            of(ActivityReport.objects.all(), "lokus__plan_id"),
        ),
    ]


def seconds_between(later: str, earlier: str) -> str:
    """SQL: ``later - earlier`` (datetimes) in seconds."""
    if connection.vendor == "postgresql":
        # date_part gives a double precision (EXTRACT a numeric, several times slower).
        return f"date_part('epoch', ({later}) - ({earlier}))"
    return f"((julianday({later}) - julianday({earlier})) * 86400.0)"


# On time: at the due time or before it. SQLite's datetime arithmetic (julianday) is exact to
# some microseconds, so a step done at the very second it is due could come out a few
# microseconds late: "late" means later than this many seconds after the due time.
TOLERANCE = 0.001
CHAIN_MINUTES = int(SOP_TOTAL.total_seconds() // 60)


def _standard_minutes() -> dict[int, int]:
    """The Mutu Baku now: step -> minutes (step 5 is due by the plan's schedule instead)."""
    return {
        number: minutes
        for number, minutes in StepStandard.objects.values_list("number", "minutes")
        if number != 5 and minutes is not None
    }


def _minutes_sql(standards: dict[int, int]) -> str:
    """SQL: each source row's standard in minutes."""
    whens = " ".join(f"WHEN {int(number)} THEN {int(minutes)}" for number, minutes in sorted(standards.items()))
    return (
        f"CASE WHEN o_kind = 'chain' THEN {CHAIN_MINUTES} WHEN o_step = 5 THEN NULL"
        f" ELSE CASE o_step {whens or 'WHEN -1 THEN NULL'} END END"
    )


def late_sql(ended: str, started: str, due: str, minutes: str) -> str:
    """SQL: seconds from the due time to ``ended`` (its own due time, or the start plus the
    standard; NULL without either)."""
    return (
        f"CASE WHEN {due} IS NOT NULL THEN {seconds_between(ended, due)}"
        f" WHEN {minutes} IS NOT NULL THEN {seconds_between(ended, started)} - {minutes} * 60.0 END"
    )


def _compile(plan_ids: list[int] | None) -> tuple[str, list]:
    """The UNION ALL of every source, limited to the plans (None: all), and its parameters."""
    parts, params = [], []
    names = ", ".join(SOURCE_COLUMNS[:-1])
    for qs in _sources(plan_ids):
        sql, source_params = qs.query.sql_with_params()
        # The SQL is Django's, with its parameters apart; nothing here comes from a request.
        parts.append(f"SELECT {names} FROM ({sql}) AS source WHERE o_keep = 1")  # noqa: S608
        params.extend(source_params)
    return " UNION ALL ".join(parts), params


# Compiling the sources costs more than running them for one plan: the statement for one plan
# is compiled once per process with a stand-in id, which each refresh replaces.
_STAND_IN = -7_000_000_001
_one_plan: dict[str, tuple[str, list]] = {}


def _union(plan_ids: list[int] | None) -> tuple[str, list]:
    if plan_ids is None or len(plan_ids) != 1:
        return _compile(plan_ids)
    if connection.vendor not in _one_plan:
        _one_plan[connection.vendor] = _compile([_STAND_IN])
    sql, params = _one_plan[connection.vendor]
    return sql, [plan_ids[0] if type(value) is int and value == _STAND_IN else value for value in params]


def _insert(plan_ids: list[int] | None) -> int:
    """INSERT ... SELECT the occurrences of the plans (None: all, in the order of their end,
    so that a period's rows lie together on disk); the rows written."""
    union, params = _union(plan_ids)
    table = connection.ops.quote_name(StepOccurrence._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(name) for name in _COLUMNS)
    late = f"CASE WHEN o_ended IS NOT NULL THEN {late_sql('o_ended', 'o_started', 'o_due', 'o_minutes')} END"
    derived = (
        f"{seconds_between('o_ended', 'o_started')}, CAST(o_month AS integer), o_minutes, o_late,"
        f" CASE WHEN o_late <= {TOLERANCE} THEN TRUE ELSE FALSE END"
    )
    stored = ", ".join(name for name in SOURCE_COLUMNS if name not in ("o_month", "o_keep"))
    order = " ORDER BY o_ended" if plan_ids is None else ""
    with connection.cursor() as cursor:
        # Table and column names from the model, constants and Django's SQL: nothing comes
        # from a request.
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {derived}, {stored} FROM"  # noqa: S608
            f" (SELECT with_minutes.*, {late} AS o_late FROM"
            f" (SELECT occurrence.*, {_minutes_sql(_standard_minutes())} AS o_minutes FROM"
            f" ({union}) AS occurrence) AS with_minutes) AS timed{order}",
            params,
        )
        return cursor.rowcount


def restandard(number: int) -> int:
    """The occurrences of step ``number`` measured against the Mutu Baku now (after an edit of
    it, in the same transaction: a changed standard shows at once); the rows rewritten. The
    chain's standard is the SOP's, step 5 is due by the plan's schedule: neither changes."""
    if number in (CHAIN, 5):
        return 0
    minutes = _standard_minutes().get(number)
    table = connection.ops.quote_name(StepOccurrence._meta.db_table)
    if minutes is None:
        values, params = "minutes = NULL, late = NULL, on_time = FALSE", []
    else:
        late = "seconds - %s * 60.0"
        values = (
            f"minutes = %s, late = CASE WHEN ended_at IS NULL THEN NULL ELSE {late} END,"
            f" on_time = CASE WHEN ended_at IS NOT NULL AND {late} <= {TOLERANCE} THEN TRUE ELSE FALSE END"
        )
        params = [minutes, minutes, minutes]
    with connection.cursor() as cursor:
        # Column names and constants; the values are parameters.
        cursor.execute(
            f"UPDATE {table} SET {values} WHERE step = %s AND kind IN ('step', 'member')",  # noqa: S608
            [*params, number],
        )
        return cursor.rowcount


# Keeping the copy true -------------------------------------------------------------------------

# An advisory lock's first key: "monev" refreshing a plan (the second key is the plan's id).
_LOCK_KEY = 0x6D6F6E


def refresh(plan_ids: Iterable[int]) -> int:
    """Replace the occurrences of these plans with what their rows say now; the rows written.
    Two refreshes of one plan wait for each other (PostgreSQL: an advisory lock per plan,
    taken in id order; SQLite writes one transaction at a time)."""
    ids = sorted({int(pk) for pk in plan_ids if pk is not None})
    if not ids:
        return 0
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                for pk in ids:
                    cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_KEY, pk % 2**31])
        StepOccurrence.objects.filter(plan_id__in=ids)._raw_delete(StepOccurrence.objects.db)
        if len(ids) > 20:
            return _insert(ids)
        return sum(_insert([pk]) for pk in ids)


def rebuild() -> int:
    """The whole table from every plan (after bulk loads, a restore, and nightly); the rows
    written. Readers see the old rows until it commits; refreshes of single plans wait."""
    with transaction.atomic():
        table = connection.ops.quote_name(StepOccurrence._meta.db_table)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")  # noqa: S608
            cursor.execute(f"DELETE FROM {table}")  # noqa: S608
        written = _insert(None)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {table}")  # noqa: S608
    return written


class _Pending(threading.local):
    """The plans marked in this thread's transactions, refreshed once they commit."""

    def __init__(self):
        self.plans: set[int] = set()


_pending = _Pending()


def _flush() -> None:
    plans, _pending.plans = _pending.plans, set()
    try:
        refresh(plans)
    except Exception:
        # The change itself is committed: the figures catch up at the next refresh of the
        # plan or the nightly rebuild.
        log.exception("Refreshing the step occurrences of plans %s failed", sorted(plans))


def mark(plan_id: int | None) -> None:
    """The occurrences of this plan change with the transaction in progress."""
    if plan_id is None:
        return
    if settings.MONEV_OCCURRENCES_IMMEDIATE:
        refresh([plan_id])
        return
    _pending.plans.add(plan_id)
    # One callback per mark: the first to run refreshes every plan marked so far, the rest
    # find nothing left. (A rolled-back transaction drops its callbacks but leaves its marks,
    # which the next commit refreshes: a harmless extra refresh.)
    transaction.on_commit(_flush)


# The plan of each source row (one small query where the row does not hold it).
def _plan_of_plan(instance) -> int | None:
    return instance.pk


def _plan_of_lokus(instance) -> int | None:
    return instance.plan_id


def _plan_of_lokus_part(instance) -> int | None:
    """An assignment's or a report's plan, through its lokus."""
    return Lokus.objects.filter(pk=instance.lokus_id).values_list("plan_id", flat=True).first()


def _plan_of_log(instance) -> int | None:
    return ActivityReport.objects.filter(pk=instance.report_id).values_list("lokus__plan_id", flat=True).first()


SOURCES = {
    ActivityPlan: _plan_of_plan,
    Lokus: _plan_of_lokus,
    Assignment: _plan_of_lokus_part,
    ActivityReport: _plan_of_lokus_part,
    ReportLog: _plan_of_log,
}


def standard_changed(sender, instance, raw: bool = False, **kwargs) -> None:
    """``post_save``/``post_delete`` of a Mutu Baku row (``monev.apps``)."""
    if not raw:
        restandard(instance.number)


def changed(sender, instance, raw: bool = False, **kwargs) -> None:
    """``post_save``/``post_delete`` of a source row (``monev.apps``); a fixture load (raw) is
    followed by ``refresh_monev``."""
    if raw:
        return
    mark(SOURCES[sender](instance))
