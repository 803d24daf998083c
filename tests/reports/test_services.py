"""The report services of SOP steps 6-15, called directly: each action's effect, each
refusal (with the database left exactly as it was), the return loops at every level, the
immutable versions, the log and the notifications."""

from unittest.mock import ANY

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils.translation import gettext

from accounts.models import Notification
from core.errors import ActionRefused
from lokus.enums import AssignmentState, AuditAction, LokusState
from lokus.models import Assignment, AuditEntry
from reports import services
from reports.enums import ReportAction, ReportState
from reports.models import ActivityReport, ReportExcuse, ReportLog, ReportVerification, ReportVersion
from tests.reports import builders
from tests.reports.builders import ALL_CHECKS, act, filled_data, snapshot

pytestmark = pytest.mark.django_db

S = ReportState
A = ReportAction


def fresh(report) -> ActivityReport:
    return ActivityReport.objects.get(pk=report.pk)


def section(field: str) -> str:
    """How ``missing_for_sending`` names an empty section (built, not copied, so the test
    does not depend on the translation)."""
    name = str(ActivityReport._meta.get_field(field).verbose_name)
    return gettext("section: %(name)s") % {"name": name}


def member_missing(user) -> str:
    return gettext("the report of %(name)s (or excuse them)") % {"name": user.full_name}


def versions_of(report) -> list[tuple]:
    return list(
        ReportVersion.objects.filter(report=report)
        .order_by("number")
        .values_list("number", "revision_round", "created_by__username")
    )


# Step 6: start, save, excuse, send ------------------------------------------------------------


def test_start_prefills_from_the_lokus_and_keeps_version_1(cast, field_done_lokus):
    report = services.report_start(user=cast["coordinator"], lokus_id=field_done_lokus.pk)

    report = fresh(report)
    assert report.state == S.DRAFT
    assert (report.version, report.revision_round) == (1, 1)
    assert report.main_problem == field_done_lokus.problem
    assert field_done_lokus.surat_tugas_number in report.basis
    assert report.classification == field_done_lokus.classification
    # Step 6's clock starts when the field work was done, not when the Korlap opened the form.
    assert report.state_changed_at == field_done_lokus.field_done_at
    assert versions_of(report) == [(1, 1, "korlap")]
    assert ReportVersion.objects.get(report=report).content == report.content()
    assert builders.log_actions(report) == [(A.CREATED, "", S.DRAFT, "", "korlap")]


@pytest.mark.parametrize("who", ["member", "kasubbid", "kabid", "kaban", "other_kasubbid", "partner", "norole"])
def test_only_the_korlap_starts_the_report(cast, field_done_lokus, who):
    with pytest.raises(PermissionDenied):
        services.report_start(user=cast[who], lokus_id=field_done_lokus.pk)
    assert not ActivityReport.objects.exists()


def test_the_report_is_started_once(cast, report):
    before = snapshot(report)
    with pytest.raises(services.ReportAlreadyStarted) as refused:
        services.report_start(user=cast["coordinator"], lokus_id=report.lokus_id)
    assert refused.value.report_id == report.pk
    assert cast["coordinator"].full_name in refused.value.message
    assert snapshot(report) == before


@pytest.mark.parametrize("who", ["member", "other_kasubbid", "partner"])
def test_asking_to_start_an_existing_report_it_may_not_read_is_denied(cast, report, who):
    before = snapshot(report)
    with pytest.raises(PermissionDenied):
        services.report_start(user=cast[who], lokus_id=report.lokus_id)
    assert snapshot(report) == before


def test_a_content_change_keeps_a_new_version_and_identical_content_none(cast, report):
    assert versions_of(report) == [(1, 1, "korlap"), (2, 1, "korlap")]
    before = snapshot(report)

    services.report_save(user=cast["coordinator"], report_id=report.pk, data=filled_data())
    services.report_save(user=cast["coordinator"], report_id=report.pk, data={})

    assert snapshot(report) == before, "saving the same content keeps no version and logs nothing"

    services.report_save(user=cast["coordinator"], report_id=report.pk, data={"analysis": "Analisis baru."})

    report = fresh(report)
    assert (report.version, report.revision_round, report.analysis) == (3, 1, "Analisis baru.")
    assert versions_of(report) == [(1, 1, "korlap"), (2, 1, "korlap"), (3, 1, "korlap")]
    newest = ReportVersion.objects.get(report=report, number=3)
    assert newest.content == report.content()
    assert ReportVersion.objects.get(report=report, number=2).content["analysis"] == filled_data()["analysis"]
    assert builders.log_actions(report)[-1] == (A.SAVED, "", "", ANY, "korlap")
    assert ReportLog.objects.filter(report=report).last().version_number == 3


def test_a_report_version_can_be_neither_changed_nor_deleted(report):
    version = ReportVersion.objects.get(report=report, number=2)
    version.content = {"facts": "dipalsukan"}
    with pytest.raises(ValidationError):
        version.save()
    with pytest.raises(ValidationError):
        version.delete()
    stored = ReportVersion.objects.get(pk=version.pk)
    assert stored.content == fresh(report).content()
    assert ReportVersion.objects.filter(report=report).count() == 2


def test_the_log_can_be_neither_changed_nor_deleted(report):
    entry = ReportLog.objects.filter(report=report).first()
    entry.note = "diubah"
    with pytest.raises(ValidationError):
        entry.save()
    with pytest.raises(ValidationError):
        entry.delete()
    assert ReportLog.objects.get(pk=entry.pk).note == ""


@pytest.mark.parametrize("who", ["kasubbid", "kabid", "kaban"])
def test_readers_who_do_not_hold_the_draft_may_not_change_it(cast, report, who):
    # The draft is the Korlap's to change, and changing it was never theirs: 403.
    before = snapshot(report)
    with pytest.raises(PermissionDenied):
        services.report_save(user=cast[who], report_id=report.pk, data={"facts": "Diubah atasan."})
    assert snapshot(report) == before


def test_a_change_from_a_page_left_open_names_who_moved_the_report_on(cast, report_in):
    # The Kabid got the report back and passed it down; their edit page is still open.
    report = report_in(S.RETURNED_TO_KABID)
    services.report_pass_down(user=cast["kabid"], report_id=report.pk, note="Kasubbid, perbaiki.")
    before = snapshot(report)

    with pytest.raises(ActionRefused) as refused:
        services.report_save(user=cast["kabid"], report_id=report.pk, data={"facts": "Dari halaman lama."})

    assert cast["kabid"].full_name in refused.value.message
    assert str(A.PASSED_DOWN.label) in refused.value.message
    assert snapshot(report) == before


@pytest.mark.parametrize("who", ["member", "other_kasubbid", "partner", "admin", "norole"])
def test_outsiders_may_not_change_the_report(cast, report, who):
    before = snapshot(report)
    with pytest.raises(PermissionDenied):
        services.report_save(user=cast[who], report_id=report.pk, data={"facts": "Diubah orang luar."})
    assert snapshot(report) == before


def test_sending_with_empty_sections_lists_exactly_those(cast, field_done_lokus):
    report = services.report_start(user=cast["coordinator"], lokus_id=field_done_lokus.pk)
    before = snapshot(report)

    with pytest.raises(ActionRefused) as refused:
        services.report_submit(user=cast["coordinator"], report_id=report.pk)

    expected = [section(f) for f in ("facts", "analysis", "recommendations", "situation")]
    assert services.missing_for_sending(fresh(report)) == expected
    for missing in expected:
        assert missing in refused.value.message
    for present in ("basis", "time_place", "main_problem"):
        assert section(present) not in refused.value.message
    assert snapshot(report) == before


def test_sending_with_a_member_neither_in_nor_excused_names_that_member(cast):
    report = builders.make_report_with_missing_member(cast)
    before = snapshot(report)

    with pytest.raises(ActionRefused) as refused:
        services.report_submit(user=cast["coordinator"], report_id=report.pk)

    assert services.missing_for_sending(fresh(report)) == [member_missing(cast["member"])]
    assert member_missing(cast["member"]) in refused.value.message
    assert cast["coordinator"].full_name not in refused.value.message, "the Korlap's own report is in"
    assert snapshot(report) == before
    assert before["lokus_state"] == LokusState.RUNNING


def test_excusing_the_member_then_sending_completes_the_field_work(cast, django_capture_on_commit_callbacks):
    report = builders.make_report_with_missing_member(cast)
    assignment = Assignment.objects.get(lokus=report.lokus, member=cast["member"])

    excuse = services.report_excuse(
        user=cast["coordinator"], report_id=report.pk, assignment_id=assignment.pk, reason="  Sakit, surat dokter.  "
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.report_submit(user=cast["coordinator"], report_id=report.pk)

    assert (excuse.assignment_id, excuse.reason, excuse.excused_by_id) == (
        assignment.pk,
        "Sakit, surat dokter.",
        cast["coordinator"].pk,
    )
    report = fresh(report)
    assert report.state == S.AT_KASUBBID
    lokus = report.lokus
    assert lokus.state == LokusState.FIELD_DONE
    assert lokus.field_done_at is not None
    assert Assignment.objects.get(pk=assignment.pk).state != AssignmentState.REPORTED
    # The lokus's own trail records the completion once, as when the last member reports.
    assert AuditEntry.objects.filter(lokus=lokus, action=AuditAction.FIELD_DONE).count() == 1
    assert [row[:3] for row in builders.log_actions(report)[-2:]] == [
        (A.EXCUSED, "", ""),
        (A.SUBMITTED, S.DRAFT, S.AT_KASUBBID),
    ]
    assert cast["member"].full_name in ReportLog.objects.get(report=report, action=A.EXCUSED).note


def test_excusing_again_updates_the_reason_and_keeps_one_row(cast):
    report = builders.make_report_with_missing_member(cast)
    assignment = Assignment.objects.get(lokus=report.lokus, member=cast["member"])
    for reason in ("Sakit.", "Tugas lain dari Kaban."):
        services.report_excuse(
            user=cast["coordinator"], report_id=report.pk, assignment_id=assignment.pk, reason=reason
        )
    assert list(ReportExcuse.objects.filter(report=report).values_list("reason", flat=True)) == [
        "Tugas lain dari Kaban."
    ]


def test_an_excuse_needs_a_reason_and_a_member_whose_report_is_missing(cast):
    report = builders.make_report_with_missing_member(cast)
    member = Assignment.objects.get(lokus=report.lokus, member=cast["member"])
    korlap = Assignment.objects.get(lokus=report.lokus, member=cast["coordinator"])
    before = snapshot(report)

    with pytest.raises(ActionRefused):
        services.report_excuse(user=cast["coordinator"], report_id=report.pk, assignment_id=member.pk, reason="  ")
    with pytest.raises(ActionRefused):
        services.report_excuse(user=cast["coordinator"], report_id=report.pk, assignment_id=korlap.pk, reason="Sudah.")
    for who in ("kasubbid", "member", "kabid"):
        with pytest.raises(PermissionDenied):
            services.report_excuse(user=cast[who], report_id=report.pk, assignment_id=member.pk, reason="Sakit.")

    assert snapshot(report) == before


# The chain: legal steps, illegal jumps ---------------------------------------------------------


def test_the_whole_chain_up_to_approval(cast, report, walk):
    report = walk(report, S.APPROVED)

    assert report.state == S.APPROVED
    assert report.approved_at == report.state_changed_at
    assert (report.version, report.revision_round) == (2, 1)
    levels = list(ReportVerification.objects.filter(report=report).values_list("level", "verified_by__username"))
    assert levels == [("kasubbid", "kasubbid"), ("kabid", "kabid"), ("kaban", "kaban")]
    assert all(v.all_passed and v.version_number == 2 for v in ReportVerification.objects.filter(report=report))


def test_a_verification_records_each_check(cast, report, walk):
    walk(report, S.KASUBBID_RECEIVED)
    checks = {**ALL_CHECKS, "attachments_present": False}

    verification = services.report_verify(
        user=cast["kasubbid"], report_id=report.pk, checks=checks, notes="  Foto belum ada.  "
    )

    assert fresh(report).state == S.KASUBBID_VERIFIED
    verification.refresh_from_db()
    assert (verification.level, verification.version_number, verification.notes) == ("kasubbid", 2, "Foto belum ada.")
    assert (verification.complete, verification.attachments_present, verification.all_passed) == (True, False, False)
    assert builders.log_actions(report)[-1] == (A.VERIFIED, S.KASUBBID_RECEIVED, S.KASUBBID_VERIFIED, ANY, "kasubbid")
    assert ReportLog.objects.filter(report=report).last().note.endswith("Foto belum ada.")


ILLEGAL = [
    # (state, action, who): the holder tries a step that is not open in this state.
    (S.DRAFT, "approve", "kaban"),
    (S.DRAFT, "receive", "kasubbid"),
    (S.AT_KASUBBID, "submit", "coordinator"),
    (S.AT_KASUBBID, "verify", "kasubbid"),
    (S.AT_KASUBBID, "forward", "kasubbid"),
    (S.KASUBBID_RECEIVED, "receive", "kasubbid"),
    (S.KASUBBID_RECEIVED, "forward", "kasubbid"),
    (S.KASUBBID_RECEIVED, "return", "kasubbid"),
    (S.KASUBBID_VERIFIED, "verify", "kasubbid"),
    (S.KASUBBID_VERIFIED, "pass_down", "kasubbid"),
    (S.RETURNED_TO_KASUBBID, "return", "kasubbid"),
    (S.KABID_RECEIVED, "receive", "kabid"),
    (S.AT_KABAN, "approve", "kaban"),
    (S.KABAN_RECEIVED, "approve", "kaban"),
    (S.KABAN_VERIFIED, "forward", "kaban"),
    (S.KABAN_VERIFIED, "pass_down", "kaban"),
    (S.APPROVED, "approve", "kaban"),
    (S.APPROVED, "return", "kaban"),
]


@pytest.mark.parametrize(("state", "action", "who"), ILLEGAL, ids=[f"{a}-at-{s}" for s, a, _w in ILLEGAL])
def test_illegal_jumps_are_refused_and_change_nothing(cast, report_in, state, action, who):
    report = report_in(state)
    before = snapshot(report)

    with pytest.raises(ActionRefused):
        act(report, cast, action, who)

    assert snapshot(report) == before


WRONG_PERSON = [
    # (state, action, who): the step is open, but for someone else.
    (S.DRAFT, "submit", "kasubbid"),
    (S.AT_KASUBBID, "receive", "kabid"),
    (S.AT_KASUBBID, "receive", "kaban"),
    (S.AT_KASUBBID, "receive", "coordinator"),
    (S.KASUBBID_VERIFIED, "forward", "kabid"),
    (S.KASUBBID_VERIFIED, "return", "coordinator"),
    (S.KABAN_VERIFIED, "approve", "kabid"),
    (S.AT_KASUBBID, "receive", "other_kasubbid"),
    (S.AT_KASUBBID, "receive", "member"),
    (S.KABAN_VERIFIED, "approve", "admin"),
    (S.RETURNED_TO_KASUBBID, "forward", "other_kasubbid"),
]


@pytest.mark.parametrize(("state", "action", "who"), WRONG_PERSON, ids=[f"{a}-by-{w}" for _s, a, w in WRONG_PERSON])
def test_a_step_by_the_wrong_person_is_denied_and_changes_nothing(cast, report_in, state, action, who):
    report = report_in(state)
    before = snapshot(report)

    with pytest.raises(PermissionDenied):
        act(report, cast, action, who)

    assert snapshot(report) == before


PAGE_LEFT_OPEN = [
    # (state, action, who): the step is open for someone else now, but it was once this
    # reader's on this report, so a page of theirs from then may still offer it.
    (S.AT_KABID, "receive", "kasubbid"),
    (S.AT_KABAN, "receive", "kabid"),
    (S.KABID_VERIFIED, "forward", "kasubbid"),
    (S.KABAN_VERIFIED, "return", "kabid"),
    (S.RETURNED_TO_KASUBBID, "forward", "kabid"),
]


@pytest.mark.parametrize(
    ("state", "action", "who"), PAGE_LEFT_OPEN, ids=[f"{a}-by-{w}-at-{s}" for s, a, w in PAGE_LEFT_OPEN]
)
def test_a_step_from_a_page_left_open_is_refused_naming_who_took_the_last_one(cast, report_in, state, action, who):
    report = report_in(state)
    last = ReportLog.objects.filter(report=report).exclude(to_state="").select_related("actor").last()
    before = snapshot(report)

    with pytest.raises(ActionRefused) as refused:
        act(report, cast, action, who)

    assert last.actor.full_name in refused.value.message
    assert last.get_action_display() in refused.value.message
    assert fresh(report).get_state_display() in refused.value.message
    assert snapshot(report) == before


@pytest.mark.parametrize(
    ("state", "action"),
    [
        (S.KASUBBID_VERIFIED, "return"),
        (S.KABID_VERIFIED, "return"),
        (S.KABAN_VERIFIED, "return"),
        (S.RETURNED_TO_KASUBBID, "pass_down"),
        (S.RETURNED_TO_KABID, "pass_down"),
    ],
)
@pytest.mark.parametrize("note", ["", "   \n "])
def test_a_return_without_a_note_is_refused(cast, report_in, state, action, note):
    report = report_in(state)
    before = snapshot(report)
    service = services.report_return if action == "return" else services.report_pass_down
    holder = builders.HOLDER_KEY[state]

    with pytest.raises(ActionRefused):
        service(user=cast[holder], report_id=report.pk, note=note)

    assert snapshot(report) == before


# Return loops at each level ---------------------------------------------------------------------


def test_kasubbid_returns_to_korlap_who_revises_and_the_chain_restarts_at_the_kasubbid(cast, report, walk):
    walk(report, S.KASUBBID_VERIFIED)
    services.report_return(user=cast["kasubbid"], report_id=report.pk, note="Kronologi belum lengkap.")
    assert (fresh(report).state, fresh(report).revision_round) == (S.RETURNED_TO_KORLAP, 2)

    services.report_save(user=cast["coordinator"], report_id=report.pk, data={"facts": "Kronologi lengkap."})
    services.report_submit(user=cast["coordinator"], report_id=report.pk)

    report = fresh(report)
    assert report.state == S.AT_KASUBBID
    assert (report.version, report.revision_round, report.facts) == (3, 2, "Kronologi lengkap.")
    assert versions_of(report)[-1] == (3, 2, "korlap")
    assert [row[:3] for row in builders.log_actions(report)[-3:]] == [
        (A.RETURNED, S.KASUBBID_VERIFIED, S.RETURNED_TO_KORLAP),
        (A.SAVED, "", ""),
        (A.SUBMITTED, S.RETURNED_TO_KORLAP, S.AT_KASUBBID),
    ]
    # The Kasubbid takes the revised report through steps 7-9 again.
    walk(report, S.AT_KABID)
    assert ReportVerification.objects.filter(report=report, level="kasubbid").count() == 2


def test_kabid_returns_to_kasubbid_who_revises_and_forwards_again(cast, report, walk):
    walk(report, S.KABID_VERIFIED)
    services.report_return(user=cast["kabid"], report_id=report.pk, note="Analisis terlalu umum.")
    assert (fresh(report).state, fresh(report).revision_round) == (S.RETURNED_TO_KASUBBID, 2)

    services.report_save(user=cast["kasubbid"], report_id=report.pk, data={"analysis": "Analisis dipertajam."})
    services.report_forward(user=cast["kasubbid"], report_id=report.pk, note="Sudah diperbaiki.")

    report = fresh(report)
    assert report.state == S.AT_KABID
    assert (report.version, report.revision_round, report.analysis) == (3, 2, "Analisis dipertajam.")
    assert versions_of(report)[-1] == (3, 2, "kasubbid")
    assert builders.log_actions(report)[-1] == (
        A.FORWARDED,
        S.RETURNED_TO_KASUBBID,
        S.AT_KABID,
        "Sudah diperbaiki.",
        "kasubbid",
    )
    assert fresh(walk(report, S.APPROVED)).state == S.APPROVED


def test_kabid_returns_kasubbid_passes_down_korlap_revises_and_the_chain_restarts(cast, report, walk):
    walk(report, S.KABID_VERIFIED)
    services.report_return(user=cast["kabid"], report_id=report.pk, note="Foto kegiatan tidak ada.")
    services.report_pass_down(user=cast["kasubbid"], report_id=report.pk, note="Korlap, lampirkan foto.")
    assert (fresh(report).state, fresh(report).revision_round) == (S.RETURNED_TO_KORLAP, 2)

    services.report_save(user=cast["coordinator"], report_id=report.pk, data={"dialogue": "Dialog dilampirkan."})
    services.report_submit(user=cast["coordinator"], report_id=report.pk)

    report = fresh(report)
    assert report.state == S.AT_KASUBBID, "after a revision the chain starts again at the Kasubbid"
    assert (report.version, report.revision_round) == (3, 2)
    assert versions_of(report)[-1] == (3, 2, "korlap")
    assert [row[:4] for row in builders.log_actions(report)[-4:]] == [
        (A.RETURNED, S.KABID_VERIFIED, S.RETURNED_TO_KASUBBID, "Foto kegiatan tidak ada."),
        (A.PASSED_DOWN, S.RETURNED_TO_KASUBBID, S.RETURNED_TO_KORLAP, "Korlap, lampirkan foto."),
        (A.SAVED, "", "", ANY),
        (A.SUBMITTED, S.RETURNED_TO_KORLAP, S.AT_KASUBBID, ""),
    ]


def test_kaban_returns_to_kabid_who_revises_forwards_and_the_kaban_approves(cast, report, walk):
    walk(report, S.KABAN_VERIFIED)
    services.report_return(user=cast["kaban"], report_id=report.pk, note="Rekomendasi harus konkret.")
    assert (fresh(report).state, fresh(report).revision_round) == (S.RETURNED_TO_KABID, 2)

    services.report_save(user=cast["kabid"], report_id=report.pk, data={"recommendations": "Rapat Forkopimda."})
    services.report_forward(user=cast["kabid"], report_id=report.pk)
    assert fresh(report).state == S.AT_KABAN
    services.report_receive(user=cast["kaban"], report_id=report.pk)
    services.report_verify(user=cast["kaban"], report_id=report.pk, checks=ALL_CHECKS)
    services.report_approve(user=cast["kaban"], report_id=report.pk, note="Setuju.")

    report = fresh(report)
    assert report.state == S.APPROVED
    assert (report.version, report.revision_round, report.recommendations) == (3, 2, "Rapat Forkopimda.")
    assert versions_of(report)[-1] == (3, 2, "kabid")


def test_kabid_passes_down_to_the_kasubbid(cast, report, walk):
    walk(report, S.RETURNED_TO_KABID)
    services.report_pass_down(user=cast["kabid"], report_id=report.pk, note="Kasubbid, perbaiki.")

    report = fresh(report)
    assert (report.state, report.revision_round) == (S.RETURNED_TO_KASUBBID, 2), "a pass-down is not a new round"


def test_two_returns_make_round_three_and_each_version_keeps_its_round(cast, report, walk):
    walk(report, S.RETURNED_TO_KORLAP)
    services.report_save(user=cast["coordinator"], report_id=report.pk, data={"facts": "Revisi satu."})
    walk(report, S.AT_KASUBBID)
    walk(report, S.RETURNED_TO_KORLAP)
    services.report_save(user=cast["coordinator"], report_id=report.pk, data={"facts": "Revisi dua."})

    assert fresh(report).revision_round == 3
    assert versions_of(report) == [(1, 1, "korlap"), (2, 1, "korlap"), (3, 2, "korlap"), (4, 3, "korlap")]
    assert [v.content["facts"] for v in ReportVersion.objects.filter(report=report).order_by("number")][2:] == [
        "Revisi satu.",
        "Revisi dua.",
    ]


# Approval locks the report -----------------------------------------------------------------------


def test_approval_locks_the_report_for_good(cast, report, walk):
    walk(report, S.APPROVED)
    before = snapshot(report)

    for who in ("coordinator", "kasubbid", "kabid", "kaban"):
        with pytest.raises(ActionRefused):
            services.report_save(user=cast[who], report_id=report.pk, data={"facts": "Diubah setelah final."})
    for action, who in [("submit", "coordinator"), ("return", "kaban"), ("forward", "kabid"), ("receive", "kaban")]:
        with pytest.raises((ActionRefused, PermissionDenied)):
            act(report, cast, action, who)

    assert snapshot(report) == before
    assert fresh(report).facts == filled_data()["facts"]


# The log ---------------------------------------------------------------------------------------


def test_every_transition_is_logged_exactly_once(cast, report):
    steps = [
        ("submit", "coordinator", ""),
        ("receive", "kasubbid", ""),
        ("verify", "kasubbid", ""),
        ("return", "kasubbid", "K1"),
        ("save", "coordinator", ""),
        ("submit", "coordinator", ""),
        ("receive", "kasubbid", ""),
        ("verify", "kasubbid", ""),
        ("forward", "kasubbid", "F1"),
        ("receive", "kabid", ""),
        ("verify", "kabid", ""),
        ("return", "kabid", "K2"),
        ("pass_down", "kasubbid", "P1"),
        ("save", "coordinator", ""),
        ("submit", "coordinator", ""),
        ("receive", "kasubbid", ""),
        ("verify", "kasubbid", ""),
        ("forward", "kasubbid", ""),
        ("receive", "kabid", ""),
        ("verify", "kabid", ""),
        ("forward", "kabid", "F2"),
        ("receive", "kaban", ""),
        ("verify", "kaban", ""),
        ("return", "kaban", "K3"),
        ("save", "kabid", ""),
        ("forward", "kabid", ""),
        ("receive", "kaban", ""),
        ("verify", "kaban", ""),
        ("approve", "kaban", "A1"),
    ]
    expected = []
    for number, (action, who, note) in enumerate(steps):
        before = fresh(report).state
        if action == "save":
            services.report_save(user=cast[who], report_id=report.pk, data={"outlook": f"Perkiraan {number}."})
        else:
            act(report, cast, action, who, note=note)
        after = fresh(report).state
        log_action = {
            "save": A.SAVED,
            "submit": A.SUBMITTED,
            "receive": A.RECEIVED,
            "verify": A.VERIFIED,
            "forward": A.FORWARDED,
            "return": A.RETURNED,
            "pass_down": A.PASSED_DOWN,
            "approve": A.APPROVED,
        }[action]
        if action == "save":
            expected.append((log_action, "", "", ANY, cast[who].username))
        else:
            assert after != before, f"step {number} ({action}) did not move the report"
            expected.append((log_action, before, after, ANY if action == "verify" else note, cast[who].username))

    log = builders.log_actions(report)
    assert log[:2] == [(A.CREATED, "", S.DRAFT, "", "korlap"), (A.SAVED, "", "", ANY, "korlap")]
    assert log[2:] == expected
    # The moves form one unbroken chain from the draft to the approval.
    moves = [(entry[1], entry[2]) for entry in log if entry[1]]
    assert moves[0][0] == S.DRAFT and moves[-1][1] == S.APPROVED
    assert all(prev[1] == nxt[0] for prev, nxt in zip(moves, moves[1:], strict=False))
    report = fresh(report)
    assert (report.version, report.revision_round) == (5, 4)
    assert ReportLog.objects.filter(report=report).last().version_number == 5


# Notifications -----------------------------------------------------------------------------------

HAND_OFFS = [
    # (state before, action, by, note, who is told)
    (S.DRAFT, "submit", "coordinator", "", ["kasubbid"]),
    (S.RETURNED_TO_KORLAP, "submit", "coordinator", "", ["kasubbid"]),
    (S.AT_KASUBBID, "receive", "kasubbid", "", []),
    (S.KASUBBID_RECEIVED, "verify", "kasubbid", "", []),
    (S.KASUBBID_VERIFIED, "forward", "kasubbid", "Mohon arahan.", ["kabid"]),
    (S.RETURNED_TO_KASUBBID, "forward", "kasubbid", "Sudah direvisi.", ["kabid"]),
    (S.KABID_VERIFIED, "forward", "kabid", "Untuk disetujui.", ["kaban"]),
    (S.RETURNED_TO_KABID, "forward", "kabid", "", ["kaban"]),
    (S.KASUBBID_VERIFIED, "return", "kasubbid", "Lengkapi kronologi.", ["coordinator"]),
    (S.KABID_VERIFIED, "return", "kabid", "Analisis dipertajam.", ["kasubbid"]),
    (S.KABAN_VERIFIED, "return", "kaban", "Rekomendasi konkret.", ["kabid"]),
    (S.RETURNED_TO_KASUBBID, "pass_down", "kasubbid", "Korlap, lampirkan foto.", ["coordinator"]),
    (S.RETURNED_TO_KABID, "pass_down", "kabid", "Kasubbid, perbaiki.", ["kasubbid"]),
    (S.KABAN_VERIFIED, "approve", "kaban", "", ["coordinator", "kasubbid", "kabid"]),
]


@pytest.mark.parametrize(
    ("state", "action", "by", "note", "told"), HAND_OFFS, ids=[f"{a}-at-{s}" for s, a, *_rest in HAND_OFFS]
)
def test_the_next_actor_is_notified_in_app_and_by_mail_on_commit(
    cast, report_in, mailoutbox, django_capture_on_commit_callbacks, state, action, by, note, told
):
    report = report_in(state)
    last = Notification.objects.order_by("pk").last()
    mailoutbox.clear()

    with django_capture_on_commit_callbacks() as callbacks:
        act(report, cast, action, by, note=note)
        assert mailoutbox == [], "no e-mail before the transaction commits"
    for callback in callbacks:
        callback()

    new = Notification.objects.filter(pk__gt=last.pk if last else 0).select_related("recipient")
    assert sorted(n.recipient.username for n in new) == sorted(cast[who].username for who in told)
    url = reverse("reports:detail", args=[report.pk])
    for notification in new:
        assert notification.url == url
        assert report.lokus.plan.title in notification.title
        if action in ("return", "pass_down", "forward"):
            assert notification.body == note, "the one who gets the report reads the note"
    assert sorted(m.to[0] for m in mailoutbox) == sorted(cast[who].email for who in told)
    for mail in mailoutbox:
        assert url in mail.body
        if note:
            # The e-mail carries only the title and a link; the note stays in the product.
            assert note not in mail.body


def test_the_other_sub_division_is_not_told(cast, report, mailoutbox, django_capture_on_commit_callbacks):
    last = Notification.objects.order_by("pk").last().pk
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.report_submit(user=cast["coordinator"], report_id=report.pk)

    told = Notification.objects.filter(pk__gt=last).values_list("recipient__username", flat=True)
    assert list(told) == ["kasubbid"]
    assert [m.to for m in mailoutbox] == [[cast["kasubbid"].email]]


def test_a_refused_action_sends_nothing(cast, report, mailoutbox, django_capture_on_commit_callbacks):
    count = Notification.objects.count()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ActionRefused):
        services.report_approve(user=cast["kaban"], report_id=report.pk)
    assert Notification.objects.count() == count
    assert mailoutbox == []
