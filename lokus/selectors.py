"""Reads that views share: time standards, due times, work queues, timelines, calendars."""

import datetime
from dataclasses import dataclass, field

from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from accounts.enums import Role
from core.models import AccessLog
from lokus import permissions
from lokus.enums import AssignmentState, LokusState, PlanStatus
from lokus.models import ActivityPlan, Assignment, AuditEntry, Escalation, Lokus, StepStandard


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
    if user.has_perm("lokus.dispatch_lokus") and user.sub_division_id:
        own = Lokus.objects.filter(sub_division_id=user.sub_division_id).select_related("plan")
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
    if user.has_perm("lokus.view_all_lokus"):
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
    mine = (
        permissions.assignments_for(user)
        .exclude(state=AssignmentState.REPORTED)
        .select_related("lokus__plan")
        .select_related("lokus__risk_assessment")
    )
    for assignment in mine:
        lokus = assignment.lokus
        url = reverse("lokus:assignment", args=[lokus.pk])
        if assignment.state == AssignmentState.ASSIGNED:
            timing = _timing(standards, 4, lokus.dispatched_at)
            tasks.append(
                Task(lokus.plan.title, _('Read the assignment and confirm "Siap" (step 4)'), url, timing.due_at, 4)
            )
        else:
            what = _("Run the lokus and submit your report (step 5)")
            if assignment.is_coordinator and not hasattr(lokus, "risk_assessment"):
                what = _("Record the risk mapping before the team starts (step 5)")
            tasks.append(Task(lokus.plan.title, what, url, field_work_due(lokus), 5))
    return sort_tasks(tasks)


def recent_escalations(user, limit: int = 5) -> QuerySet[Escalation]:
    since = timezone.now() - datetime.timedelta(days=2)
    return (
        Escalation.objects.filter(lokus__in=permissions.lokus_for(user), raised_at__gte=since)
        .select_related("lokus__plan", "raised_by")
        .order_by("-raised_at")[:limit]
        if user.has_role(Role.KASUBBID, Role.KABID, Role.KABAN)
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


def lokus_with_team(qs: QuerySet[Lokus]) -> QuerySet[Lokus]:
    return qs.select_related("plan", "sub_division").prefetch_related(
        Prefetch("assignments", queryset=Assignment.objects.select_related("member"))
    )


def access_records() -> QuerySet[AccessLog]:
    """The access log with each row's lokus title (the log keeps only the lokus's number)."""
    title = Lokus.objects.filter(pk=OuterRef("lokus_id")).values("plan__title")[:1]
    return AccessLog.objects.select_related("user").annotate(lokus_title=Subquery(title)).order_by("-created_at", "-pk")


def recent_own_plans(user, limit: int = 5) -> QuerySet[ActivityPlan]:
    """A partner's latest plans with their status, for the home page."""
    if not user.has_role(Role.PARTNER):
        return ActivityPlan.objects.none()
    return ActivityPlan.objects.filter(submitted_by=user).order_by("-submitted_at")[:limit]
