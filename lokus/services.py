"""Every change to plans, lokus and field work: one function per action.

Each service opens a transaction, re-reads and locks the object, checks the permission,
runs the state transition, validates, saves, writes the audit entry and queues
notifications for after the commit."""

from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed
from guardian.shortcuts import assign_perm

from accounts.enums import Role
from accounts.models import User
from accounts.services import notify, users_with_role
from core.errors import ActionRefused, lost_race
from lokus import audit, permissions
from lokus.codes import new_verification_code
from lokus.enums import AssignmentState, AuditAction, Equipment, LokusState, PlanStatus
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

PLAN_FIELDS = [
    "title",
    "category",
    "description",
    "organiser",
    "organiser_contact",
    "expected_participants",
    "starts_at",
    "ends_at",
    "address",
    "kecamatan",
    "kelurahan",
    "latitude",
    "longitude",
]
LOKUS_FIELDS = [
    "problem",
    "location",
    "latitude",
    "longitude",
    "assembly_point",
    "assembly_at",
    "starts_at",
    "ends_at",
    "risk_level",
    "classification",
    "surat_tugas_number",
]


def _kasubbids_of(sub_division_id):
    return users_with_role(Role.KASUBBID, sub_division_id=sub_division_id)


def _may(transition, user: User) -> bool:
    """The transition's own permission rule, whatever the object's state. (django-fsm's
    ``has_transition_perm`` is also false when the state or a condition does not allow the
    transition, which would turn "already decided" or "still missing" into a 403 instead of
    the refusal that explains it.)"""
    instance = transition.__self__
    return any(t.has_perm(instance, user) for t in transition._django_fsm.transitions.values())


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
        **{field: data.get(field) for field in PLAN_FIELDS},
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
    audit.record(user, AuditAction.PLAN_SUBMITTED, plan=plan, to_state=plan.status)
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
    if not permissions.can_view_plan(user, plan) or not _may(plan.choose, user):
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
    audit.record(
        user, AuditAction.PLAN_CHOSEN, plan=plan, lokus=lokus, from_state=PlanStatus.RECEIVED, to_state=plan.status
    )
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
    if not permissions.can_view_plan(user, plan) or not _may(plan.mark_not_chosen, user):
        raise PermissionDenied
    if not reason.strip():
        raise ActionRefused(_("Give the reason the plan is not chosen."))
    already = _("This plan was already decided by %(who)s.")
    if not can_proceed(plan.mark_not_chosen):
        raise ActionRefused(already % {"who": plan.decided_by})
    with lost_race(already % {"who": plan.decided_by}):
        plan.mark_not_chosen(by=user, at=timezone.now(), reason=reason.strip())
        plan.save()
    audit.record(
        user,
        AuditAction.PLAN_NOT_CHOSEN,
        plan=plan,
        from_state=PlanStatus.RECEIVED,
        to_state=plan.status,
        note=plan.decision_reason,
    )
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


def _managed_composing_lokus(user: User, lokus_id: int) -> Lokus:
    lokus = _locked_lokus(lokus_id)
    if not permissions.can_manage_lokus(user, lokus):
        raise PermissionDenied
    if lokus.state != LokusState.COMPOSING:
        raise ActionRefused(_("The team was already dispatched; the lokus can no longer be changed."))
    return lokus


@transaction.atomic
def lokus_update(*, user: User, lokus_id: int, data: dict) -> Lokus:
    """Step 3: set the problem, place, assembly point, schedule, risk and classification.
    Side effects: audit entry."""
    lokus = _managed_composing_lokus(user, lokus_id)
    for field in LOKUS_FIELDS:
        if field in data:
            setattr(lokus, field, data[field])
    lokus.full_clean()
    lokus.save()
    audit.record(user, AuditAction.LOKUS_UPDATED, plan=lokus.plan, lokus=lokus)
    return lokus


def candidate_members():
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
    allowed = set(candidate_members().filter(pk__in=member_ids).values_list("pk", flat=True))
    if allowed != member_ids:
        raise ActionRefused(_("Only active field officers (Anggota Mitigasi) can be on a team."))
    lokus.assignments.all().delete()
    team = Assignment.objects.bulk_create(
        Assignment(lokus=lokus, member_id=pk, is_coordinator=pk == coordinator.pk) for pk in sorted(member_ids)
    )
    names = ", ".join(f"{m.full_name}{' (Korlap)' if m.pk == coordinator.pk else ''}" for m in sorted(members, key=str))
    audit.record(user, AuditAction.TEAM_SET, plan=lokus.plan, lokus=lokus, note=names)
    return team


def suggest_surat_tugas_number(lokus: Lokus) -> str:
    year = timezone.localtime().year
    count = Lokus.objects.filter(dispatched_at__year=year).count() + 1
    return f"800.1.11.1/{count:03d}-Kesbangpol/{year}"


@transaction.atomic
def lokus_dispatch(*, user: User, lokus_id: int) -> Lokus:
    """Step 3, "Kirim ke tim": send the lokus to its team. Only once. Side effects: the
    members get the object permission to see the lokus (the Korlap also to coordinate it),
    audit entry, each member notified."""
    lokus = _locked_lokus(lokus_id)
    if not permissions.can_manage_lokus(user, lokus) or not _may(lokus.dispatch, user):
        raise PermissionDenied
    if lokus.state != LokusState.COMPOSING:
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
    audit.record(
        user,
        AuditAction.DISPATCHED,
        plan=lokus.plan,
        lokus=lokus,
        from_state=LokusState.COMPOSING,
        to_state=lokus.state,
        note=lokus.surat_tugas_number,
    )
    notify(
        [a.member for a in team],
        _("New assignment: %(title)s") % {"title": lokus.plan.title},
        body=_('Assembly %(when)s WIB at %(where)s. Confirm with "Siap".')
        % {"when": _when(lokus.assembly_at), "where": lokus.assembly_point},
        url=reverse("lokus:assignment", args=[lokus.pk]),
    )
    return lokus


# Steps 4-5 ---------------------------------------------------------------------------------


def _own_assignment(user: User, lokus_id: int) -> Assignment:
    lokus = Lokus.objects.select_related("plan").get(pk=lokus_id)
    if permissions.assignment_of(user, lokus) is None:
        raise PermissionDenied
    return Assignment.objects.select_for_update().select_related("lokus__plan", "member").get(lokus=lokus, member=user)


@transaction.atomic
def assignment_confirm(*, user: User, lokus_id: int, equipment: list[str]) -> Assignment:
    """Step 4: the member confirms receipt ("Siap") and ticks the equipment checklist.
    Side effects: audit entry."""
    assignment = _own_assignment(user, lokus_id)
    with lost_race(_("You already confirmed this assignment.")):
        assignment.confirm(at=timezone.now(), equipment=sorted(set(equipment) & set(Equipment.values)))
        assignment.save()
    audit.record(
        user,
        AuditAction.CONFIRMED,
        plan=assignment.lokus.plan,
        lokus=assignment.lokus,
        from_state=AssignmentState.ASSIGNED,
        to_state=assignment.state,
        note=_("%(n)s of 7 equipment items ready") % {"n": len(assignment.equipment)},
    )
    return assignment


@transaction.atomic
def risk_record(*, user: User, lokus_id: int, data: dict) -> RiskAssessment:
    """Step 5, before entering: the coordinator's risk mapping and go/no-go. Can be revised
    until field work starts. Side effects: audit entry; on no-go the Kasubbid and the team
    are notified at once."""
    lokus = _locked_lokus(lokus_id)
    if not permissions.is_coordinator(user, lokus):
        raise PermissionDenied
    if lokus.state != LokusState.DISPATCHED:
        raise ActionRefused(_("The risk mapping can only be recorded before field work starts."))
    assessment, _created = RiskAssessment.objects.update_or_create(
        lokus=lokus, defaults={**data, "recorded_by": user, "recorded_at": timezone.now()}
    )
    assessment.full_clean()
    audit.record(
        user, AuditAction.RISK_RECORDED, plan=lokus.plan, lokus=lokus, note=_("Go") if assessment.go else _("No-go")
    )
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
    *, user: User, lokus_id: int, latitude: Decimal | None = None, longitude: Decimal | None = None
) -> Assignment:
    """Step 5, "Mulai": the member starts in the field, with the time and, if the phone
    gave it, the position. Needs a risk mapping with "go". The first check-in starts the
    lokus's field work. Side effects: audit entries."""
    assignment = _own_assignment(user, lokus_id)
    lokus = Lokus.objects.select_for_update().get(pk=assignment.lokus_id)
    risk = RiskAssessment.objects.filter(lokus=lokus).first()
    if risk is None:
        raise ActionRefused(_("The field coordinator must record the risk mapping before the team starts."))
    if not risk.go:
        raise ActionRefused(_("The risk mapping says no-go: do not enter the location."))
    now = timezone.now()
    with lost_race(_("You already started, or have not confirmed the assignment yet.")):
        assignment.check_in(at=now, latitude=latitude, longitude=longitude)
        assignment.save()
    audit.record(
        user,
        AuditAction.CHECKED_IN,
        plan=lokus.plan,
        lokus=lokus,
        from_state=AssignmentState.CONFIRMED,
        to_state=assignment.state,
    )
    if lokus.state == LokusState.DISPATCHED:
        lokus.start_field_work(at=now)
        lokus.save()
        audit.record(
            user,
            AuditAction.FIELD_STARTED,
            plan=lokus.plan,
            lokus=lokus,
            from_state=LokusState.DISPATCHED,
            to_state=lokus.state,
        )
    return assignment


def _working_assignment(user: User, lokus_id: int) -> Assignment:
    assignment = _own_assignment(user, lokus_id)
    if assignment.state != AssignmentState.CHECKED_IN:
        raise ActionRefused(_('Press "Mulai" first; after your report is submitted nothing more can be added.'))
    return assignment


@transaction.atomic
def field_note_add(*, user: User, lokus_id: int, data: dict) -> FieldNote:
    """Step 5: a time-stamped note from the field. Side effects: audit entry."""
    assignment = _working_assignment(user, lokus_id)
    note = FieldNote(assignment=assignment, created_at=timezone.now(), **data)
    note.full_clean()
    note.save()
    audit.record(
        user,
        AuditAction.NOTE_ADDED,
        plan=assignment.lokus.plan,
        lokus=assignment.lokus,
        note=note.get_situation_display(),
    )
    return note


@transaction.atomic
def field_media_add(*, user: User, lokus_id: int, kind: str, clean: CleanFile, caption: str = "") -> FieldMedia:
    """Step 5: a photo, video or Berita Acara scan, already checked and cleaned. Side
    effects: the file stored under a random name, audit entry."""
    assignment = _working_assignment(user, lokus_id)
    media = FieldMedia(
        assignment=assignment,
        kind=kind,
        file=clean.content,
        original_name=clean.original_name,
        content_type=clean.content_type,
        size=clean.size,
        caption=caption,
        created_at=timezone.now(),
    )
    if clean.print_rendition is not None:
        media.print_file = clean.print_rendition
    media.full_clean()  # before save(), which writes the file
    media.save()
    audit.record(
        user,
        AuditAction.MEDIA_UPLOADED,
        plan=assignment.lokus.plan,
        lokus=assignment.lokus,
        note=media.get_kind_display(),
    )
    return media


@transaction.atomic
def member_report_submit(*, user: User, lokus_id: int, data: dict) -> MemberReport:
    """Step 5, end: the member's own report. When every member has reported, field work is
    complete. Side effects: audit entries; the coordinator notified; the Kasubbid notified
    when field work completes."""
    assignment = _working_assignment(user, lokus_id)
    lokus = Lokus.objects.select_for_update().select_related("plan").get(pk=assignment.lokus_id)
    now = timezone.now()
    report = MemberReport(assignment=assignment, submitted_at=now, **data)
    report.full_clean()
    with lost_race(_("Your report was already submitted.")):
        assignment.submit_report(at=now)
        assignment.save()
    report.save()
    audit.record(
        user,
        AuditAction.MEMBER_REPORTED,
        plan=lokus.plan,
        lokus=lokus,
        from_state=AssignmentState.CHECKED_IN,
        to_state=assignment.state,
    )
    coordinator = lokus.assignments.filter(is_coordinator=True).select_related("member").first()
    if coordinator and coordinator.member_id != user.pk:
        notify(
            [coordinator.member],
            _("Member report received from %(name)s: %(title)s") % {"name": user.full_name, "title": lokus.plan.title},
            url=reverse("lokus:detail", args=[lokus.pk]),
        )
    if lokus.state == LokusState.RUNNING and not lokus.assignments.exclude(state=AssignmentState.REPORTED).exists():
        lokus.complete_field_work(at=now)
        lokus.save()
        audit.record(
            user,
            AuditAction.FIELD_DONE,
            plan=lokus.plan,
            lokus=lokus,
            from_state=LokusState.RUNNING,
            to_state=lokus.state,
        )
        notify(
            list(_kasubbids_of(lokus.sub_division_id)) + ([coordinator.member] if coordinator else []),
            _("Field work completed, every member has reported: %(title)s") % {"title": lokus.plan.title},
            url=reverse("lokus:detail", args=[lokus.pk]),
        )
    return report


@transaction.atomic
def escalation_raise(
    *,
    user: User,
    lokus_id: int,
    kind: str,
    message: str,
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
) -> Escalation:
    """Eskalasi / Mundur: any team member, once dispatched. Side effects: audit entry; the
    coordinator, the Kasubbid of the sub-division and the Kabid notified at once (urgent
    in-app and e-mail)."""
    lokus = Lokus.objects.select_related("plan").get(pk=lokus_id)
    if permissions.assignment_of(user, lokus) is None:
        raise PermissionDenied
    if lokus.state not in (LokusState.DISPATCHED, LokusState.RUNNING):
        raise ActionRefused(_("Escalation is for a lokus in progress."))
    escalation = Escalation(
        lokus=lokus,
        raised_by=user,
        kind=kind,
        message=message.strip(),
        latitude=latitude,
        longitude=longitude,
        raised_at=timezone.now(),
    )
    escalation.full_clean()
    escalation.save()
    audit.record(
        user,
        AuditAction.ESCALATED,
        plan=lokus.plan,
        lokus=lokus,
        note=f"{escalation.get_kind_display()}: {escalation.message}",
    )
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
def berita_acara_add(*, user: User, lokus_id: int, data: dict) -> BeritaAcara:
    """A team member records a Berita Acara (dialogue, agreement or incident) as a
    structured form; it is rendered as an official document. Side effects: audit entry."""
    lokus = Lokus.objects.select_for_update().select_related("plan").get(pk=lokus_id)
    if permissions.assignment_of(user, lokus) is None:
        raise PermissionDenied
    if lokus.state not in (LokusState.DISPATCHED, LokusState.RUNNING, LokusState.FIELD_DONE):
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
        created_at=timezone.now(),
        parties=parties,
        **{k: data[k] for k in ("title", "place", "held_at", "discussion", "agreements", "events", "copies")},
    )
    record.full_clean()
    record.save()
    audit.record(user, AuditAction.BERITA_ACARA, plan=lokus.plan, lokus=lokus, note=record.title)
    return record
