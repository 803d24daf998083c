"""Every change to plans, lokus and field work: one function per action.

Each service opens a transaction, re-reads and locks the object, checks the permission
(the predicate of ``lokus/permissions.py`` that is also the transition's ``permission=``),
runs the state transition, validates, saves, writes the audit entry and queues
notifications for after the commit."""

from datetime import datetime
from decimal import Decimal
from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.transaction import TransactionManagementError
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed
from guardian.shortcuts import assign_perm

from accounts.enums import Role
from accounts.models import User
from accounts.services import notify, users_with_role
from core.errors import ActionRefused, lost_race
from lokus import audit, permissions, selectors, submissions
from lokus.codes import new_verification_code
from lokus.enums import AssignmentState, AuditAction, Equipment, LokusState, PlanStatus, SubmissionKind
from lokus.models import (
    ActivityPlan,
    Assignment,
    BeritaAcara,
    Escalation,
    FieldMedia,
    FieldNote,
    Lokus,
    MemberReport,
    PlanAttachment,
    RiskAssessment,
)
from lokus.uploads import CleanFile


def _kasubbids_of(sub_division_id):
    return users_with_role(Role.KASUBBID, sub_division_id=sub_division_id)


# Step 1 ------------------------------------------------------------------------------------


@transaction.atomic
def plan_submit(
    *, user: User, data: dict, attachments: list[CleanFile] = (), source_agency=None, source_name: str = ""
) -> ActivityPlan:
    """Step 1: record a planned activity. Partners submit for their own agency; Kesbangpol
    staff name the source. Side effects: attachments stored, audit entry, every Kasubbid
    notified (in-app and e-mail)."""
    if not permissions.can_submit_plan(user):
        raise PermissionDenied
    if not permissions.submits_on_behalf(user):
        # A partner reports for their own agency (or, without one, in their own name).
        source_agency, source_name = user.agency, "" if user.agency else user.full_name
    elif source_agency is None and not source_name.strip():
        raise ActionRefused(_("Name the source of the information: a partner agency or a person."))
    plan = ActivityPlan(
        **{field: data.get(field) for field in ActivityPlan.STEP1_FIELDS},
        source_agency=source_agency,
        source_name=source_name.strip(),
        submitted_by=user,
        submitted_at=timezone.now(),
    )
    plan.full_clean()
    plan.save()
    for clean in attachments:
        PlanAttachment.objects.create(
            plan=plan,
            file=clean.content,
            original_name=clean.original_name,
            content_type=clean.content_type,
            size=clean.size,
            uploaded_by=user,
        )
    audit.log(user, AuditAction.PLAN_SUBMITTED, plan, from_state="")
    notify(
        users_with_role(Role.KASUBBID),
        _("New activity plan: %(title)s") % {"title": plan.title},
        body=_("Reported by %(source)s; starts %(start)s WIB.")
        % {"source": plan.source_agency or plan.source_name, "start": _when(plan.starts_at)},
        url=reverse("lokus:plan_detail", args=[plan.pk]),
    )
    return plan


def _when(moment) -> str:
    return timezone.localtime(moment).strftime("%d-%m-%Y %H:%M")


# Step 2 ------------------------------------------------------------------------------------


def _locked_plan(plan_id: int) -> ActivityPlan:
    return ActivityPlan.objects.select_for_update().get(pk=plan_id)


@transaction.atomic
def plan_choose(*, user: User, plan_id: int) -> Lokus:
    """Step 2: make the plan a lokus of the Kasubbid's own sub-division. The lokus starts
    with the plan's place and schedule. Side effects: Lokus row, audit entry, the
    submitter notified."""
    plan = _locked_plan(plan_id)
    # The permission first, whatever the status: to a Kasubbid an already decided plan is
    # a refusal that says by whom (can_proceed, the status), to anyone else a 403.
    if not permissions.can_decide_plan(user, plan):
        raise PermissionDenied
    already = _("This plan was already decided by %(who)s.")
    if not can_proceed(plan.choose):
        raise ActionRefused(already % {"who": plan.decided_by})
    now = timezone.now()
    with lost_race(already % {"who": plan.decided_by}):
        plan.choose(by=user, at=now)
        plan.save()
    location = ", ".join(filter(None, [plan.address, f"Kel. {plan.kelurahan}", f"Kec. {plan.kecamatan}"]))
    lokus = Lokus(
        plan=plan,
        sub_division_id=user.sub_division_id,
        location=location[:300],
        latitude=plan.latitude,
        longitude=plan.longitude,
        starts_at=plan.starts_at,
        ends_at=plan.ends_at,
        created_by=user,
        created_at=now,
    )
    lokus.full_clean()
    lokus.save()
    audit.log(user, AuditAction.PLAN_CHOSEN, plan, from_state=PlanStatus.RECEIVED, lokus=lokus)
    notify(
        [plan.submitted_by],
        _("Your plan was chosen for special monitoring: %(title)s") % {"title": plan.title},
        url=reverse("lokus:plan_detail", args=[plan.pk]),
    )
    return lokus


@transaction.atomic
def plan_mark_not_chosen(*, user: User, plan_id: int, reason: str) -> ActivityPlan:
    """Step 2: record that the plan needs no lokus, with the reason. Side effects: audit
    entry, the submitter notified."""
    plan = _locked_plan(plan_id)
    if not permissions.can_decide_plan(user, plan):
        raise PermissionDenied
    if not reason.strip():
        raise ActionRefused(_("Give the reason the plan is not chosen."))
    already = _("This plan was already decided by %(who)s.")
    if not can_proceed(plan.mark_not_chosen):
        raise ActionRefused(already % {"who": plan.decided_by})
    with lost_race(already % {"who": plan.decided_by}):
        plan.mark_not_chosen(by=user, at=timezone.now(), reason=reason.strip())
        plan.save()
    audit.log(user, AuditAction.PLAN_NOT_CHOSEN, plan, from_state=PlanStatus.RECEIVED, note=plan.decision_reason)
    notify(
        [plan.submitted_by],
        _("Your plan was received and not chosen as lokus: %(title)s") % {"title": plan.title},
        body=plan.decision_reason,
        url=reverse("lokus:plan_detail", args=[plan.pk]),
    )
    return plan


# Step 3 ------------------------------------------------------------------------------------


def _locked_lokus(lokus_id: int) -> Lokus:
    return Lokus.objects.select_for_update().select_related("plan").get(pk=lokus_id)


def ensure_composing(lokus: Lokus) -> None:
    """Refuse, saying why, any change to a lokus whose team was dispatched. The pages that
    change a lokus call it too, so that they turn the visitor away with this message."""
    if not lokus.is_composing:
        raise ActionRefused(_("The team was already dispatched; the lokus can no longer be changed."))


def _managed_composing_lokus(user: User, lokus_id: int) -> Lokus:
    lokus = _locked_lokus(lokus_id)
    if not permissions.can_manage_lokus(user, lokus):
        raise PermissionDenied
    ensure_composing(lokus)
    return lokus


@transaction.atomic
def lokus_update(*, user: User, lokus_id: int, data: dict) -> Lokus:
    """Step 3: set the problem, place, assembly point, schedule, risk and classification.
    Side effects: audit entry."""
    lokus = _managed_composing_lokus(user, lokus_id)
    for field in Lokus.STEP3_FIELDS:
        if field in data:
            setattr(lokus, field, data[field])
    lokus.full_clean()
    lokus.save()
    audit.log(user, AuditAction.LOKUS_UPDATED, lokus)
    return lokus


@transaction.atomic
def lokus_set_team(*, user: User, lokus_id: int, members: list[User], coordinator: User | None) -> list[Assignment]:
    """Step 3: compose the team: field officers and exactly one Koordinator Lapangan among
    them. Replaces the previous composition. Side effects: audit entry."""
    lokus = _managed_composing_lokus(user, lokus_id)
    member_ids = {m.pk for m in members}
    if not member_ids:
        raise ActionRefused(_("Choose at least one field officer."))
    if coordinator is None or coordinator.pk not in member_ids:
        raise ActionRefused(_("The field coordinator must be one of the chosen officers."))
    allowed = set(selectors.candidate_members().filter(pk__in=member_ids).values_list("pk", flat=True))
    if allowed != member_ids:
        raise ActionRefused(_("Only active field officers (Anggota Mitigasi) can be on a team."))
    lokus.assignments.all().delete()
    team = Assignment.objects.bulk_create(
        Assignment(lokus=lokus, member_id=pk, is_coordinator=pk == coordinator.pk) for pk in sorted(member_ids)
    )
    names = ", ".join(f"{m.full_name}{' (Korlap)' if m.pk == coordinator.pk else ''}" for m in sorted(members, key=str))
    audit.log(user, AuditAction.TEAM_SET, lokus, note=names)
    return team


@transaction.atomic
def lokus_dispatch(*, user: User, lokus_id: int) -> Lokus:
    """Step 3, "Kirim ke tim": send the lokus to its team. Only once. Side effects: the
    members get the object permission to see the lokus (the Korlap also to coordinate it),
    audit entry, each member notified."""
    lokus = _locked_lokus(lokus_id)
    if not permissions.can_manage_lokus(user, lokus):
        raise PermissionDenied
    if not lokus.is_composing:
        raise ActionRefused(_("This lokus was already dispatched by %(who)s.") % {"who": lokus.dispatched_by})
    missing = lokus.missing_for_dispatch()
    team = list(lokus.assignments.select_related("member"))
    if not team:
        missing.append(_("the team"))
    elif sum(a.is_coordinator for a in team) != 1:
        missing.append(_("exactly one field coordinator"))
    if missing:
        raise ActionRefused(
            _("Cannot dispatch yet. Still missing: %(missing)s.") % {"missing": ", ".join(str(m) for m in missing)}
        )
    if Lokus.objects.filter(surat_tugas_number=lokus.surat_tugas_number).exclude(pk=lokus.pk).exists():
        raise ActionRefused(_("This Surat Tugas number is already used by another lokus."))
    with lost_race(_("This lokus was already dispatched.")):
        lokus.dispatch(by=user, at=timezone.now())
        lokus.verification_code = new_verification_code()
        lokus.save()
    for assignment in team:
        assign_perm("lokus.view_lokus", assignment.member, lokus)
        if assignment.is_coordinator:
            assign_perm("lokus.coordinate_lokus", assignment.member, lokus)
    audit.log(user, AuditAction.DISPATCHED, lokus, from_state=LokusState.COMPOSING, note=lokus.surat_tugas_number)
    notify(
        [a.member for a in team],
        _("New assignment: %(title)s") % {"title": lokus.plan.title},
        body=_('Assembly %(when)s WIB at %(where)s. Confirm with "Siap".')
        % {"when": _when(lokus.assembly_at), "where": lokus.assembly_point},
        url=reverse("lokus:assignment", args=[lokus.pk]),
    )
    return lokus


# Steps 4-5 ---------------------------------------------------------------------------------


# Every field service takes ``client_uuid`` and ``captured_at`` from the phone's outbox
# (lokus/submissions.py): a resend of the same UUID raises ``submissions.Replayed`` with the
# original result and creates nothing; the action's own time is the captured one (when the
# officer did it), its ``received_at`` the arrival. Each claims the UUID once the user may act
# and before its business rules and row locks (the same order everywhere: no deadlocks).


def _own_assignment(
    user: User, lokus_id: int, kind: str, client_uuid: UUID | None, captured_at: datetime | None
) -> tuple[Assignment, submissions.Submission]:
    lokus = Lokus.objects.select_related("plan").get(pk=lokus_id)
    if permissions.assignment_of(user, lokus) is None:
        raise PermissionDenied
    submission = submissions.start(user=user, kind=kind, lokus=lokus, client_uuid=client_uuid, captured_at=captured_at)
    assignment = (
        Assignment.objects.select_for_update().select_related("lokus__plan", "member").get(lokus=lokus, member=user)
    )
    return assignment, submission


@transaction.atomic
def assignment_confirm(
    *,
    user: User,
    lokus_id: int,
    equipment: list[str],
    client_uuid: UUID | None = None,
    captured_at: datetime | None = None,
) -> Assignment:
    """Step 4: the member confirms receipt ("Siap") and ticks the equipment checklist.
    Side effects: audit entry."""
    assignment, submission = _own_assignment(user, lokus_id, SubmissionKind.CONFIRM, client_uuid, captured_at)
    with lost_race(_("You already confirmed this assignment.")):
        assignment.confirm(
            at=submission.captured_at,
            received_at=submission.received_at,
            equipment=sorted(set(equipment) & set(Equipment.values)),
        )
        assignment.save()
    submission.record(assignment)
    ready = _("%(n)s of 7 equipment items ready") % {"n": len(assignment.equipment)}
    note = submission.audit_note(ready)
    audit.log(user, AuditAction.CONFIRMED, assignment, from_state=AssignmentState.ASSIGNED, note=note)
    return assignment


@transaction.atomic
def risk_record(
    *,
    user: User,
    lokus_id: int,
    data: dict,
    client_uuid: UUID | None = None,
    captured_at: datetime | None = None,
) -> RiskAssessment:
    """Step 5, before entering: the coordinator's risk mapping and go/no-go. Can be revised
    until field work starts; a revision that arrives late (kept in the phone's outbox) and was
    done before the one recorded is refused, not saved over the newer one. Side effects: audit
    entry; on no-go the Kasubbid and the team are notified at once."""
    lokus = Lokus.objects.get(pk=lokus_id)
    if not permissions.is_coordinator(user, lokus):
        raise PermissionDenied
    submission = submissions.start(
        user=user, kind=SubmissionKind.RISK, lokus=lokus, client_uuid=client_uuid, captured_at=captured_at
    )
    lokus = _locked_lokus(lokus_id)
    if not lokus.takes_risk_mapping:
        raise ActionRefused(_("The risk mapping can only be recorded before field work starts."))
    earlier = selectors.risk_mapping(lokus)
    if submission.late and earlier is not None and earlier.recorded_at > submission.captured_at:
        raise ActionRefused(
            _("A newer risk mapping was recorded by %(name)s at %(time)s WIB; this earlier one was not saved.")
            % {"name": earlier.recorded_by, "time": _when(earlier.recorded_at)}
        )
    assessment, _created = RiskAssessment.objects.update_or_create(
        lokus=lokus,
        defaults={
            **data,
            "recorded_by": user,
            "recorded_at": submission.captured_at,
            "received_at": submission.received_at,
        },
    )
    assessment.full_clean()
    submission.record(assessment)
    note = submission.audit_note(_("Go") if assessment.go else _("No-go"))
    audit.log(user, AuditAction.RISK_RECORDED, lokus, note=note)
    if not assessment.go:
        team = User.objects.filter(assignments__lokus=lokus)
        notify(
            list(_kasubbids_of(lokus.sub_division_id)) + list(team),
            _("No-go from the risk mapping: %(title)s") % {"title": lokus.plan.title},
            url=reverse("lokus:detail", args=[lokus.pk]),
            urgent=True,
        )
    return assessment


@transaction.atomic
def assignment_check_in(
    *,
    user: User,
    lokus_id: int,
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
    client_uuid: UUID | None = None,
    captured_at: datetime | None = None,
) -> Assignment:
    """Step 5, "Mulai": the member starts in the field, with the time and, if the phone
    gave it, the position. Needs a risk mapping with "go". The first check-in starts the
    lokus's field work, at its captured time. Side effects: audit entries."""
    assignment, submission = _own_assignment(user, lokus_id, SubmissionKind.CHECK_IN, client_uuid, captured_at)
    lokus = _locked_lokus(assignment.lokus_id)
    risk = selectors.risk_mapping(lokus)
    if risk is None:
        raise ActionRefused(_("The field coordinator must record the risk mapping before the team starts."))
    if not risk.go:
        raise ActionRefused(_("The risk mapping says no-go: do not enter the location."))
    with lost_race(_("You already started, or have not confirmed the assignment yet.")):
        assignment.check_in(
            at=submission.captured_at, received_at=submission.received_at, latitude=latitude, longitude=longitude
        )
        assignment.save()
    submission.record(assignment)
    note = submission.audit_note()
    audit.log(user, AuditAction.CHECKED_IN, assignment, from_state=AssignmentState.CONFIRMED, note=note)
    if lokus.state == LokusState.DISPATCHED:
        lokus.start_field_work(at=submission.captured_at)
        lokus.save()
        audit.log(user, AuditAction.FIELD_STARTED, lokus, from_state=LokusState.DISPATCHED, note=note)
    return assignment


def _working_assignment(
    user: User, lokus_id: int, kind: str, client_uuid: UUID | None, captured_at: datetime | None
) -> tuple[Assignment, submissions.Submission]:
    assignment, submission = _own_assignment(user, lokus_id, kind, client_uuid, captured_at)
    if not assignment.in_the_field:
        raise ActionRefused(_('Press "Mulai" first; after your report is submitted nothing more can be added.'))
    return assignment, submission


@transaction.atomic
def field_note_add(
    *, user: User, lokus_id: int, data: dict, client_uuid: UUID | None = None, captured_at: datetime | None = None
) -> FieldNote:
    """Step 5: a time-stamped note from the field. Side effects: audit entry."""
    assignment, submission = _working_assignment(user, lokus_id, SubmissionKind.NOTE, client_uuid, captured_at)
    note = FieldNote(
        assignment=assignment, created_at=submission.captured_at, received_at=submission.received_at, **data
    )
    note.full_clean()
    note.save()
    submission.record(note)
    audit.log(user, AuditAction.NOTE_ADDED, assignment.lokus, note=submission.audit_note(note.get_situation_display()))
    return note


@transaction.atomic
def field_media_add(
    *,
    user: User,
    lokus_id: int,
    kind: str,
    clean: CleanFile,
    caption: str = "",
    client_uuid: UUID | None = None,
    captured_at: datetime | None = None,
) -> FieldMedia:
    """Step 5: a photo, video or Berita Acara scan, already checked and cleaned. Side
    effects: the file stored under a random name, audit entry."""
    assignment, submission = _working_assignment(user, lokus_id, SubmissionKind.MEDIA, client_uuid, captured_at)
    media = FieldMedia(
        assignment=assignment,
        kind=kind,
        file=clean.content,
        original_name=clean.original_name,
        content_type=clean.content_type,
        size=clean.size,
        caption=caption,
        created_at=submission.captured_at,
        received_at=submission.received_at,
    )
    if clean.print_rendition is not None:
        media.print_file = clean.print_rendition
    if clean.thumbnail is not None:
        media.thumb_file = clean.thumbnail  # also sets thumb_width and thumb_height
    media.full_clean()  # before save(), which writes the file
    media.save()
    submission.record(media)
    audit.log(user, AuditAction.MEDIA_UPLOADED, assignment.lokus, note=submission.audit_note(media.get_kind_display()))
    return media


@transaction.atomic
def member_report_submit(
    *, user: User, lokus_id: int, data: dict, client_uuid: UUID | None = None, captured_at: datetime | None = None
) -> MemberReport:
    """Step 5, end: the member's own report. When every member has reported, field work is
    complete (``lokus_complete_field_work``). Side effects: audit entries; the coordinator
    notified of the report, or, when it completes the field work, told once to compile and
    send the team report (step 6, now theirs), and the Kasubbid notified that it is complete."""
    assignment, submission = _working_assignment(user, lokus_id, SubmissionKind.MEMBER_REPORT, client_uuid, captured_at)
    lokus = _locked_lokus(assignment.lokus_id)
    now = submission.received_at
    report = MemberReport(
        assignment=assignment, submitted_at=submission.captured_at, received_at=submission.received_at, **data
    )
    report.full_clean()
    with lost_race(_("Your report was already submitted.")):
        assignment.submit_report(at=submission.captured_at)
        assignment.save()
    report.save()
    submission.record(report)
    note = submission.audit_note()
    audit.log(user, AuditAction.MEMBER_REPORTED, assignment, from_state=AssignmentState.CHECKED_IN, note=note)
    coordinator = lokus.assignments.filter(is_coordinator=True).select_related("member").first()
    everyone_reported = not lokus.assignments.exclude(state=AssignmentState.REPORTED).exists()
    if everyone_reported and lokus_complete_field_work(user=user, lokus_id=lokus.pk, at=now):
        notify(
            _kasubbids_of(lokus.sub_division_id),
            _("Field work completed, every member has reported: %(title)s") % {"title": lokus.plan.title},
            url=reverse("lokus:detail", args=[lokus.pk]),
        )
        if coordinator:
            # One prompt for the Korlap, where the report is started, in place of "received".
            notify(
                [coordinator.member],
                _("Every member has reported: compile and send the team report (step 6): %(title)s")
                % {"title": lokus.plan.title},
                url=reverse("lokus:assignment", args=[lokus.pk]),
            )
    elif coordinator and coordinator.member_id != user.pk:
        notify(
            [coordinator.member],
            _("Member report received from %(name)s: %(title)s") % {"name": user.full_name, "title": lokus.plan.title},
            url=reverse("lokus:detail", args=[lokus.pk]),
        )
    return report


def lokus_complete_field_work(*, user: User, lokus_id: int, at: datetime) -> bool:
    """Step 5 ends: the lokus's field work is complete (RUNNING -> FIELD_DONE). The one way
    in for both ends of step 5: the last member's own report (``member_report_submit``), and
    the Korlap sending the team report with a member excused
    (``reports.services.report_submit``). Runs inside the caller's transaction (it opens
    none of its own, so it commits or rolls back with the caller's step) and locks the
    lokus. Returns whether it completed the field work: nothing happens when it is not
    running (not started, or already complete). Side effects: ``field_done_at`` set, one
    FIELD_DONE audit entry. The caller notifies whom its own step concerns."""
    if not transaction.get_connection().in_atomic_block:
        raise TransactionManagementError("lokus_complete_field_work runs inside the caller's transaction.")
    lokus = _locked_lokus(lokus_id)
    if lokus.state != LokusState.RUNNING:
        return False
    lokus.complete_field_work(at=at)
    lokus.save()
    audit.log(user, AuditAction.FIELD_DONE, lokus, from_state=LokusState.RUNNING)
    return True


@transaction.atomic
def escalation_raise(
    *,
    user: User,
    lokus_id: int,
    kind: str,
    message: str,
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
    client_uuid: UUID | None = None,
    captured_at: datetime | None = None,
) -> Escalation:
    """Eskalasi / Mundur: any team member, once dispatched. Side effects: audit entry; the
    coordinator, the Kasubbid of the sub-division and the Kabid notified at once (urgent
    in-app and e-mail)."""
    lokus = Lokus.objects.select_related("plan").get(pk=lokus_id)
    if permissions.assignment_of(user, lokus) is None:
        raise PermissionDenied
    submission = submissions.start(
        user=user, kind=SubmissionKind.ESCALATION, lokus=lokus, client_uuid=client_uuid, captured_at=captured_at
    )
    if not lokus.in_progress:
        raise ActionRefused(_("Escalation is for a lokus in progress."))
    escalation = Escalation(
        lokus=lokus,
        raised_by=user,
        kind=kind,
        message=message.strip(),
        latitude=latitude,
        longitude=longitude,
        raised_at=submission.captured_at,
        received_at=submission.received_at,
    )
    escalation.full_clean()
    escalation.save()
    submission.record(escalation)
    note = submission.audit_note(f"{escalation.get_kind_display()}: {escalation.message}")
    audit.log(user, AuditAction.ESCALATED, lokus, note=note)
    coordinators = User.objects.filter(assignments__lokus=lokus, assignments__is_coordinator=True)
    recipients = [*coordinators, *_kasubbids_of(lokus.sub_division_id), *users_with_role(Role.KABID)]
    notify(
        [r for r in recipients if r.pk != user.pk],
        _("%(kind)s at %(title)s from %(name)s")
        % {"kind": escalation.get_kind_display(), "title": lokus.plan.title, "name": user.full_name},
        body=escalation.message,
        url=reverse("lokus:detail", args=[lokus.pk]),
        urgent=True,
    )
    return escalation


@transaction.atomic
def berita_acara_add(
    *, user: User, lokus_id: int, data: dict, client_uuid: UUID | None = None, captured_at: datetime | None = None
) -> BeritaAcara:
    """A team member records a Berita Acara (dialogue, agreement or incident) as a
    structured form; it is rendered as an official document. Side effects: audit entry."""
    lokus = Lokus.objects.get(pk=lokus_id)
    if permissions.assignment_of(user, lokus) is None:
        raise PermissionDenied
    submission = submissions.start(
        user=user, kind=SubmissionKind.BERITA_ACARA, lokus=lokus, client_uuid=client_uuid, captured_at=captured_at
    )
    lokus = _locked_lokus(lokus_id)
    if not lokus.takes_berita_acara:
        raise ActionRefused(_("A Berita Acara is recorded once the team is dispatched."))
    parties = [
        {"name": p["name"].strip(), "position": p.get("position", "").strip()}
        for p in data.get("parties", [])
        if p.get("name", "").strip()
    ]
    if not parties:
        raise ActionRefused(_("Name at least one party present."))
    record = BeritaAcara(
        lokus=lokus,
        author=user,
        created_at=submission.captured_at,
        received_at=submission.received_at,
        parties=parties,
        **{k: data[k] for k in ("title", "place", "held_at", "discussion", "agreements", "events", "copies")},
    )
    record.full_clean()
    record.save()
    submission.record(record)
    audit.log(user, AuditAction.BERITA_ACARA, lokus, note=submission.audit_note(record.title))
    return record
