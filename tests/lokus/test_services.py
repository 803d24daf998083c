"""The services of SOP steps 1-5 (``lokus/services.py``): what each one changes, who may not
call it, what it refuses, what it writes to the audit log and who it notifies."""

import re
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone, translation
from django_fsm import has_transition_perm

from accounts.models import Notification, SubDivision, User
from core.errors import ActionRefused
from lokus import permissions, selectors, services
from lokus.enums import (
    AssignmentState,
    AuditAction,
    Equipment,
    EscalationKind,
    LokusState,
    MediaKind,
    PlanStatus,
    Situation,
)
from lokus.models import (
    ActivityPlan,
    Assignment,
    AuditEntry,
    Escalation,
    FieldMedia,
    FieldNote,
    Kelurahan,
    Lokus,
    MemberReport,
    PlanAttachment,
    RiskAssessment,
)
from lokus.uploads import clean_document, clean_image
from tests.helpers import CAST
from tests.lokus import builders

pytestmark = pytest.mark.django_db

OUTSIDERS_OF_A_PLAN = ["other_partner", "member", "coordinator", "other_member", "kabid", "kaban", "admin", "norole"]
NOT_THE_LOKUS_KASUBBID = ["other_kasubbid", "kabid", "kaban", "partner", "member", "coordinator", "admin", "norole"]
NOT_ON_THE_TEAM = ["other_member", "kasubbid", "other_kasubbid", "kabid", "kaban", "partner", "admin", "norole"]


def _last_pk(model) -> int:
    return model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


@contextmanager
def changes():
    """What the block wrote: audit actions (in order) and notification recipients."""
    audit_mark, notification_mark = _last_pk(AuditEntry), _last_pk(Notification)
    seen = SimpleNamespace()
    yield seen
    seen.entries = list(AuditEntry.objects.filter(pk__gt=audit_mark).order_by("pk"))
    seen.actions = [entry.action for entry in seen.entries]
    seen.notifications = list(Notification.objects.filter(pk__gt=notification_mark).select_related("recipient"))
    seen.notified = sorted(n.recipient.username for n in seen.notifications)


def usernames(*users) -> list[str]:
    return sorted(user.username for user in users)


def mail_recipients(outbox) -> list[str]:
    return sorted(address for message in outbox for address in message.to)


def emails(*users) -> list[str]:
    return sorted(user.email for user in users)


def refetch(user) -> User:
    """The user as a new request would load it (no cached roles or permissions)."""
    return User.objects.get(pk=user.pk)


def deactivate(user) -> User:
    user.is_active = False
    user.save(update_fields=["is_active"])
    return refetch(user)


def assignment(lokus, user) -> Assignment:
    return Assignment.objects.get(lokus=lokus, member=user)


# Step 1: plan_submit -----------------------------------------------------------------------


def test_partner_submits_a_plan_for_own_agency_and_every_kasubbid_hears_of_it(
    cast, mailoutbox, django_capture_on_commit_callbacks
):
    partner = cast["partner"]
    with changes() as seen, django_capture_on_commit_callbacks(execute=True):
        # A partner cannot report for another agency or name another source.
        plan = builders.make_plan(partner, source_agency=cast["other_partner"].agency, source_name="Orang lain")

    plan.refresh_from_db()
    assert plan.status == PlanStatus.RECEIVED
    assert plan.submitted_by == partner
    assert plan.source_agency == partner.agency
    assert plan.source_name == ""
    assert plan.decided_by is None and plan.decided_at is None
    assert seen.actions == [AuditAction.PLAN_SUBMITTED]
    assert seen.entries[0].plan == plan and seen.entries[0].lokus is None
    assert seen.entries[0].actor == partner and seen.entries[0].to_state == PlanStatus.RECEIVED
    assert seen.notified == usernames(cast["kasubbid"], cast["other_kasubbid"])
    assert all(n.url.endswith(f"/{plan.pk}/") for n in seen.notifications)
    assert mail_recipients(mailoutbox) == emails(cast["kasubbid"], cast["other_kasubbid"])
    assert all(len(message.to) == 1 for message in mailoutbox), "one e-mail per person: no shared address lists"


def test_plan_submit_e_mails_only_after_the_commit(cast, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        builders.make_plan(cast["partner"])
    assert mailoutbox == []
    assert Notification.objects.filter(recipient=cast["kasubbid"]).count() == 1  # in-app at once
    assert len(callbacks) == 1


def test_staff_submitting_on_behalf_must_name_the_source(cast):
    with changes() as seen, pytest.raises(ActionRefused):
        builders.make_plan(cast["kasubbid"], source_name="   ")
    assert not ActivityPlan.objects.exists()
    assert seen.actions == [] and seen.notified == []

    plan = builders.make_plan(cast["kasubbid"], source_name="  Ketua RW 05  ")
    assert (plan.source_agency, plan.source_name) == (None, "Ketua RW 05")
    plan = builders.make_plan(cast["kabid"], source_agency=cast["partner"].agency, source_name="")
    assert plan.source_agency == cast["partner"].agency
    assert plan.submitted_by == cast["kabid"]


@pytest.mark.parametrize("name", ["member", "coordinator", "kaban", "admin", "norole"])
def test_plan_submit_refused_to_roles_without_the_permission(cast, name):
    with changes() as seen, pytest.raises(PermissionDenied):
        builders.make_plan(cast[name], source_name="Warga")
    assert not ActivityPlan.objects.exists()
    assert seen.actions == [] and seen.notified == []


def test_plan_submit_refused_to_a_deactivated_partner(cast):
    with pytest.raises(PermissionDenied):
        builders.make_plan(deactivate(cast["partner"]))
    assert not ActivityPlan.objects.exists()


def test_plan_submit_validates_schedule_and_area(cast):
    start = builders.future_wib()
    with changes() as seen:
        with pytest.raises(ValidationError) as excinfo:
            builders.make_plan(cast["partner"], starts_at=start, ends_at=start)
        assert "ends_at" in excinfo.value.message_dict
        with pytest.raises(ValidationError) as excinfo:
            builders.make_plan(cast["partner"], kelurahan=Kelurahan.objects.get(code="36.71.02.1001"))
        assert set(excinfo.value.message_dict) == {"kelurahan"}
    assert not ActivityPlan.objects.exists()
    assert seen.actions == [] and seen.notified == []


def test_plan_submit_stores_attachments_under_random_names(cast, settings):
    letter = clean_document(SimpleUploadedFile("Surat Pemberitahuan.pdf", b"%PDF-1.4\n% surat\n%%EOF\n"))
    plan = builders.make_plan(cast["partner"], attachments=[letter])

    attachment = PlanAttachment.objects.get(plan=plan)
    assert attachment.original_name == "Surat Pemberitahuan.pdf"
    assert attachment.content_type == "application/pdf"
    assert attachment.uploaded_by == cast["partner"]
    assert attachment.size == len(b"%PDF-1.4\n% surat\n%%EOF\n")
    assert re.fullmatch(r"plans/\d{4}/\d{2}/[0-9a-f]{32}\.pdf", attachment.file.name)
    assert attachment.file.path.startswith(str(settings.MEDIA_ROOT))
    with attachment.file.open("rb") as fh:
        assert fh.read() == b"%PDF-1.4\n% surat\n%%EOF\n"


# Step 2: plan_choose / plan_mark_not_chosen ------------------------------------------------


def test_kasubbid_chooses_a_plan_and_it_becomes_a_lokus_of_own_sub_division(
    cast, plan, mailoutbox, django_capture_on_commit_callbacks
):
    kasubbid = cast["kasubbid"]
    moment = timezone.now().replace(microsecond=0)
    with changes() as seen, django_capture_on_commit_callbacks(execute=True), time_machine.travel(moment, tick=False):
        lokus = services.plan_choose(user=kasubbid, plan_id=plan.pk)

    plan.refresh_from_db()
    lokus.refresh_from_db()
    assert plan.status == PlanStatus.CHOSEN
    assert (plan.decided_by, plan.decided_at) == (kasubbid, moment)
    assert lokus.plan == plan
    assert lokus.state == LokusState.COMPOSING
    assert lokus.sub_division == SubDivision.objects.get(code="wasdin")
    assert (lokus.created_by, lokus.created_at) == (kasubbid, moment)
    assert (lokus.starts_at, lokus.ends_at) == (plan.starts_at, plan.ends_at)
    assert (lokus.latitude, lokus.longitude) == (plan.latitude, plan.longitude)
    assert lokus.location == "Jl. Satria Sudirman No. 1, Kel. Sukarasa, Kec. Tangerang"
    assert lokus.missing_for_dispatch(), "nothing of step 3 is filled in yet"
    assert seen.actions == [AuditAction.PLAN_CHOSEN]
    entry = seen.entries[0]
    assert (entry.plan, entry.lokus, entry.actor) == (plan, lokus, kasubbid)
    assert (entry.from_state, entry.to_state) == (PlanStatus.RECEIVED, PlanStatus.CHOSEN)
    assert seen.notified == usernames(cast["partner"])
    assert mail_recipients(mailoutbox) == emails(cast["partner"])
    assert plan.title in mailoutbox[0].subject


def test_the_other_kasubbid_choosing_makes_a_lokus_of_their_sub_division(cast, plan):
    lokus = services.plan_choose(user=cast["other_kasubbid"], plan_id=plan.pk)
    assert lokus.sub_division.code == "wasbang"


@pytest.mark.parametrize("name", ["partner", *OUTSIDERS_OF_A_PLAN])
def test_plan_choose_refused_to_everyone_but_a_kasubbid(cast, plan, name):
    with changes() as seen, pytest.raises(PermissionDenied):
        services.plan_choose(user=cast[name], plan_id=plan.pk)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.RECEIVED
    assert not Lokus.objects.exists()
    assert seen.actions == [] and seen.notified == []


def test_plan_choose_refused_to_a_kasubbid_without_sub_division(cast, plan):
    kasubbid = cast["kasubbid"]
    kasubbid.sub_division = None
    kasubbid.save(update_fields=["sub_division"])
    with pytest.raises(PermissionDenied):
        services.plan_choose(user=refetch(kasubbid), plan_id=plan.pk)
    assert not Lokus.objects.exists()


def test_a_plan_is_chosen_only_once(cast, chosen_lokus):
    with changes() as seen, pytest.raises(ActionRefused):
        services.plan_choose(user=cast["other_kasubbid"], plan_id=chosen_lokus.plan_id)
    assert Lokus.objects.get() == chosen_lokus
    assert chosen_lokus.sub_division.code == "wasdin"
    assert AuditEntry.objects.filter(action=AuditAction.PLAN_CHOSEN).count() == 1
    assert seen.actions == [] and seen.notified == []

    with pytest.raises(ActionRefused):
        services.plan_mark_not_chosen(user=cast["kasubbid"], plan_id=chosen_lokus.plan_id, reason="Berubah pikiran")
    chosen_lokus.plan.refresh_from_db()
    assert chosen_lokus.plan.status == PlanStatus.CHOSEN


def test_kasubbid_marks_a_plan_not_chosen_with_the_reason(cast, plan, mailoutbox, django_capture_on_commit_callbacks):
    with changes() as seen, django_capture_on_commit_callbacks(execute=True):
        services.plan_mark_not_chosen(user=cast["kasubbid"], plan_id=plan.pk, reason="  Kegiatan rutin.  ")
    plan.refresh_from_db()
    assert plan.status == PlanStatus.NOT_CHOSEN
    assert (plan.decided_by, plan.decision_reason) == (cast["kasubbid"], "Kegiatan rutin.")
    assert plan.decided_at is not None
    assert not Lokus.objects.exists()
    assert seen.actions == [AuditAction.PLAN_NOT_CHOSEN]
    assert seen.entries[0].note == "Kegiatan rutin."
    assert (seen.entries[0].from_state, seen.entries[0].to_state) == (PlanStatus.RECEIVED, PlanStatus.NOT_CHOSEN)
    assert seen.notified == usernames(cast["partner"])
    assert seen.notifications[0].body == "Kegiatan rutin."
    assert mail_recipients(mailoutbox) == emails(cast["partner"])

    with pytest.raises(ActionRefused):
        services.plan_choose(user=cast["other_kasubbid"], plan_id=plan.pk)
    assert not Lokus.objects.exists()


@pytest.mark.parametrize("reason", ["", "   \n "])
def test_not_chosen_needs_a_reason(cast, plan, reason):
    with changes() as seen, pytest.raises(ActionRefused):
        services.plan_mark_not_chosen(user=cast["kasubbid"], plan_id=plan.pk, reason=reason)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.RECEIVED
    assert seen.actions == [] and seen.notified == []


@pytest.mark.parametrize("name", ["partner", *OUTSIDERS_OF_A_PLAN])
def test_plan_mark_not_chosen_refused_to_everyone_but_a_kasubbid(cast, plan, name):
    with pytest.raises(PermissionDenied):
        services.plan_mark_not_chosen(user=cast[name], plan_id=plan.pk, reason="Tidak perlu")
    plan.refresh_from_db()
    assert plan.status == PlanStatus.RECEIVED


@pytest.mark.parametrize("name", ["partner", "kabid", "kaban", "member", "admin"])
def test_a_decided_plan_is_still_a_403_to_whoever_may_not_decide(cast, chosen_lokus, name):
    """The permission comes before the status: someone who may never decide is refused as
    such (403), not told that the plan was already decided."""
    for decide in (
        lambda: services.plan_choose(user=cast[name], plan_id=chosen_lokus.plan_id),
        lambda: services.plan_mark_not_chosen(user=cast[name], plan_id=chosen_lokus.plan_id, reason="Rutin"),
    ):
        with changes() as seen, pytest.raises(PermissionDenied):
            decide()
        assert seen.actions == [] and seen.notified == []


def test_a_kasubbid_is_told_who_already_decided_the_plan(cast, chosen_lokus):
    for decide in (
        lambda: services.plan_choose(user=cast["other_kasubbid"], plan_id=chosen_lokus.plan_id),
        lambda: services.plan_mark_not_chosen(user=cast["kasubbid"], plan_id=chosen_lokus.plan_id, reason="Rutin"),
    ):
        with translation.override("en"), pytest.raises(ActionRefused) as refusal:
            decide()
        assert refusal.value.message == f"This plan was already decided by {cast['kasubbid']}."
    chosen_lokus.plan.refresh_from_db()
    assert chosen_lokus.plan.status == PlanStatus.CHOSEN


# Step 3: lokus_update / lokus_set_team / lokus_dispatch -------------------------------------


def test_kasubbid_fills_in_the_lokus(cast, chosen_lokus):
    data = builders.ready_data(chosen_lokus, risk_level="tinggi", classification="rahasia")
    # Keys that are not the lokus's step-3 fields are ignored.
    wasbang = SubDivision.objects.get(code="wasbang")
    with changes() as seen:
        services.lokus_update(
            user=cast["kasubbid"],
            lokus_id=chosen_lokus.pk,
            data={**data, "sub_division": wasbang, "created_by": cast["kabid"], "dispatched_at": timezone.now()},
        )
    chosen_lokus.refresh_from_db()
    assert chosen_lokus.problem == data["problem"]
    assert chosen_lokus.assembly_point == data["assembly_point"]
    assert chosen_lokus.assembly_at == data["assembly_at"]
    assert chosen_lokus.surat_tugas_number == data["surat_tugas_number"]
    assert (chosen_lokus.risk_level, chosen_lokus.classification) == ("tinggi", "rahasia")
    assert chosen_lokus.sub_division.code == "wasdin"
    assert chosen_lokus.created_by == cast["kasubbid"]
    assert chosen_lokus.dispatched_at is None
    assert chosen_lokus.state == LokusState.COMPOSING
    assert chosen_lokus.missing_for_dispatch() == []
    assert seen.actions == [AuditAction.LOKUS_UPDATED]
    assert seen.entries[0].lokus == chosen_lokus
    assert seen.notified == []


@pytest.mark.parametrize("name", NOT_THE_LOKUS_KASUBBID)
def test_lokus_update_refused_to_all_but_the_lokus_kasubbid(cast, chosen_lokus, name):
    with changes() as seen, pytest.raises(PermissionDenied):
        services.lokus_update(user=cast[name], lokus_id=chosen_lokus.pk, data={"problem": "Diubah"})
    chosen_lokus.refresh_from_db()
    assert chosen_lokus.problem == ""
    assert seen.actions == []


def test_lokus_update_validates(cast, chosen_lokus, ready_lokus):
    with changes() as seen:
        with pytest.raises(ValidationError) as excinfo:
            services.lokus_update(
                user=cast["kasubbid"],
                lokus_id=ready_lokus.pk,
                data={"assembly_at": ready_lokus.ends_at + timedelta(minutes=1)},
            )
        assert set(excinfo.value.message_dict) == {"assembly_at"}

        other = builders.make_chosen_lokus(cast["kasubbid"], cast["partner"])
        with pytest.raises(ValidationError):
            services.lokus_update(
                user=cast["kasubbid"], lokus_id=other.pk, data={"surat_tugas_number": ready_lokus.surat_tugas_number}
            )
    other.refresh_from_db()
    assert other.surat_tugas_number == ""
    assert AuditAction.LOKUS_UPDATED not in seen.actions


def test_lokus_cannot_be_changed_after_dispatch(cast, team, dispatched_lokus):
    with changes() as seen:
        with pytest.raises(ActionRefused):
            services.lokus_update(user=cast["kasubbid"], lokus_id=dispatched_lokus.pk, data={"problem": "Diubah"})
        with pytest.raises(ActionRefused):
            services.lokus_set_team(
                user=cast["kasubbid"],
                lokus_id=dispatched_lokus.pk,
                members=[cast["member"]],
                coordinator=cast["member"],
            )
    dispatched_lokus.refresh_from_db()
    assert dispatched_lokus.problem != "Diubah"
    assert set(dispatched_lokus.assignments.values_list("member__username", "is_coordinator")) == {
        ("anggota", False),
        ("korlap", True),
    }
    assert seen.actions == []


def test_kasubbid_composes_the_team_with_one_korlap(cast, chosen_lokus, team):
    coordinator = cast["coordinator"]
    with changes() as seen:
        result = services.lokus_set_team(
            user=cast["kasubbid"], lokus_id=chosen_lokus.pk, members=team, coordinator=coordinator
        )
    assert len(result) == 2
    rows = {a.member: a for a in chosen_lokus.assignments.all()}
    assert set(rows) == set(team)
    assert rows[coordinator].is_coordinator and not rows[cast["member"]].is_coordinator
    assert all(a.state == AssignmentState.ASSIGNED for a in rows.values())
    assert seen.actions == [AuditAction.TEAM_SET]
    assert f"{coordinator.full_name} (Korlap)" in seen.entries[0].note
    assert cast["member"].full_name in seen.entries[0].note
    assert seen.notified == [], "the team hears of it only at dispatch"
    # Not yet dispatched: the team cannot see the lokus.
    assert not permissions.can_view_lokus(cast["member"], chosen_lokus)


def test_setting_the_team_again_replaces_it(cast, ready_lokus):
    services.lokus_set_team(
        user=cast["kasubbid"],
        lokus_id=ready_lokus.pk,
        members=[cast["other_member"], cast["member"]],
        coordinator=cast["other_member"],
    )
    assert set(ready_lokus.assignments.values_list("member__username", "is_coordinator")) == {
        ("anggota.lain", True),
        ("anggota", False),
    }


@pytest.mark.parametrize(
    ("members", "coordinator"),
    [
        pytest.param([], "member", id="no-members"),
        pytest.param(["member"], None, id="no-coordinator"),
        pytest.param(["member"], "coordinator", id="coordinator-not-a-member"),
        pytest.param(["member", "kabid"], "member", id="kabid-on-team"),
        pytest.param(["member", "partner"], "member", id="partner-on-team"),
        pytest.param(["member", "kasubbid"], "kasubbid", id="kasubbid-as-korlap"),
        pytest.param(["member", "norole"], "member", id="user-without-role"),
    ],
)
def test_team_composition_refused(cast, ready_lokus, members, coordinator):
    before = set(ready_lokus.assignments.values_list("member_id", "is_coordinator"))
    with changes() as seen, pytest.raises(ActionRefused):
        services.lokus_set_team(
            user=cast["kasubbid"],
            lokus_id=ready_lokus.pk,
            members=[cast[name] for name in members],
            coordinator=cast[coordinator] if coordinator else None,
        )
    assert set(ready_lokus.assignments.values_list("member_id", "is_coordinator")) == before
    assert seen.actions == []


def test_a_deactivated_officer_cannot_be_put_on_a_team(cast, chosen_lokus):
    gone = deactivate(cast["member"])
    with pytest.raises(ActionRefused):
        services.lokus_set_team(
            user=cast["kasubbid"], lokus_id=chosen_lokus.pk, members=[gone, cast["coordinator"]], coordinator=gone
        )
    assert not chosen_lokus.assignments.exists()


@pytest.mark.parametrize("name", NOT_THE_LOKUS_KASUBBID)
def test_lokus_set_team_refused_to_all_but_the_lokus_kasubbid(cast, chosen_lokus, name):
    with pytest.raises(PermissionDenied):
        services.lokus_set_team(
            user=cast[name], lokus_id=chosen_lokus.pk, members=[cast["member"]], coordinator=cast["member"]
        )
    assert not chosen_lokus.assignments.exists()


def test_candidate_members_are_the_active_field_officers(cast):
    assert set(selectors.candidate_members()) == {cast["member"], cast["coordinator"], cast["other_member"]}
    deactivate(cast["other_member"])
    assert set(selectors.candidate_members()) == {cast["member"], cast["coordinator"]}


def test_overlapping_assignments_name_the_clashing_lokus(cast, team, dispatched_lokus):
    same_time = builders.make_chosen_lokus(cast["other_kasubbid"], cast["partner"], title="Bersamaan")
    ids = [cast["member"].pk, cast["coordinator"].pk, cast["other_member"].pk]
    assert selectors.overlapping_assignments(same_time, ids) == {
        cast["member"].pk: [dispatched_lokus],
        cast["coordinator"].pk: [dispatched_lokus],
    }
    later = builders.make_chosen_lokus(
        cast["kasubbid"], cast["partner"], starts_at=dispatched_lokus.ends_at + timedelta(hours=1)
    )
    assert selectors.overlapping_assignments(later, ids) == {}
    # A lokus does not clash with itself.
    assert selectors.overlapping_assignments(dispatched_lokus, ids) == {}


def test_suggested_surat_tugas_number_counts_this_years_dispatches(cast, team):
    with time_machine.travel(builders.future_wib(days=0).replace(month=3, day=2, year=2031), tick=False):
        lokus = builders.make_ready_lokus(cast["kasubbid"], cast["partner"], team, cast["coordinator"])
        assert selectors.suggest_surat_tugas_number(lokus) == "800.1.11.1/001-Kesbangpol/2031"
        services.lokus_dispatch(user=cast["kasubbid"], lokus_id=lokus.pk)
        assert selectors.suggest_surat_tugas_number(lokus) == "800.1.11.1/002-Kesbangpol/2031"


def test_kasubbid_dispatches_the_team(cast, team, ready_lokus, mailoutbox, django_capture_on_commit_callbacks):
    kasubbid, member, coordinator = cast["kasubbid"], cast["member"], cast["coordinator"]
    moment = timezone.now().replace(microsecond=0)
    with changes() as seen, django_capture_on_commit_callbacks(execute=True), time_machine.travel(moment, tick=False):
        services.lokus_dispatch(user=kasubbid, lokus_id=ready_lokus.pk)

    ready_lokus.refresh_from_db()
    assert ready_lokus.state == LokusState.DISPATCHED
    assert (ready_lokus.dispatched_by, ready_lokus.dispatched_at) == (kasubbid, moment)
    assert ready_lokus.verification_code, "the code printed on the Surat Tugas"
    assert seen.actions == [AuditAction.DISPATCHED]
    entry = seen.entries[0]
    assert (entry.from_state, entry.to_state) == (LokusState.COMPOSING, LokusState.DISPATCHED)
    assert entry.note == ready_lokus.surat_tugas_number
    assert seen.notified == usernames(member, coordinator)
    assert mail_recipients(mailoutbox) == emails(member, coordinator)

    member, coordinator, other_member = refetch(member), refetch(coordinator), refetch(cast["other_member"])
    assert member.has_perm("lokus.view_lokus", ready_lokus)
    assert coordinator.has_perm("lokus.view_lokus", ready_lokus)
    assert coordinator.has_perm("lokus.coordinate_lokus", ready_lokus)
    assert not member.has_perm("lokus.coordinate_lokus", ready_lokus)
    assert not other_member.has_perm("lokus.view_lokus", ready_lokus)
    assert permissions.is_coordinator(coordinator, ready_lokus)
    assert not permissions.is_coordinator(member, ready_lokus)
    assert permissions.assignment_of(member, ready_lokus) == assignment(ready_lokus, member)
    assert permissions.assignment_of(other_member, ready_lokus) is None


def _missing(error: ActionRefused) -> list[str]:
    prefix = "Cannot dispatch yet. Still missing: "
    message = str(error)
    assert message.startswith(prefix) and message.endswith(".")
    return message[len(prefix) : -1].split(", ")


def test_dispatch_lists_everything_still_missing(cast, chosen_lokus):
    with translation.override("en"), changes() as seen, pytest.raises(ActionRefused) as excinfo:
        services.lokus_dispatch(user=cast["kasubbid"], lokus_id=chosen_lokus.pk)
    assert _missing(excinfo.value) == [
        "the problem (masalah yang terjadi)",
        "the assembly point (titik kumpul)",
        "the meeting time",
        "the Surat Tugas number",
        "the team",
    ]
    chosen_lokus.refresh_from_db()
    assert chosen_lokus.state == LokusState.COMPOSING
    assert seen.actions == [] and seen.notified == []


def test_dispatch_lists_only_what_is_missing(cast, team, chosen_lokus):
    kasubbid = cast["kasubbid"]
    services.lokus_update(
        user=kasubbid,
        lokus_id=chosen_lokus.pk,
        data=builders.ready_data(chosen_lokus, problem="  ", surat_tugas_number=""),
    )
    services.lokus_set_team(user=kasubbid, lokus_id=chosen_lokus.pk, members=team, coordinator=cast["coordinator"])
    with translation.override("en"), pytest.raises(ActionRefused) as excinfo:
        services.lokus_dispatch(user=kasubbid, lokus_id=chosen_lokus.pk)
    assert _missing(excinfo.value) == ["the problem (masalah yang terjadi)", "the Surat Tugas number"]
    assert not refetch(cast["member"]).has_perm("lokus.view_lokus", chosen_lokus)


def test_dispatch_needs_exactly_one_coordinator(cast, chosen_lokus):
    services.lokus_update(user=cast["kasubbid"], lokus_id=chosen_lokus.pk, data=builders.ready_data(chosen_lokus))
    # The team service always names one Korlap; a team left without one (e.g. edited in the
    # admin) must still not be dispatched.
    Assignment.objects.create(lokus=chosen_lokus, member=cast["member"])
    with translation.override("en"), pytest.raises(ActionRefused) as excinfo:
        services.lokus_dispatch(user=cast["kasubbid"], lokus_id=chosen_lokus.pk)
    assert _missing(excinfo.value) == ["exactly one field coordinator"]
    chosen_lokus.refresh_from_db()
    assert chosen_lokus.state == LokusState.COMPOSING


def test_a_lokus_is_dispatched_only_once(cast, dispatched_lokus):
    first = (dispatched_lokus.dispatched_by, dispatched_lokus.dispatched_at)
    with changes() as seen, pytest.raises(ActionRefused):
        services.lokus_dispatch(user=cast["kasubbid"], lokus_id=dispatched_lokus.pk)
    dispatched_lokus.refresh_from_db()
    assert (dispatched_lokus.dispatched_by, dispatched_lokus.dispatched_at) == first
    assert AuditEntry.objects.filter(action=AuditAction.DISPATCHED).count() == 1
    assert seen.actions == [] and seen.notified == []


@pytest.mark.parametrize("name", NOT_THE_LOKUS_KASUBBID)
def test_dispatch_refused_to_all_but_the_lokus_kasubbid(cast, ready_lokus, name):
    with changes() as seen, pytest.raises(PermissionDenied):
        services.lokus_dispatch(user=cast[name], lokus_id=ready_lokus.pk)
    ready_lokus.refresh_from_db()
    assert ready_lokus.state == LokusState.COMPOSING
    assert seen.actions == [] and seen.notified == []


@pytest.mark.parametrize("name", ["other_kasubbid", "kabid", "member", "coordinator"])
def test_a_dispatched_lokus_is_still_a_403_to_all_but_its_kasubbid(cast, dispatched_lokus, name):
    with changes() as seen, pytest.raises(PermissionDenied):
        services.lokus_dispatch(user=cast[name], lokus_id=dispatched_lokus.pk)
    assert seen.actions == [] and seen.notified == []


def test_the_kasubbid_is_told_who_already_dispatched_the_lokus(cast, dispatched_lokus):
    with changes() as seen, translation.override("en"), pytest.raises(ActionRefused) as refusal:
        services.lokus_dispatch(user=cast["kasubbid"], lokus_id=dispatched_lokus.pk)
    assert refusal.value.message == f"This lokus was already dispatched by {cast['kasubbid']}."
    assert seen.actions == [] and seen.notified == []


# Step 4: assignment_confirm -----------------------------------------------------------------


def test_member_confirms_with_the_equipment_checklist(cast, dispatched_lokus):
    with changes() as seen:
        services.assignment_confirm(
            user=cast["member"],
            lokus_id=dispatched_lokus.pk,
            equipment=[Equipment.SMARTPHONE, Equipment.HANDY_TALKIE, Equipment.SMARTPHONE],
        )
    row = assignment(dispatched_lokus, cast["member"])
    assert row.state == AssignmentState.CONFIRMED
    assert row.confirmed_at is not None
    assert row.equipment == sorted([Equipment.HANDY_TALKIE, Equipment.SMARTPHONE])
    assert assignment(dispatched_lokus, cast["coordinator"]).state == AssignmentState.ASSIGNED
    assert seen.actions == [AuditAction.CONFIRMED]
    assert seen.entries[0].actor == cast["member"]
    assert (seen.entries[0].from_state, seen.entries[0].to_state) == (
        AssignmentState.ASSIGNED,
        AssignmentState.CONFIRMED,
    )
    assert "2" in seen.entries[0].note

    with pytest.raises(ActionRefused):
        services.assignment_confirm(user=cast["member"], lokus_id=dispatched_lokus.pk, equipment=[])
    assert assignment(dispatched_lokus, cast["member"]).equipment == ["ht", "smartphone"]
    assert AuditEntry.objects.filter(action=AuditAction.CONFIRMED).count() == 1


def test_team_member_cannot_confirm_before_dispatch(cast, ready_lokus):
    with pytest.raises(PermissionDenied):
        services.assignment_confirm(user=cast["member"], lokus_id=ready_lokus.pk, equipment=[])
    assert assignment(ready_lokus, cast["member"]).state == AssignmentState.ASSIGNED


@pytest.mark.parametrize("name", NOT_ON_THE_TEAM)
def test_confirm_refused_to_anyone_not_on_the_team(cast, dispatched_lokus, name):
    with pytest.raises(PermissionDenied):
        services.assignment_confirm(user=cast[name], lokus_id=dispatched_lokus.pk, equipment=[])


def test_a_deactivated_member_can_no_longer_act(cast, dispatched_lokus):
    gone = deactivate(cast["member"])
    with pytest.raises(PermissionDenied):
        services.assignment_confirm(user=gone, lokus_id=dispatched_lokus.pk, equipment=[])
    with pytest.raises(PermissionDenied):
        services.escalation_raise(
            user=gone, lokus_id=dispatched_lokus.pk, kind=EscalationKind.ESCALATION, message="Massa ricuh"
        )


# Step 5: risk_record -----------------------------------------------------------------------


def test_coordinator_records_a_go_risk_mapping_and_may_revise_it(cast, dispatched_lokus):
    coordinator = cast["coordinator"]
    with changes() as seen:
        services.risk_record(user=coordinator, lokus_id=dispatched_lokus.pk, data=builders.risk_data(go=True))
        services.risk_record(
            user=coordinator, lokus_id=dispatched_lokus.pk, data=builders.risk_data(go=True, notes="Jalur berubah")
        )
    risk = RiskAssessment.objects.get(lokus=dispatched_lokus)
    assert risk.go is True
    assert risk.notes == "Jalur berubah"
    assert risk.recorded_by == coordinator
    assert seen.actions == [AuditAction.RISK_RECORDED, AuditAction.RISK_RECORDED]
    assert seen.notified == []


def test_no_go_alerts_the_kasubbid_and_the_team(cast, dispatched_lokus, mailoutbox, django_capture_on_commit_callbacks):
    with changes() as seen, django_capture_on_commit_callbacks(execute=True):
        services.risk_record(user=cast["coordinator"], lokus_id=dispatched_lokus.pk, data=builders.risk_data(go=False))
    assert RiskAssessment.objects.get(lokus=dispatched_lokus).go is False
    assert seen.actions == [AuditAction.RISK_RECORDED]
    assert seen.notified == usernames(cast["kasubbid"], cast["member"], cast["coordinator"])
    assert all(n.is_urgent for n in seen.notifications)
    assert mail_recipients(mailoutbox) == emails(cast["kasubbid"], cast["member"], cast["coordinator"])


@pytest.mark.parametrize("name", ["member", *NOT_ON_THE_TEAM])
def test_risk_mapping_only_by_the_coordinator(cast, dispatched_lokus, name):
    with pytest.raises(PermissionDenied):
        services.risk_record(user=cast[name], lokus_id=dispatched_lokus.pk, data=builders.risk_data())
    assert not RiskAssessment.objects.exists()


def test_risk_mapping_is_validated_and_nothing_half_saved(cast, dispatched_lokus):
    with changes() as seen, pytest.raises(ValidationError) as excinfo:
        services.risk_record(
            user=cast["coordinator"], lokus_id=dispatched_lokus.pk, data=builders.risk_data(threats="")
        )
    assert "threats" in excinfo.value.message_dict
    assert not RiskAssessment.objects.exists()
    assert seen.actions == []


def test_risk_mapping_cannot_change_once_field_work_started(cast, running_lokus):
    with pytest.raises(ActionRefused):
        services.risk_record(user=cast["coordinator"], lokus_id=running_lokus.pk, data=builders.risk_data(go=False))
    assert RiskAssessment.objects.get(lokus=running_lokus).go is True


# Step 5: assignment_check_in ---------------------------------------------------------------


def test_check_in_needs_a_risk_mapping(cast, team, dispatched_lokus):
    builders.confirm_all(dispatched_lokus, team)
    with changes() as seen, pytest.raises(ActionRefused):
        services.assignment_check_in(user=cast["member"], lokus_id=dispatched_lokus.pk)
    assert assignment(dispatched_lokus, cast["member"]).state == AssignmentState.CONFIRMED
    dispatched_lokus.refresh_from_db()
    assert dispatched_lokus.state == LokusState.DISPATCHED
    assert seen.actions == []


def test_check_in_refused_on_no_go(cast, team, dispatched_lokus):
    builders.confirm_all(dispatched_lokus, team)
    services.risk_record(user=cast["coordinator"], lokus_id=dispatched_lokus.pk, data=builders.risk_data(go=False))
    for user in team:
        with pytest.raises(ActionRefused):
            services.assignment_check_in(user=user, lokus_id=dispatched_lokus.pk)
    dispatched_lokus.refresh_from_db()
    assert dispatched_lokus.state == LokusState.DISPATCHED
    assert dispatched_lokus.field_started_at is None


def test_check_in_needs_the_confirmation_first(cast, dispatched_lokus):
    services.risk_record(user=cast["coordinator"], lokus_id=dispatched_lokus.pk, data=builders.risk_data())
    with pytest.raises(ActionRefused):
        services.assignment_check_in(user=cast["member"], lokus_id=dispatched_lokus.pk)
    assert assignment(dispatched_lokus, cast["member"]).state == AssignmentState.ASSIGNED


def test_first_check_in_starts_the_field_work(cast, team, dispatched_lokus):
    builders.confirm_all(dispatched_lokus, team)
    services.risk_record(user=cast["coordinator"], lokus_id=dispatched_lokus.pk, data=builders.risk_data())
    first = timezone.now().replace(microsecond=0)

    with changes() as seen, time_machine.travel(first, tick=False):
        services.assignment_check_in(
            user=cast["member"], lokus_id=dispatched_lokus.pk, latitude=Decimal("-6.178300"), longitude=None
        )
    dispatched_lokus.refresh_from_db()
    assert dispatched_lokus.state == LokusState.RUNNING
    assert dispatched_lokus.field_started_at == first
    row = assignment(dispatched_lokus, cast["member"])
    assert (row.state, row.checked_in_at) == (AssignmentState.CHECKED_IN, first)
    assert (row.checkin_latitude, row.checkin_longitude) == (Decimal("-6.178300"), None)
    assert seen.actions == [AuditAction.CHECKED_IN, AuditAction.FIELD_STARTED]
    assert (seen.entries[1].from_state, seen.entries[1].to_state) == (LokusState.DISPATCHED, LokusState.RUNNING)

    with changes() as seen, time_machine.travel(first + timedelta(minutes=20), tick=False):
        services.assignment_check_in(user=cast["coordinator"], lokus_id=dispatched_lokus.pk)
    dispatched_lokus.refresh_from_db()
    assert dispatched_lokus.state == LokusState.RUNNING
    assert dispatched_lokus.field_started_at == first
    assert seen.actions == [AuditAction.CHECKED_IN]

    with pytest.raises(ActionRefused):
        services.assignment_check_in(user=cast["member"], lokus_id=dispatched_lokus.pk)
    assert assignment(dispatched_lokus, cast["member"]).checked_in_at == first


@pytest.mark.parametrize("name", NOT_ON_THE_TEAM)
def test_check_in_refused_to_anyone_not_on_the_team(cast, team, dispatched_lokus, name):
    builders.confirm_all(dispatched_lokus, team)
    services.risk_record(user=cast["coordinator"], lokus_id=dispatched_lokus.pk, data=builders.risk_data())
    with pytest.raises(PermissionDenied):
        services.assignment_check_in(user=cast[name], lokus_id=dispatched_lokus.pk)
    dispatched_lokus.refresh_from_db()
    assert dispatched_lokus.state == LokusState.DISPATCHED


# Step 5: field notes, media ------------------------------------------------------------------


def test_notes_only_after_check_in(cast, team, dispatched_lokus):
    builders.confirm_all(dispatched_lokus, team)
    with changes() as seen, pytest.raises(ActionRefused):
        services.field_note_add(user=cast["member"], lokus_id=dispatched_lokus.pk, data=builders.note_data())
    assert not FieldNote.objects.exists()
    assert seen.actions == []


def test_member_adds_a_field_note(cast, running_lokus):
    with changes() as seen:
        note = services.field_note_add(
            user=cast["member"], lokus_id=running_lokus.pk, data=builders.note_data(situation=Situation.WASPADA)
        )
    note.refresh_from_db()
    assert note.assignment == assignment(running_lokus, cast["member"])
    assert (note.situation, note.crowd_estimate) == (Situation.WASPADA, 150)
    assert seen.actions == [AuditAction.NOTE_ADDED]
    assert seen.entries[0].lokus == running_lokus


@pytest.mark.parametrize(
    ("data", "field"),
    [({"situation": "kacau"}, "situation"), ({"body": ""}, "body"), ({"crowd_estimate": 10_000_001}, "crowd_estimate")],
)
def test_field_note_is_validated(cast, running_lokus, data, field):
    with pytest.raises(ValidationError) as excinfo:
        services.field_note_add(user=cast["member"], lokus_id=running_lokus.pk, data=builders.note_data(**data))
    assert field in excinfo.value.message_dict
    assert not FieldNote.objects.exists()


@pytest.mark.parametrize("name", NOT_ON_THE_TEAM)
def test_field_note_refused_to_anyone_not_on_the_team(cast, running_lokus, name):
    with pytest.raises(PermissionDenied):
        services.field_note_add(user=cast[name], lokus_id=running_lokus.pk, data=builders.note_data())
    assert not FieldNote.objects.exists()


def _photo():
    from io import BytesIO

    from PIL import Image

    out = BytesIO()
    Image.new("RGB", (32, 24), "navy").save(out, format="JPEG")
    return clean_image(SimpleUploadedFile("IMG_0001.JPG", out.getvalue(), content_type="image/jpeg"))


def test_member_uploads_a_photo_stored_under_a_random_name(cast, running_lokus):
    clean = _photo()
    expected = clean.content.read()
    clean.content.seek(0)
    with changes() as seen:
        media = services.field_media_add(
            user=cast["member"], lokus_id=running_lokus.pk, kind=MediaKind.PHOTO, clean=clean, caption="Massa tiba"
        )
    media.refresh_from_db()
    assert media.assignment == assignment(running_lokus, cast["member"])
    assert (media.kind, media.original_name, media.content_type) == (MediaKind.PHOTO, "IMG_0001.jpg", "image/jpeg")
    assert media.caption == "Massa tiba"
    assert re.fullmatch(r"field/\d{4}/\d{2}/[0-9a-f]{32}\.jpg", media.file.name)
    with media.file.open("rb") as fh:
        assert fh.read() == expected
    assert media.size == clean.size == len(expected)
    assert seen.actions == [AuditAction.MEDIA_UPLOADED]


def test_media_only_after_check_in(cast, team, dispatched_lokus, settings):
    builders.confirm_all(dispatched_lokus, team)
    with pytest.raises(ActionRefused):
        services.field_media_add(
            user=cast["member"], lokus_id=dispatched_lokus.pk, kind=MediaKind.PHOTO, clean=_photo()
        )
    assert not FieldMedia.objects.exists()
    assert not Path(settings.MEDIA_ROOT, "field").exists(), "no file is stored for a refused upload"


@pytest.mark.parametrize(("kind", "caption", "field"), [("audio", "", "kind"), (MediaKind.PHOTO, "x" * 301, "caption")])
def test_media_is_validated_before_the_file_is_written(cast, running_lokus, settings, kind, caption, field):
    with pytest.raises(ValidationError) as excinfo:
        services.field_media_add(
            user=cast["member"], lokus_id=running_lokus.pk, kind=kind, clean=_photo(), caption=caption
        )
    assert set(excinfo.value.message_dict) == {field}
    assert not FieldMedia.objects.exists()
    assert not AuditEntry.objects.filter(action=AuditAction.MEDIA_UPLOADED).exists()
    assert not Path(settings.MEDIA_ROOT, "field").exists()


@pytest.mark.parametrize("name", NOT_ON_THE_TEAM)
def test_media_refused_to_anyone_not_on_the_team(cast, running_lokus, name):
    with pytest.raises(PermissionDenied):
        services.field_media_add(user=cast[name], lokus_id=running_lokus.pk, kind=MediaKind.PHOTO, clean=_photo())
    assert not FieldMedia.objects.exists()


# Step 5: member_report_submit ----------------------------------------------------------------


def test_member_report_tells_the_coordinator(cast, running_lokus, mailoutbox, django_capture_on_commit_callbacks):
    with changes() as seen, django_capture_on_commit_callbacks(execute=True):
        services.member_report_submit(user=cast["member"], lokus_id=running_lokus.pk, data=builders.report_data())
    row = assignment(running_lokus, cast["member"])
    assert row.state == AssignmentState.REPORTED
    assert row.reported_at is not None
    assert MemberReport.objects.get(assignment=row).situation == Situation.KONDUSIF
    running_lokus.refresh_from_db()
    assert running_lokus.state == LokusState.RUNNING, "the Korlap has not reported yet"
    assert running_lokus.field_done_at is None
    assert seen.actions == [AuditAction.MEMBER_REPORTED]
    assert seen.notified == usernames(cast["coordinator"])
    assert mail_recipients(mailoutbox) == emails(cast["coordinator"])


def test_the_last_member_report_completes_the_field_work(
    cast, running_lokus, mailoutbox, django_capture_on_commit_callbacks
):
    services.member_report_submit(user=cast["member"], lokus_id=running_lokus.pk, data=builders.report_data())
    with changes() as seen, django_capture_on_commit_callbacks(execute=True):
        services.member_report_submit(user=cast["coordinator"], lokus_id=running_lokus.pk, data=builders.report_data())
    running_lokus.refresh_from_db()
    assert running_lokus.state == LokusState.FIELD_DONE
    assert running_lokus.field_done_at is not None
    assert seen.actions == [AuditAction.MEMBER_REPORTED, AuditAction.FIELD_DONE]
    assert (seen.entries[1].from_state, seen.entries[1].to_state) == (LokusState.RUNNING, LokusState.FIELD_DONE)
    # The Korlap's own report is no news to the Korlap; field work done is news to both.
    assert seen.notified == usernames(cast["kasubbid"], cast["coordinator"])
    assert mail_recipients(mailoutbox) == emails(cast["kasubbid"], cast["coordinator"])


def test_member_report_only_once(cast, running_lokus):
    services.member_report_submit(user=cast["member"], lokus_id=running_lokus.pk, data=builders.report_data())
    with changes() as seen, pytest.raises(ActionRefused):
        services.member_report_submit(
            user=cast["member"], lokus_id=running_lokus.pk, data=builders.report_data(summary="Versi kedua")
        )
    assert MemberReport.objects.get().summary != "Versi kedua"
    assert seen.actions == [] and seen.notified == []
    # Nothing more can be added after the report.
    with pytest.raises(ActionRefused):
        services.field_note_add(user=cast["member"], lokus_id=running_lokus.pk, data=builders.note_data())


def test_member_report_only_after_check_in(cast, team, dispatched_lokus):
    builders.confirm_all(dispatched_lokus, team)
    with pytest.raises(ActionRefused):
        services.member_report_submit(user=cast["member"], lokus_id=dispatched_lokus.pk, data=builders.report_data())
    assert not MemberReport.objects.exists()


def test_invalid_member_report_changes_nothing(cast, running_lokus):
    with changes() as seen, pytest.raises(ValidationError):
        services.member_report_submit(
            user=cast["member"], lokus_id=running_lokus.pk, data=builders.report_data(summary="")
        )
    assert assignment(running_lokus, cast["member"]).state == AssignmentState.CHECKED_IN
    assert not MemberReport.objects.exists()
    assert seen.actions == []


@pytest.mark.parametrize("name", NOT_ON_THE_TEAM)
def test_member_report_refused_to_anyone_not_on_the_team(cast, running_lokus, name):
    with pytest.raises(PermissionDenied):
        services.member_report_submit(user=cast[name], lokus_id=running_lokus.pk, data=builders.report_data())
    assert not MemberReport.objects.exists()


# Eskalasi / Mundur ----------------------------------------------------------------------------


def test_escalation_alerts_coordinator_kasubbid_and_kabid(
    cast, running_lokus, mailoutbox, django_capture_on_commit_callbacks
):
    with changes() as seen, django_capture_on_commit_callbacks(execute=True):
        escalation = services.escalation_raise(
            user=cast["member"],
            lokus_id=running_lokus.pk,
            kind=EscalationKind.WITHDRAWAL,
            message="  Massa mulai melempar batu, tim mundur.  ",
            latitude=Decimal("-6.178000"),
            longitude=Decimal("106.631000"),
        )
    escalation.refresh_from_db()
    assert (escalation.lokus, escalation.raised_by, escalation.kind) == (
        running_lokus,
        cast["member"],
        EscalationKind.WITHDRAWAL,
    )
    assert escalation.message == "Massa mulai melempar batu, tim mundur."
    assert (escalation.latitude, escalation.longitude) == (Decimal("-6.178000"), Decimal("106.631000"))
    assert seen.actions == [AuditAction.ESCALATED]
    assert escalation.message in seen.entries[0].note
    assert seen.notified == usernames(cast["coordinator"], cast["kasubbid"], cast["kabid"])
    assert all(n.is_urgent for n in seen.notifications)
    assert mail_recipients(mailoutbox) == emails(cast["coordinator"], cast["kasubbid"], cast["kabid"])
    # The e-mail carries a link, not the field content.
    assert all(escalation.message not in m.body and escalation.message not in m.subject for m in mailoutbox)
    running_lokus.refresh_from_db()
    assert running_lokus.state == LokusState.RUNNING


def test_escalation_by_the_coordinator_does_not_notify_themselves(cast, dispatched_lokus):
    with changes() as seen:
        services.escalation_raise(
            user=cast["coordinator"], lokus_id=dispatched_lokus.pk, kind=EscalationKind.ESCALATION, message="Ricuh"
        )
    assert seen.notified == usernames(cast["kasubbid"], cast["kabid"])


def test_escalation_only_while_the_lokus_is_in_progress(cast, team, running_lokus):
    builders.report_all(running_lokus, team)
    with changes() as seen, pytest.raises(ActionRefused):
        services.escalation_raise(
            user=cast["member"], lokus_id=running_lokus.pk, kind=EscalationKind.ESCALATION, message="Ricuh"
        )
    assert not Escalation.objects.exists()
    assert seen.actions == [] and seen.notified == []


def test_no_escalation_before_the_team_was_dispatched(cast, ready_lokus):
    with pytest.raises(PermissionDenied):
        services.escalation_raise(
            user=cast["member"], lokus_id=ready_lokus.pk, kind=EscalationKind.ESCALATION, message="Ricuh"
        )
    assert not Escalation.objects.exists()


@pytest.mark.parametrize("name", NOT_ON_THE_TEAM)
def test_escalation_refused_to_anyone_not_on_the_team(cast, running_lokus, name):
    with pytest.raises(PermissionDenied):
        services.escalation_raise(
            user=cast[name], lokus_id=running_lokus.pk, kind=EscalationKind.ESCALATION, message="Ricuh"
        )
    assert not Escalation.objects.exists()


@pytest.mark.parametrize(("kind", "message"), [("kabur", "Ricuh"), (EscalationKind.ESCALATION, "   ")])
def test_escalation_is_validated(cast, running_lokus, kind, message):
    with changes() as seen, pytest.raises(ValidationError):
        services.escalation_raise(user=cast["member"], lokus_id=running_lokus.pk, kind=kind, message=message)
    assert not Escalation.objects.exists()
    assert seen.actions == [] and seen.notified == []


# Berita Acara ----------------------------------------------------------------------------------


def berita_acara_data(lokus, **overrides) -> dict:
    data = {
        "title": "Dialog dengan koordinator aksi",
        "place": "Pos jaga Pusat Pemerintahan",
        "held_at": timezone.now(),  # minutes of what was just seen (never dated ahead)
        "parties": [
            {"name": "  Budi Santoso ", "position": " Koordinator aksi "},
            {"name": "   ", "position": "tanpa nama"},
            {"name": "Iptu Rahmat"},
        ],
        "discussion": "Rute long march dipersingkat.",
        "agreements": "Massa bubar pukul 12.00 WIB.",
        "events": "",
        "copies": 3,
    }
    data.update(overrides)
    return data


def test_team_member_records_a_berita_acara(cast, running_lokus):
    with changes() as seen:
        record = services.berita_acara_add(
            user=cast["member"], lokus_id=running_lokus.pk, data=berita_acara_data(running_lokus)
        )
    record.refresh_from_db()
    assert (record.lokus, record.author, record.copies) == (running_lokus, cast["member"], 3)
    assert record.parties == [
        {"name": "Budi Santoso", "position": "Koordinator aksi"},
        {"name": "Iptu Rahmat", "position": ""},
    ]
    assert seen.actions == [AuditAction.BERITA_ACARA]
    assert seen.entries[0].note == "Dialog dengan koordinator aksi"


def test_berita_acara_needs_a_named_party(cast, running_lokus):
    with changes() as seen, pytest.raises(ActionRefused):
        services.berita_acara_add(
            user=cast["member"],
            lokus_id=running_lokus.pk,
            data=berita_acara_data(running_lokus, parties=[{"name": "  ", "position": "Warga"}]),
        )
    assert not running_lokus.berita_acara.exists()
    assert seen.actions == []


def test_berita_acara_is_validated(cast, running_lokus):
    with pytest.raises(ValidationError) as excinfo:
        services.berita_acara_add(
            user=cast["member"], lokus_id=running_lokus.pk, data=berita_acara_data(running_lokus, copies=21)
        )
    assert set(excinfo.value.message_dict) == {"copies"}
    assert not running_lokus.berita_acara.exists()


@pytest.mark.parametrize("name", NOT_ON_THE_TEAM)
def test_berita_acara_refused_to_anyone_not_on_the_team(cast, running_lokus, name):
    with pytest.raises(PermissionDenied):
        services.berita_acara_add(user=cast[name], lokus_id=running_lokus.pk, data=berita_acara_data(running_lokus))
    assert not running_lokus.berita_acara.exists()


def test_no_berita_acara_before_dispatch(cast, ready_lokus):
    with pytest.raises(PermissionDenied):
        services.berita_acara_add(user=cast["member"], lokus_id=ready_lokus.pk, data=berita_acara_data(ready_lokus))
    assert not ready_lokus.berita_acara.exists()


# The whole path and the audit log ---------------------------------------------------------------


def test_the_timeline_of_a_lokus_from_plan_to_field_done(cast, team, plan):
    lokus = builders.make_dispatched_lokus(cast["kasubbid"], cast["partner"], team, cast["coordinator"])
    lokus = builders.advance_to_running(lokus, team, cast["coordinator"])
    services.field_note_add(user=cast["member"], lokus_id=lokus.pk, data=builders.note_data())
    lokus = builders.report_all(lokus, team)
    assert lokus.state == LokusState.FIELD_DONE
    assert list(AuditEntry.objects.filter(plan=lokus.plan).values_list("action", flat=True)) == [
        AuditAction.PLAN_SUBMITTED,
        AuditAction.PLAN_CHOSEN,
        AuditAction.LOKUS_UPDATED,
        AuditAction.TEAM_SET,
        AuditAction.DISPATCHED,
        AuditAction.CONFIRMED,
        AuditAction.CONFIRMED,
        AuditAction.RISK_RECORDED,
        AuditAction.CHECKED_IN,
        AuditAction.FIELD_STARTED,
        AuditAction.CHECKED_IN,
        AuditAction.NOTE_ADDED,
        AuditAction.MEMBER_REPORTED,
        AuditAction.MEMBER_REPORTED,
        AuditAction.FIELD_DONE,
    ]


def test_audit_entries_are_append_only(cast, plan):
    entry = AuditEntry.objects.get(plan=plan)
    entry.note = "diubah"
    with pytest.raises(ValidationError):
        entry.save()
    with pytest.raises(ValidationError):
        entry.delete()
    entry.refresh_from_db()
    assert entry.note == ""
    assert AuditEntry.objects.filter(plan=plan).count() == 1


def test_state_fields_cannot_be_assigned(cast, chosen_lokus):
    with pytest.raises(AttributeError):
        chosen_lokus.state = LokusState.FIELD_DONE
    with pytest.raises(AttributeError):
        chosen_lokus.plan.status = PlanStatus.NOT_CHOSEN


# lokus.permissions: the lists and the single-object checks agree ---------------------------------


EXPECTED_LOKUS = {
    "partner": set(),
    "other_partner": set(),
    "kasubbid": {"composing", "wasdin"},
    "other_kasubbid": {"wasbang"},
    "member": {"wasdin"},
    "coordinator": {"wasdin"},
    "other_member": {"wasbang"},
    "kabid": {"composing", "wasdin", "wasbang"},
    "kaban": {"composing", "wasdin", "wasbang"},
    "admin": set(),
    "norole": set(),
}
TEAM = {"member", "coordinator", "other_member"}
# The other member is alone on the Wasbang team, and so its Korlap.
EXPECTED_KORLAP = {name: set() for name in CAST} | {"coordinator": {"wasdin"}, "other_member": {"wasbang"}}
ALL_PLANS = {"received", "other_partner_plan", "not_chosen", "composing", "wasdin", "wasbang"}
EXPECTED_PLANS = {
    "partner": {"received", "composing", "wasdin"},
    "other_partner": {"other_partner_plan", "wasbang"},
    "kasubbid": ALL_PLANS,
    "other_kasubbid": ALL_PLANS,
    "member": set(),
    "coordinator": set(),
    "other_member": set(),
    "kabid": ALL_PLANS,
    "kaban": ALL_PLANS,
    "admin": set(),
    "norole": set(),
}


def _plan_of(obj):
    return obj.plan if isinstance(obj, Lokus) else obj


@pytest.mark.parametrize("name", CAST)
def test_lists_and_object_checks_agree(cast, world, name):
    user = refetch(cast[name])
    lokus_names = {key for key, obj in world.items() if isinstance(obj, Lokus)}
    by_lokus = {world[key].pk: key for key in lokus_names}
    by_plan = {_plan_of(obj).pk: key for key, obj in world.items()}

    listed = set(permissions.lokus_for(user))
    assert listed == {lokus for lokus in Lokus.objects.all() if permissions.can_view_lokus(user, lokus)}
    assert {by_lokus[lokus.pk] for lokus in listed} == EXPECTED_LOKUS[name]

    listed_plans = set(permissions.plans_for(user))
    assert listed_plans == {plan for plan in ActivityPlan.objects.all() if permissions.can_view_plan(user, plan)}
    assert {by_plan[plan.pk] for plan in listed_plans} == EXPECTED_PLANS[name]

    # A member's own assignments: only on lokus already dispatched to them. The list and
    # the single check agree row for row.
    listed_assignments = set(permissions.assignments_for(user))
    assert {by_lokus[a.lokus_id] for a in listed_assignments} == (EXPECTED_LOKUS[name] if name in TEAM else set())
    own = {lokus: permissions.assignment_of(user, lokus) for lokus in Lokus.objects.all()}
    assert listed_assignments == {assignment for assignment in own.values() if assignment is not None}
    for lokus, assignment in own.items():
        assert (assignment is not None) == (name in TEAM and by_lokus[lokus.pk] in EXPECTED_LOKUS[name])
        assert assignment is None or permissions.is_own_assignment(user, assignment)

    # The managed lokus (the Kasubbid's own sub-division) and the team's guardian grants.
    managed = set(permissions.managed_lokus(user))
    assert managed == {lokus for lokus in Lokus.objects.all() if permissions.can_manage_lokus(user, lokus)}
    members_of = set(permissions.member_lokus_ids(user).values_list("content_object_id", flat=True))
    assert members_of == {lokus.pk for lokus in Lokus.objects.all() if user.has_perm("lokus.view_lokus", lokus)}
    coordinated = set(permissions.coordinated_lokus_ids(user).values_list("content_object_id", flat=True))
    assert coordinated == {lokus.pk for lokus in Lokus.objects.all() if permissions.is_coordinator(user, lokus)}
    assert {by_lokus[pk] for pk in coordinated} == EXPECTED_KORLAP[name]


DECIDERS = {"kasubbid", "other_kasubbid"}


@pytest.mark.parametrize("name", CAST)
def test_each_transitions_permission_is_the_predicate(cast, world, name):
    """What django-fsm allows (the page's buttons, ``has_transition_perm``) and what the
    services check are one predicate of lokus.permissions, for every role."""
    user = refetch(cast[name])
    plan, composing = world["received"], world["composing"]
    for method in (plan.choose, plan.mark_not_chosen):
        assert has_transition_perm(method, user) == permissions.can_decide_plan(user, plan) == (name in DECIDERS)
    assert has_transition_perm(composing.dispatch, user) == permissions.can_manage_lokus(user, composing)
    assert permissions.can_manage_lokus(user, composing) == (name == "kasubbid")
    # Dispatched to the other member (not confirmed yet); in the field for member and Korlap.
    steps = [(a, a.confirm) for a in Assignment.objects.filter(lokus=world["wasbang"])]
    steps += [(a, a.submit_report) for a in Assignment.objects.filter(lokus=world["wasdin"])]
    for row, method in steps:
        assert has_transition_perm(method, user) == permissions.is_own_assignment(user, row)
        assert permissions.is_own_assignment(user, row) == (row.member_id == user.pk)


@pytest.mark.parametrize("name", ["partner", "kasubbid", "member", "coordinator", "kabid", "kaban"])
def test_deactivated_users_see_nothing(cast, world, name):
    user = deactivate(cast[name])
    assert not permissions.lokus_for(user).exists()
    assert not permissions.plans_for(user).exists()
    assert not permissions.assignments_for(user).exists()
    assert not permissions.member_lokus_ids(user).exists()
    assert not permissions.coordinated_lokus_ids(user).exists()
    assert not any(permissions.can_view_lokus(user, lokus) for lokus in Lokus.objects.all())
    assert not any(permissions.can_view_plan(user, plan) for plan in ActivityPlan.objects.all())
