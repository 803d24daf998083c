"""Reads shared by the report views and the home page."""

import datetime
import difflib
from dataclasses import dataclass

from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from lokus.models import AuditEntry
from lokus.panels import Panel
from lokus.selectors import Task, step_standards
from reports import permissions
from reports.enums import STEP_OF_STATE, ReportAction, ReportState
from reports.models import CONTENT_FIELDS, ActivityReport, ReportLog, ReportVersion

SOP_TOTAL = datetime.timedelta(hours=20)


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


def report_tasks(user) -> list[Task]:
    """Reports the user must act on now, for the home queue."""
    standards = step_standards()
    rows = list(
        permissions.reports_for(user)
        .exclude(state=ReportState.APPROVED)
        .select_related("lokus__plan", "lokus__sub_division")
    )
    held = permissions.held_reports(user, rows)
    tasks = []
    for report in rows:
        if report.pk not in held:
            continue
        tasks.append(
            Task(
                report.lokus.plan.title,
                _("Activity report: %(state)s (step %(step)s)")
                % {"state": report.get_state_display(), "step": STEP_OF_STATE[report.state]},
                reverse("reports:detail", args=[report.pk]),
                due_at(report, standards),
                STEP_OF_STATE[report.state],
            )
        )
    return tasks


def lokus_report_panel(user, lokus) -> Panel | None:
    """The team report's section on the lokus and assignment pages: open it, start it, or
    nothing (registered in ``lokus.panels`` by ``ReportsConfig.ready``)."""
    report = ActivityReport.objects.filter(lokus=lokus).first()
    if report is not None:
        return (
            Panel("reports/_lokus_panel.html", {"report": report})
            if permissions.can_view_report(user, report)
            else None
        )
    if permissions.can_start_report(user, lokus):
        return Panel("reports/_lokus_panel.html", {"can_start": True})
    return None


def merged_timeline(report: ActivityReport) -> list[dict]:
    """The lokus's steps 1-5 and the report's steps 6-15 in one time line."""
    items = [
        {
            "at": e.created_at,
            "what": e.get_action_display(),
            "actor": e.actor,
            "note": e.note,
            "from": e.from_label(),
            "to": e.to_label(),
        }
        for e in AuditEntry.objects.filter(plan=report.lokus.plan).select_related("actor")
    ]
    items += [
        {
            "at": e.created_at,
            "what": e.get_action_display(),
            "actor": e.actor,
            "note": e.note,
            "from": e.get_from_state_display() if e.from_state else "",
            "to": e.get_to_state_display() if e.to_state else "",
            "version": e.version_number,
        }
        for e in report.log.select_related("actor")
    ]
    return sorted(items, key=lambda item: item["at"])


def versions(report: ActivityReport) -> QuerySet[ReportVersion]:
    return report.versions.select_related("created_by")


def _word_diff(old: str, new: str) -> tuple[str, str]:
    a, b = old.split(), new.split()
    left, right = [], []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        old_words, new_words = escape(" ".join(a[i1:i2])), escape(" ".join(b[j1:j2]))
        if op == "equal":
            left.append(old_words)
            right.append(new_words)
        else:
            if old_words:
                left.append(f'<del class="diff-del">{old_words}</del>')
            if new_words:
                right.append(f'<ins class="diff-ins">{new_words}</ins>')
    return mark_safe(" ".join(left)), mark_safe(" ".join(right))  # noqa: S308 - every word is escaped above


def version_diff(report: ActivityReport, older: ReportVersion, newer: ReportVersion) -> list[dict]:
    """Field by field, side by side, what changed between two versions."""
    rows = []
    for field in CONTENT_FIELDS:
        old, new = older.content.get(field), newer.content.get(field)
        old_text = "" if old is None else str(old)
        new_text = "" if new is None else str(new)
        left, right = _word_diff(old_text, new_text)
        rows.append(
            {
                "label": report._meta.get_field(field).verbose_name,
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
