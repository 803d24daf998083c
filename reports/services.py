"""Every change to an activity report (SOP steps 6-15): one function per action.

Each service opens a transaction, re-reads and locks the report, checks the step with
``ensure_step_open`` (the rules are ``reports.permissions``), runs the transition, saves,
writes the log entry, and queues notifications for after the commit. A step that someone
else already took (two tabs, a double tap) ends in ActionRefused with a message naming who
took the last step and when, never a server error."""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from accounts.enums import Role
from accounts.models import User
from accounts.services import notify, users_with_role
from core.errors import ActionRefused
from lokus import services as lokus_services
from lokus.codes import new_verification_code
from lokus.enums import AssignmentState
from lokus.models import Assignment, FieldMedia, FieldNote, Lokus
from reports import permissions
from reports.enums import HOLDER, Level, ReportAction, ReportState
from reports.models import (
    CONTENT_FIELDS,
    ActivityReport,
    ReportExcuse,
    ReportLog,
    ReportVerification,
    ReportVersion,
)
from reports.selectors import missing_for_sending

S = ReportState


def _locked(report_id: int) -> ActivityReport:
    return ActivityReport.objects.select_for_update().select_related("lokus__plan").get(pk=report_id)


def _log(report, actor, action, *, from_state="", to_state="", note="") -> ReportLog:
    return ReportLog.objects.create(
        report=report,
        actor=actor,
        action=action,
        from_state=from_state,
        to_state=to_state,
        note=note,
        version_number=report.version,
        created_at=timezone.now(),
    )


def _url(report) -> str:
    return reverse("reports:detail", args=[report.pk])


def _holders(report, level: Level) -> list[User]:
    if level == Level.KORLAP:
        return list(User.objects.filter(assignments__lokus=report.lokus, assignments__is_coordinator=True))
    if level == Level.KASUBBID:
        return list(users_with_role(Role.KASUBBID, sub_division_id=report.lokus.sub_division_id))
    if level == Level.KABID:
        return list(users_with_role(Role.KABID))
    return list(users_with_role(Role.KABAN))


def _snapshot(report, user) -> ReportVersion:
    report.version += 1
    return ReportVersion.objects.create(
        report=report,
        number=report.version,
        revision_round=report.revision_round,
        content=report.content(),
        media_ids=sorted(report.included_media.values_list("pk", flat=True)),
        created_by=user,
        created_at=timezone.now(),
    )


def _prefill(lokus: Lokus) -> dict:
    """A first draft from what the lokus already knows; the Korlap edits it."""
    local = timezone.localtime
    notes = FieldNote.objects.filter(assignment__lokus=lokus).select_related("assignment__member")

    def when(note: FieldNote) -> str:
        # When the member wrote it (the captured time), and its arrival if it came late.
        written = f"{local(note.created_at):%H:%M} WIB"
        if not note.arrived_late:
            return written
        return f"{written} ({_('arrived %(time)s') % {'time': f'{local(note.received_at):%d-%m %H:%M} WIB'}})"

    chronology = "\n".join(f"{when(n)}: {n.body} ({n.assignment.member.full_name})" for n in notes)
    return {
        "basis": _("Surat Tugas number %(number)s") % {"number": lokus.surat_tugas_number},
        "time_place": f"{local(lokus.starts_at):%d-%m-%Y %H:%M}-{local(lokus.ends_at):%H:%M} WIB, {lokus.location}",
        "main_problem": lokus.problem,
        "facts": chronology,
        "classification": lokus.classification,
    }


def _when(at) -> str:
    """A moment as people here read it: WIB, month in the user's language."""
    return formats.date_format(timezone.localtime(at), "d M Y H:i")


class ReportAlreadyStarted(ActionRefused):
    """The lokus's report exists already (a second tab, a double tap); the page goes to it."""

    def __init__(self, report: ActivityReport):
        super().__init__(
            _("The report of this lokus was already started by %(name)s on %(time)s WIB.")
            % {"name": str(report.created_by), "time": _when(report.created_at)}
        )
        self.report_id = report.pk


@transaction.atomic
def report_start(*, user: User, lokus_id: int) -> ActivityReport:
    """Step 6 begins: the Korlap opens the team's report, prefilled from the lokus and the
    field notes. Side effects: version 1, log entry. Refused with ReportAlreadyStarted (who
    started it, when) when a reader of the report asks again, as from a second tab."""
    lokus = Lokus.objects.select_for_update().select_related("plan").get(pk=lokus_id)
    existing = ActivityReport.objects.filter(lokus=lokus).select_related("lokus", "created_by").first()
    if existing is not None and permissions.can_view_report(user, existing):
        raise ReportAlreadyStarted(existing)
    if not permissions.can_start_report(user, lokus):
        raise PermissionDenied
    now = timezone.now()
    report = ActivityReport.objects.create(
        lokus=lokus, created_by=user, created_at=now, state_changed_at=lokus.field_done_at or now, **_prefill(lokus)
    )
    report.included_media.set(FieldMedia.objects.filter(assignment__lokus=lokus))
    _snapshot(report, user)
    report.save(update_fields=["version"])
    _log(report, user, ReportAction.CREATED, to_state=report.state)
    return report


@transaction.atomic
def report_save(*, user: User, report_id: int, data: dict, media_ids: list[int] | None = None) -> ActivityReport:
    """Save the content (a draft, or a revision by whoever got the report back). A change
    of content or of the chosen photos keeps a new immutable version. Side effects: version
    and log entry when anything changed."""
    report = _locked(report_id)
    ensure_step_open(user, report, permissions.EDIT)
    before = (report.content(), set(report.included_media.values_list("pk", flat=True)))
    for field in CONTENT_FIELDS:
        if field in data:
            setattr(report, field, data[field])
    report.full_clean(exclude=["lokus", "created_by"])
    media = before[1]
    if media_ids is not None:
        allowed = FieldMedia.objects.filter(assignment__lokus=report.lokus, pk__in=media_ids)
        media = set(allowed.values_list("pk", flat=True))
    if (report.content(), media) == before:
        return report
    report.save()
    report.included_media.set(media)
    version = _snapshot(report, user)
    report.save(update_fields=["version"])
    _log(report, user, ReportAction.SAVED, note=_("Version %(n)s") % {"n": version.number})
    return report


@transaction.atomic
def report_excuse(*, user: User, report_id: int, assignment_id: int, reason: str) -> ReportExcuse:
    """The Korlap excuses a member whose own report cannot come in, with the reason."""
    report = _locked(report_id)
    ensure_step_open(user, report, permissions.EXCUSE)
    if not reason.strip():
        raise ActionRefused(_("Give the reason the member is excused."))
    assignment = Assignment.objects.select_related("member").get(pk=assignment_id, lokus=report.lokus)
    if assignment.state == AssignmentState.REPORTED:
        raise ActionRefused(_("This member's report is already in."))
    excuse, _created = ReportExcuse.objects.update_or_create(
        report=report,
        assignment=assignment,
        defaults={"reason": reason.strip(), "excused_by": user, "excused_at": timezone.now()},
    )
    _log(report, user, ReportAction.EXCUSED, note=f"{assignment.member.full_name}: {excuse.reason}")
    return excuse


def _already(user: User, report: ActivityReport, step: str) -> str:
    """Why a reader cannot take the step now: who took the last step, when, and where the
    report is. "Already taken" when the step was open to the user right before that last
    step (a second tab, a double tap, a race lost to a colleague)."""
    if step == permissions.EDIT and report.state == S.APPROVED:
        return _("The report is approved and final; it can no longer be changed.")
    last = report.log.exclude(to_state="").select_related("actor").order_by("-created_at", "-pk").first()
    if last is None:  # a report made outside these services: its creation is the last step
        actor, at, action, from_state = report.created_by, report.created_at, ReportAction.CREATED.label, ""
    else:
        actor, at, action, from_state = last.actor, last.created_at, last.get_action_display(), last.from_state
    values = {"name": str(actor), "time": _when(at), "action": action, "state": report.get_state_display()}
    if from_state in permissions.OPEN_IN[step] and permissions.holds_in(user, report, from_state):
        message = _(
            'This step was already taken by %(name)s on %(time)s WIB (%(action)s); the report is now "%(state)s".'
        )
    else:
        message = _(
            'This step is not open to you now: the report is "%(state)s" '
            "(last step: %(action)s, by %(name)s on %(time)s WIB)."
        )
    return message % values


def ensure_step_open(user: User, report: ActivityReport, step: str) -> None:
    """Return when the user may take the step (a transition's name, ``permissions.EDIT`` or
    ``permissions.EXCUSE``) now; the services call it under the lock, the form pages before
    showing the form. Otherwise raise PermissionDenied for who may not read the report, and
    for a reader when the step waits for someone else now and was never theirs on this report
    (the Korlap asking to receive: nothing to explain). Every other reader gets ActionRefused
    naming who took the last step and when: a tab that lost a race or was left open since
    the step was theirs, or a step nobody may take now."""
    if permissions.can_take_step(user, report, step):
        return
    if not permissions.can_view_report(user, report):
        raise PermissionDenied
    if report.state in permissions.OPEN_IN[step] and not permissions.was_open_to(user, report, step):
        raise PermissionDenied
    raise ActionRefused(_already(user, report, step))


def _transition(user, report, method_name) -> str:
    """Run one transition of the chain on the locked report; returns the state before."""
    ensure_step_open(user, report, method_name)
    before = report.state
    try:
        getattr(report, method_name)(at=timezone.now())
        report.save()
    except (TransitionNotAllowed, ConcurrentTransition):
        # Only where the database ignores the row lock (SQLite) can another request move the
        # report between the check and the save: tell what happened from a fresh read.
        raise ActionRefused(_already(user, ActivityReport.objects.get(pk=report.pk), method_name)) from None
    return before


@transaction.atomic
def report_submit(*, user: User, report_id: int) -> ActivityReport:
    """Step 6 ends: the Korlap sends the report to the Kasubbid of the lokus's sub-division
    (also after a revision: the chain starts again there). Refused with the exact list of
    what is missing. Side effects: field work completed when every member is reported or
    excused; log entry; the Kasubbid notified."""
    report = _locked(report_id)
    if permissions.can_take_step(user, report, "submit"):
        missing = missing_for_sending(report)
        if missing:
            raise ActionRefused(
                _("The report cannot be sent yet. Missing: %(missing)s.")
                % {"missing": "; ".join(str(m) for m in missing)}
            )
    before = _transition(user, report, "submit")
    # With a member excused the field work still runs: it ends here, on the lokus's trail too.
    lokus_services.lokus_complete_field_work(user=user, lokus_id=report.lokus_id, at=timezone.now())
    _log(report, user, ReportAction.SUBMITTED, from_state=before, to_state=report.state)
    notify(
        _holders(report, Level.KASUBBID),
        _("Activity report to receive: %(title)s") % {"title": report.lokus.plan.title},
        url=_url(report),
    )
    return report


@transaction.atomic
def report_receive(*, user: User, report_id: int) -> ActivityReport:
    """Steps 7, 10, 13: the level receives the report (terima). Side effects: log entry."""
    report = _locked(report_id)
    before = _transition(user, report, "receive")
    _log(report, user, ReportAction.RECEIVED, from_state=before, to_state=report.state)
    return report


@transaction.atomic
def report_verify(*, user: User, report_id: int, checks: dict, notes: str = "") -> ReportVerification:
    """Steps 8, 11, 14: the short verification form. Side effects: the verification
    record, log entry."""
    report = _locked(report_id)
    level = HOLDER.get(report.state)
    before = _transition(user, report, "verify")
    verification = ReportVerification.objects.create(
        report=report,
        level=level,
        verified_by=user,
        verified_at=timezone.now(),
        version_number=report.version,
        notes=notes.strip(),
        **{
            key: bool(checks.get(key))
            for key in ("complete", "facts_separate", "attachments_present", "classification_right")
        },
    )
    summary = _("all checks passed") if verification.all_passed else _("some checks failed")
    _log(
        report,
        user,
        ReportAction.VERIFIED,
        from_state=before,
        to_state=report.state,
        note="; ".join(filter(None, [str(summary), verification.notes])),
    )
    return verification


@transaction.atomic
def report_forward(*, user: User, report_id: int, note: str = "") -> ActivityReport:
    """Steps 9 and 12: send the verified (or revised) report one level up. Side effects:
    log entry; the next level notified."""
    report = _locked(report_id)
    before = _transition(user, report, "forward")
    _log(report, user, ReportAction.FORWARDED, from_state=before, to_state=report.state, note=note.strip())
    notify(
        _holders(report, HOLDER[report.state]),
        _("Activity report to receive: %(title)s") % {"title": report.lokus.plan.title},
        body=note.strip(),
        url=_url(report),
    )
    return report


def _send_down(user, report_id, note, method_name, action) -> ActivityReport:
    if not note.strip():
        raise ActionRefused(_("A return always carries a note saying what to revise."))
    report = _locked(report_id)
    before = _transition(user, report, method_name)
    _log(report, user, action, from_state=before, to_state=report.state, note=note.strip())
    notify(
        _holders(report, HOLDER[report.state]),
        _("Activity report returned for revision: %(title)s") % {"title": report.lokus.plan.title},
        body=note.strip(),
        url=_url(report),
    )
    return report


@transaction.atomic
def report_return(*, user: User, report_id: int, note: str) -> ActivityReport:
    """Steps 9, 12, 14-15: after verifying, return the report one level down with a note.
    Side effects: revision round + 1, log entry, the lower level notified with the note."""
    return _send_down(user, report_id, note, "return_for_revision", ReportAction.RETURNED)


@transaction.atomic
def report_pass_down(*, user: User, report_id: int, note: str) -> ActivityReport:
    """Whoever got the report back passes it further down instead of revising it. Side
    effects: log entry, the lower level notified with the note."""
    return _send_down(user, report_id, note, "pass_down", ReportAction.PASSED_DOWN)


@transaction.atomic
def report_approve(*, user: User, report_id: int, note: str = "") -> ActivityReport:
    """Step 15: the Kepala Badan approves; the report becomes final and read-only for good.
    Side effects: log entry; the Korlap, the Kasubbid and the Kabid notified."""
    report = _locked(report_id)
    before = _transition(user, report, "approve")
    report.verification_code = new_verification_code()
    report.save(update_fields=["verification_code"])
    _log(report, user, ReportAction.APPROVED, from_state=before, to_state=report.state, note=note.strip())
    notify(
        _holders(report, Level.KORLAP) + _holders(report, Level.KASUBBID) + _holders(report, Level.KABID),
        _("Activity report approved: %(title)s") % {"title": report.lokus.plan.title},
        url=_url(report),
    )
    return report
