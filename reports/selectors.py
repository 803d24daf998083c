"""Reads shared by the report views and the home page."""

import datetime
import difflib
import re
from dataclasses import dataclass

from django.db.models import (
    Case,
    DateTimeField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    QuerySet,
    Value,
    When,
)
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.links import url_for
from lokus.enums import AssignmentState, LokusState
from lokus.models import FieldMedia, MemberReport
from lokus.panels import Panel
from lokus.selectors import QUEUE_LIMIT, Queue, Task, WibClock, bounded_queue, plan_timeline, step_standards
from reports import permissions
from reports.enums import PASS_DOWN_STATE, RETURN_STATE, STEP_OF_STATE, ReportAction, ReportState
from reports.models import CONTENT_FIELDS, ActivityReport, ReportLog, ReportVersion

SOP_TOTAL = datetime.timedelta(hours=20)
# The states a report reaches when it is sent back down, and the log actions that do it.
RETURNED_STATES = frozenset(RETURN_STATE.values()) | frozenset(PASS_DOWN_STATE.values())
SENT_DOWN = (ReportAction.RETURNED, ReportAction.PASSED_DOWN)

# The report page's buttons, for the transitions the user may take now: (URL name, label,
# a plain POST button or a link to the step's form, CSS class).
ACTIONS = {
    "submit": ("reports:submit", _("Send to the Kasubbid"), "post", "btn-primary"),
    "receive": ("reports:receive", _("Receive (terima)"), "post", "btn-primary"),
    "verify": ("reports:verify", _("Verify"), "form", "btn-primary"),
    "forward": ("reports:forward", _("Forward to the next level"), "post", "btn-primary"),
    "return_for_revision": ("reports:return", _("Return for revision"), "form", ""),
    "pass_down": ("reports:pass_down", _("Pass further down for revision"), "form", ""),
    "approve": ("reports:approve", _("Approve (final)"), "post", "btn-ok"),
}
CONFIRM = {
    "submit": _("Send the report to the Kasubbid now?"),
    "forward": _("Forward the report to the next level now?"),
    "approve": _("Approve the report? It becomes final and can never be changed."),
}


def due_at(report: ActivityReport, standards) -> datetime.datetime | None:
    step = STEP_OF_STATE.get(report.state)
    if step is None or step not in standards:
        return None
    return report.state_changed_at + standards[step].duration


@dataclass
class StepSpan:
    """Time one state of the chain took, against its SOP standard."""

    state: str
    state_label: str
    step: int | None
    started_at: datetime.datetime
    ended_at: datetime.datetime | None
    standard_minutes: int | None
    actor: object = None

    @property
    def taken(self) -> datetime.timedelta:
        return (self.ended_at or timezone.now()) - self.started_at

    @property
    def overdue(self) -> bool:
        return self.standard_minutes is not None and self.taken > datetime.timedelta(minutes=self.standard_minutes)


def step_spans(report: ActivityReport, log: list[ReportLog], standards) -> list[StepSpan]:
    """The chain as it happened, state by state (returns and loops included), from the log."""
    spans: list[StepSpan] = []
    moves = [entry for entry in log if entry.to_state and entry.from_state != entry.to_state]
    current = ReportState.DRAFT
    started = report.lokus.field_done_at or report.created_at
    for entry in moves:
        if entry.from_state:
            step = STEP_OF_STATE.get(entry.from_state)
            spans.append(
                StepSpan(
                    entry.from_state,
                    ReportState(entry.from_state).label,
                    step,
                    started,
                    entry.created_at,
                    standards[step].minutes if step in standards else None,
                    entry.actor,
                )
            )
        current, started = entry.to_state, entry.created_at
    if current != ReportState.APPROVED:
        step = STEP_OF_STATE.get(current)
        spans.append(
            StepSpan(
                current,
                ReportState(current).label,
                step,
                started,
                None,
                standards[step].minutes if step in standards else None,
            )
        )
    return spans


def chain_elapsed(report: ActivityReport) -> datetime.timedelta:
    """From the partner's report of the plan (step 1) to approval (step 15), or to now."""
    return (report.approved_at or timezone.now()) - report.lokus.plan.submitted_at


def report_due(standards):
    """When the current step of a report is due, as a database expression: the time it
    entered its state plus the standard of the state's step (NULL once approved). One
    branch per distinct standard time, not per state: the states of equal standards share
    it (a smaller expression to build and compile, the same values)."""
    states_by_duration: dict[datetime.timedelta, list[str]] = {}
    for state, step in STEP_OF_STATE.items():
        if step in standards:
            states_by_duration.setdefault(standards[step].duration, []).append(state)
    return ExpressionWrapper(
        F("state_changed_at")
        + Case(
            *(
                When(state__in=states, then=Value(duration, output_field=DurationField()))
                for duration, states in states_by_duration.items()
            ),
            default=Value(None, output_field=DurationField()),
            output_field=DurationField(),
        ),
        output_field=DateTimeField(),
    )


# The value of the list's "whose turn" filter that keeps the reports the user holds now.
MINE = "mine"


def report_queue(user, limit: int = QUEUE_LIMIT) -> Queue:
    """Reports the user must act on now, for the home page: the first ``limit`` by due time
    (ordered and cut in the database), the count of the rest, and the list of them all."""
    return bounded_queue(
        _("Activity reports (steps 6-15)"),
        permissions.reports_held_by(user),
        [F("due").asc(nulls_last=True), "pk"],
        ["pk", "state", "due", "lokus__plan__title"],
        lambda report: Task(
            report["lokus__plan__title"],
            _("Activity report: %(state)s (step %(step)s)")
            % {"state": ReportState(report["state"]).label, "step": STEP_OF_STATE[report["state"]]},
            url_for("reports:detail")(report["pk"]),
            report["due"],
            STEP_OF_STATE[report["state"]],
        ),
        f"{reverse('reports:list')}?turn={MINE}",
        limit,
        {"due": report_due(step_standards())},
    )


def report_rows(user, state: str = "", *, mine: bool = False) -> QuerySet[ActivityReport]:
    """The list page's rows: the reports the user may read (only those the user holds now
    when ``mine``: the home queue's list), latest move first, in one state when ``state``
    names one."""
    readable = permissions.reports_held_by(user) if mine else permissions.reports_for(user)
    rows = (
        readable.select_related("lokus__plan", "lokus__sub_division")
        # What the list and ``mark_rows`` read (and the state fields, which django-fsm reads
        # on every row): not the report's long sections.
        .only(
            "state",
            "state_changed_at",
            "version",
            "revision_round",
            "lokus__state",
            "lokus__sub_division_id",
            "lokus__plan__status",
            "lokus__plan__title",
            "lokus__sub_division__short_name",
        )
        .order_by("-state_changed_at", "-pk")
    )
    return rows.filter(state=state) if state in ReportState.values else rows


def mark_rows(user, reports) -> list[ActivityReport]:
    """Mark each fetched row (a page of ``report_rows``) with when its step is due
    (``due``, ``due_overdue``) and whether it is the user's turn (``mine``), in one query."""
    reports = list(reports)
    standards = step_standards()
    now = timezone.now()
    held = permissions.held_reports(user, reports)
    for report in reports:
        report.due = due_at(report, standards)
        report.due_overdue = report.due is not None and now > report.due
        report.mine = report.pk in held
    return reports


def missing_for_sending(report: ActivityReport) -> list[str]:
    """Exactly what stops the report from being sent: empty sections, members whose own
    report is neither in nor excused, a team that never went to the field."""
    missing = [gettext("section: %(name)s") % {"name": name} for name in report.missing_sections()]
    excused = set(report.excuses.values_list("assignment_id", flat=True))
    for assignment in report.lokus.assignments.select_related("member"):
        if assignment.state != AssignmentState.REPORTED and assignment.pk not in excused:
            missing.append(gettext("the report of %(name)s (or excuse them)") % {"name": assignment.member.full_name})
    if report.lokus.state not in (LokusState.RUNNING, LokusState.FIELD_DONE):
        missing.append(gettext("field work: the team has not started in the field"))
    return missing


def action_buttons(user, report: ActivityReport) -> list[dict]:
    """The report page's buttons: exactly the transitions the user may take now."""
    buttons = []
    for transition in report.get_available_user_state_transitions(user):
        url_name, label, kind, css = ACTIONS[transition.name]
        buttons.append(
            {
                "name": transition.name,
                "url_name": url_name,
                "label": label,
                "kind": kind,
                "css": css,
                "confirm": CONFIRM.get(transition.name, ""),
            }
        )
    return buttons


@dataclass(frozen=True)
class ReturnNote:
    """Why a returned report came back: the latest return or pass-down on it."""

    what: str
    actor: object
    at: datetime.datetime
    revision_round: int
    note: str


def return_note(report: ActivityReport, log: list[ReportLog], *, holds: bool) -> ReturnNote | None:
    """For whoever holds the report in a returned state (the Korlap, the Kasubbid or the Kabid
    it came back to; ``holds``: ``permissions.can_act`` for the reader): who sent it back,
    when, in which round and with what note, from the report's ``log``. None for everyone
    else, and once the report has moved on."""
    if not holds or report.state not in RETURNED_STATES:
        return None
    entry = next((e for e in reversed(log) if e.action in SENT_DOWN and e.to_state == report.state), None)
    if entry is None:
        return None
    return ReturnNote(entry.get_action_display(), entry.actor, entry.created_at, report.revision_round, entry.note)


def report_page(user, report: ActivityReport) -> dict:
    """What the report page shows the user: the buttons, the members with their own reports
    or excuses, the media, the verifications, the time per step and against the SOP, the
    merged timeline and the versions."""
    lokus = report.lokus
    standards = step_standards()
    can_edit = permissions.can_take_step(user, report, permissions.EDIT)
    can_excuse = can_edit and permissions.can_take_step(user, report, permissions.EXCUSE)
    excused = {e.assignment_id: e for e in report.excuses.select_related("excused_by")}
    due = due_at(report, standards)
    elapsed = chain_elapsed(report)
    log = list(report.log.select_related("actor"))
    return {
        "report": report,
        "lokus": lokus,
        "plan": lokus.plan,
        "actions": action_buttons(user, report),
        "can_edit": can_edit,
        "is_korlap_stage": can_excuse,
        "missing": missing_for_sending(report) if can_excuse else [],
        "assignments": [
            {"a": a, "excuse": excused.get(a.pk), "reported": a.state == AssignmentState.REPORTED}
            for a in lokus.assignments.select_related("member")
        ],
        "member_reports": MemberReport.objects.filter(assignment__lokus=lokus).select_related("assignment__member"),
        "media": report.included_media.select_related("assignment__member"),
        "all_media": FieldMedia.objects.filter(assignment__lokus=lokus).count(),
        "verifications": report.verifications.select_related("verified_by"),
        # Editing is open in every returned state, so there can_edit is "holds the report now".
        "returned": return_note(report, log, holds=can_edit),
        "spans": step_spans(report, log, standards),
        "due": due,
        "due_overdue": due is not None and timezone.now() > due,
        # A number: the template formats it for the reader's language ("0,0" / "0.0").
        "elapsed_hours": elapsed.total_seconds() / 3600,
        "elapsed_over": elapsed > SOP_TOTAL,
        "timeline": merged_timeline(report, log),
        "versions": versions(report),
    }


def lokus_report_panel(user, lokus) -> Panel | None:
    """The team report's section on the lokus and assignment pages: open it, start it, or
    nothing (registered in ``lokus.panels`` by ``ReportsConfig.ready``). Starting is step 6,
    the primary action once field work is complete; before that (``early``) the Korlap may
    still start it, for a member who will be excused, as a secondary action only."""
    report = permissions.reports_for(user).filter(lokus=lokus).first()
    if report is not None:
        return Panel("reports/_lokus_panel.html", {"report": report})
    if permissions.can_start_report(user, lokus):
        return Panel("reports/_lokus_panel.html", {"can_start": True, "early": lokus.state != LokusState.FIELD_DONE})
    return None


def lokus_with_report(lokus_field: str) -> Exists:
    """True where the lokus named by ``lokus_field`` (an ``OuterRef`` target) has a team
    report, in any state (registered in ``lokus.hooks`` by ``ReportsConfig.ready``: the work
    queue's step-6 prompt ends where the report starts)."""
    return Exists(ActivityReport.objects.filter(lokus_id=OuterRef(lokus_field)))


def merged_timeline(report: ActivityReport, log: list[ReportLog] | None = None) -> list[dict]:
    """The lokus's steps 1-5 and the report's steps 6-15 in one time line (``log``: the
    report's log with its actors, when the caller has it already)."""
    if log is None:
        log = list(report.log.select_related("actor"))
    # The choices' labels looked up once per page (``get_FOO_display`` per row hashes them again).
    actions, states = _labels(ReportLog, "action"), _labels(ReportLog, "to_state")
    items = [
        {
            "at": e.created_at,
            "what": e.action_text,
            "actor": e.actor,
            "note": e.note,
            "from": e.from_text,
            "to": e.to_text,
        }
        for e in plan_timeline(report.lokus.plan)
    ]
    items += [
        {
            "at": e.created_at,
            "what": actions.get(e.action, e.action),
            "actor": e.actor,
            "note": e.note,
            "from": states.get(e.from_state, e.from_state) if e.from_state else "",
            "to": states.get(e.to_state, e.to_state) if e.to_state else "",
            "version": e.version_number,
        }
        for e in log
    ]
    clock = WibClock()
    for item in items:
        item["at_text"] = clock.text(item["at"])
    return sorted(items, key=lambda item: item["at"])


def _labels(model, field_name: str) -> dict[str, str]:
    """A choice field's labels in the reader's language, by value."""
    return {value: str(label) for value, label in model._meta.get_field(field_name).flatchoices}


def versions(report: ActivityReport) -> QuerySet[ReportVersion]:
    return report.versions.select_related("created_by")


def _tokens(text: str) -> list[str]:
    """The words of ``text``, each line break a token of its own: the diff keeps the lines."""
    return re.findall(r"\n|[^\s]+", text.replace("\r\n", "\n").replace("\r", "\n"))


def _html(tokens: list[str]) -> str:
    """Escaped words joined by spaces, each line break as ``<br>``."""
    parts: list[str] = []
    for word in tokens:
        if word == "\n":
            parts.append("<br>")
        else:
            if parts and parts[-1] != "<br>":
                parts.append(" ")
            parts.append(escape(word))
    return "".join(parts)


def _word_diff(old: str, new: str) -> tuple[str, str]:
    a, b = _tokens(old), _tokens(new)
    left, right = [], []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        old_words, new_words = _html(a[i1:i2]), _html(b[j1:j2])
        if op == "equal":
            left.append(old_words)
            right.append(new_words)
        else:
            if old_words:
                left.append(f'<del class="diff-del">{old_words}</del>')
            if new_words:
                right.append(f'<ins class="diff-ins">{new_words}</ins>')
    return mark_safe(" ".join(left)), mark_safe(" ".join(right))  # noqa: S308 - every word is escaped in _html


def _shown(model_field, value) -> str:
    """A stored value as the report page shows it: a choice by its label, not its code."""
    if value is None:
        return ""
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    return str(value)


def version_diff(report: ActivityReport, older: ReportVersion, newer: ReportVersion) -> list[dict]:
    """Field by field, side by side, what changed between two versions (choices by their
    labels, long text line by line)."""
    rows = []
    for field in CONTENT_FIELDS:
        model_field = report._meta.get_field(field)
        old_text = _shown(model_field, older.content.get(field))
        new_text = _shown(model_field, newer.content.get(field))
        left, right = _word_diff(old_text, new_text)
        rows.append(
            {
                "label": model_field.verbose_name,
                "changed": old_text != new_text,
                "old": left,
                "new": right,
            }
        )
    if older.media_ids != newer.media_ids:
        rows.append(
            {
                "label": _("photos and attachments included"),
                "changed": True,
                "old": ", ".join(map(str, older.media_ids)),
                "new": ", ".join(map(str, newer.media_ids)),
            }
        )
    return rows


def return_notes_between(report: ActivityReport, older: ReportVersion, newer: ReportVersion) -> list[ReportLog]:
    """The return notes that asked for the changes between two versions."""
    return list(
        report.log.filter(
            action__in=[ReportAction.RETURNED, ReportAction.PASSED_DOWN],
            created_at__gte=older.created_at,
            created_at__lte=newer.created_at,
        ).select_related("actor")
    )
