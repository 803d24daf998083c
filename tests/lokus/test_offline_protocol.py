"""The server side of the phone's outbox (lokus/submissions.py, lokus/views/field.py): the
eight field actions posted with ``client_uuid`` and ``captured_at`` and the header
``X-Lokus-Outbox: 1`` answer JSON; a resend is "replayed" and creates nothing; a captured
time out of range or a UUID known for anything else is refused; both times are kept and a
late arrival is shown ("tiba ...")."""

import io
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib import admin
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from django.utils import formats, timezone, translation
from PIL import Image

from accounts.models import Notification
from core.errors import ActionRefused
from lokus import services, submissions
from lokus.enums import AssignmentState, AuditAction, EscalationKind, MediaKind, SubmissionKind
from lokus.forms import DATETIME_FORMAT
from lokus.models import (
    Assignment,
    AuditEntry,
    BeritaAcara,
    Escalation,
    FieldMedia,
    FieldNote,
    FieldSubmission,
    Lokus,
    MemberReport,
    RiskAssessment,
)
from reports import services as report_services
from tests.conftest import PersonClient
from tests.helpers import as_user, race
from tests.lokus import builders

pytestmark = pytest.mark.django_db

OUTBOX = {"X-Lokus-Outbox": "1"}


def in_indonesian(msgid: str) -> str:
    with translation.override("id"):
        return translation.gettext(msgid)


def shown(moment: datetime, format: str = "d M Y H:i") -> str:
    """A moment as the product shows it, in WIB and Indonesian."""
    with translation.override("id"):
        return formats.date_format(timezone.localtime(moment), format)


def phone_time(moment: datetime) -> str:
    """``captured_at`` as the phone sends it: ``new Date().toISOString()``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "green").save(out, format="JPEG")
    return out.getvalue()


# The eight actions ------------------------------------------------------------------------------


@dataclass
class Action:
    """One field action as the outbox sends it, and where its result is kept."""

    kind: str
    url_name: str
    actor: str  # who does it (cast name)
    stage: str  # the lokus's state first: dispatched, ready_to_start or running
    form: Callable[[datetime], dict]  # the form fields, given the captured time
    rows: Callable[[Lokus, object], object]  # (lokus, actor) -> queryset of its results
    captured_field: str
    received_field: str
    audit_action: str
    success: Callable[[], str]
    anchor: str = ""


def _assignment_rows(done_field):
    return lambda lokus, actor: Assignment.objects.filter(lokus=lokus, member=actor, **{f"{done_field}__isnull": False})


RISK = {
    "threats": "Massa tandingan di sisi timur.",
    "access_routes": "Jl. Satria Sudirman dari utara.",
    "exit_routes": "Jl. KS Tubun ke selatan.",
    "security_contact": "Polsek Tangerang, 021-000000",
    "go": "go",
    "notes": "",
}
ESCALATED = (
    "Alert sent to the coordinator, the Kasubbid and the Kabid. Withdraw to safety and coordinate with TNI/Polri."
)

ACTIONS = [
    Action(
        SubmissionKind.CONFIRM,
        "lokus:confirm",
        "member",
        "dispatched",
        lambda at: {"equipment": ["smartphone", "ht"]},
        _assignment_rows("confirmed_at"),
        "confirmed_at",
        "confirmed_received_at",
        AuditAction.CONFIRMED,
        lambda: in_indonesian("Confirmed: you are ready (Siap)."),
    ),
    Action(
        SubmissionKind.RISK,
        "lokus:risk",
        "coordinator",
        "dispatched",
        lambda at: dict(RISK),
        lambda lokus, actor: RiskAssessment.objects.filter(lokus=lokus),
        "recorded_at",
        "received_at",
        AuditAction.RISK_RECORDED,
        lambda: in_indonesian("Risk mapping saved: go. The team may start."),
        "#status",
    ),
    Action(
        SubmissionKind.CHECK_IN,
        "lokus:check_in",
        "member",
        "ready_to_start",
        lambda at: {"latitude": "-6.178300", "longitude": "106.631800"},
        _assignment_rows("checked_in_at"),
        "checked_in_at",
        "checked_in_received_at",
        AuditAction.CHECKED_IN,
        lambda: in_indonesian("Started. Stay safe; record what you see."),
        "#field",
    ),
    Action(
        SubmissionKind.NOTE,
        "lokus:note_add",
        "member",
        "running",
        lambda at: builders.note_data(),
        lambda lokus, actor: FieldNote.objects.filter(assignment__lokus=lokus),
        "created_at",
        "received_at",
        AuditAction.NOTE_ADDED,
        lambda: in_indonesian("Note saved."),
        "#field",
    ),
    Action(
        SubmissionKind.MEDIA,
        "lokus:media_add",
        "member",
        "running",
        lambda at: {
            "kind": MediaKind.PHOTO,
            "file": SimpleUploadedFile("IMG_0001.jpg", jpeg(), content_type="image/jpeg"),
            "caption": "Spanduk di gerbang",
        },
        lambda lokus, actor: FieldMedia.objects.filter(assignment__lokus=lokus),
        "created_at",
        "received_at",
        AuditAction.MEDIA_UPLOADED,
        lambda: in_indonesian("File uploaded."),
        "#field",
    ),
    Action(
        SubmissionKind.BERITA_ACARA,
        "lokus:berita_acara_add",
        "member",
        "running",
        lambda at: {
            "title": "Dialog dengan panitia",
            "place": "Halaman Pusat Pemerintahan",
            "held_at": timezone.localtime(at).strftime(DATETIME_FORMAT),
            "parties": "Budi Santoso; Ketua panitia",
            "discussion": "Rute aksi dan batas waktu.",
            "agreements": "Aksi selesai pukul 13.00 WIB.",
            "events": "",
            "copies": 2,
        },
        lambda lokus, actor: BeritaAcara.objects.filter(lokus=lokus),
        "created_at",
        "received_at",
        AuditAction.BERITA_ACARA,
        lambda: in_indonesian("Berita Acara recorded: %(title)s.") % {"title": "Dialog dengan panitia"},
        "#documents",
    ),
    Action(
        SubmissionKind.MEMBER_REPORT,
        "lokus:member_report",
        "member",
        "running",
        lambda at: builders.report_data(),
        lambda lokus, actor: MemberReport.objects.filter(assignment__lokus=lokus),
        "submitted_at",
        "received_at",
        AuditAction.MEMBER_REPORTED,
        lambda: in_indonesian("Your report was submitted. Thank you."),
        "#field",
    ),
    Action(
        SubmissionKind.ESCALATION,
        "lokus:escalate",
        "member",
        "running",
        lambda at: {"kind": EscalationKind.ESCALATION, "message": "Massa bertambah, dorong-dorongan di gerbang."},
        lambda lokus, actor: Escalation.objects.filter(lokus=lokus),
        "raised_at",
        "received_at",
        AuditAction.ESCALATED,
        lambda: in_indonesian(ESCALATED),
    ),
]
each_action = pytest.mark.parametrize("action", ACTIONS, ids=[a.kind for a in ACTIONS])


@pytest.fixture
def prepare(cast, team, dispatched_lokus):
    """``prepare(action)``: the Wasdin lokus at the stage the action needs."""

    def _prepare(action: Action) -> Lokus:
        if action.stage == "ready_to_start":
            builders.confirm_all(dispatched_lokus, team)
            services.risk_record(user=cast["coordinator"], lokus_id=dispatched_lokus.pk, data=builders.risk_data())
        elif action.stage == "running":
            builders.advance_to_running(dispatched_lokus, team, cast["coordinator"])
        dispatched_lokus.refresh_from_db()
        return dispatched_lokus

    return _prepare


@pytest.fixture
def later():
    """Two hours after the dispatch, the phone back online: what it kept meanwhile arrives."""
    with time_machine.travel(timezone.now() + timedelta(hours=2), tick=True):
        yield


def url_of(action: Action, lokus: Lokus) -> str:
    return reverse(action.url_name, args=[lokus.pk])


def send(client, action: Action, lokus: Lokus, *, client_uuid, captured_at, outbox: bool = True, **extra):
    data = action.form(captured_at)
    if client_uuid is not None:
        data["client_uuid"] = str(client_uuid)
    if captured_at is not None:
        data["captured_at"] = phone_time(captured_at)
    data.update(extra)
    return client.post(url_of(action, lokus), data, headers=OUTBOX if outbox else {})


def snapshot(action: Action, lokus: Lokus, actor) -> dict:
    """What an action writes, to compare before and after."""
    return {
        "results": action.rows(lokus, actor).count(),
        "audit": AuditEntry.objects.count(),
        "submissions": FieldSubmission.objects.count(),
        "notifications": Notification.objects.count(),
        "assignment": Assignment.objects.get(lokus=lokus, member=actor).state,
    }


def captured_moment(lokus: Lokus) -> datetime:
    """An hour after the dispatch (an hour before "now" under ``later``), to the second."""
    return (lokus.dispatched_at + timedelta(hours=1)).replace(microsecond=0)


# Created, replayed, refused -----------------------------------------------------------------------


@each_action
def test_an_outbox_post_makes_one_row_with_both_times(client_for, cast, prepare, action):
    lokus = prepare(action)
    with time_machine.travel(timezone.now() + timedelta(hours=2), tick=True):
        actor = cast[action.actor]
        client = client_for(action.actor)
        before = snapshot(action, lokus, actor)
        key, captured = uuid.uuid4(), captured_moment(lokus)

        response = send(client, action, lokus, client_uuid=key, captured_at=captured)

        assert response.status_code == 200, response.content
        assert response.json() == {"ok": True, "status": "created", "message": action.success()}
        row = action.rows(lokus, actor).get()
        assert getattr(row, action.captured_field) == captured
        assert abs(getattr(row, action.received_field) - timezone.now()) < timedelta(minutes=1)
        submission = FieldSubmission.objects.get(client_uuid=key)
        assert (submission.user, submission.kind, submission.lokus, submission.object_id) == (
            actor,
            action.kind,
            lokus,
            row.pk,
        )
        assert (submission.captured_at, submission.received_at) == (captured, getattr(row, action.received_field))
        assert snapshot(action, lokus, actor)["results"] == before["results"] + 1
        # The audit log is the server's record: the arrival, with the captured time in the note.
        entry = AuditEntry.objects.filter(action=action.audit_action).latest("pk")
        assert abs(entry.created_at - timezone.now()) < timedelta(minutes=1)
        in_the_note = in_indonesian("recorded in the field at %(time)s WIB") % {"time": shown(captured)}
        assert in_the_note in entry.note


@each_action
def test_a_resend_is_replayed_and_creates_nothing(client_for, cast, prepare, action):
    lokus = prepare(action)
    with time_machine.travel(timezone.now() + timedelta(hours=2), tick=True):
        actor = cast[action.actor]
        client = client_for(action.actor)
        key, captured = uuid.uuid4(), captured_moment(lokus)
        first = send(client, action, lokus, client_uuid=key, captured_at=captured)
        assert first.json()["status"] == "created"
        after_first = snapshot(action, lokus, actor)
        row = action.rows(lokus, actor).get()

        again = send(client, action, lokus, client_uuid=key, captured_at=captured)

        assert again.status_code == 200, again.content
        assert again.json() == {"ok": True, "status": "replayed", "message": action.success()}
        assert snapshot(action, lokus, actor) == after_first
        assert action.rows(lokus, actor).get() == row


@each_action
def test_a_captured_time_ten_minutes_ahead_is_refused(client_for, cast, prepare, action):
    lokus = prepare(action)
    with time_machine.travel(timezone.now() + timedelta(hours=2), tick=True):
        actor = cast[action.actor]
        client = client_for(action.actor)
        before = snapshot(action, lokus, actor)
        ahead = (timezone.now() + timedelta(minutes=10)).replace(microsecond=0)

        response = send(client, action, lokus, client_uuid=uuid.uuid4(), captured_at=ahead)

        assert response.status_code == 400
        body = response.json()
        assert (body["ok"], body["status"]) == (False, "refused")
        reason = in_indonesian(
            "The time of this entry (%(time)s WIB) is ahead of the server's clock. Check the date and "
            "time on your phone."
        ) % {"time": shown(ahead)}
        assert body["message"] == reason
        assert body["errors"] == {"__all__": [reason]}
        assert snapshot(action, lokus, actor) == before


@each_action
def test_a_captured_time_before_the_dispatch_is_refused(client_for, cast, prepare, action):
    lokus = prepare(action)
    with time_machine.travel(timezone.now() + timedelta(hours=2), tick=True):
        actor = cast[action.actor]
        client = client_for(action.actor)
        before = snapshot(action, lokus, actor)
        too_early = lokus.dispatched_at - timedelta(minutes=1)

        response = send(client, action, lokus, client_uuid=uuid.uuid4(), captured_at=too_early)

        assert response.status_code == 400
        body = response.json()
        assert body["status"] == "refused"
        assert body["message"].startswith("Waktu entri ini (")
        assert "lebih awal daripada pengiriman tim" in body["message"]
        assert snapshot(action, lokus, actor) == before


@each_action
def test_a_uuid_known_for_another_user_is_refused(client_for, cast, prepare, action):
    lokus = prepare(action)
    with time_machine.travel(timezone.now() + timedelta(hours=2), tick=True):
        actor = cast[action.actor]
        other = cast["coordinator" if action.actor == "member" else "member"]
        key = uuid.uuid4()
        services.escalation_raise(
            user=other, lokus_id=lokus.pk, kind=EscalationKind.ESCALATION, message="Rahasia lain.", client_uuid=key
        )
        client = client_for(action.actor)
        before = snapshot(action, lokus, actor)

        response = send(client, action, lokus, client_uuid=key, captured_at=captured_moment(lokus))

        assert response.status_code == 400
        body = response.json()
        message = in_indonesian("This entry cannot be accepted: its identifier is not valid. Record it again.")
        assert body == {"ok": False, "status": "refused", "message": message, "errors": {"__all__": [message]}}
        assert "Rahasia" not in response.content.decode()
        assert snapshot(action, lokus, actor) == before
        assert FieldSubmission.objects.get(client_uuid=key).user == other


@each_action
def test_a_post_from_the_page_keeps_its_redirect(client_for, cast, prepare, action):
    lokus = prepare(action)
    actor = cast[action.actor]
    client = client_for(action.actor)

    response = send(client, action, lokus, client_uuid=None, captured_at=None, outbox=False)

    assert response.status_code == 302
    assert response["Location"] == reverse("lokus:assignment", args=[lokus.pk]) + action.anchor
    row = action.rows(lokus, actor).get()
    # Done online: captured when received.
    assert getattr(row, action.captured_field) == getattr(row, action.received_field)
    assert not FieldSubmission.objects.exists()


@each_action
def test_a_page_post_with_a_uuid_sent_twice_redirects_twice_and_creates_once(client_for, cast, prepare, action):
    # A double tap on a form the outbox gave a UUID, sent by the browser itself.
    lokus = prepare(action)
    actor = cast[action.actor]
    client = client_for(action.actor)
    key = uuid.uuid4()

    first = send(client, action, lokus, client_uuid=key, captured_at=None, outbox=False)
    client.get(first["Location"])  # the page it leads to shows (and clears) its message
    after_first = snapshot(action, lokus, actor)
    second = send(client, action, lokus, client_uuid=key, captured_at=None, outbox=False)

    assert first.status_code == second.status_code == 302
    assert second["Location"] == first["Location"]
    assert [str(m) for m in get_messages(second.wsgi_request)] == [action.success()]
    assert snapshot(action, lokus, actor) == after_first


@each_action
def test_an_invalid_uuid_or_time_is_refused_with_its_field(client_for, cast, prepare, action):
    lokus = prepare(action)
    actor = cast[action.actor]
    client = client_for(action.actor)
    before = snapshot(action, lokus, actor)

    response = client.post(
        url_of(action, lokus),
        {**action.form(timezone.now()), "client_uuid": "bukan-uuid", "captured_at": "kemarin sore"},
        headers=OUTBOX,
    )

    assert response.status_code == 400
    body = response.json()
    assert body["status"] == "refused"
    assert body["errors"]["client_uuid"] == [in_indonesian("The identifier of this entry is not valid.")]
    assert body["errors"]["captured_at"] == [in_indonesian("The time of this entry is not a valid date and time.")]
    assert snapshot(action, lokus, actor) == before


# The other answers ----------------------------------------------------------------------------------


def test_form_errors_are_answered_per_field(client_for, running_lokus):
    response = client_for("member").post(
        reverse("lokus:note_add", args=[running_lokus.pk]),
        {"body": "", "situation": "gelap", "client_uuid": str(uuid.uuid4())},
        headers=OUTBOX,
    )

    assert response.status_code == 400
    body = response.json()
    assert (body["ok"], body["status"]) == (False, "refused")
    assert set(body["errors"]) == {"body", "situation"}
    assert all(isinstance(m, str) for messages in body["errors"].values() for m in messages)
    assert body["message"]
    assert not FieldNote.objects.exists()
    assert not FieldSubmission.objects.exists()


def test_a_business_refusal_is_answered_with_the_reason(client_for, dispatched_lokus):
    # A note before "Mulai".
    response = client_for("member").post(
        reverse("lokus:note_add", args=[dispatched_lokus.pk]),
        {**builders.note_data(), "client_uuid": str(uuid.uuid4())},
        headers=OUTBOX,
    )

    assert response.status_code == 400
    reason = in_indonesian('Press "Mulai" first; after your report is submitted nothing more can be added.')
    assert response.json() == {"ok": False, "status": "refused", "message": reason, "errors": {"__all__": [reason]}}
    assert not FieldSubmission.objects.exists()


def test_a_refused_item_can_be_corrected_and_sent_again_with_its_uuid(client_for, running_lokus):
    client, key = client_for("member"), str(uuid.uuid4())
    url = reverse("lokus:note_add", args=[running_lokus.pk])
    refused = client.post(url, {**builders.note_data(body=""), "client_uuid": key}, headers=OUTBOX)
    assert refused.status_code == 400

    corrected = client.post(url, {**builders.note_data(), "client_uuid": key}, headers=OUTBOX)

    assert corrected.json()["status"] == "created"
    assert FieldNote.objects.count() == 1


def test_a_lokus_off_the_team_answers_404_forbidden(client_for, running_lokus):
    response = client_for("other_member").post(
        reverse("lokus:note_add", args=[running_lokus.pk]),
        {**builders.note_data(), "client_uuid": str(uuid.uuid4())},
        headers=OUTBOX,
    )

    assert response.status_code == 404
    body = response.json()
    assert (body["ok"], body["status"]) == (False, "forbidden")
    assert not FieldNote.objects.exists()


def test_an_action_the_member_may_not_take_answers_403_forbidden(client_for, dispatched_lokus):
    response = client_for("member").post(
        reverse("lokus:risk", args=[dispatched_lokus.pk]), {**RISK, "client_uuid": str(uuid.uuid4())}, headers=OUTBOX
    )

    assert response.status_code == 403
    assert response.json()["status"] == "forbidden"
    assert not RiskAssessment.objects.exists()


def test_without_the_header_a_refusal_is_shown_on_the_page_as_before(client_for, dispatched_lokus):
    response = client_for("member").post(
        reverse("lokus:risk", args=[dispatched_lokus.pk]), {**RISK, "client_uuid": str(uuid.uuid4())}
    )
    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/html")


def test_an_expired_session_gets_the_login_redirect(client, running_lokus):
    url = reverse("lokus:note_add", args=[running_lokus.pk])
    response = client.post(url, {**builders.note_data(), "client_uuid": str(uuid.uuid4())}, headers=OUTBOX)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert not FieldNote.objects.exists()


def test_csrf_stays_on_and_the_outbox_sends_the_token_as_a_header(cast, running_lokus):
    client = PersonClient(enforce_csrf_checks=True)
    client.force_login(cast["member"])
    page = client.get(reverse("lokus:assignment", args=[running_lokus.pk])).content.decode()
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
    url = reverse("lokus:note_add", args=[running_lokus.pk])

    without = client.post(url, {**builders.note_data(), "client_uuid": str(uuid.uuid4())}, headers=OUTBOX)
    with_token = client.post(
        url, {**builders.note_data(), "client_uuid": str(uuid.uuid4())}, headers={**OUTBOX, "X-CSRFToken": token}
    )

    assert without.status_code == 403
    assert with_token.status_code == 200
    assert FieldNote.objects.count() == 1


def test_a_get_with_the_header_is_still_the_page(client_for, running_lokus):
    response = client_for("member").get(reverse("lokus:escalate", args=[running_lokus.pk]), headers=OUTBOX)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")


def test_a_replay_needs_the_same_action_and_lokus(cast, running_lokus):
    key = uuid.uuid4()
    services.field_note_add(user=cast["member"], lokus_id=running_lokus.pk, data=builders.note_data(), client_uuid=key)
    with pytest.raises(ActionRefused) as refused:
        services.escalation_raise(
            user=cast["member"], lokus_id=running_lokus.pk, kind=EscalationKind.ESCALATION, message="x", client_uuid=key
        )
    assert refused.value.message == in_indonesian(
        "This entry cannot be accepted: its identifier is not valid. Record it again."
    )
    assert not Escalation.objects.exists()


def test_a_replayed_service_call_gives_the_original_result(cast, running_lokus):
    key = uuid.uuid4()
    note = services.field_note_add(
        user=cast["member"], lokus_id=running_lokus.pk, data=builders.note_data(), client_uuid=key
    )

    with pytest.raises(submissions.Replayed) as replay:
        services.field_note_add(
            user=cast["member"], lokus_id=running_lokus.pk, data=builders.note_data(body="Lain"), client_uuid=key
        )

    assert replay.value.result == note
    assert FieldNote.objects.get().body == builders.note_data()["body"]


def test_an_older_risk_mapping_does_not_overwrite_a_newer_one(cast, dispatched_lokus, later):
    coordinator = cast["coordinator"]
    services.risk_record(user=coordinator, lokus_id=dispatched_lokus.pk, data=builders.risk_data(go=False))
    older = dispatched_lokus.dispatched_at + timedelta(minutes=30)

    with pytest.raises(ActionRefused, match="Pemetaan risiko yang lebih baru"):
        services.risk_record(
            user=coordinator, lokus_id=dispatched_lokus.pk, data=builders.risk_data(go=True), captured_at=older
        )

    assert RiskAssessment.objects.get().go is False


def test_the_first_check_in_starts_field_work_at_its_captured_time(cast, team, dispatched_lokus, later):
    builders.confirm_all(dispatched_lokus, team)
    services.risk_record(user=cast["coordinator"], lokus_id=dispatched_lokus.pk, data=builders.risk_data())
    captured = captured_moment(dispatched_lokus)

    services.assignment_check_in(user=cast["member"], lokus_id=dispatched_lokus.pk, captured_at=captured)

    dispatched_lokus.refresh_from_db()
    assert dispatched_lokus.field_started_at == captured
    assert Assignment.objects.get(member=cast["member"]).state == AssignmentState.CHECKED_IN


def test_field_submissions_are_not_in_the_admin():
    assert not admin.site.is_registered(FieldSubmission)


# Both times shown -------------------------------------------------------------------------------------


def _arrived_marks(response) -> list[str]:
    return re.findall(r'data-testid="arrived-late">([^<]+)<', response.content.decode())


def test_a_late_note_is_marked_with_its_arrival_on_the_assignment_and_lokus_pages(client_for, cast, running_lokus):
    with time_machine.travel(timezone.now() + timedelta(hours=2), tick=True):
        client = client_for("member")
        captured = captured_moment(running_lokus)
        url = reverse("lokus:note_add", args=[running_lokus.pk])
        offline = {"client_uuid": str(uuid.uuid4()), "captured_at": phone_time(captured)}
        client.post(url, {**builders.note_data(body="Tercatat tanpa sinyal."), **offline}, headers=OUTBOX)
        client.post(url, {**builders.note_data(body="Tercatat dengan sinyal.")})
        late, on_time = FieldNote.objects.order_by("created_at")
        assert (late.arrived_late, on_time.arrived_late) == (True, False)
        arrival = "tiba " + shown(late.received_at, "d M H:i")

        page = client.get(reverse("lokus:assignment", args=[running_lokus.pk]))
        lokus_page = client_for("kasubbid").get(reverse("lokus:detail", args=[running_lokus.pk]))

    assert _arrived_marks(page) == [arrival]
    assert _arrived_marks(lokus_page) == [arrival]
    text = page.content.decode()
    # The captured time is the one shown first, in the order the notes were written.
    assert shown(captured, "d M H:i") in text
    assert text.index("Tercatat tanpa sinyal.") < text.index("Tercatat dengan sinyal.")


def test_the_report_chronology_has_the_captured_time_and_the_late_arrival(cast, team, running_lokus):
    with time_machine.travel(timezone.now() + timedelta(hours=2), tick=True):
        captured = captured_moment(running_lokus)
        note = services.field_note_add(
            user=cast["member"],
            lokus_id=running_lokus.pk,
            data=builders.note_data(body="Massa membubarkan diri."),
            client_uuid=uuid.uuid4(),
            captured_at=captured,
        )
        builders.report_all(running_lokus, team)
        report = report_services.report_start(user=cast["coordinator"], lokus_id=running_lokus.pk)

    local = timezone.localtime
    arrived = in_indonesian("arrived %(time)s") % {"time": f"{local(note.received_at):%d-%m %H:%M} WIB"}
    line = f"{local(captured):%H:%M} WIB ({arrived}): Massa membubarkan diri. ({cast['member'].full_name})"
    assert line in report.facts.splitlines()


# Two sends at once (PostgreSQL) ---------------------------------------------------------------------------

on_postgres = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: SQLite serialises whole-database writes, so nothing would race",
    ),
]


def _postgres(test):
    for mark in reversed(on_postgres):
        test = mark(test)
    return test


@_postgres
def test_two_sends_of_the_same_note_at_once_make_one_note(cast, running_lokus):
    key, captured = uuid.uuid4(), timezone.now()
    first, second = as_user(cast["member"]), as_user(cast["member"])

    def send_note(user):
        return lambda: services.field_note_add(
            user=user, lokus_id=running_lokus.pk, data=builders.note_data(), client_uuid=key, captured_at=captured
        )

    outcomes = race(send_note(first), send_note(second))

    notes = [o for o in outcomes if isinstance(o, FieldNote)]
    replays = [o for o in outcomes if isinstance(o, submissions.Replayed)]
    assert (len(notes), len(replays)) == (1, 1), outcomes
    assert replays[0].result == notes[0] == FieldNote.objects.get()
    assert FieldSubmission.objects.get().object_id == notes[0].pk
    assert AuditEntry.objects.filter(action=AuditAction.NOTE_ADDED).count() == 1


@_postgres
def test_two_sends_of_the_same_escalation_at_once_alert_once(cast, running_lokus):
    # No row lock serialises escalations: the UUID's UNIQUE constraint alone does.
    key = uuid.uuid4()
    first, second = as_user(cast["member"]), as_user(cast["member"])

    def raise_alarm(user):
        return lambda: services.escalation_raise(
            user=user, lokus_id=running_lokus.pk, kind=EscalationKind.WITHDRAWAL, message="Mundur.", client_uuid=key
        )

    outcomes = race(raise_alarm(first), raise_alarm(second))

    raised = [o for o in outcomes if isinstance(o, Escalation)]
    replays = [o for o in outcomes if isinstance(o, submissions.Replayed)]
    assert (len(raised), len(replays)) == (1, 1), outcomes
    assert Escalation.objects.get() == raised[0] == replays[0].result
    assert Notification.objects.filter(recipient=cast["kabid"]).count() == 1
    assert AuditEntry.objects.filter(action=AuditAction.ESCALATED).count() == 1
