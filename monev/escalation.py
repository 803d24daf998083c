"""Overdue escalation: remind whoever holds a step once it passes its due time, and the
holder's superior once it passes twice its standard (SOP: the Mutu Baku of every step).

``escalate_overdue`` is a plain function so that ``manage.py escalate_overdue`` (cron, a
systemd timer) and a background-job runner can both call it; it is safe to run every few
minutes, and two runs at the same moment send each reminder once.

Due times are the pages' own rules: step 2 from the plan's receipt, steps 3-4 and 6 from the
times the lokus recorded, step 5 at the scheduled end (``lokus.selectors.field_work_due``),
steps 6-15 of the team report from the time it reached its state
(``reports.selectors.due_at`` with ``STEP_OF_STATE``). Who holds a step is who the work
queues show it to; the superior of a Kasubbid is the Kabid Kesbang, of the Kabid the Kepala
Badan, and of a field officer or the Korlap (steps 4-6) the Kasubbid of the lokus's
sub-division. The Kepala Badan has no superior.

One occurrence of a step is known by what it belongs to, the step and the moment its clock
started; step 5's clock is the scheduled start (it cannot change once the team is
dispatched) and its standard the scheduled span, so twice its standard is as long again
after the scheduled end. A step the report reaches again (after a return) is a new
occurrence.

Cost: a fixed number of queries whatever the data size (the standards, one query per kind of
step that returns only occurrences with a reminder due and not yet sent, the people in one
or two queries, the insert and the read-back), plus one insert of notifications per
reminder sent."""

import datetime
import uuid
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Case, Exists, F, IntegerField, OuterRef, Q, Value, When
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.enums import Role
from accounts.models import User
from accounts.services import notify
from lokus.enums import AssignmentState, LokusState, PlanStatus
from lokus.models import ActivityPlan, Assignment, Lokus
from lokus.selectors import field_work_due, step_standards
from monev.models import Reminder, ReminderLevel, ReminderSubject
from reports.enums import HOLDER, STEP_OF_STATE, Level
from reports.models import ActivityReport
from reports.selectors import due_at

HOLDER_LEVEL, SUPERIOR_LEVEL = ReminderLevel.HOLDER, ReminderLevel.SUPERIOR
PLAN, LOKUS = ReminderSubject.PLAN, ReminderSubject.LOKUS


# Who is reminded ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Who:
    """A group of people named by their role in a step: resolved in bulk (``Directory``)."""

    kind: str
    key: int | None = None


KASUBBIDS = "kasubbids"  # every Kasubbid placed in a sub-division (plans have none yet)
KASUBBID = "kasubbid"  # the Kasubbid(s) of one sub-division (key)
KABID = "kabid"
KABAN = "kaban"
UNCONFIRMED = "unconfirmed"  # the members of a lokus (key) yet to confirm "Siap"
UNREPORTED = "unreported"  # the members of a lokus (key) yet to send their own report
KORLAP = "korlap"  # the field coordinator of a lokus (key)

TEAM_KINDS = frozenset({UNCONFIRMED, UNREPORTED, KORLAP})
ROLE_OF = {KASUBBIDS: Role.KASUBBID, KASUBBID: Role.KASUBBID, KABID: Role.KABID, KABAN: Role.KABAN}


def _level_who(level: Level, lokus: Lokus) -> Who:
    """Who reviews the report at a level of the chain (``reports.services._holders``)."""
    return {
        Level.KORLAP: Who(KORLAP, lokus.pk),
        Level.KASUBBID: Who(KASUBBID, lokus.sub_division_id),
        Level.KABID: Who(KABID),
        Level.KABAN: Who(KABAN),
    }[level]


SUPERIOR_OF = {Level.KORLAP: Level.KASUBBID, Level.KASUBBID: Level.KABID, Level.KABID: Level.KABAN}


class Directory:
    """The people of the occurrences' roles and teams, read in two queries."""

    def __init__(self, whos: set[Who]):
        self.by_role: dict[str, list[User]] = defaultdict(list)
        self.kasubbids: dict[int, list[User]] = defaultdict(list)
        roles = {ROLE_OF[w.kind].value for w in whos if w.kind in ROLE_OF}
        if roles:
            people = User.objects.filter(is_active=True, groups__name__in=roles).annotate(role_name=F("groups__name"))
            for person in people.order_by("full_name", "pk"):
                self.by_role[person.role_name].append(person)
                if person.role_name == Role.KASUBBID and person.sub_division_id is not None:
                    self.kasubbids[person.sub_division_id].append(person)
        self.teams: dict[int, list[Assignment]] = defaultdict(list)
        lokus_ids = {w.key for w in whos if w.kind in TEAM_KINDS}
        if lokus_ids:
            team = Assignment.objects.filter(lokus_id__in=lokus_ids, member__is_active=True).select_related("member")
            for assignment in team.order_by("member__full_name", "pk"):
                self.teams[assignment.lokus_id].append(assignment)

    def resolve(self, who: Who) -> list[User]:
        if who.kind == KASUBBIDS:
            return [p for p in self.by_role[Role.KASUBBID.value] if p.sub_division_id is not None]
        if who.kind == KASUBBID:
            return list(self.kasubbids[who.key])
        if who.kind in (KABID, KABAN):
            return list(self.by_role[ROLE_OF[who.kind].value])
        team = self.teams[who.key]
        if who.kind == UNCONFIRMED:
            return [a.member for a in team if a.state == AssignmentState.ASSIGNED]
        if who.kind == UNREPORTED:
            return [a.member for a in team if a.state != AssignmentState.REPORTED]
        return [a.member for a in team if a.is_coordinator]


# The open occurrences past due --------------------------------------------------------------


@dataclass
class Occurrence:
    """One open step of one plan or lokus, with when its reminders fall due."""

    subject: str
    object_id: int
    step: int
    started_at: datetime.datetime
    due_at: datetime.datetime
    superior_at: datetime.datetime | None  # None: nobody above the holder
    title: str
    activity: str
    holder: Who
    superior: Who | None
    holder_url: str
    superior_url: str
    holder_sent: bool
    superior_sent: bool

    def levels_due(self, now: datetime.datetime) -> list[str]:
        levels = []
        if not self.holder_sent and now > self.due_at:
            levels.append(HOLDER_LEVEL)
        if self.superior is not None and not self.superior_sent and self.superior_at and now > self.superior_at:
            levels.append(SUPERIOR_LEVEL)
        return levels


def _sent(subject: str, level: str, step, started: str, object_field: str = "pk") -> Exists:
    """Whether the reminder of this level was sent for the row's occurrence."""
    return Exists(
        Reminder.objects.filter(
            subject=subject, object_id=OuterRef(object_field), step=step, started_at=OuterRef(started), level=level
        )
    )


def _unsent(rows, subject: str, step, started: str, *, superior_due: Q | None, object_field: str = "pk"):
    """The rows whose holder reminder is unsent, or whose superior reminder is unsent and
    (``superior_due``) due; with ``holder_sent`` and ``superior_sent`` marked."""
    rows = rows.annotate(
        holder_sent=_sent(subject, HOLDER_LEVEL, step, started, object_field),
        superior_sent=_sent(subject, SUPERIOR_LEVEL, step, started, object_field),
    )
    wanted = Q(holder_sent=False)
    if superior_due is not None:
        wanted |= Q(superior_sent=False) & superior_due
    return rows.filter(wanted)


def _plan_occurrences(now, standards) -> list[Occurrence]:
    """Step 2: a received plan the Kasubbids have not decided."""
    std = standards.get(2)
    if std is None:
        return []
    rows = _unsent(
        ActivityPlan.objects.filter(status=PlanStatus.RECEIVED, submitted_at__lt=now - std.duration),
        PLAN,
        2,
        "submitted_at",
        superior_due=Q(submitted_at__lt=now - 2 * std.duration),
    ).only("pk", "title", "status", "submitted_at")
    occurrences = []
    for plan in rows:
        url = reverse("lokus:plan_detail", args=[plan.pk])
        occurrences.append(
            Occurrence(
                PLAN,
                plan.pk,
                2,
                plan.submitted_at,
                plan.submitted_at + std.duration,
                plan.submitted_at + 2 * std.duration,
                plan.title,
                std.activity,
                Who(KASUBBIDS),
                Who(KABID),
                url,
                url,
                plan.holder_sent,
                plan.superior_sent,
            )
        )
    return occurrences


# The state fields too: django-fsm reads them when a row is loaded (a deferred one would cost
# a query per row).
LOKUS_FIELDS = (
    "pk",
    "plan__title",
    "plan__status",
    "sub_division_id",
    "state",
    "created_at",
    "dispatched_at",
    "starts_at",
    "ends_at",
)


def _lokus_occurrences(now, standards) -> list[Occurrence]:
    """Steps 3-6 while the lokus holds them: composing the team (the Kasubbid), members yet
    to confirm (step 4), field work not done by the scheduled end (step 5), and the team
    report not started once field work is done (step 6, the Korlap)."""
    lokus = Lokus.objects.select_related("plan")
    occurrences = []

    def add(rows, step, started_field, holder, holder_url_name, superior, superior_url_name, due_of, std):
        for row in rows:
            started = getattr(row, started_field)
            due = due_of(row)
            standard = due - started
            occurrences.append(
                Occurrence(
                    LOKUS,
                    row.pk,
                    step,
                    started,
                    due,
                    started + 2 * standard,
                    row.plan.title,
                    std.activity if std else "",
                    holder(row),
                    superior(row),
                    reverse(holder_url_name, args=[row.pk]),
                    reverse(superior_url_name, args=[row.pk]),
                    row.holder_sent,
                    row.superior_sent,
                )
            )

    def own_kasubbid(row):
        return Who(KASUBBID, row.sub_division_id)

    if std := standards.get(3):
        rows = _unsent(
            lokus.filter(state=LokusState.COMPOSING, created_at__lt=now - std.duration),
            LOKUS,
            3,
            "created_at",
            superior_due=Q(created_at__lt=now - 2 * std.duration),
        )
        add(
            rows.only(*LOKUS_FIELDS),
            3,
            "created_at",
            own_kasubbid,
            "lokus:detail",
            lambda row: Who(KABID),
            "lokus:detail",
            lambda row, d=std.duration: row.created_at + d,
            std,
        )
    if std := standards.get(4):
        unconfirmed = Assignment.objects.filter(lokus=OuterRef("pk"), state=AssignmentState.ASSIGNED)
        rows = _unsent(
            lokus.filter(state=LokusState.DISPATCHED, dispatched_at__lt=now - std.duration).filter(Exists(unconfirmed)),
            LOKUS,
            4,
            "dispatched_at",
            superior_due=Q(dispatched_at__lt=now - 2 * std.duration),
        )
        add(
            rows.only(*LOKUS_FIELDS),
            4,
            "dispatched_at",
            lambda row: Who(UNCONFIRMED, row.pk),
            "lokus:assignment",
            own_kasubbid,
            "lokus:detail",
            lambda row, d=std.duration: row.dispatched_at + d,
            std,
        )
    # Step 5 is due at the scheduled end whatever its Mutu Baku row says.
    rows = _unsent(
        lokus.filter(
            state__in=[LokusState.DISPATCHED, LokusState.RUNNING], dispatched_at__isnull=False, ends_at__lt=now
        ),
        LOKUS,
        5,
        "starts_at",
        # Twice the scheduled span after the start, checked exactly in Python (levels_due).
        superior_due=Q(pk__isnull=False),
    )
    add(
        rows.only(*LOKUS_FIELDS),
        5,
        "starts_at",
        lambda row: Who(UNREPORTED, row.pk),
        "lokus:assignment",
        own_kasubbid,
        "lokus:detail",
        field_work_due,
        standards.get(5),
    )
    if std := standards.get(6):
        rows = _unsent(
            lokus.filter(state=LokusState.FIELD_DONE, report__isnull=True, field_done_at__lt=now - std.duration),
            LOKUS,
            6,
            "field_done_at",
            superior_due=Q(field_done_at__lt=now - 2 * std.duration),
        )
        add(
            rows.only(*LOKUS_FIELDS, "field_done_at"),
            6,
            "field_done_at",
            lambda row: Who(KORLAP, row.pk),
            "lokus:assignment",
            own_kasubbid,
            "lokus:detail",
            lambda row, d=std.duration: row.field_done_at + d,
            std,
        )
    return occurrences


def _report_occurrences(now, standards) -> list[Occurrence]:
    """Steps 6-15: a team report waiting in a state past its step's standard. Its
    occurrences belong to the lokus (a report is one-to-one with it), so that step 6 started
    before and after the Korlap opened the report is one occurrence."""
    states = {state: step for state, step in STEP_OF_STATE.items() if step in standards}
    if not states:
        return []
    overdue = Q()
    superior_due = Q()
    for state, step in states.items():
        overdue |= Q(state=state, state_changed_at__lt=now - standards[step].duration)
        if HOLDER[state] in SUPERIOR_OF:
            superior_due |= Q(state=state, state_changed_at__lt=now - 2 * standards[step].duration)
    step_number = Case(
        *(When(state=state, then=Value(step)) for state, step in states.items()), output_field=IntegerField()
    )
    rows = _unsent(
        ActivityReport.objects.filter(overdue).annotate(step_number=step_number),
        LOKUS,
        OuterRef("step_number"),
        "state_changed_at",
        superior_due=superior_due or None,
        object_field="lokus_id",
    ).select_related("lokus__plan")
    occurrences = []
    for report in rows.only(
        "state", "state_changed_at", "lokus__sub_division", "lokus__state", "lokus__plan__title", "lokus__plan__status"
    ):
        step = STEP_OF_STATE[report.state]
        std = standards[step]
        level = HOLDER[report.state]
        above = SUPERIOR_OF.get(level)
        url = reverse("reports:detail", args=[report.pk])
        occurrences.append(
            Occurrence(
                LOKUS,
                report.lokus_id,
                step,
                report.state_changed_at,
                due_at(report, standards),
                report.state_changed_at + 2 * std.duration if above else None,
                report.lokus.plan.title,
                std.activity,
                _level_who(level, report.lokus),
                _level_who(above, report.lokus) if above else None,
                url,
                url,
                report.holder_sent,
                report.superior_sent,
            )
        )
    return occurrences


# Sending -------------------------------------------------------------------------------------


@dataclass
class EscalationCounts:
    """What one run sent: reminders to holders, to superiors, and the notifications made."""

    holder: int = 0
    superior: int = 0
    notified: int = 0

    @property
    def reminders(self) -> int:
        return self.holder + self.superior


def _when(moment: datetime.datetime) -> str:
    return timezone.localtime(moment).strftime("%d-%m-%Y %H:%M")


def _message(occurrence: Occurrence, level: str, holders: list[User]) -> tuple[str, str]:
    values = {
        "step": occurrence.step,
        "title": occurrence.title,
        "activity": occurrence.activity or _("Step %(step)s") % {"step": occurrence.step},
        "due": _when(occurrence.due_at),
        "since": _when(occurrence.started_at),
        "minutes": round((occurrence.due_at - occurrence.started_at).total_seconds() / 60),
        "holders": ", ".join(p.full_name or p.username for p in holders) or "-",
    }
    if level == HOLDER_LEVEL:
        return (
            _("Overdue, step %(step)s: %(title)s") % values,
            _("%(activity)s was due %(due)s WIB (standard: %(minutes)s minutes).") % values,
        )
    return (
        _("Past twice the standard, step %(step)s: %(title)s") % values,
        _("%(activity)s, held by %(holders)s since %(since)s WIB, was due %(due)s WIB (standard: %(minutes)s minutes).")
        % values,
    )


def escalate_overdue(now: datetime.datetime | None = None) -> EscalationCounts:
    """Send every overdue reminder that is due at ``now`` (default: the current time) and
    not yet sent. Side effects: one Reminder row per reminder, inserted before its
    notifications in one transaction (a reminder another run inserted first is skipped);
    notifications in-app and by e-mail after the commit (``accounts.services.notify``)."""
    now = now or timezone.now()
    counts = EscalationCounts()
    with translation.override(settings.LANGUAGE_CODE):
        standards = step_standards()
        occurrences = [
            *_plan_occurrences(now, standards),
            *_lokus_occurrences(now, standards),
            *_report_occurrences(now, standards),
        ]
        due = [(occurrence, level) for occurrence in occurrences for level in occurrence.levels_due(now)]
        if not due:
            return counts
        people = Directory({o.holder for o, _level in due} | {o.superior for o, _level in due if o.superior})
        outgoing = []
        for occurrence, level in due:
            holders = people.resolve(occurrence.holder)
            if level == HOLDER_LEVEL:
                recipients, url = holders, occurrence.holder_url
            else:
                held = {p.pk for p in holders}
                recipients = [p for p in people.resolve(occurrence.superior) if p.pk not in held]
                url = occurrence.superior_url
            if not recipients:
                continue  # nobody in that role now: tried again at the next run
            key = (occurrence.subject, occurrence.object_id, occurrence.step, occurrence.started_at, level)
            outgoing.append((key, occurrence, level, recipients, holders, url))
        # One order for every run: two runs inserting the same rows wait for each other
        # instead of deadlocking.
        outgoing.sort(key=lambda item: (item[0][0], item[0][1], item[0][2], item[0][3], item[0][4]))
        run = uuid.uuid4()
        with transaction.atomic():
            Reminder.objects.bulk_create(
                [
                    Reminder(
                        subject=key[0],
                        object_id=key[1],
                        step=key[2],
                        started_at=key[3],
                        level=level,
                        due_at=occurrence.due_at if level == HOLDER_LEVEL else occurrence.superior_at,
                        recipients=len({p.pk for p in recipients}),
                        run=run,
                        sent_at=now,
                    )
                    for key, occurrence, level, recipients, _holders, _url in outgoing
                ],
                ignore_conflicts=True,
            )
            mine = set(
                Reminder.objects.filter(run=run).values_list("subject", "object_id", "step", "started_at", "level")
            )
            for key, occurrence, level, recipients, holders, url in outgoing:
                if key not in mine:
                    continue  # another run sent it
                title, body = _message(occurrence, level, holders)
                counts.notified += notify(recipients, title, body=body, url=url)
                if level == HOLDER_LEVEL:
                    counts.holder += 1
                else:
                    counts.superior += 1
    return counts
