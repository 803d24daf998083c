"""Every change to an activity report (SOP steps 6-15): one function per action.

Each service opens a transaction, re-reads and locks the report, checks the permission
(the transition's ``holds``), runs the transition, saves, writes the log entry, and
queues notifications for after the commit. A step that someone else already took (two
tabs, a double tap) ends in ActionRefused with a clear message, never a server error."""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed, has_transition_perm

from accounts.enums import Role
from accounts.models import User
from accounts.services import notify, users_with_role
from core.errors import ActionRefused, lost_race
from lokus import audit
from lokus.codes import new_verification_code
from lokus.enums import AssignmentState, AuditAction, LokusState
from lokus.models import Assignment, FieldMedia, FieldNote, Lokus
from reports import permissions
from reports.enums import EDITABLE, HOLDER, Level, ReportAction, ReportState
from reports.models import (
    CONTENT_FIELDS,
    ActivityReport,
    ReportExcuse,
    ReportLog,
    ReportVerification,
    ReportVersion,
)

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
    chronology = "\n".join(
        f"{local(n.created_at):%H:%M} WIB: {n.body} ({n.assignment.member.full_name})" for n in notes
    )
    return {
        "basis": _("Surat Tugas number %(number)s") % {"number": lokus.surat_tugas_number},
        "time_place": f"{local(lokus.starts_at):%d-%m-%Y %H:%M}-{local(lokus.ends_at):%H:%M} WIB, {lokus.location}",
        "main_problem": lokus.problem,
        "facts": chronology,
        "classification": lokus.classification,
    }


@transaction.atomic
def report_start(*, user: User, lokus_id: int) -> ActivityReport:
    """Step 6 begins: the Korlap opens the team's report, prefilled from the lokus and the
    field notes. Side effects: version 1, log entry."""
    lokus = Lokus.objects.select_for_update().select_related("plan").get(pk=lokus_id)
    if ActivityReport.objects.filter(lokus=lokus).exists():
        raise ActionRefused(_("The report of this lokus was already started."))
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
    if not permissions.can_view_report(user, report):
        raise PermissionDenied
    if report.state not in EDITABLE or not permissions.can_act(user, report):
        if report.state == S.APPROVED:
            raise ActionRefused(_("The report is approved and final; it can no longer be changed."))
        raise ActionRefused(_("Only the one who holds the report in this stage may change it."))
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
    if HOLDER.get(report.state) != Level.KORLAP or not permissions.can_act(user, report):
        raise PermissionDenied
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


def missing_for_sending(report: ActivityReport) -> list[str]:
    """Exactly what stops the report from being sent: empty sections, members whose own
    report is neither in nor excused, a team that never went to the field."""
    missing = [_("section: %(name)s") % {"name": name} for name in report.missing_sections()]
    excused = set(report.excuses.values_list("assignment_id", flat=True))
    for assignment in report.lokus.assignments.select_related("member"):
        if assignment.state != AssignmentState.REPORTED and assignment.pk not in excused:
            missing.append(_("the report of %(name)s (or excuse them)") % {"name": assignment.member.full_name})
    if report.lokus.state not in (LokusState.RUNNING, LokusState.FIELD_DONE):
        missing.append(_("field work: the team has not started in the field"))
    return missing


def _transition(user, report, method_name, refused_message):
    method = getattr(report, method_name)
    if not has_transition_perm(method, user):
        if not permissions.can_view_report(user, report):
            raise PermissionDenied
        if can_proceed(method, check_conditions=False):
            raise PermissionDenied
        raise ActionRefused(refused_message)
    before = report.state
    with lost_race(refused_message):
        method(at=timezone.now())
        report.save()
    return before


def _already(report) -> str:
    return _('This step was already taken: the report is now "%(state)s".') % {"state": report.get_state_display()}


@transaction.atomic
def report_submit(*, user: User, report_id: int) -> ActivityReport:
    """Step 6 ends: the Korlap sends the report to the Kasubbid of the lokus's sub-division
    (also after a revision: the chain starts again there). Refused with the exact list of
    what is missing. Side effects: field work completed when every member is reported or
    excused; log entry; the Kasubbid notified."""
    report = _locked(report_id)
    if not permissions.can_view_report(user, report):
        raise PermissionDenied
    if report.state in (S.DRAFT, S.RETURNED_TO_KORLAP) and permissions.can_act(user, report):
        missing = missing_for_sending(report)
        if missing:
            raise ActionRefused(
                _("The report cannot be sent yet. Missing: %(missing)s.")
                % {"missing": "; ".join(str(m) for m in missing)}
            )
    before = _transition(user, report, "submit", _already(report))
    lokus = Lokus.objects.select_for_update().get(pk=report.lokus_id)
    if lokus.state == LokusState.RUNNING:
        lokus.complete_field_work(at=timezone.now())
        lokus.save()
        # A member was excused: the field work ends here, on the lokus's own trail too.
        audit.record(
            user,
            AuditAction.FIELD_DONE,
            plan=report.lokus.plan,
            lokus=lokus,
            from_state=LokusState.RUNNING,
            to_state=lokus.state,
        )
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
    before = _transition(user, report, "receive", _already(report))
    _log(report, user, ReportAction.RECEIVED, from_state=before, to_state=report.state)
    return report


@transaction.atomic
def report_verify(*, user: User, report_id: int, checks: dict, notes: str = "") -> ReportVerification:
    """Steps 8, 11, 14: the short verification form. Side effects: the verification
    record, log entry."""
    report = _locked(report_id)
    level = HOLDER.get(report.state)
    before = _transition(user, report, "verify", _already(report))
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
    before = _transition(user, report, "forward", _already(report))
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
    before = _transition(user, report, method_name, _already(report))
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
    before = _transition(user, report, "approve", _already(report))
    report.verification_code = new_verification_code()
    report.save(update_fields=["verification_code"])
    _log(report, user, ReportAction.APPROVED, from_state=before, to_state=report.state, note=note.strip())
    notify(
        _holders(report, Level.KORLAP) + _holders(report, Level.KASUBBID) + _holders(report, Level.KABID),
        _("Activity report approved: %(title)s") % {"title": report.lokus.plan.title},
        url=_url(report),
    )
    return report
