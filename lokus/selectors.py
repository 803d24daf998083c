"""Reads that pages share: time standards, due times, work queues, timelines, calendars,
the lists and the pages of lokus and assignments, the team picker.

Whatever a user may see comes from the permission-limited querysets and checks of
``lokus/permissions.py``; the reads here add only what a page shows of it."""

import datetime
from dataclasses import dataclass, field
from urllib.parse import urlencode

from asgiref.local import Local
from django.core.signals import request_finished, request_started
from django.db.models import (
    Case,
    Count,
    DateTimeField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, Lower, Trim
from django.db.models.signals import post_delete, post_save
from django.urls import reverse
from django.utils import timezone
from django.utils.dates import MONTHS_3, WEEKDAYS_ABBR
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.enums import Role
from accounts.models import User
from accounts.services import users_with_role
from core.links import url_for
from core.models import AccessLog
from lokus import hooks, permissions
from lokus.enums import AssignmentState, LokusState, PlanStatus
from lokus.models import (
    ActivityPlan,
    Assignment,
    AuditEntry,
    Escalation,
    FieldMedia,
    FieldNote,
    Lokus,
    MemberReport,
    RiskAssessment,
    StepStandard,
)

# The Mutu Baku rows, read at most once per request: kept from a request's first read to its
# end, and forgotten when the admin changes a row (post_save, post_delete). Outside a request
# (commands, tests calling selectors directly) every call reads the table.
_request = Local()


def step_standards() -> dict[int, StepStandard]:
    """The 15 Mutu Baku rows by step number (one query per request at most)."""
    standards = getattr(_request, "standards", None)
    if standards is None:
        standards = {s.number: s for s in StepStandard.objects.all()}
        if getattr(_request, "active", False):
            _request.standards = standards
    return standards


def _request_begins(**kwargs) -> None:
    _request.active, _request.standards = True, None


def _request_ends(**kwargs) -> None:
    _request.active, _request.standards = False, None


def _standards_changed(**kwargs) -> None:
    _request.standards = None


request_started.connect(_request_begins, dispatch_uid="lokus.selectors.standards.begin")
request_finished.connect(_request_ends, dispatch_uid="lokus.selectors.standards.end")
post_save.connect(_standards_changed, sender=StepStandard, dispatch_uid="lokus.selectors.standards.saved")
post_delete.connect(_standards_changed, sender=StepStandard, dispatch_uid="lokus.selectors.standards.deleted")


@dataclass
class StepTiming:
    """One SOP step of one object: when it started, when it is due, when it was done."""

    number: int
    activity: str
    started_at: datetime.datetime | None
    due_at: datetime.datetime | None
    completed_at: datetime.datetime | None = None
    standard_minutes: int | None = None

    @property
    def pending(self) -> bool:
        return self.started_at is not None and self.completed_at is None

    @property
    def overdue(self) -> bool:
        if self.due_at is None:
            return False
        end = self.completed_at or timezone.now()
        return end > self.due_at

    @property
    def taken(self) -> datetime.timedelta | None:
        if self.started_at is None:
            return None
        return (self.completed_at or timezone.now()) - self.started_at


def _timing(standards, number, started, completed=None, due=None) -> StepTiming:
    std = standards.get(number)
    if due is None and started is not None and std is not None:
        due = started + std.duration
    return StepTiming(
        number=number,
        activity=std.activity if std else "",
        started_at=started,
        due_at=due,
        completed_at=completed,
        standard_minutes=std.minutes if std else None,
    )


def plan_decision_timing(plan: ActivityPlan, standards) -> StepTiming:
    return _timing(standards, 2, plan.submitted_at, plan.decided_at)


def field_work_due(lokus: Lokus) -> datetime.datetime:
    """Step 5's standard follows the plan's own schedule: due at the scheduled end."""
    return lokus.ends_at


def lokus_timings(lokus: Lokus, assignments: list[Assignment], standards) -> list[StepTiming]:
    """Steps 1-5 of a lokus, from the recorded times."""
    plan = lokus.plan
    confirmed = [a.confirmed_at for a in assignments if a.confirmed_at]
    reported = [a.reported_at for a in assignments if a.reported_at]
    all_confirmed = max(confirmed) if assignments and len(confirmed) == len(assignments) else None
    all_reported = max(reported) if assignments and len(reported) == len(assignments) else None
    step1 = _timing(standards, 1, plan.submitted_at, plan.submitted_at)
    return [
        step1,
        plan_decision_timing(plan, standards),
        _timing(standards, 3, lokus.created_at, lokus.dispatched_at),
        _timing(standards, 4, lokus.dispatched_at, all_confirmed),
        _timing(
            standards,
            5,
            lokus.field_started_at or (lokus.dispatched_at and lokus.starts_at),
            # Field work ends when every member has reported, or when the report is sent
            # with a member excused: both set field_done_at.
            lokus.field_done_at or all_reported,
            due=field_work_due(lokus) if lokus.dispatched_at else None,
        ),
    ]


# Work queues on the home page -------------------------------------------------------------------

# How many tasks of one kind the home page shows; the rest is counted and linked to the list.
QUEUE_LIMIT = 10


@dataclass
class Task:
    title: str
    what: str | Promise
    url: str
    due_at: datetime.datetime | None
    step: int | None = None
    badges: list = field(default_factory=list)

    @property
    def overdue(self) -> bool:
        return self.due_at is not None and timezone.now() > self.due_at


@dataclass
class Queue:
    """One kind of work on the home page: the tasks of its first rows by due time (at most
    ``QUEUE_LIMIT``), how many there are in all, and the list page that holds them all
    (``url``, filtered to this kind)."""

    label: str | Promise
    tasks: list[Task]
    total: int
    url: str

    @property
    def rest(self) -> int:
        return max(self.total - len(self.tasks), 0)


def sort_tasks(tasks: list[Task]) -> list[Task]:
    """Overdue first, then soonest due; tasks without a due time last."""
    far = timezone.now() + datetime.timedelta(days=3650)
    return sorted(tasks, key=lambda t: (not t.overdue, t.due_at or far))


def plus_standard(start: str, standard: StepStandard | None):
    """``start`` (a datetime column) plus the step's standard time, as a database
    expression (NULL when the step has no standard)."""
    if standard is None:
        return Value(None, output_field=DateTimeField())
    return ExpressionWrapper(
        F(start) + Value(standard.duration, output_field=DurationField()), output_field=DateTimeField()
    )


def _list_url(name: str, **params) -> str:
    return f"{reverse(name)}?{urlencode(params)}"


def bounded_queue(
    label, kind: QuerySet, order: list, fields: list[str], make_task, url: str, limit: int, annotations=None
) -> Queue:
    """The first ``limit`` rows of ``kind`` in ``order`` (by due time), as ``values()`` of
    ``fields`` (``annotations`` included: the due time and what the tile shows), each made a
    task, and the count of all rows of the kind. One query, the same however long the queue
    is: the count is a window over the kind's rows (``COUNT(*) OVER ()``), so the kind's
    filter (its permission rule) is built and compiled once. Building and compiling a query
    costs more Python time on this page than running it.

    The count needs every row of the kind, so the database reads them by the kind's filter
    and sorts the few it keeps; ``order`` must then not start with a column an index is
    ordered by, or PostgreSQL, planning the LIMIT as if the window streamed, walks that
    index across the whole table instead (the queues order by their ``due`` annotation, or
    by ``ends_at``, which no index starts with)."""
    annotations = annotations or {}
    fetched = list(
        kind.annotate(**annotations, queue_total=Window(Count("pk")))
        .order_by(*order)
        .values(*fields, "queue_total")[:limit]
    )
    return Queue(label, [make_task(row) for row in fetched], fetched[0]["queue_total"] if fetched else 0, url)


def work_queues(user, limit: int = QUEUE_LIMIT) -> list[Queue]:
    """What awaits this user in steps 2-6, kind by kind (the kinds the user has, those with
    work in them): each kind's first ``limit`` rows by due time (overdue first, then soonest
    due), ordered and cut in the database, with the count of the rest and the list that
    holds them."""
    standards = step_standards()
    queues: list[Queue] = []
    if permissions.can_decide_plans(user):
        queues.append(
            bounded_queue(
                _("Plans to decide (step 2)"),
                permissions.plans_for(user).filter(status=PlanStatus.RECEIVED),
                # The due time is the submission plus a constant: the submission's order, written
                # on "due" so that no index on the column is walked (bounded_queue).
                ["due", "submitted_at", "pk"],
                ["pk", "title", "due", "kecamatan__name"],
                lambda plan: Task(
                    plan["title"],
                    _("Choose or decline as lokus (step 2)"),
                    url_for("lokus:plan_detail")(plan["pk"]),
                    plan["due"],
                    2,
                    [plan["kecamatan__name"]],
                ),
                _list_url("lokus:plan_list", status=PlanStatus.RECEIVED, when="waiting"),
                limit,
                {"due": plus_standard("submitted_at", standards.get(2))},
            )
        )
    if permissions.is_lokus_manager(user):
        own = permissions.managed_lokus(user)
        queues += [
            bounded_queue(
                _("Teams to compose (step 3)"),
                own.filter(state=LokusState.COMPOSING),
                ["due", "created_at", "pk"],
                ["pk", "plan__title", "due"],
                lambda lokus: Task(
                    lokus["plan__title"],
                    _("Compose and dispatch the team (step 3)"),
                    url_for("lokus:detail")(lokus["pk"]),
                    lokus["due"],
                    3,
                ),
                _list_url("lokus:list", state=LokusState.COMPOSING),
                limit,
                {"due": plus_standard("created_at", standards.get(3))},
            ),
            bounded_queue(
                _("Teams yet to confirm (step 4)"),
                with_unconfirmed_members(own.filter(state=LokusState.DISPATCHED)),
                ["due", "dispatched_at", "pk"],
                ["pk", "plan__title", "due", "unconfirmed"],
                lambda lokus: Task(
                    lokus["plan__title"],
                    _("%(n)s member(s) yet to confirm (step 4)") % {"n": lokus["unconfirmed"]},
                    url_for("lokus:detail")(lokus["pk"]),
                    lokus["due"],
                    4,
                ),
                _list_url("lokus:list", state=LokusState.DISPATCHED, team=UNCONFIRMED),
                limit,
                {"due": plus_standard("dispatched_at", standards.get(4)), "unconfirmed": _count(_unconfirmed())},
            ),
            bounded_queue(
                _("Teams in the field (step 5)"),
                own.filter(state=LokusState.RUNNING),
                ["ends_at", "pk"],  # field_work_due: the schedule's end
                ["pk", "plan__title", "ends_at"],
                lambda lokus: Task(
                    lokus["plan__title"],
                    _("Team in the field (step 5)"),
                    url_for("lokus:detail")(lokus["pk"]),
                    lokus["ends_at"],
                    5,
                ),
                _list_url("lokus:list", state=LokusState.RUNNING),
                limit,
            ),
        ]
    if permissions.sees_all_lokus(user):
        queues.append(
            bounded_queue(
                _("Lokus in progress"),
                lokus_in_progress(Lokus.objects.all()),
                ["ends_at", "pk"],
                ["pk", "plan__title", "ends_at", "sub_division__short_name"],
                lambda lokus: Task(
                    lokus["plan__title"],
                    _("Lokus in progress (%(sub)s)") % {"sub": lokus["sub_division__short_name"]},
                    url_for("lokus:detail")(lokus["pk"]),
                    lokus["ends_at"],
                    5,
                ),
                _list_url("lokus:list", state=IN_PROGRESS),
                limit,
            )
        )
    queues += _assignment_queues(user, standards, limit)
    return [queue for queue in queues if queue.total]


def _unconfirmed() -> QuerySet[Assignment]:
    """The assignments of the outer lokus still awaiting the member's "Siap"."""
    return Assignment.objects.filter(lokus=OuterRef("pk"), state=AssignmentState.ASSIGNED)


def _count(rows: QuerySet, by: str = "lokus"):
    """The number of ``rows`` (a queryset correlated on ``by`` with OuterRef) as a subquery:
    no join and no GROUP BY on the outer query, so that its ORDER BY and LIMIT stay cheap."""
    return Coalesce(Subquery(rows.order_by().values(by).annotate(n=Count("pk")).values("n")), 0)


# The lokus list's filters beyond a single stage (``lokus.forms.LokusFilterForm``), which the
# home queues link to: the same rows as the queue, page after page.
IN_PROGRESS = "in_progress"  # a value of the stage filter: dispatched or in the field
UNCONFIRMED = "unconfirmed"  # a value of the team filter: members yet to confirm


def lokus_in_progress(lokus: QuerySet[Lokus]) -> QuerySet[Lokus]:
    return lokus.filter(state__in=[LokusState.DISPATCHED, LokusState.RUNNING])


def with_unconfirmed_members(lokus: QuerySet[Lokus]) -> QuerySet[Lokus]:
    return lokus.filter(Exists(_unconfirmed()))


# An assignment is open (the member's steps 4-5) until the member's own report is in.
OPEN_ASSIGNMENT = [AssignmentState.ASSIGNED, AssignmentState.CONFIRMED, AssignmentState.CHECKED_IN]


def _assignment_queues(user, standards, limit: int) -> list[Queue]:
    """The member's own steps 4-5; and the Korlap's step 6 from the moment field work is
    done until the report exists, when the report's own task (reports.selectors) takes
    over: the reports app tells which lokus have one (lokus.hooks).

    Only for field officers (``may_list_assignments``: teams are composed of them, and the
    queues link to their list): the office's home pages then build no query for them."""
    if not permissions.may_list_assignments(user):
        return []
    mine = permissions.assignments_for(user)
    open_rows = mine.filter(state__in=OPEN_ASSIGNMENT)
    compiling = mine.filter(is_coordinator=True, lokus__state=LokusState.FIELD_DONE).filter(
        hooks.without_report("lokus_id")
    )
    return [
        bounded_queue(
            _("My assignments (steps 4-5)"),
            open_rows,
            [F("due").asc(nulls_last=True), "pk"],
            ["state", "is_coordinator", "has_risk", "lokus_id", "lokus__plan__title", "due"],
            _open_assignment_task,
            # The member's list shows open assignments first.
            reverse("lokus:assignments"),
            limit,
            {
                "due": Case(
                    When(state=AssignmentState.ASSIGNED, then=plus_standard("lokus__dispatched_at", standards.get(4))),
                    default=F("lokus__ends_at"),  # field_work_due: the schedule's end
                    output_field=DateTimeField(),
                ),
                "has_risk": Exists(RiskAssessment.objects.filter(lokus=OuterRef("lokus_id"))),
            },
        ),
        bounded_queue(
            _("Team reports to compile (step 6)"),
            compiling,
            [F("due").asc(nulls_last=True), "pk"],
            ["lokus_id", "lokus__plan__title", "due"],
            lambda row: Task(
                row["lokus__plan__title"],
                _("Compile and send the team report (step 6)"),
                url_for("lokus:assignment")(row["lokus_id"]),
                row["due"],
                6,
            ),
            reverse("lokus:assignments"),
            limit,
            {"due": plus_standard("lokus__field_done_at", standards.get(6))},
        ),
    ]


def _open_assignment_task(row: dict) -> Task:
    title, url = row["lokus__plan__title"], url_for("lokus:assignment")(row["lokus_id"])
    if row["state"] == AssignmentState.ASSIGNED:
        return Task(title, _('Read the assignment and confirm "Siap" (step 4)'), url, row["due"], 4)
    what = _("Run the lokus and submit your report (step 5)")
    if row["is_coordinator"] and not row["has_risk"]:
        what = _("Record the risk mapping before the team starts (step 5)")
    return Task(title, what, url, row["due"], 5)


def recent_escalations(user, limit: int = 5) -> QuerySet[Escalation]:
    since = timezone.now() - datetime.timedelta(days=2)
    return (
        Escalation.objects.filter(lokus__in=permissions.lokus_for(user), raised_at__gte=since)
        .select_related("lokus__plan", "raised_by")
        .order_by("-raised_at")[:limit]
        if permissions.follows_escalations(user)
        else Escalation.objects.none()
    )


# Timelines ---------------------------------------------------------------------------------------


class WibClock:
    """Times as the templates' ``wib`` filter writes them ("c", "d M Y H:i" and the others
    below), for long lists: the month names are looked up once, not the format parsed again
    per row. As ``wib`` does, no time is "" and a stored time that WIB would take past year
    9999 is "invalid date" (core/templatetags/dates.py), never an error page."""

    def __init__(self):
        self.months = {number: str(name).title() for number, name in MONTHS_3.items()}  # Django's "M"

    @staticmethod
    def _safe(write):
        def written(self, moment: datetime.datetime | None) -> str:
            if moment is None:
                return ""
            try:
                return write(self, timezone.localtime(moment))
            except (OverflowError, ValueError):
                return gettext("invalid date")

        return written

    @_safe
    def text(self, local: datetime.datetime) -> str:
        return f"{local.day:02d} {self.months[local.month]} {local.year:04d} {local.hour:02d}:{local.minute:02d}"

    @_safe
    def short(self, local: datetime.datetime) -> str:
        """The due times' ("d M H:i"), without the year."""
        return f"{local.day:02d} {self.months[local.month]} {local.hour:02d}:{local.minute:02d}"

    @_safe
    def long(self, local: datetime.datetime) -> str:
        """The lists' times ("D d M Y H:i"), with the day of the week."""
        return f"{WEEKDAYS_ABBR[local.weekday()]} {self.text(local)}"

    @_safe
    def stamp(self, local: datetime.datetime) -> str:
        """The logs' times ("d M Y H:i:s"), to the second."""
        return f"{self.text(local)}:{local.second:02d}"

    @_safe
    def iso(self, local: datetime.datetime) -> str:
        return local.isoformat()


def plan_timeline(plan: ActivityPlan) -> list[AuditEntry]:
    """The plan's audit entries in order, each with its states' labels (``from_text``,
    ``to_text``: ``AuditEntry.from_label``/``to_label``, looked up once per state rather
    than per row and template call), its action's (``action_text``: ``get_action_display``,
    which hashes every label of the choices again on each call) and its time written out
    (``at_iso``, ``at_text``)."""
    entries = list(AuditEntry.objects.filter(plan=plan).select_related("actor"))
    labels: dict[str, str] = {}
    actions = {value: str(label) for value, label in AuditEntry._meta.get_field("action").flatchoices}
    clock = WibClock()
    for entry in entries:
        entry.action_text = actions.get(entry.action, entry.action)
        for state in (entry.from_state, entry.to_state):
            if state not in labels:
                labels[state] = AuditEntry._label(state)
        entry.from_text, entry.to_text = labels[entry.from_state], labels[entry.to_state]
        entry.at_iso, entry.at_text = clock.iso(entry.created_at), clock.text(entry.created_at)
    return entries


# Calendar ----------------------------------------------------------------------------------------

# How many plans a day of the week calendar lists (the day view: a page's worth); the rest
# of the day is counted and linked to the plan list of that day.
CALENDAR_PER_DAY = 5
CALENDAR_PER_DAY_VIEW = 25
# A value of the plan list's status filter: what the calendar shows (every plan but those
# marked not chosen).
NOT_DECLINED = "not_declined"


def overlapping_plan_ids(spans: list[tuple[int, datetime.datetime, datetime.datetime]]) -> set[int]:
    """Plans whose time overlaps another plan's (clashes to watch). ``spans``: (pk, start,
    end) in start order. One pass: a plan that starts before the latest end so far overlaps
    the plan holding that end; a plan overlapping only later ones is then found as that
    holder (or, for an earlier holder, by its own start)."""
    clashing: set[int] = set()
    latest_end, latest_pk = None, None
    for pk, starts_at, ends_at in spans:
        if latest_end is not None and starts_at < latest_end:
            clashing.update((pk, latest_pk))
        if latest_end is None or ends_at > latest_end:
            latest_end, latest_pk = ends_at, pk
    return clashing


def day_bounds(date: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """The day in WIB, from midnight to midnight."""
    start = datetime.datetime.combine(date, datetime.time.min, tzinfo=timezone.get_current_timezone())
    return start, start + datetime.timedelta(days=1)


def plans_on_day(plans: QuerySet[ActivityPlan], date: datetime.date) -> QuerySet[ActivityPlan]:
    """The plans that run on that day (WIB), as the calendar places them."""
    start, end = day_bounds(date)
    return plans.filter(starts_at__lt=end, ends_at__gt=start)


def plan_calendar(
    user, first: datetime.date, length: int, per_day: int = CALENDAR_PER_DAY
) -> tuple[list[dict], set[int]]:
    """``length`` days from ``first`` (WIB), each a dict of its ``date``, whether it is
    ``today``, how many plans the user may see run on it (``count``; plans marked not
    chosen are left out), the first ``per_day`` of them by start (``plans``), how many more
    (``rest``) and the plan list of that day (``url``); and the ids of the plans that clash.

    One narrow query reads when each plan of the period runs (for the counts and the
    clashes); a second fetches only the plans shown."""
    start, end = day_bounds(first)[0], day_bounds(first + datetime.timedelta(days=length - 1))[1]
    visible = (
        permissions.plans_for(user).filter(starts_at__lt=end, ends_at__gt=start).exclude(status=PlanStatus.NOT_CHOSEN)
    )
    spans = list(visible.order_by("starts_at", "pk").values_list("pk", "starts_at", "ends_at"))
    today = timezone.localdate()
    days = []
    for offset in range(length):
        date = first + datetime.timedelta(days=offset)
        day_start, day_end = day_bounds(date)
        on_day = [pk for pk, starts_at, ends_at in spans if starts_at < day_end and ends_at > day_start]
        days.append(
            {
                "date": date,
                "today": date == today,
                "count": len(on_day),
                "ids": on_day[:per_day],
                "rest": max(len(on_day) - per_day, 0),
                "url": _list_url("lokus:plan_list", day=date.isoformat(), status=NOT_DECLINED),
            }
        )
    shown = (
        visible.select_related("kecamatan")
        .only("title", "starts_at", "ends_at", "status", "kecamatan__name")
        .in_bulk({pk for day in days for pk in day["ids"]})
    )
    linked(labelled(shown.values(), "status"), "lokus:plan_detail")
    for day in days:
        day["plans"] = [shown[pk] for pk in day.pop("ids")]
    return days, overlapping_plan_ids(spans)


# Lists ------------------------------------------------------------------------------------------


def labelled(rows, *fields: str) -> list:
    """The rows (one page of a list) as a list, each with ``<field>_label`` for each choice
    field named: what ``get_<field>_display()`` gives, with each field's labels looked up
    once for the page (``get_<field>_display`` hashes every label of the choices again,
    translating each, on every call)."""
    rows = list(rows)
    if rows:
        meta = rows[0]._meta
        for name in fields:
            labels = {value: str(label) for value, label in meta.get_field(name).flatchoices}
            for row in rows:
                value = getattr(row, name)
                setattr(row, f"{name}_label", labels.get(value, value))
    return rows


def linked(rows: list, name: str, key: str = "pk") -> list:
    """Each row with ``url``: the URL ``name`` of the row's ``key`` (an id), without a
    ``reverse`` per row (``core.links.url_for``)."""
    url = url_for(name)
    for row in rows:
        row.url = url(getattr(row, key))
    return rows


def dated(rows: list, name: str, of=lambda row: row, style: str = "long") -> list:
    """Each row with ``<name>_text``: the ``name`` time of ``of(row)`` as the lists write it
    (in WIB, ``WibClock.long``: "D d M Y H:i", or ``style`` another of its ways)."""
    write = getattr(WibClock(), style)
    for row in rows:
        setattr(row, f"{name}_text", write(getattr(of(row), name)))
    return rows


# Lokus: the list and the page -----------------------------------------------------------------


def lokus_rows(user, state: str = "") -> QuerySet[Lokus]:
    """The lokus list: what the user may see, newest first, optionally in one state."""
    rows = (
        permissions.lokus_for(user)
        .select_related("plan", "sub_division")
        # A correlated count, not Count("assignments"): no join and GROUP BY of every lokus
        # with its team before the LIMIT, and the paginator's count drops it altogether.
        .annotate(team_size=_count(Assignment.objects.filter(lokus=OuterRef("pk"))))
        # What the list shows (and the state fields, which django-fsm reads on every row).
        .only("state", "classification", "starts_at", "plan__status", "plan__title", "sub_division__short_name")
        .order_by("-starts_at", "-pk")
    )
    return rows.filter(state=state) if state in LokusState.values else rows


def visible_lokus(user) -> QuerySet[Lokus]:
    """The lokus the user may see, with what their pages show of the plan."""
    return permissions.lokus_for(user).select_related("plan__kecamatan", "plan__kelurahan", "sub_division")


def risk_mapping(lokus: Lokus) -> RiskAssessment | None:
    """The lokus's risk mapping, with who recorded it (the pages name them)."""
    return RiskAssessment.objects.filter(lokus=lokus).select_related("recorded_by").first()


def lokus_page(user, lokus: Lokus) -> dict:
    """What the lokus page shows beside the lokus: the team with their qualifications (and
    the user's own place on it), the times of steps 1-5, the timeline, and everything the
    team recorded in the field."""
    team = list(lokus.assignments.select_related("member__sub_division").prefetch_related("member__qualifications"))
    in_field = {"assignment__lokus": lokus}
    by_pk = {a.pk: a for a in team}

    def on_team(rows: QuerySet) -> list:
        """The rows, each with its assignment (and member) from the team already read."""
        rows = list(rows)
        for row in rows:
            row.assignment = by_pk[row.assignment_id]
        return rows

    return {
        "assignments": team,
        "my_assignment": permissions.assignment_of(user, lokus, team),
        "risk": getattr(lokus, "risk_assessment", None),
        "timings": lokus_timings(lokus, team, step_standards()),
        "timeline": plan_timeline(lokus.plan),
        "notes": labelled(on_team(FieldNote.objects.filter(**in_field)), "situation"),
        "media": labelled(on_team(FieldMedia.objects.filter(**in_field)), "kind"),
        "reports": labelled(
            on_team(MemberReport.objects.filter(**in_field).order_by("submitted_at", "pk")), "situation"
        ),
        "escalations": labelled(Escalation.objects.filter(lokus=lokus).select_related("raised_by"), "kind"),
        "berita_acara_list": lokus.berita_acara.all(),
    }


# Steps 4-5: the member's own assignment ---------------------------------------------------------


# The member's list: open assignments first (the states' order), then the latest lokus.
ASSIGNMENT_ORDER = ("state", "-lokus__starts_at", "-pk")


def assignment_rows(user) -> QuerySet:
    """The ids of the member's own assignments in the list's order, to paginate; a page's
    rows are then fetched by ``assignment_page_rows``. The database orders and cuts only the
    narrow rows (an assignment and its lokus's start): a member on hundreds of past lokus
    no longer has every one joined with its plan before the LIMIT."""
    return permissions.assignments_for(user).order_by(*ASSIGNMENT_ORDER).values_list("pk", flat=True)


def assignment_page_rows(ids) -> list[Assignment]:
    """The rows of one page of ``assignment_rows`` (its sliced ids: one query in all), with
    what the list shows of their lokus and plan, in the list's order."""
    rows = labelled(
        Assignment.objects.filter(pk__in=ids)
        .select_related("lokus__plan")
        # The state fields too: django-fsm reads them when a row is made.
        .only(
            "state", "is_coordinator", "lokus__state", "lokus__starts_at", "lokus__plan__status", "lokus__plan__title"
        )
        .order_by(*ASSIGNMENT_ORDER),
        "state",
    )
    return dated(linked(rows, "lokus:assignment", "lokus_id"), "starts_at", lambda a: a.lokus)


def team(lokus: Lokus) -> list[Assignment]:
    """The lokus's team as the member's assignment page lists it: the Korlap first, then by
    name, each with the member."""
    return list(lokus.assignments.select_related("member").order_by("-is_coordinator", "member__full_name"))


def assignment_page(lokus: Lokus, assignment: Assignment, team: list[Assignment]) -> dict:
    """What the member's assignment page shows: the team (``team``) and its Korlap, the
    risk mapping, the Berita Acara of the lokus, and the member's own notes and files."""
    return {
        "team": team,
        "korlap": next((a.member for a in team if a.is_coordinator), None),
        "risk": risk_mapping(lokus),
        "berita_acara_list": lokus.berita_acara.all(),
        "my_notes": assignment.notes.all(),
        "my_media": assignment.media.all(),
    }


# Step 3: the team picker ------------------------------------------------------------------------


def candidate_members() -> QuerySet[User]:
    """Every active field officer, with what the team picker shows about them."""
    return (
        users_with_role(Role.MEMBER)
        .select_related("sub_division")
        .prefetch_related("qualifications")
        .order_by("sub_division__name", "full_name")
    )


def overlapping_assignments(lokus: Lokus, member_ids) -> dict[int, list[Lokus]]:
    """Other lokus, overlapping this one's schedule, that the given officers are already on."""
    clashes: dict[int, list[Lokus]] = {}
    rows = (
        Assignment.objects.filter(
            member_id__in=list(member_ids), lokus__starts_at__lt=lokus.ends_at, lokus__ends_at__gt=lokus.starts_at
        )
        .exclude(lokus=lokus)
        .select_related("lokus__plan")
    )
    for row in rows:
        clashes.setdefault(row.member_id, []).append(row.lokus)
    return clashes


def suggest_surat_tugas_number(lokus: Lokus) -> str:
    """The next Surat Tugas number of this year, offered on the lokus form."""
    year = timezone.localtime().year
    count = Lokus.objects.filter(dispatched_at__year=year).count() + 1
    return f"800.1.11.1/{count:03d}-Kesbangpol/{year}"


def current_team(lokus: Lokus) -> dict:
    """The team as composed so far, as the team form's initial choice."""
    team = list(lokus.assignments.all())
    return {
        "members": [a.member_id for a in team],
        "coordinator": next((a.member_id for a in team if a.is_coordinator), None),
    }


def team_picker_rows(lokus: Lokus, candidates: QuerySet[User]) -> list[dict]:
    """One row per officer who may be chosen: whether of the lokus's own sub-division (those
    first), and the other lokus they are on at an overlapping time."""
    people = list(candidates)
    clashes = overlapping_assignments(lokus, [p.pk for p in people])
    rows = [
        {"user": p, "own": p.sub_division_id == lokus.sub_division_id, "clashes": clashes.get(p.pk, [])} for p in people
    ]
    rows.sort(key=lambda r: (not r["own"], r["user"].full_name))
    return rows


def access_records() -> QuerySet[AccessLog]:
    """The access log with each row's lokus title (the log keeps only the lokus's number)."""
    title = Lokus.objects.filter(pk=OuterRef("lokus_id")).values("plan__title")[:1]
    return (
        AccessLog.objects.select_related("user")
        .only("created_at", "kind", "object_id", "classification", "ip_address", "user__full_name", "user__nip")
        .annotate(lokus_title=Subquery(title))
        .order_by("-created_at", "-pk")
    )


def recent_own_plans(user, limit: int = 5) -> QuerySet[ActivityPlan]:
    """A partner's latest plans with their status, for the home page."""
    if not user.has_role(Role.PARTNER):
        return ActivityPlan.objects.none()
    return ActivityPlan.objects.filter(submitted_by=user).order_by("-submitted_at")[:limit]


# Plans by sub-division and by reason (the monitoring figures, monev, and the plan list's filters)


def plans_of_sub_divisions(sub_division_ids, prefix: str = "") -> Q:
    """The plans that count for these sub-divisions: those still waiting for a decision
    (every Kasubbid's queue, step 2), those chosen as a lokus of one of them, and those a
    Kasubbid of one of them marked not chosen. ``prefix`` reaches the plan from another model."""
    ids = sorted(sub_division_ids)
    return (
        Q(**{f"{prefix}status": PlanStatus.RECEIVED})
        | Q(**{f"{prefix}lokus__sub_division_id__in": ids})
        | Q(**{f"{prefix}status": PlanStatus.NOT_CHOSEN, f"{prefix}decided_by__sub_division_id__in": ids})
    )


def reason_key(field_name: str = "decision_reason"):
    """A decision's reason as counted: the same words whatever the case and the spaces around."""
    return Lower(Trim(field_name))
