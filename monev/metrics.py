"""The monitoring and evaluation figures (monev), computed in the database.

Every figure is read from one relation, the *step occurrences*: one row per time a step of
the SOP ran for a plan, a lokus or a report, with when it started, when it ended (NULL while
it is still open), when it was due, who ended it, and the sub-division and kecamatan it
belongs to. ``monev.occurrences`` says where each row comes from and keeps the stored copy
(``monev.models.StepOccurrence``) in step with the plans, lokus, teams and report logs it is
derived from; this module reads it.

``_relation`` selects the stored occurrences of the selection (scope, kecamatan) that ended
within the period or the trend's twelve months, or are open now, and gives each row its
derived columns once: the standard of its step from the Mutu Baku of the moment (a changed
standard shows at once), seconds taken, seconds past due (at the end, or now while open),
within the period, within the trend, the trend's month (in WIB). Each figure is then an
aggregate over it. Percentiles are ``percentile_cont`` on PostgreSQL; SQLite has no such
aggregate, and this module registers one on the connection (as Django registers its own
statistics aggregates on SQLite), which interpolates exactly as ``percentile_cont`` does.
Datetime arithmetic in that SQL is the database's own (``date_part('epoch', ...)`` on
PostgreSQL, ``julianday`` on SQLite, exact to some microseconds, hence ``TOLERANCE``).

Cost: the whole dashboard is a fixed number of statements whatever the data size: the
figures of every step, sub-division, officer, month and revision round, with one page of the
breaches, in one statement over the stored occurrences (an index on their end), and four
aggregate queries for the intake (``dashboard``). Its time grows with the occurrences of the
twelve months the trend covers (bench/monev.py, README). Within it, only what a page shows is
worked out row by row: the page of breaches walks its own index (``_breach_source``) instead
of sorting the year, and only the officers on the page get a median; the relation holds only
the columns the figures read (``narrow``)."""

from __future__ import annotations

import calendar
import datetime
import json
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Count, Q
from django.db.models.functions import TruncMonth
from django.utils import dateparse, formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import SubDivision, User
from lokus.enums import PlanStatus
from lokus.models import ActivityPlan, Escalation, Lokus, StepStandard
from lokus.selectors import reason_key
from monev.models import StepOccurrence
from monev.occurrences import CHAIN, TOLERANCE, late_sql
from monev.permissions import lokus_scope_q, plan_scope_q
from reports.enums import RETURN_STATE, STEP_OF_STATE
from reports.selectors import SOP_TOTAL

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


# Late: more than ``monev.occurrences.TOLERANCE`` seconds after the due time (SQLite's
# datetime arithmetic is exact to some microseconds).
PAST_DUE = f"o_late > {TOLERANCE}"


def _plus_minutes(start: str, minutes: str) -> str:
    """SQL: the datetime ``start`` plus ``minutes`` (to show a due time)."""
    if connection.vendor == "postgresql":
        return f"({start} + {minutes} * INTERVAL '1 minute')"
    return f"datetime({start}, '+' || {minutes} || ' minutes')"


def _param(value: datetime.datetime):
    """A datetime as the database compares it with its stored ones."""
    return connection.ops.adapt_datetimefield_value(value)


def _selected(selection: Selection) -> tuple[list[str], list]:
    """SQL conditions on the stored occurrences for the selection's scope and kecamatan, and
    their parameters."""
    conditions, params = [], []
    if selection.scope is not None:
        # monev.permissions: a plan waiting for a decision is in every scope (``shared``).
        ids = sorted(selection.scope)
        conditions.append(f"(shared OR scope_id IN ({', '.join(['%s'] * len(ids))}))" if ids else "1 = 0")
        params += ids
    if selection.kecamatan_id is not None:
        conditions.append("kecamatan_id = %s")
        params.append(selection.kecamatan_id)
    return conditions, params


def _relation(
    selection: Selection, standards, *, now=None, members: bool = True, narrow: bool = False,
    spans: frozenset[str] = frozenset({"period", "trend"}),
) -> tuple[str, list]:  # fmt: skip
    """The SQL of the occurrence relation (common table expressions, the last named
    ``occ``) and its parameters: the stored occurrences (``monev.models.StepOccurrence``)
    of the selection that ended within the period or the trend, or are open now, each with
    its derived columns. ``narrow`` (``figure_rows``): only the columns the figures read, not
    those a list shows, and the relation is not materialized: each figure that reads it
    reads only its own columns and rows from the table (writing a year of rows into a
    materialized relation and reading them back cost more than the figures themselves,
    bench/monev.py), and the planner may share the scans among parallel workers; a list
    reads its relation whole, once, materialized. ``spans``: whose ended rows it holds, the
    period's, the trend's or both (``figure_rows`` reads only those of the groups it computes;
    the open rows are always there)."""
    period, trend = selection.period, selection.period.trend()
    now = now or timezone.now()
    read = [span for name, span in (("period", period), ("trend", trend)) if name in spans]
    start, end = min(span.start for span in read), max(span.end for span in read)
    conditions, params = _selected(selection)
    if not members:
        conditions.append("kind <> 'member'")
    table = quote(StepOccurrence._meta.db_table)
    # Only the columns the figures read (and, unless ``narrow``, those a list shows); the
    # standard, the seconds taken and past due, on time, and the month were stored at the
    # refresh. Column names and constants of this module; the values are parameters.
    listed = (
        ""
        if narrow
        else " plan_id AS o_plan, lokus_id AS o_lokus, started_at AS o_started, due_at AS o_due, minutes AS o_minutes,"
    )
    columns = (
        f"kind AS o_kind, step AS o_step,{listed} report_id AS o_report, sub_division_id AS o_sub,"
        " actor_id AS o_actor, ended_at AS o_ended, CASE WHEN returned THEN 1 ELSE 0 END AS o_returned,"
        f"{' returned AS o_was_returned,' if narrow else ''}"
        " rounds AS o_rounds, seconds AS o_secs, CASE WHEN on_time THEN 1 ELSE 0 END AS o_on_time"
    )
    # Seconds past the due time: stored for the ended rows; now, for the open ones.
    open_late = late_sql("%s", "started_at", "due_at", "minutes")
    # Two index scans (on the end; the rows of a period lie together on disk) rather than one
    # OR, which the planner would answer with a scan of the whole table.
    narrowed = "".join(f" AND {condition}" for condition in conditions)
    # Within the period, the trend, and the trend's month: for the ended rows only. A window
    # that holds every ended row read (the trend page reads only the trend's months, the
    # dashboard only its period) is the constant it always is: written as a CASE, the
    # planner cannot tell how many rows a filter on it keeps (it guesses 0.5%, 237 rows of a
    # year's 114,000) and groups the year by sorting it instead of hashing it.
    windows, window_params = [], []
    for span, within, without, name in (
        (period, "1", "0", "o_in_period"),
        (trend, "1", "0", "o_in_trend"),
        (trend, "month", "NULL", "o_month"),
    ):
        if span.start <= start and span.end >= end:
            windows.append(f"{within} AS {name}")
        else:
            windows.append(f"CASE WHEN ended_at >= %s AND ended_at < %s THEN {within} ELSE {without} END AS {name}")
            window_params += [_param(span.start), _param(span.end)]
    windows = ", ".join(windows)
    source = (
        f"SELECT {columns}, late AS o_late, {windows} FROM {table}"  # noqa: S608
        f" WHERE ended_at >= %s AND ended_at < %s{narrowed}"
        f" UNION ALL SELECT {columns}, {open_late} AS o_late, 0, 0, CAST(NULL AS integer) FROM {table}"
        f" WHERE ended_at IS NULL AND started_at IS NOT NULL{narrowed}"
    )
    params = [*window_params, _param(start), _param(end), *params, _param(now), _param(now), *params]
    # A list's rows: each row's columns computed once (materialized), whichever clauses read them.
    relation = f"WITH occ AS {'NOT ' if narrow else ''}MATERIALIZED ({source})"
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


# The memory the figures' statement may sort and hash in on PostgreSQL (for that statement
# only): its percentiles sort a year of occurrences, which PostgreSQL's default of 4 MB sends
# to disk at a few hundred thousand (bench/monev.py: about 10% faster).
FIGURES_WORK_MEM = "32MB"


def _fetch(sql: str, params: list, *, work_mem: str | None = None) -> list[tuple]:
    _prepare_connection()
    if work_mem and connection.vendor == "postgresql":
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL work_mem = %s", [work_mem])  # until the transaction ends
            cursor.execute(sql, params)
            return cursor.fetchall()
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


# Typed NULLs: a UNION's column takes its type from its branches two by two, and two bare
# NULLs would make it text.
_NO_COUNT, _NO_TIME, _NO_KEY = "CAST(NULL AS bigint)", "CAST(NULL AS double precision)", "CAST(NULL AS bigint)"


# The counts are read from ``fine``: the occurrences counted once, by every key a group of
# figures has (one aggregate over them instead of one pass per group), and only by the keys
# of the groups computed (each key more multiplies the rows the aggregate sorts).
_FINE_KEYS = {
    "step": ("o_kind", "o_step", "o_in_period"),
    "sub": ("o_kind", "o_step", "o_sub", "o_in_period"),
    "officer": ("o_kind", "o_step", "o_actor", "o_in_period"),
    "trend": ("o_kind", "o_step", "o_month", "o_in_trend"),
    "rounds": ("o_kind", "o_step", "o_rounds", "o_in_period"),
}


def _fine(groups: frozenset[str]) -> str:
    """SQL: the common table expression ``fine`` for the figure ``groups``."""
    order = ("o_kind", "o_step", "o_sub", "o_actor", "o_month", "o_rounds", "o_in_period", "o_in_trend")
    used = {key for group in groups for key in _FINE_KEYS[group]}
    keys = ", ".join(key for key in order if key in used)
    return (
        f"fine AS (SELECT {keys}, COUNT(*) AS f_n, SUM(o_on_time) AS f_on_time,"  # noqa: S608
        " SUM(CASE WHEN o_ended IS NULL THEN 1 ELSE 0 END) AS f_open,"
        f" SUM(CASE WHEN o_ended IS NULL AND {PAST_DUE} THEN 1 ELSE 0 END) AS f_overdue,"
        f" SUM(o_returned) AS f_returned FROM occ GROUP BY {keys})"
    )


# The chain and the returns, few rows: the small groups' times read them from here. The
# condition is the partial index ``monev_occ_few``'s, on the table's own columns, so that
# the rows are read from it (a figure relation is not materialized: ``_relation``).
_FEW = (
    "few AS (SELECT o_kind, o_step, o_sub, o_month, o_report, o_secs, o_returned, o_in_period, o_in_trend"  # noqa: S608
    f" FROM occ WHERE o_step = {CHAIN} OR o_was_returned)"
)


def _counts(done: str) -> str:
    """The figure columns of a group that are counts (from ``fine``), counting as done the
    rows where ``done`` holds; the times and the reports returned are NULL here."""
    return ", ".join(
        [
            f"SUM(CASE WHEN {done} THEN f_n ELSE 0 END)",
            f"SUM(CASE WHEN {done} THEN f_on_time ELSE 0 END)",
            _NO_TIME,
            _NO_TIME,
            "SUM(f_open)",
            "SUM(f_overdue)",
            f"SUM(CASE WHEN {done} THEN f_returned ELSE 0 END)",
            _NO_COUNT,
        ]
    )


def _times(p90: bool) -> str:
    """The figure columns of a group that are times: the median, and the 90th percentile if
    ``p90`` (each percentile sorts its rows, so only the rows that are timed are read)."""
    ninety = _percentile_sql("o_secs", 0.9) if p90 else _NO_TIME
    counts = ", ".join([_NO_COUNT] * 4)
    return f"{_NO_COUNT}, {_NO_COUNT}, {_percentile_sql('o_secs', 0.5)}, {ninety}, {counts}"


def _group(
    name: str, keys: tuple[str, str], where: str, done: str, *, times: str | None = "TRUE", p90: bool = True,
    returns: bool = False, label: str = "NULL", timed: str = "occ",
) -> list[str]:  # fmt: skip
    """The SELECTs of one group of figures, grouped by ``keys`` (SQL; "NULL" for none) over
    the rows where ``where`` holds: the counts; the times of the rows done where ``times``
    holds (None: none), read from ``timed`` (``few`` when only the chain is timed); the reports
    returned if ``returns``. ``figure_rows`` merges them."""
    group_by = ", ".join(k for k in keys if k != "NULL")
    key, second = (_NO_KEY if k == "NULL" else k for k in keys)
    label = "CAST(NULL AS text)" if label == "NULL" else label
    selects = [
        f"SELECT '{name}', {key}, {second}, {label}, {_counts(done)} FROM fine WHERE {where} GROUP BY {group_by}"  # noqa: S608
    ]
    if times:
        selects.append(
            f"SELECT '{name}', {key}, {second}, CAST(NULL AS text), {_times(p90)} FROM {timed}"  # noqa: S608
            f" WHERE {where} AND {done} AND {times} AND o_secs IS NOT NULL GROUP BY {group_by}"
        )
    if returns:
        selects.append(
            f"SELECT '{name}', {key}, {second}, CAST(NULL AS text), {', '.join([_NO_COUNT] * 2)},"  # noqa: S608
            f" {_NO_TIME}, {_NO_TIME}, {', '.join([_NO_COUNT] * 3)},"
            f" COUNT(DISTINCT o_report) FROM few WHERE {where} AND {done} AND o_returned = 1 GROUP BY {group_by}"
        )
    return selects


def _merged(rows: list[tuple]) -> list[tuple]:
    """The rows of ``_group``'s SELECTs, one per group and keys: each figure from the SELECT
    that computed it (the others give NULL), the name from the counts."""
    merged: dict[tuple, list] = {}
    for row in rows:
        key = (row[0], row[1], row[2])
        if key not in merged:
            merged[key] = list(row)
            continue
        into = merged[key]
        for index in range(3, len(row)):
            if into[index] is None and row[index] is not None:
                into[index] = row[index]
    return [tuple(row) for row in merged.values()]


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


def _breach_source(selection: Selection, now, rows: int) -> tuple[str, list]:
    """SQL: a common table expression ``brk`` holding the first ``rows`` breaches of the
    dashboard's list in its order (steps 1-15 over the standard: completed in the period, or
    open and past due now), with the columns a list shows, and its parameters.

    Read from the stored occurrences by themselves, not from the figures' relation: the
    completed ones walk the index ``monev_occ_late`` (worst first) until enough of them fall
    in the period and the selection, so a page costs a few hundred rows, not a year of them;
    those without a due time (``late`` NULL) come after, through ``monev_occ_untimed``; the
    open ones are few."""
    conditions, params = _selected(selection)
    narrowed = "".join(f" AND {condition}" for condition in conditions)
    table = quote(StepOccurrence._meta.db_table)
    columns = (
        "step AS o_step, plan_id AS o_plan, lokus_id AS o_lokus, report_id AS o_report,"
        " sub_division_id AS o_sub, actor_id AS o_actor, started_at AS o_started, ended_at AS o_ended, due_at AS o_due,"
        " minutes AS o_minutes, seconds AS o_secs"
    )
    # The index's rows: a step (not the chain, not a member's part), ended not on time.
    late = "kind = 'step' AND on_time = %s"
    order = "step, plan_id, report_id, started_at"
    open_late = late_sql("%s", "started_at", "due_at", "minutes")
    sql = (
        f"brk AS (SELECT * FROM (SELECT {columns}, late AS o_late FROM {table}"  # noqa: S608
        f" WHERE {late} AND late IS NOT NULL AND ended_at >= %s AND ended_at < %s{narrowed}"
        f" ORDER BY late DESC, {order} LIMIT %s) AS timed"
        f" UNION ALL SELECT * FROM (SELECT {columns}, late AS o_late FROM {table}"
        f" WHERE {late} AND late IS NULL AND ended_at >= %s AND ended_at < %s{narrowed} ORDER BY {order} LIMIT %s)"
        f" AS untimed UNION ALL SELECT {columns}, {open_late} AS o_late FROM {table}"
        f" WHERE kind = 'step' AND ended_at IS NULL AND started_at IS NOT NULL{narrowed})"
    )
    period = selection.period
    window = [_param(period.start), _param(period.end)]
    return sql, [
        *[False, *window, *params, rows],
        *[False, *window, *params, rows],
        *[_param(now), _param(now), *params],
    ]


# The groups of figures ``figure_rows`` can compute: per step, per step and sub-division, per
# step and officer, per step and month of the trend, and the approved reports per revision
# round.
GROUPS = frozenset({"step", "sub", "officer", "trend", "rounds"})


def figure_rows(
    selection: Selection, standards, *, now=None, breaches: tuple[int, int] = (0, 0),
    officers: tuple[int, int] | None = None, groups: frozenset[str] = GROUPS,
) -> list[tuple]:  # fmt: skip
    """One statement: the figures per step, per step and sub-division, per step and officer,
    per step and month of the trend, and the approved reports per revision round (only the
    ``groups`` named: the dashboard leaves the trend to its own page). Each row:
    (group, key, second key, officer's name, *figures). ``breaches``: (offset, limit) of a
    page of the breaches list, which one more row holds (as JSON, in the name's column).
    ``officers``: (page number, rows per page) of the officers' rows a page shows, the only
    ones whose median time is computed (each median sorts its rows; the counts come for all);
    a number past the last page is the last page, as Django's ``Paginator.get_page``."""
    now = now or timezone.now()
    # The ended rows of the period for its groups, of the trend's twelve months for the trend.
    spans = frozenset("trend" if group == "trend" else "period" for group in groups)
    relation, params = _relation(selection, standards, now=now, narrow=True, spans=spans)
    steps = "o_kind IN ('step', 'chain')"
    member_steps = ", ".join(map(str, MEMBER_STEPS))
    officer_rows = (
        f"o_actor IS NOT NULL AND o_step BETWEEN {OFFICER_STEPS[0]} AND {OFFICER_STEPS[-1]}"
        f" AND ((o_kind = 'member' AND o_step IN ({member_steps}))"
        f" OR (o_kind = 'step' AND o_step NOT IN ({member_steps})))"
    )
    users = quote(User._meta.db_table)
    period, trend, chain = "o_in_period = 1", "o_in_trend = 1", f"o_step = {CHAIN}"
    officer_page, officer_times, select_params = "", None, []
    if officers is not None and "officer" in groups:
        # The order of ``dashboard``'s officer rows: step, name (by code point, as Python
        # compares strings), user.
        number, per_page = (int(value) for value in officers)
        offset = (max(number, 1) - 1) * per_page
        postgresql = connection.vendor == "postgresql"
        binary = 'COLLATE "C"' if postgresql else "COLLATE BINARY"
        # Computed once (a few rows), not again for each occurrence it is compared with.
        materialized = "MATERIALIZED " if postgresql else ""
        last = f"(COUNT(*) OVER () - 1) / {per_page} * {per_page}"
        officer_page = (
            ", offkeys AS (SELECT k.o_step AS k_step, k.o_actor AS k_actor,"  # noqa: S608
            f" ROW_NUMBER() OVER (ORDER BY k.o_step, COALESCE(u.full_name, '') {binary}, k.o_actor) - 1 AS k_index,"
            f" CASE WHEN {offset} <= {last} THEN {offset} ELSE {last} END AS k_start"
            f" FROM (SELECT DISTINCT o_step, o_actor FROM fine WHERE {officer_rows} AND {period}) AS k"
            f" LEFT JOIN {users} u ON u.id = k.o_actor),"
            f" offpage AS {materialized}(SELECT k_step, k_actor FROM offkeys"
            f" WHERE k_index >= k_start AND k_index < k_start + {per_page})"
        )
        # The page's officers' times, read from the table through the index
        # ``monev_occ_actor`` (officer, step, end): a page's worth of rows, not a year's.
        conditions, scope_params = _selected(selection)
        narrowed = "".join(f" AND {condition}" for condition in conditions)
        officer_times = (
            "(SELECT k_step AS o_step, k_actor AS o_actor, t.kind AS o_kind, t.seconds AS o_secs, 1 AS o_in_period"  # noqa: S608
            f" FROM offpage JOIN {quote(StepOccurrence._meta.db_table)} t ON t.actor_id = k_actor AND t.step = k_step"
            " WHERE t.ended_at >= %s AND t.ended_at < %s AND t.seconds IS NOT NULL"
            f" AND ((t.kind = 'member' AND t.step IN ({member_steps}))"
            f" OR (t.kind = 'step' AND t.step NOT IN ({member_steps}))){narrowed}) AS timed"
        )
        select_params += [_param(selection.period.start), _param(selection.period.end), *scope_params]
    by_group = {
        "step": _group("step", ("o_step", "NULL"), steps, period, returns=True),
        "sub": _group("sub", ("o_step", "o_sub"), steps, period, times=chain, p90=False, timed="few"),
        "officer": _group(
            "officer",
            ("o_step", "o_actor"),
            f"{officer_rows} AND {period}",
            period,
            timed=officer_times or "occ",
            p90=False,
            label=f"(SELECT u.full_name FROM {users} u WHERE u.id = o_actor)",  # noqa: S608
        ),
        "trend": _group("trend", ("o_step", "o_month"), f"{steps} AND {trend}", trend, times=chain, timed="few"),
        "rounds": _group("rounds", ("o_step", "o_rounds"), f"o_kind = 'chain' AND {period}", period, times=None),
    }
    selects = [select for name, selected in by_group.items() if name in groups for select in selected]
    # Only constants of this module and Django's own SQL: nothing here comes from a request.
    offset, limit = breaches
    if limit:
        brk, brk_params = _breach_source(selection, now, offset + limit)
        relation, params = f"{relation}, {brk}", [*params, *brk_params]
    sql = f"{relation}, {_fine(groups)}, {_FEW}{officer_page}\n" + "\nUNION ALL\n".join(selects) + "\n"
    params += select_params
    if limit:
        # Every open one is in ``brk``: the page keeps those past due.
        nulls = ", ".join([_NO_COUNT, _NO_COUNT, _NO_TIME, _NO_TIME, *[_NO_COUNT] * 4])
        page = _page_sql(f"(o_ended IS NOT NULL OR {PAST_DUE})", source="brk")
        sql += f"UNION ALL SELECT 'breaches', {_NO_KEY}, {_NO_KEY}, {_json_rows(page)}, {nulls}\n"
        params += [limit, offset]
    return _merged(_fetch(sql, params, work_mem=FIGURES_WORK_MEM))


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


def _page_sql(where: str, *, with_total: bool = False, source: str = "occ") -> str:
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
        f" FROM (SELECT {source}.*{total} FROM {source} WHERE {where} {_ROW_ORDER} LIMIT %s OFFSET %s) AS o"
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
        # ``_ROW_ORDER``, with the database's place for a missing report (PostgreSQL sorts
        # NULL last, SQLite first).
        nulls_last = connection.vendor == "postgresql"

        def order(o: Occurrence):
            missing = (o.report_id is None) if nulls_last else (o.report_id is not None)
            started = o.started.timestamp() if o.started else 0
            return (o.late is None, -(o.late or 0), o.step, o.plan_id, missing, o.report_id or 0, started)

        return sorted(rows, key=order)


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
    # One truncation in WIB (twice as fast on PostgreSQL as two EXTRACTs, which are numeric).
    return TruncMonth(field_name, tzinfo=timezone.get_default_timezone())


def _month_key(value: datetime.datetime | datetime.date) -> tuple[int, int]:
    return value.year, value.month


def intake(selection: Selection) -> Intake:
    """Five aggregate queries, whatever the number of plans."""
    period = selection.period
    received = ActivityPlan.objects.filter(
        selection.plan_q(), submitted_at__gte=period.start, submitted_at__lt=period.end
    ).order_by()
    by_month: dict[tuple[int, int], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    by_kecamatan: dict[int, int] = defaultdict(int)
    by_status: dict[str, int] = dict.fromkeys(PlanStatus.values, 0)
    # Two groupings rather than one by all four columns: a year of plans falls into thousands
    # of (month, category, kecamatan, status) groups, each a row for Python to read, but into a
    # hundred or so of each pair. COUNT("*"), not of the id: the index ``plan_received``
    # holds every column read, so both are read from it alone.
    months = received.annotate(month=_month_of("submitted_at")).values("month", "category")
    for row in months.annotate(n=Count("*")):
        by_month[_month_key(row["month"])][row["category"]] += row["n"]
    for row in received.values("kecamatan_id", "status").annotate(n=Count("*")):
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


def _trend(
    selection: Selection, per_month: dict[tuple[int, int], Figures]
) -> tuple[list[tuple[int, int]], dict[int, list[TrendCell]]]:
    """The trend's months and, per step (CHAIN: the chain), one cell per month, from the
    trend group's figures by (step, year * 100 + month)."""
    months = selection.period.trend().months()
    cells = {
        number: [TrendCell(month, per_month.get((number, month[0] * 100 + month[1]), Figures())) for month in months]
        for number in [CHAIN, *STEPS]
    }
    return months, cells


@dataclass
class Trend:
    months: list[tuple[int, int]]
    cells: dict[int, list[TrendCell]]  # step (CHAIN: the chain) -> one cell per month


def trend_figures(selection: Selection, standards: dict[int, StepStandard], *, now=None) -> Trend:
    """The twelve months' trend alone (its own page): the trend group of ``figure_rows``,
    one statement, the same figures as the dashboard's ``trend``."""
    rows = figure_rows(selection, standards, now=now, groups=frozenset({"trend"}))
    per_month = {
        (key, int(second)): _figures(values) for group, key, second, _name, *values in rows if group == "trend"
    }
    return Trend(*_trend(selection, per_month))


def dashboard(
    selection: Selection,
    standards: dict[int, StepStandard],
    sub_divisions: list[SubDivision],
    *,
    now=None,
    breaches: tuple[int, int] = (0, 0),
    officers: tuple[int, int] | None = None,
    trend: bool = True,
) -> Dashboard:
    """Every figure of the dashboard, with a page of its breaches (``breaches``: offset and
    limit): one statement for the step figures and the breaches, five for the intake.
    ``trend``: with the twelve months' trend (the PDF; the dashboard's page leaves it to
    ``trend_figures``, an empty ``trend`` here)."""
    groups = GROUPS if trend else GROUPS - {"trend"}
    rows = figure_rows(selection, standards, now=now, breaches=breaches, officers=officers, groups=groups)
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
    trend_months, trend_cells = _trend(selection, per_month) if trend else ([], {})
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
        trend=trend_cells,
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
