"""The monitoring and evaluation figures (monev), computed in the database.

Every figure is read from one relation, the *step occurrences*: one row per time a step of
the SOP ran for a plan, a lokus or a report, with when it started, when it ended (NULL while
it is still open), when it was due, who ended it, and the sub-division and kecamatan it
belongs to. The rows come from the timestamps the product already keeps, by the rules the
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

The querysets of the sources are built with the ORM (so the need-to-know scope and the
filters are the same Q objects as everywhere) and joined with UNION ALL into a common table
expression; each figure is then an aggregate over it. Django cannot group over a window
function, so the statement around the sources is SQL written here. Percentiles are
``percentile_cont`` on PostgreSQL; SQLite has no such aggregate, and this module registers
one on the connection (as Django registers its own statistics aggregates on SQLite), which
interpolates exactly as ``percentile_cont`` does.

Each source row gets its derived columns (seconds taken, seconds past due, within the period,
the trend's month) once, in a second expression; the figures read those. Datetime arithmetic
in that SQL is the database's own (``date_part('epoch', ...)`` on PostgreSQL, ``julianday`` on
SQLite, exact to some microseconds, hence ``TOLERANCE``).

Cost: the whole dashboard is a fixed number of statements whatever the data size: the
figures of every step, sub-division, officer, month and revision round, with one page of the
breaches, in one statement, and four aggregate queries for the intake (``dashboard``). Its
time grows with the rows of the twelve months the trend covers: on 100,000 plans, 20,000
lokus and reports of one year, a few seconds (bench/monev.py, README)."""

from __future__ import annotations

import calendar
import datetime
import json
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection
from django.db.models import (
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
from django.utils import dateparse, formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import SubDivision, User
from lokus.enums import LokusState, PlanStatus
from lokus.models import ActivityPlan, Assignment, Escalation, Lokus, StepStandard
from lokus.selectors import reason_key
from monev.permissions import lokus_scope_q, plan_scope_q
from reports.enums import RETURN_STATE, STEP_OF_STATE, ReportState
from reports.models import ActivityReport, ReportLog
from reports.selectors import SOP_TOTAL

CHAIN = 0  # the "step" number of the whole chain, plan received to final approval
STEPS = range(1, 16)
MEMBER_STEPS = (4, 5)  # per officer: each member's own part of steps 4 and 5
OFFICER_STEPS = range(4, 16)  # the figures per officer: team (4-6) and reviewers (7-15)
TREND_MONTHS = 12


# Periods ---------------------------------------------------------------------------------------


class PeriodKind:
    MONTH = "month"
    LAST_MONTH = "last_month"
    QUARTER = "quarter"
    YEAR = "year"
    CUSTOM = "custom"

    CHOICES = [
        (MONTH, gettext_lazy("this month")),
        (LAST_MONTH, gettext_lazy("last month")),
        (QUARTER, gettext_lazy("this quarter")),
        (YEAR, gettext_lazy("this year")),
        (CUSTOM, gettext_lazy("custom range")),
    ]


# A custom range longer than this is refused (the trend covers a year; exports stay usable).
MAX_RANGE_DAYS = 3 * 366


def wib_midnight(day: datetime.date) -> datetime.datetime:
    """Midnight WIB at the start of ``day``: every period starts and ends on one."""
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=timezone.get_default_timezone())


def _add_months(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


@dataclass(frozen=True)
class Period:
    """Whole days in WIB, ``first`` to ``last`` inclusive: from midnight WIB at the start of
    ``first`` (``start``) to midnight WIB after ``last`` (``end``, excluded)."""

    kind: str
    first: datetime.date
    last: datetime.date

    @property
    def start(self) -> datetime.datetime:
        return wib_midnight(self.first)

    @property
    def end(self) -> datetime.datetime:
        return wib_midnight(self.last + datetime.timedelta(days=1))

    @property
    def label(self) -> str:
        if self.first.day == 1 and self.last == self.first.replace(
            day=calendar.monthrange(self.first.year, self.first.month)[1]
        ):
            return formats.date_format(self.first, "F Y")
        return f"{formats.date_format(self.first, 'j F Y')} – {formats.date_format(self.last, 'j F Y')}"

    def months(self) -> list[tuple[int, int]]:
        """The calendar months the period touches, in order."""
        months, (year, month) = [], (self.first.year, self.first.month)
        while (year, month) <= (self.last.year, self.last.month):
            months.append((year, month))
            year, month = _add_months(year, month, 1)
        return months

    def trend(self) -> Period:
        """The ``TREND_MONTHS`` calendar months that end with the period's last month."""
        year, month = _add_months(self.last.year, self.last.month, 1 - TREND_MONTHS)
        last_day = calendar.monthrange(self.last.year, self.last.month)[1]
        return Period(PeriodKind.CUSTOM, datetime.date(year, month, 1), self.last.replace(day=last_day))


def period_for(kind: str, today: datetime.date, since=None, until=None) -> Period:
    """The period of a kind, as of ``today`` (WIB); CUSTOM takes ``since`` and ``until``
    (checked by the form)."""
    if kind == PeriodKind.CUSTOM and since and until:
        return Period(kind, since, until)
    if kind == PeriodKind.LAST_MONTH:
        year, month = _add_months(today.year, today.month, -1)
        return Period(
            kind, datetime.date(year, month, 1), datetime.date(year, month, calendar.monthrange(year, month)[1])
        )
    if kind == PeriodKind.QUARTER:
        first_month = (today.month - 1) // 3 * 3 + 1
        year, last_month = today.year, first_month + 2
        return Period(
            kind,
            datetime.date(year, first_month, 1),
            datetime.date(year, last_month, calendar.monthrange(year, last_month)[1]),
        )
    if kind == PeriodKind.YEAR:
        return Period(kind, datetime.date(today.year, 1, 1), datetime.date(today.year, 12, 31))
    return Period(
        PeriodKind.MONTH,
        today.replace(day=1),
        today.replace(day=calendar.monthrange(today.year, today.month)[1]),
    )


@dataclass(frozen=True)
class Selection:
    """What the figures are about: the period, the sub-divisions (the viewer's scope narrowed
    by the filter; None: all) and one kecamatan (None: all)."""

    period: Period
    scope: frozenset[int] | None
    kecamatan_id: int | None = None

    def lokus_q(self, prefix: str = "") -> Q:
        q = lokus_scope_q(self.scope, prefix)
        if self.kecamatan_id is not None:
            q &= Q(**{f"{prefix}plan__kecamatan_id": self.kecamatan_id})
        return q

    def plan_q(self, prefix: str = "") -> Q:
        q = plan_scope_q(self.scope, prefix)
        if self.kecamatan_id is not None:
            q &= Q(**{f"{prefix}kecamatan_id": self.kecamatan_id})
        return q


# Expressions -----------------------------------------------------------------------------------


def _null(output_field):
    """A typed NULL: every branch of the UNION ALL must give each column the same type."""
    return Cast(Value(None), output_field=output_field)


def _flag(condition: Q) -> Case:
    return Case(When(condition, then=Value(1)), default=Value(0), output_field=IntegerField())


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


# The columns each source gives (ORM querysets, joined with UNION ALL into ``src``).
SOURCE_COLUMNS = (
    "o_kind",  # "step", "member" (one officer's part of step 4 or 5) or "chain"
    "o_step",
    "o_plan",
    "o_lokus",
    "o_report",
    "o_sub",
    "o_actor",  # who ended the step (NULL while open, or for the whole team)
    "o_started",
    "o_ended",
    "o_due",  # when a step is due by its own schedule (step 5); otherwise NULL and:
    "o_minutes",  # the standard: due at the start plus these minutes
    "o_returned",  # 1: the step ended with a return for revision (steps 9, 12, 15)
    "o_rounds",  # the chain: the report's revision rounds
    "o_keep",  # 1: a row of the relation (the window's source keeps earlier moves for LAG)
)
# The columns computed once per row from those (``_relation``), which the figures read:
# o_secs (ended - started, in seconds; NULL while open), o_late (seconds past the due time,
# at the end or now while open; negative: early), o_on_time (1: ended no later than due),
# o_in_period and o_in_trend (1: ended within the period, within the trend's twelve months),
# o_month (year * 100 + month, in WIB, of an end within the trend).


@dataclass(frozen=True)
class _Window:
    """The time the relation needs: the period and the trend, together."""

    start: datetime.datetime
    end: datetime.datetime
    period: Period
    trend: Period
    now: datetime.datetime

    def holds(self, name: str) -> Q:
        return Q(**{f"{name}__gte": self.start, f"{name}__lt": self.end})


def _occurrences(
    qs: QuerySet,
    *,
    kind: str,
    step,
    plan,
    lokus,
    report,
    sub,
    actor,
    started,
    ended,
    due=None,
    minutes=None,
    returned=None,
    rounds=None,
    keep: Q | None = None,
    where: Q | None = None,
) -> QuerySet:
    """One source of the relation: ``qs`` with the columns of ``SOURCE_COLUMNS``. The due
    time is ``due`` (a column) or the start plus ``minutes`` (a Mutu Baku row, a number or
    an expression)."""
    integer = IntegerField()

    def given(value, output_field):
        if value is None:
            return _null(output_field)
        if isinstance(value, StepStandard):
            value = value.minutes
        return Value(value, output_field=output_field) if isinstance(value, int) else value

    qs = qs.annotate(
        o_kind=Value(kind),
        o_step=given(step, integer),
        o_plan=plan,
        o_lokus=given(lokus, integer),
        o_report=given(report, integer),
        o_sub=given(sub, integer),
        o_actor=given(actor, integer),
        o_started=started,
        o_ended=given(ended, DateTimeField()),
        o_due=given(due, DateTimeField()),
        o_minutes=given(minutes, integer),
        o_returned=given(returned if returned is not None else 0, integer),
        o_rounds=given(rounds, integer),
        o_keep=_flag(keep) if keep is not None else Value(1, output_field=integer),
    )
    if where is not None:
        qs = qs.filter(where)
    return qs.values(*SOURCE_COLUMNS)


def _ended_or_open(window: _Window) -> Q:
    """A row the figures need: ended within the period or the trend, or still open."""
    return window.holds("o_ended") | Q(o_ended__isnull=True, o_started__isnull=False)


def _plan_sources(selection: Selection, window: _Window, standards) -> list[QuerySet]:
    plans = ActivityPlan.objects.filter(selection.plan_q()).order_by()
    # A decided plan counts for the sub-division that decided it (monev.permissions).
    sub = Coalesce(F("lokus__sub_division_id"), F("decided_by__sub_division_id"))
    common = {"plan": F("pk"), "lokus": F("lokus__id"), "report": None, "sub": sub}
    return [
        _occurrences(
            plans,
            kind="step",
            step=1,
            actor=F("submitted_by_id"),
            started=F("submitted_at"),
            ended=F("submitted_at"),
            minutes=standards.get(1),
            where=window.holds("submitted_at"),
            **common,
        ),
        _occurrences(
            plans,
            kind="step",
            step=2,
            actor=F("decided_by_id"),
            started=F("submitted_at"),
            ended=F("decided_at"),
            minutes=standards.get(2),
            where=window.holds("decided_at") | Q(status=PlanStatus.RECEIVED),
            **common,
        ),
    ]


def _lokus_sources(selection: Selection, window: _Window, standards) -> list[QuerySet]:
    lokus = Lokus.objects.filter(selection.lokus_q()).order_by()
    common = {"plan": F("plan_id"), "lokus": F("pk"), "report": None, "sub": F("sub_division_id")}
    dispatched = Q(dispatched_at__isnull=False)
    return [
        _occurrences(
            lokus,
            kind="step",
            step=3,
            actor=F("dispatched_by_id"),
            started=F("created_at"),
            ended=F("dispatched_at"),
            minutes=standards.get(3),
            where=window.holds("dispatched_at") | Q(dispatched_at__isnull=True),
            **common,
        ),
        _occurrences(
            _with_team(lokus.filter(dispatched), "confirmed_at"),
            kind="step",
            step=4,
            actor=None,
            started=F("dispatched_at"),
            ended=_team_done(),
            minutes=standards.get(4),
            where=_ended_or_open(window),
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
            where=_ended_or_open(window),
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
            minutes=standards.get(6),
            **common,
        ),
    ]


def _member_sources(selection: Selection, window: _Window, standards) -> list[QuerySet]:
    team = Assignment.objects.filter(selection.lokus_q("lokus__"), lokus__dispatched_at__isnull=False).order_by()
    common = {
        "plan": F("lokus__plan_id"),
        "lokus": F("lokus_id"),
        "report": None,
        "sub": F("lokus__sub_division_id"),
        "actor": F("member_id"),
    }
    return [
        _occurrences(
            team,
            kind="member",
            step=4,
            started=F("lokus__dispatched_at"),
            ended=F("confirmed_at"),
            minutes=standards.get(4),
            where=window.holds("confirmed_at"),
            **common,
        ),
        _occurrences(
            team,
            kind="member",
            step=5,
            started=_field_work_started("lokus__"),
            ended=F("reported_at"),
            due=F("lokus__ends_at"),
            where=window.holds("reported_at"),
            **common,
        ),
    ]


def _step_of(state_field: str):
    return Case(
        *(When(**{state_field: state}, then=Value(step)) for state, step in STEP_OF_STATE.items()),
        default=Value(None),
        output_field=IntegerField(),
    )


def _minutes_of_state(state_field: str, standards):
    """The standard minutes of the step of a report's state."""
    return Case(
        *(
            When(**{state_field: state}, then=Value(standards[step].minutes))
            for state, step in STEP_OF_STATE.items()
            if step in standards
        ),
        default=Value(None),
        output_field=IntegerField(),
    )


def _report_sources(selection: Selection, window: _Window, standards) -> list[QuerySet]:
    # The moves of the report chain, as reports.selectors.step_spans reads them: entries that
    # change the state. The span of a state runs from the move into it (the previous move,
    # LAG over the report's moves) to the move out of it; the first state of a report without
    # a "created" entry starts when field work was done, or when the report was started.
    moves = (
        ReportLog.objects.filter(selection.lokus_q("report__lokus__"))
        .exclude(to_state="")
        .exclude(from_state=F("to_state"))
        # Only reports that moved within the window; all their moves, for LAG.
        .filter(
            Exists(
                ReportLog.objects.filter(
                    report=OuterRef("report"), created_at__gte=window.start, created_at__lt=window.end
                )
            )
        )
        .order_by()
    )
    previous = Window(Lag("created_at"), partition_by=[F("report_id")], order_by=[F("created_at").asc(), F("pk").asc()])
    started = Coalesce(previous, F("report__lokus__field_done_at"), F("report__created_at"))
    reports = ActivityReport.objects.filter(selection.lokus_q("lokus__")).order_by()
    report_common = {
        "plan": F("lokus__plan_id"),
        "lokus": F("lokus_id"),
        "report": F("pk"),
        "sub": F("lokus__sub_division_id"),
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
            actor=F("actor_id"),
            started=started,
            ended=F("created_at"),
            minutes=_minutes_of_state("from_state", standards),
            returned=_flag(Q(from_state__in=list(RETURN_STATE), to_state__in=list(RETURN_STATE.values()))),
            # A move out of the report's first state ends a span; the "created" entry does not.
            keep=~Q(from_state="") & window.holds("created_at"),
        ),
        # The state each report waits in now (reports.selectors.due_at).
        _occurrences(
            reports.exclude(state=ReportState.APPROVED),
            kind="step",
            step=_step_of("state"),
            actor=None,
            started=F("state_changed_at"),
            ended=None,
            minutes=_minutes_of_state("state", standards),
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
            minutes=int(SOP_TOTAL.total_seconds() // 60),
            rounds=F("revision_round"),
            where=window.holds("approved_at") | Q(approved_at__isnull=True),
            **report_common,
        ),
    ]


# On time: at the due time or before it. SQLite's datetime arithmetic (julianday) is exact to
# some microseconds, so a step done at the very second it is due could come out a few
# microseconds late: "late" means later than this many seconds after the due time.
TOLERANCE = 0.001
ON_TIME = f"o_late <= {TOLERANCE}"
PAST_DUE = f"o_late > {TOLERANCE}"


def _seconds_between(later: str, earlier: str) -> str:
    """SQL: ``later - earlier`` (datetimes) in seconds."""
    if connection.vendor == "postgresql":
        # date_part gives a double precision (EXTRACT a numeric, several times slower).
        return f"date_part('epoch', ({later}) - ({earlier}))"
    return f"((julianday({later}) - julianday({earlier})) * 86400.0)"


def _plus_minutes(start: str, minutes: str) -> str:
    """SQL: the datetime ``start`` plus ``minutes`` (to show a due time)."""
    if connection.vendor == "postgresql":
        return f"({start} + {minutes} * INTERVAL '1 minute')"
    return f"datetime({start}, '+' || {minutes} || ' minutes')"


def _param(value: datetime.datetime):
    """A datetime as the database compares it with its stored ones."""
    return connection.ops.adapt_datetimefield_value(value)


def _relation(selection: Selection, standards, *, now=None, members: bool = True) -> tuple[str, list]:
    """The SQL of the occurrence relation (common table expressions, the last named
    ``occ``) and its parameters. The sources' rows (``src``) get their derived columns once
    each (``occ``), whichever figures read them."""
    period, trend = selection.period, selection.period.trend()
    now = now or timezone.now()
    window = _Window(min(period.start, trend.start), max(period.end, trend.end), period, trend, now)
    sources = [
        *_plan_sources(selection, window, standards),
        *_lokus_sources(selection, window, standards),
        *(_member_sources(selection, window, standards) if members else []),
        *_report_sources(selection, window, standards),
    ]
    parts, params = [], []
    names = ", ".join(SOURCE_COLUMNS)
    for qs in sources:
        sql, source_params = qs.query.sql_with_params()
        # The SQL is Django's, with its parameters apart; nothing here comes from a request.
        parts.append(f"SELECT {names} FROM ({sql}) AS source WHERE o_keep = 1")  # noqa: S608
        params.extend(source_params)
    end = "COALESCE(o_ended, %s)"
    late = (
        f"CASE WHEN o_due IS NOT NULL THEN {_seconds_between(end, 'o_due')}"
        f" WHEN o_minutes IS NOT NULL THEN {_seconds_between(end, 'o_started')} - o_minutes * 60.0 END"
    )
    months = trend.months()
    bounds = [wib_midnight(datetime.date(y, m, 1)) for y, m in months] + [trend.end]
    month = " ".join(f"WHEN o_ended < %s THEN {y * 100 + m}" for y, m in months)
    # Constants and Django's SQL; the values are parameters.
    derived = (
        f"SELECT src.*, {_seconds_between('o_ended', 'o_started')} AS o_secs, {late} AS o_late,"  # noqa: S608
        " CASE WHEN o_ended >= %s AND o_ended < %s THEN 1 ELSE 0 END AS o_in_period,"
        " CASE WHEN o_ended >= %s AND o_ended < %s THEN 1 ELSE 0 END AS o_in_trend,"
        f" CASE WHEN o_ended < %s THEN NULL {month} END AS o_month FROM src"
    )
    params += [
        _param(now),
        _param(now),
        _param(period.start),
        _param(period.end),
        _param(trend.start),
        _param(trend.end),
        *(_param(bound) for bound in bounds),
    ]
    on_time = f"SELECT base.*, CASE WHEN o_ended IS NOT NULL AND {ON_TIME} THEN 1 ELSE 0 END AS o_on_time FROM base"  # noqa: S608
    relation = f"WITH src AS ({' UNION ALL '.join(parts)}), base AS ({derived}), occ AS ({on_time})"
    return relation, params


# Percentiles -----------------------------------------------------------------------------------


class _SQLitePercentile:
    """``percentile_cont`` for SQLite: the value at ``fraction`` of the ordered non-NULL
    inputs, interpolated linearly between the two nearest (PostgreSQL's definition)."""

    def __init__(self):
        self.values: list[float] = []
        self.fraction = 0.5

    def step(self, value, fraction):
        self.fraction = fraction
        if value is not None:
            self.values.append(value)

    def finalize(self):
        return percentile(self.values, self.fraction)


def percentile(values: Iterable[float], fraction: float) -> float | None:
    """``percentile_cont(fraction)`` of ``values`` (None when there are none)."""
    ordered = sorted(values)
    if not ordered:
        return None
    position = fraction * (len(ordered) - 1)
    lower, upper = math.floor(position), math.ceil(position)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def _percentile_sql(expression: str, fraction: float) -> str:
    if connection.vendor == "postgresql":
        return f"percentile_cont({fraction}) WITHIN GROUP (ORDER BY {expression})"
    return f"monev_percentile({expression}, {fraction})"


def _prepare_connection() -> None:
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        connection.connection.create_aggregate("monev_percentile", 2, _SQLitePercentile)


def _fetch(sql: str, params: list) -> list[tuple]:
    _prepare_connection()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _datetime(value) -> datetime.datetime | None:
    """A datetime read by raw SQL: aware from PostgreSQL; from SQLite, UTC as a string or naive."""
    if value is None:
        return None
    parsed = value if isinstance(value, datetime.datetime) else dateparse.parse_datetime(value)
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed, datetime.UTC)


# The figures -----------------------------------------------------------------------------------


def _duration_text(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    minutes = round(seconds / 60)
    if minutes < 60:
        return _("%(m)d min") % {"m": minutes}
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return _("%(h)d h %(m)02d min") % {"h": hours, "m": minutes}
    return _("%(d)d d %(h)d h") % {"d": hours // 24, "h": hours % 24}


@dataclass
class Figures:
    """The counts and times of one group of occurrences (a step, a step of one sub-division
    or one officer, a step in one month)."""

    done: int = 0  # completed within the period (or the month)
    on_time: int = 0
    median: float | None = None  # seconds
    p90: float | None = None
    open: int = 0  # open now
    overdue: int = 0  # open now and past the due time
    returned: int = 0  # ended with a return for revision
    returned_reports: int = 0

    @property
    def late(self) -> int:
        return self.done - self.on_time

    @property
    def share(self) -> float | None:
        """The share done within the standard, 0-100 (None without occurrences)."""
        return 100 * self.on_time / self.done if self.done else None

    @property
    def median_text(self) -> str:
        return _duration_text(self.median)

    @property
    def p90_text(self) -> str:
        return _duration_text(self.p90)


@dataclass
class StepRow:
    number: int
    activity: str
    actor: str
    minutes: int | None
    figures: Figures

    @property
    def standard_text(self) -> str:
        if self.number == CHAIN:
            return _duration_text(SOP_TOTAL.total_seconds())
        if self.number == 5:
            return _("the plan's schedule")
        return _duration_text(self.minutes * 60) if self.minutes else "—"


@dataclass
class OfficerRow:
    step: int
    user_id: int
    name: str
    figures: Figures


@dataclass
class SubDivisionRow:
    sub_division: SubDivision | None
    chain: Figures
    steps: Figures  # every step occurrence of the sub-division, summed (no times)


@dataclass
class TrendCell:
    month: tuple[int, int]
    figures: Figures


@dataclass
class Dashboard:
    selection: Selection
    standards: dict[int, StepStandard]
    steps: list[StepRow]
    chain: StepRow
    rounds: dict[int, int]  # approved reports by revision rounds
    returns: dict[int, Figures]  # the steps that return (9, 12, 15): returns in the period
    sub_divisions: list[SubDivisionRow]
    officers: list[OfficerRow]
    trend_months: list[tuple[int, int]]
    trend: dict[int, list[TrendCell]]  # step (CHAIN: the chain) -> one cell per month
    breaches_total: int
    breaches: OccurrenceRows  # the breaches list, its page the statement brought included
    intake: Intake

    @property
    def in_progress(self) -> int:
        return self.chain.figures.open


def _aggregates(done: str, *, times: str | None = "TRUE", p90: bool = True, returns: bool = False) -> str:
    """The aggregate columns of a group, counting as done the rows where ``done`` holds.
    Only what the pages show is computed (each percentile sorts its rows): the times of the
    rows where ``times`` holds (None: none), the 90th percentile if ``p90``, the reports
    returned if ``returns``."""
    median = _percentile_sql(f"CASE WHEN {done} AND {times} THEN o_secs END", 0.5) if times else "NULL"
    ninety = _percentile_sql(f"CASE WHEN {done} AND {times} THEN o_secs END", 0.9) if times and p90 else "NULL"
    returned = f"COUNT(DISTINCT CASE WHEN {done} AND o_returned = 1 THEN o_report END)" if returns else "NULL"
    return ", ".join(
        [
            f"SUM(CASE WHEN {done} THEN 1 ELSE 0 END)",
            f"SUM(CASE WHEN {done} AND o_on_time = 1 THEN 1 ELSE 0 END)",
            median,
            ninety,
            "SUM(CASE WHEN o_ended IS NULL THEN 1 ELSE 0 END)",
            f"SUM(CASE WHEN o_ended IS NULL AND {PAST_DUE} THEN 1 ELSE 0 END)",
            f"SUM(CASE WHEN {done} AND o_returned = 1 THEN 1 ELSE 0 END)",
            returned,
        ]
    )


def _figures(row) -> Figures:
    done, on_time, median, p90, open_, overdue, returned, returned_reports = row
    return Figures(
        int(done or 0),
        int(on_time or 0),
        None if median is None else float(median),
        None if p90 is None else float(p90),
        int(open_ or 0),
        int(overdue or 0),
        int(returned or 0),
        int(returned_reports or 0),
    )


def figure_rows(selection: Selection, standards, *, now=None, breaches: tuple[int, int] = (0, 0)) -> list[tuple]:
    """One statement: the figures per step, per step and sub-division, per step and officer,
    per step and month of the trend, and the approved reports per revision round. Each row:
    (group, key, second key, officer's name, *figures). ``breaches``: (offset, limit) of a
    page of the breaches list, which one more row holds (as JSON, in the name's column)."""
    relation, params = _relation(selection, standards, now=now)
    steps = "o_kind IN ('step', 'chain')"
    member_steps = ", ".join(map(str, MEMBER_STEPS))
    officer_rows = (
        f"o_actor IS NOT NULL AND o_step BETWEEN {OFFICER_STEPS[0]} AND {OFFICER_STEPS[-1]}"
        f" AND ((o_kind = 'member' AND o_step IN ({member_steps}))"
        f" OR (o_kind = 'step' AND o_step NOT IN ({member_steps})))"
    )
    users = quote(User._meta.db_table)
    period, trend, chain = "o_in_period = 1", "o_in_trend = 1", f"o_step = {CHAIN}"
    # Only constants of this module and Django's own SQL: nothing here comes from a request.
    sql = f"""{relation}
SELECT 'step', o_step, NULL, NULL, {_aggregates(period, returns=True)} FROM occ WHERE {steps} GROUP BY o_step
UNION ALL
SELECT 'sub', o_step, o_sub, NULL, {_aggregates(period, times=chain, p90=False)}
  FROM occ WHERE {steps} GROUP BY o_step, o_sub
UNION ALL
SELECT 'officer', o_step, o_actor, (SELECT u.full_name FROM {users} u WHERE u.id = o_actor),
  {_aggregates(period, p90=False)} FROM occ WHERE {officer_rows} AND {period} GROUP BY o_step, o_actor
UNION ALL
SELECT 'trend', o_step, o_month, NULL, {_aggregates(trend, times=chain)}
  FROM occ WHERE {steps} AND {trend} GROUP BY o_step, o_month
UNION ALL
SELECT 'rounds', o_step, o_rounds, NULL, {_aggregates(period, times=None)}
  FROM occ WHERE o_kind = 'chain' AND {period} GROUP BY o_step, o_rounds
"""  # noqa: S608
    offset, limit = breaches
    if limit:
        where, where_params = OccurrenceFilter(status=Status.BREACH).where()
        sql += f"UNION ALL SELECT 'breaches', NULL, NULL, {_json_rows(_page_sql(where))}{', NULL' * 8}\n"
        params += [*where_params, limit, offset]
    return _fetch(sql, params)


def _json_rows(page: str) -> str:
    """SQL: the rows of ``page`` (a SELECT of ``_ROW_COLUMNS``) as one JSON text."""
    names = ", ".join(f"b.{name}" for name in _ROW_NAMES)
    # Constants of this module around the page's SQL (its values are parameters).
    if connection.vendor == "postgresql":
        return f"CAST((SELECT json_agg(json_build_array({names})) FROM ({page}) AS b) AS text)"  # noqa: S608
    return f"(SELECT json_group_array(json_array({names})) FROM ({page}) AS b)"  # noqa: S608


# Occurrence lists (breaches and the list behind each figure) -----------------------------------


class Status:
    DONE = "done"  # completed within the period
    LATE = "late"  # completed within the period, over the standard
    ON_TIME = "on_time"
    OPEN = "open"  # open now
    OVERDUE = "overdue"  # open now, past the due time
    BREACH = "breach"  # late or overdue: the breaches list
    RETURNED = "returned"  # ended with a return for revision within the period

    CHOICES = [
        (DONE, gettext_lazy("completed in the period")),
        (ON_TIME, gettext_lazy("completed within the standard")),
        (LATE, gettext_lazy("completed over the standard")),
        (OPEN, gettext_lazy("open now")),
        (OVERDUE, gettext_lazy("open now and overdue")),
        (BREACH, gettext_lazy("over the standard (completed or open)")),
        (RETURNED, gettext_lazy("returned for revision")),
    ]

    CONDITIONS = {
        DONE: "o_in_period = 1",
        ON_TIME: "o_in_period = 1 AND o_on_time = 1",
        LATE: "o_in_period = 1 AND o_on_time = 0",
        OPEN: "o_ended IS NULL",
        OVERDUE: f"o_ended IS NULL AND {PAST_DUE}",
        BREACH: f"((o_in_period = 1 AND o_on_time = 0) OR (o_ended IS NULL AND {PAST_DUE}))",
        RETURNED: "o_in_period = 1 AND o_returned = 1",
    }


@dataclass(frozen=True)
class OccurrenceFilter:
    """Which occurrences a list shows (each figure of the dashboard names its own)."""

    status: str = Status.BREACH
    step: int | None = None  # None: steps 1-15
    sub_division_id: int | None = None
    officer_id: int | None = None  # the member's own part of steps 4-5, or who ended 6-15
    month: int | None = None  # year * 100 + month: the trend's month (completed then)
    rounds: int | None = None  # the chain: approved after this many rounds

    def where(self) -> tuple[str, list]:
        conditions, params = [], []
        if self.month is not None:
            conditions.append("o_in_trend = 1 AND o_month = %s")
            params.append(self.month)
        else:
            conditions.append(Status.CONDITIONS.get(self.status, Status.CONDITIONS[Status.BREACH]))
        if self.officer_id is not None:
            member = self.step in MEMBER_STEPS
            conditions.append("o_kind = %s AND o_actor = %s")
            params += ["member" if member else "step", self.officer_id]
        else:
            conditions.append("o_kind = %s")
            params.append("chain" if self.step == CHAIN else "step")
        if self.step is not None:
            conditions.append("o_step = %s")
            params.append(self.step)
        if self.sub_division_id is not None:
            conditions.append("o_sub = %s")
            params.append(self.sub_division_id)
        if self.rounds is not None:
            conditions.append("o_rounds = %s")
            params.append(self.rounds)
        return " AND ".join(conditions), params


# One occurrence as the lists show it: its columns, with the plan's title, the officer who
# ended it and its sub-division; worst first (the most seconds past due), ties in a stable
# order, so that pages neither repeat nor skip a row.
_ROW_NAMES = ("r_step", "r_plan", "r_lokus", "r_report", "r_sub", "r_started", "r_ended", "r_due", "r_secs",
              "r_late", "r_title", "r_actor", "r_sub_name")  # fmt: skip
_ROW_ORDER = "ORDER BY CASE WHEN o_late IS NULL THEN 1 ELSE 0 END, o_late DESC, o_step, o_plan, o_report, o_started"


def _page_sql(where: str, *, with_total: bool = False) -> str:
    """SQL: one page of the occurrences where ``where`` holds, worst first, with the list's
    columns (``_ROW_NAMES``, then the count of all if ``with_total``); its parameters: those
    of ``where``, the limit and the offset. The page is cut before the names are joined."""
    plans, users, subs = (quote(m._meta.db_table) for m in (ActivityPlan, User, SubDivision))
    due = f"COALESCE(o_due, {_plus_minutes('o_started', 'o_minutes')})"
    total = ", COUNT(*) OVER () AS r_total" if with_total else ""
    # Table names from the models, constants of this module: nothing comes from a request.
    return (
        "SELECT o_step AS r_step, o_plan AS r_plan, o_lokus AS r_lokus, o_report AS r_report, o_sub AS r_sub,"  # noqa: S608
        f" o_started AS r_started, o_ended AS r_ended, {due} AS r_due, o_secs AS r_secs, o_late AS r_late,"
        f" p.title AS r_title, u.full_name AS r_actor, s.short_name AS r_sub_name{', r_total' if with_total else ''}"
        f" FROM (SELECT occ.*{total} FROM occ WHERE {where} {_ROW_ORDER} LIMIT %s OFFSET %s) AS o"
        f" JOIN {plans} p ON p.id = o_plan LEFT JOIN {users} u ON u.id = o_actor"
        f" LEFT JOIN {subs} s ON s.id = o_sub {_ROW_ORDER}"
    )


def quote(name: str) -> str:
    return connection.ops.quote_name(name)


@dataclass
class Occurrence:
    step: int
    plan_id: int
    lokus_id: int | None
    report_id: int | None
    sub_division_id: int | None
    sub_division: str  # its short name
    title: str
    holder: str
    started: datetime.datetime | None
    ended: datetime.datetime | None
    due: datetime.datetime | None
    seconds: float | None
    late: float | None  # seconds past due (negative: early)

    @property
    def is_open(self) -> bool:
        return self.ended is None

    @property
    def taken_text(self) -> str:
        return _duration_text(self.seconds)

    @property
    def is_late(self) -> bool:
        return self.late is not None and self.late > TOLERANCE

    @property
    def late_text(self) -> str:
        return _duration_text(self.late) if self.is_late else "—"


class OccurrenceRows:
    """The occurrences of a filter, worst first, as a sequence that Django's Paginator can
    page. ``total``: the count when the dashboard's figures already hold it; ``rows``: a page
    the figures' statement already brought (offset, rows). Otherwise ``page`` (offset, limit)
    says which page will be asked for: ``count()`` then fetches that page with the count in
    one statement (a window over the whole result), and only a page past the end costs a
    second one."""

    def __init__(self, selection: Selection, standards, flt: OccurrenceFilter, *, total: int | None = None,
                 rows: tuple[int, list] | None = None, page: tuple[int, int] | None = None, now=None):  # fmt: skip
        self.selection, self.standards, self.filter, self.now = selection, standards, flt, now
        self.total, self.page = total, page
        self._fetched: dict[tuple[int, int], list[Occurrence]] = {}
        if rows is not None:
            offset, found = rows
            self._fetched[(offset, offset + len(found))] = found

    def _relation(self) -> tuple[str, list, str, list]:
        members = self.filter.officer_id is not None and self.filter.step in MEMBER_STEPS
        relation, params = _relation(self.selection, self.standards, now=self.now, members=members)
        where, where_params = self.filter.where()
        return relation, params, where, where_params

    def _fetch_page(self, offset: int, limit: int, *, with_total: bool = False) -> list[Occurrence]:
        relation, params, where, where_params = self._relation()
        sql = f"{relation} {_page_sql(where, with_total=with_total)}"
        found = _fetch(sql, [*params, *where_params, limit, offset])
        if with_total and found:
            self.total = found[0][-1]
        rows = [self._row(row[: len(_ROW_NAMES)]) for row in found]
        self._fetched[(offset, offset + limit)] = rows
        return rows

    def count(self) -> int:
        if self.total is None and self.page is not None:
            self._fetch_page(*self.page, with_total=True)
        if self.total is None:
            relation, params, where, where_params = self._relation()
            self.total = _fetch(f"{relation} SELECT COUNT(*) FROM occ WHERE {where}", params + where_params)[0][0]  # noqa: S608
        return self.total

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index):
        if not isinstance(index, slice):
            return self[index : index + 1][0]
        start, stop = index.start or 0, index.stop
        if stop is None:
            stop = self.count()
        if stop <= start:
            return []
        for (offset, end), rows in self._fetched.items():
            if offset == start and (end == stop or offset + len(rows) < end):
                return rows[: stop - start]
        return self._fetch_page(start, stop - start)

    def all(self) -> list[Occurrence]:
        """Every row, for the exports (no page): one statement."""
        return self._fetch_page(0, 10**9) if self.total is None else self[0 : self.count()]

    def _row(self, row) -> Occurrence:
        step, plan, lokus, report, sub, started, ended, due, seconds, late, title, name, sub_name = row
        ended = _datetime(ended)
        standard = self.standards.get(step)
        # Who ended the step; while it is open (or when the whole team did it), the actor the
        # Mutu Baku names.
        holder = name if ended is not None and name else (standard.actor if standard else _("the whole chain"))
        return Occurrence(
            step,
            plan,
            lokus,
            report,
            sub,
            sub_name or "",
            title,
            holder,
            _datetime(started),
            ended,
            _datetime(due),
            None if seconds is None else float(seconds),
            None if late is None else float(late),
        )

    def from_json(self, text: str | None) -> list[Occurrence]:
        """The rows of a page the figures' statement brought as JSON (``figure_rows``), in
        the list's order (a JSON aggregate need not keep it)."""
        rows = [self._row(row) for row in json.loads(text or "[]")]
        return sorted(rows, key=lambda o: (o.late is None, -(o.late or 0), o.step, o.plan_id, o.report_id or 0))


# Intake ------------------------------------------------------------------------------------------


@dataclass
class Intake:
    """Plans received in the period, the lokus chosen in it, the escalations raised in it."""

    months: list[tuple[int, int]]
    plans_by_month: dict[tuple[int, int], dict[str, int]]  # month -> category -> plans
    plans_by_kecamatan: dict[int, int]
    plans_by_status: dict[str, int]
    reasons: list[tuple[str, int]]  # the most frequent reasons a plan was not chosen
    other_reasons: int
    lokus_by_risk: dict[tuple[str, str], int]  # (risk level, classification) -> lokus
    escalations: dict[tuple[int, int], dict[str, int]]  # month -> kind -> escalations

    @property
    def plans(self) -> int:
        return sum(self.plans_by_status.values())

    @property
    def lokus(self) -> int:
        return sum(self.lokus_by_risk.values())


TOP_REASONS = 10


def _month_of(field_name: str):
    tz = timezone.get_default_timezone()
    return ExtractYear(field_name, tzinfo=tz) * 100 + ExtractMonth(field_name, tzinfo=tz)


def _month_key(value: int) -> tuple[int, int]:
    return divmod(int(value), 100)


def intake(selection: Selection) -> Intake:
    """Four aggregate queries, whatever the number of plans."""
    period = selection.period
    received = ActivityPlan.objects.filter(
        selection.plan_q(), submitted_at__gte=period.start, submitted_at__lt=period.end
    ).order_by()
    by_month: dict[tuple[int, int], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    by_kecamatan: dict[int, int] = defaultdict(int)
    by_status: dict[str, int] = dict.fromkeys(PlanStatus.values, 0)
    rows = received.annotate(month=_month_of("submitted_at")).values("month", "category", "kecamatan_id", "status")
    for row in rows.annotate(n=Count("pk")):
        by_month[_month_key(row["month"])][row["category"]] += row["n"]
        by_kecamatan[row["kecamatan_id"]] += row["n"]
        by_status[row["status"]] += row["n"]
    reasons = list(
        received.filter(status=PlanStatus.NOT_CHOSEN)
        .annotate(reason=reason_key())
        .values("reason")
        .annotate(n=Count("pk"))
        .order_by("-n", "reason")
        .values_list("reason", "n")[:TOP_REASONS]
    )
    lokus = Lokus.objects.filter(
        selection.lokus_q(), created_at__gte=period.start, created_at__lt=period.end
    ).order_by()
    by_risk = {
        (row["risk_level"], row["classification"]): row["n"]
        for row in lokus.values("risk_level", "classification").annotate(n=Count("pk"))
    }
    escalations: dict[tuple[int, int], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    raised = Escalation.objects.filter(
        selection.lokus_q("lokus__"), raised_at__gte=period.start, raised_at__lt=period.end
    ).order_by()
    for row in raised.annotate(month=_month_of("raised_at")).values("month", "kind").annotate(n=Count("pk")):
        escalations[_month_key(row["month"])][row["kind"]] += row["n"]
    return Intake(
        period.months(),
        {month: dict(counts) for month, counts in by_month.items()},
        dict(by_kecamatan),
        by_status,
        reasons,
        by_status[PlanStatus.NOT_CHOSEN] - sum(n for _reason, n in reasons),
        by_risk,
        {month: dict(counts) for month, counts in escalations.items()},
    )


# The dashboard ---------------------------------------------------------------------------------


def dashboard(
    selection: Selection,
    standards: dict[int, StepStandard],
    sub_divisions: list[SubDivision],
    *,
    now=None,
    breaches: tuple[int, int] = (0, 0),
) -> Dashboard:
    """Every figure of the dashboard, with a page of its breaches (``breaches``: offset and
    limit): one statement for the step figures and the breaches, four for the intake."""
    rows = figure_rows(selection, standards, now=now, breaches=breaches)
    breach_rows: list[Occurrence] = []
    per_step: dict[int, Figures] = {}
    per_sub: dict[tuple[int, int | None], Figures] = {}
    per_officer: list[OfficerRow] = []
    per_month: dict[tuple[int, int], Figures] = {}
    rounds: dict[int, int] = {}
    for group, key, second, name, *values in rows:
        figures = _figures(values)
        if group == "step":
            per_step[key] = figures
        elif group == "sub":
            per_sub[(key, second)] = figures
        elif group == "officer":
            per_officer.append(OfficerRow(key, second, name, figures))
        elif group == "trend":
            per_month[(key, int(second))] = figures
        elif group == "rounds" and second is not None:
            rounds[int(second)] = figures.done
        elif group == "breaches":
            breach_rows = OccurrenceRows(selection, standards, OccurrenceFilter()).from_json(name)

    def step_row(number: int) -> StepRow:
        standard = standards.get(number)
        return StepRow(
            number,
            standard.activity if standard else "",
            standard.actor if standard else "",
            standard.minutes if standard else None,
            per_step.get(number, Figures()),
        )

    steps = [step_row(number) for number in STEPS]
    chain = StepRow(CHAIN, _("Plan received to final approval"), "", None, per_step.get(CHAIN, Figures()))
    names = {sub.pk: sub for sub in sub_divisions}
    shown = sorted(
        {sub for (_step, sub) in per_sub if sub is not None}, key=lambda pk: names[pk].name if pk in names else ""
    )
    sub_rows = []
    for sub in shown:
        summed = Figures()
        for number in STEPS:
            figures = per_sub.get((number, sub))
            if figures:
                summed.done += figures.done
                summed.on_time += figures.on_time
                summed.open += figures.open
                summed.overdue += figures.overdue
        sub_rows.append(SubDivisionRow(names.get(sub), per_sub.get((CHAIN, sub), Figures()), summed))
    trend_months = selection.period.trend().months()
    trend = {
        number: [
            TrendCell(month, per_month.get((number, month[0] * 100 + month[1]), Figures())) for month in trend_months
        ]
        for number in [CHAIN, *STEPS]
    }
    per_officer.sort(key=lambda row: (row.step, row.name or "", row.user_id))
    total_breaches = sum(row.figures.late + row.figures.overdue for row in steps)
    return Dashboard(
        selection=selection,
        standards=standards,
        steps=steps,
        chain=chain,
        rounds=dict(sorted(rounds.items())),
        returns={number: per_step.get(number, Figures()) for number in sorted(set(RETURN_STATE_STEPS))},
        sub_divisions=sub_rows,
        officers=per_officer,
        trend_months=trend_months,
        trend=trend,
        breaches_total=total_breaches,
        breaches=OccurrenceRows(
            selection,
            standards,
            OccurrenceFilter(status=Status.BREACH),
            total=total_breaches,
            rows=(breaches[0], breach_rows) if breaches[1] else None,
            now=now,
        ),
        intake=intake(selection),
    )


# The steps whose occurrence ends with a return: the verified state of each level.
RETURN_STATE_STEPS = tuple(STEP_OF_STATE[state] for state in RETURN_STATE)
