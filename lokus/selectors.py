"""Reads that pages share: time standards, due times, work queues, timelines, calendars,
the lists and the pages of lokus and assignments, the team picker.

Whatever a user may see comes from the permission-limited querysets and checks of
``lokus/permissions.py``; the reads here add only what a page shows of it."""

import datetime
from dataclasses import dataclass, field

from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from accounts.enums import Role
from accounts.models import User
from accounts.services import users_with_role
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


def step_standards() -> dict[int, StepStandard]:
    """The 15 Mutu Baku rows by step number (one query)."""
    return {s.number: s for s in StepStandard.objects.all()}


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


def sort_tasks(tasks: list[Task]) -> list[Task]:
    far = timezone.now() + datetime.timedelta(days=3650)
    return sorted(tasks, key=lambda t: (not t.overdue, t.due_at or far))


def work_queue(user) -> list[Task]:
    """What awaits this user now, overdue first, then soonest due."""
    standards = step_standards()
    tasks: list[Task] = []
    if permissions.can_decide_plans(user):
        for plan in permissions.plans_for(user).filter(status=PlanStatus.RECEIVED).select_related("kecamatan"):
            timing = plan_decision_timing(plan, standards)
            tasks.append(
                Task(
                    plan.title,
                    _("Choose or decline as lokus (step 2)"),
                    reverse("lokus:plan_detail", args=[plan.pk]),
                    timing.due_at,
                    2,
                    [plan.kecamatan.name],
                )
            )
    if permissions.is_lokus_manager(user):
        own = permissions.managed_lokus(user).select_related("plan")
        for lokus in own.filter(state=LokusState.COMPOSING):
            timing = _timing(standards, 3, lokus.created_at)
            tasks.append(
                Task(
                    lokus.plan.title,
                    _("Compose and dispatch the team (step 3)"),
                    reverse("lokus:detail", args=[lokus.pk]),
                    timing.due_at,
                    3,
                )
            )
        waiting = (
            own.filter(state=LokusState.DISPATCHED)
            .annotate(unconfirmed=Count("assignments", filter=Q(assignments__state=AssignmentState.ASSIGNED)))
            .filter(unconfirmed__gt=0)
        )
        for lokus in waiting:
            timing = _timing(standards, 4, lokus.dispatched_at)
            tasks.append(
                Task(
                    lokus.plan.title,
                    _("%(n)s member(s) yet to confirm (step 4)") % {"n": lokus.unconfirmed},
                    reverse("lokus:detail", args=[lokus.pk]),
                    timing.due_at,
                    4,
                )
            )
        for lokus in own.filter(state=LokusState.RUNNING):
            tasks.append(
                Task(
                    lokus.plan.title,
                    _("Team in the field (step 5)"),
                    reverse("lokus:detail", args=[lokus.pk]),
                    field_work_due(lokus),
                    5,
                )
            )
    if permissions.sees_all_lokus(user):
        in_progress = Lokus.objects.filter(state__in=[LokusState.DISPATCHED, LokusState.RUNNING]).select_related(
            "plan", "sub_division"
        )
        for lokus in in_progress:
            tasks.append(
                Task(
                    lokus.plan.title,
                    _("Lokus in progress (%(sub)s)") % {"sub": lokus.sub_division.short_name},
                    reverse("lokus:detail", args=[lokus.pk]),
                    field_work_due(lokus),
                    5,
                )
            )
    # The member's own steps 4-5; and the Korlap's step 6 from the moment field work is done
    # until the report exists, when the report's own task (reports.selectors.report_tasks)
    # takes over: the reports app tells which lokus have one (lokus.hooks).
    compiling = Q(is_coordinator=True, lokus__state=LokusState.FIELD_DONE)
    mine = list(
        permissions.assignments_for(user)
        .filter(~Q(state=AssignmentState.REPORTED) | compiling)
        .select_related("lokus__plan")
        .select_related("lokus__risk_assessment")
    )
    with_report = hooks.lokus_with_report(a.lokus_id for a in mine if _compiles_report(a))
    for assignment in mine:
        lokus = assignment.lokus
        url = reverse("lokus:assignment", args=[lokus.pk])
        if assignment.state == AssignmentState.ASSIGNED:
            timing = _timing(standards, 4, lokus.dispatched_at)
            tasks.append(
                Task(lokus.plan.title, _('Read the assignment and confirm "Siap" (step 4)'), url, timing.due_at, 4)
            )
        elif assignment.state != AssignmentState.REPORTED:
            what = _("Run the lokus and submit your report (step 5)")
            if assignment.is_coordinator and not hasattr(lokus, "risk_assessment"):
                what = _("Record the risk mapping before the team starts (step 5)")
            tasks.append(Task(lokus.plan.title, what, url, field_work_due(lokus), 5))
        if _compiles_report(assignment) and lokus.pk not in with_report:
            timing = _timing(standards, 6, lokus.field_done_at)
            tasks.append(Task(lokus.plan.title, _("Compile and send the team report (step 6)"), url, timing.due_at, 6))
    return sort_tasks(tasks)


def _compiles_report(assignment: Assignment) -> bool:
    """Step 6 is the Korlap's once the lokus's field work is done."""
    return assignment.is_coordinator and assignment.lokus.state == LokusState.FIELD_DONE


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


def plan_timeline(plan: ActivityPlan) -> QuerySet[AuditEntry]:
    return AuditEntry.objects.filter(plan=plan).select_related("actor")


# Calendar ----------------------------------------------------------------------------------------


def overlapping_plan_ids(plans: list[ActivityPlan]) -> set[int]:
    """Plans whose time overlaps another plan in the list (clashes to watch)."""
    clashing: set[int] = set()
    ordered = sorted(plans, key=lambda p: p.starts_at)
    for i, a in enumerate(ordered):
        for b in ordered[i + 1 :]:
            if b.starts_at >= a.ends_at:
                break
            clashing.update((a.pk, b.pk))
    return clashing


def plan_calendar(user, first: datetime.date, length: int) -> tuple[list[dict], set[int]]:
    """``length`` days from ``first`` (WIB), each a dict of its ``date``, whether it is
    ``today`` and the ``plans`` the user may see that run on it (plans marked not chosen are
    left out), and the ids of the plans that clash."""
    tz = timezone.get_current_timezone()
    start = datetime.datetime.combine(first, datetime.time.min, tzinfo=tz)
    end = start + datetime.timedelta(days=length)
    shown = list(
        permissions.plans_for(user)
        .filter(starts_at__lt=end, ends_at__gt=start)
        .exclude(status=PlanStatus.NOT_CHOSEN)
        .select_related("kecamatan")
        .order_by("starts_at", "pk")
    )
    today = timezone.localdate()
    days = []
    for offset in range(length):
        date = first + datetime.timedelta(days=offset)
        day_start = datetime.datetime.combine(date, datetime.time.min, tzinfo=tz)
        day_end = day_start + datetime.timedelta(days=1)
        on_day = [p for p in shown if p.starts_at < day_end and p.ends_at > day_start]
        days.append({"date": date, "today": date == today, "plans": on_day})
    return days, overlapping_plan_ids(shown)


def lokus_with_team(qs: QuerySet[Lokus]) -> QuerySet[Lokus]:
    return qs.select_related("plan", "sub_division").prefetch_related(
        Prefetch("assignments", queryset=Assignment.objects.select_related("member"))
    )


# Lokus: the list and the page -----------------------------------------------------------------


def lokus_rows(user, state: str = "") -> QuerySet[Lokus]:
    """The lokus list: what the user may see, newest first, optionally in one state."""
    rows = (
        permissions.lokus_for(user)
        .select_related("plan", "sub_division")
        .annotate(team_size=Count("assignments"))
        .order_by("-starts_at", "-pk")
    )
    return rows.filter(state=state) if state in LokusState.values else rows


def visible_lokus(user) -> QuerySet[Lokus]:
    """The lokus the user may see, with what their pages show of the plan."""
    return permissions.lokus_for(user).select_related("plan__kecamatan", "plan__kelurahan", "sub_division")


def risk_mapping(lokus: Lokus) -> RiskAssessment | None:
    return RiskAssessment.objects.filter(lokus=lokus).first()


def lokus_page(user, lokus: Lokus) -> dict:
    """What the lokus page shows beside the lokus: the team with their qualifications (and
    the user's own place on it), the times of steps 1-5, the timeline, and everything the
    team recorded in the field."""
    team = list(lokus.assignments.select_related("member__sub_division").prefetch_related("member__qualifications"))
    on_team = permissions.assignment_of(user, lokus) is not None
    in_field = {"assignment__lokus": lokus}
    return {
        "assignments": team,
        "my_assignment": next((a for a in team if a.member_id == user.pk), None) if on_team else None,
        "risk": getattr(lokus, "risk_assessment", None),
        "timings": lokus_timings(lokus, team, step_standards()),
        "timeline": plan_timeline(lokus.plan),
        "notes": FieldNote.objects.filter(**in_field).select_related("assignment__member"),
        "media": FieldMedia.objects.filter(**in_field).select_related("assignment__member"),
        "reports": MemberReport.objects.filter(**in_field).select_related("assignment__member"),
        "escalations": Escalation.objects.filter(lokus=lokus).select_related("raised_by"),
        "berita_acara_list": lokus.berita_acara.all(),
    }


# Steps 4-5: the member's own assignment ---------------------------------------------------------


def assignment_rows(user) -> QuerySet[Assignment]:
    """The member's own assignments, open ones first."""
    return (
        permissions.assignments_for(user)
        .select_related("lokus__plan", "lokus__sub_division")
        .order_by("state", "-lokus__starts_at")
    )


def assignment_page(lokus: Lokus, assignment: Assignment) -> dict:
    """What the member's assignment page shows: the team and its Korlap, the risk mapping,
    the Berita Acara of the lokus, and the member's own notes and files."""
    team = list(lokus.assignments.select_related("member").order_by("-is_coordinator", "member__full_name"))
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
    return AccessLog.objects.select_related("user").annotate(lokus_title=Subquery(title)).order_by("-created_at", "-pk")


def recent_own_plans(user, limit: int = 5) -> QuerySet[ActivityPlan]:
    """A partner's latest plans with their status, for the home page."""
    if not user.has_role(Role.PARTNER):
        return ActivityPlan.objects.none()
    return ActivityPlan.objects.filter(submitted_by=user).order_by("-submitted_at")[:limit]
