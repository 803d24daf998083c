"""The need-to-know policy of steps 1-5 as one table: every role of the cast (and an
anonymous visitor) × every URL of ``lokus/urls.py`` plus the home page and notifications.

Each row builds one world through the real services (tests/lokus/builders.py); each role's
request in the row runs inside a savepoint that is rolled back afterwards, so every cell
meets the same fresh world. The state is read back after each request: an allowed action
changed what it should, anything refused (or any GET) changed nothing at all.

Answers: 200 page shown; 403 the user may see the object but not do this; 404 the user may
not know the object exists; LOGIN redirect to the sign-in page; DONE the action ran (302 and
the state changed); BACK a business rule refused it (302 back with an error message, nothing
changed)."""

import io
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.messages import constants as message_levels
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from accounts.models import Notification
from accounts.services import notify
from lokus import services
from lokus import urls as lokus_urls
from lokus.enums import Equipment, EscalationKind, MediaKind
from lokus.forms import DATETIME_FORMAT
from lokus.models import (
    ActivityPlan,
    Assignment,
    AuditEntry,
    BeritaAcara,
    Escalation,
    FieldMedia,
    FieldNote,
    Lokus,
    LokusUserObjectPermission,
    MemberReport,
    PlanAttachment,
    RiskAssessment,
)
from lokus.uploads import clean_document, clean_image
from tests.helpers import ROLES
from tests.lokus import builders

pytestmark = pytest.mark.django_db

LOGIN, DONE, BACK = "login", "done", "back"

# The columns of the table: tests.helpers.ROLES, in order (None is the anonymous visitor).

# The world (see grid_world): "received" is the partner's undecided plan (with a PDF),
# "other_plan" the other partner's; Wasdin lokus "composing" (team drafted: member + Korlap),
# "dispatched" (nobody confirmed yet), "confirmed" (all "Siap", risk mapping go) and
# "running" (in the field, with a photo); "wasbang" is the other Kasubbid's, dispatched to
# the other member. "notification" is one of the Kasubbid's own notifications.
# fmt: off
GRID = {
    #                          anon   partnr o.part kasub  o.kasb member korlap o.memb kabid  kaban  admin  norole
    "home":                   (LOGIN, 200,   200,   200,   200,   200,   200,   200,   200,   200,   200,   200),
    "notifications":          (LOGIN, 200,   200,   200,   200,   200,   200,   200,   200,   200,   200,   200),
    "notification_open":      (LOGIN, 404,   404,   DONE,  404,   404,   404,   404,   404,   404,   404,   404),
    "notifications_read_all": (LOGIN, DONE,  DONE,  DONE,  DONE,  DONE,  DONE,  DONE,  DONE,  DONE,  DONE,  DONE),
    # Step 1-2: plans
    "plan_list":              (LOGIN, 200,   200,   200,   200,   403,   403,   403,   200,   200,   403,   403),
    "plan_create":            (LOGIN, 200,   200,   200,   200,   403,   403,   403,   200,   403,   403,   403),
    "plan_create:post":       (LOGIN, DONE,  DONE,  DONE,  DONE,  403,   403,   403,   DONE,  403,   403,   403),
    "plan_calendar":          (LOGIN, 403,   403,   200,   200,   403,   403,   403,   200,   200,   403,   403),
    "plan_detail:received":   (LOGIN, 200,   404,   200,   200,   404,   404,   404,   200,   200,   404,   404),
    "plan_detail:other_plan": (LOGIN, 404,   200,   200,   200,   404,   404,   404,   200,   200,   404,   404),
    "plan_choose":            (LOGIN, 403,   404,   DONE,  DONE,  404,   404,   404,   403,   403,   404,   404),
    "plan_not_chosen":        (LOGIN, 403,   404,   DONE,  DONE,  404,   404,   404,   403,   403,   404,   404),
    "plan_attachment":        (LOGIN, 200,   404,   200,   200,   404,   404,   404,   200,   200,   404,   404),
    "kelurahan_options":      (LOGIN, 200,   200,   200,   200,   200,   200,   200,   200,   200,   200,   200),
    # Step 3: lokus and team
    "list":                   (LOGIN, 403,   403,   200,   200,   200,   200,   200,   200,   200,   403,   403),
    "detail:composing":       (LOGIN, 404,   404,   200,   404,   404,   404,   404,   200,   200,   404,   404),
    "detail:running":         (LOGIN, 404,   404,   200,   404,   200,   200,   404,   200,   200,   404,   404),
    "detail:wasbang":         (LOGIN, 404,   404,   404,   200,   404,   404,   200,   200,   200,   404,   404),
    "edit:composing":         (LOGIN, 404,   404,   200,   404,   404,   404,   404,   403,   403,   404,   404),
    "edit:composing:post":    (LOGIN, 404,   404,   DONE,  404,   404,   404,   404,   403,   403,   404,   404),
    "edit:running":           (LOGIN, 404,   404,   BACK,  404,   403,   403,   404,   403,   403,   404,   404),
    "team:composing":         (LOGIN, 404,   404,   200,   404,   404,   404,   404,   403,   403,   404,   404),
    "team:composing:post":    (LOGIN, 404,   404,   DONE,  404,   404,   404,   404,   403,   403,   404,   404),
    "team:running":           (LOGIN, 404,   404,   BACK,  404,   403,   403,   404,   403,   403,   404,   404),
    "dispatch:composing":     (LOGIN, 404,   404,   DONE,  404,   404,   404,   404,   403,   403,   404,   404),
    "dispatch:running":       (LOGIN, 404,   404,   BACK,  404,   403,   403,   404,   403,   403,   404,   404),
    # Steps 4-5: the member's own assignment
    "assignments":            (LOGIN, 403,   403,   403,   403,   200,   200,   200,   403,   403,   403,   403),
    "assignment:composing":   (LOGIN, 404,   404,   404,   404,   404,   404,   404,   404,   404,   404,   404),
    "assignment:running":     (LOGIN, 404,   404,   404,   404,   200,   200,   404,   404,   404,   404,   404),
    "assignment:wasbang":     (LOGIN, 404,   404,   404,   404,   404,   404,   200,   404,   404,   404,   404),
    "confirm":                (LOGIN, 404,   404,   404,   404,   DONE,  DONE,  404,   404,   404,   404,   404),
    "risk":                   (LOGIN, 404,   404,   404,   404,   403,   200,   404,   404,   404,   404,   404),
    "risk:post":              (LOGIN, 404,   404,   404,   404,   403,   DONE,  404,   404,   404,   404,   404),
    "check_in":               (LOGIN, 404,   404,   404,   404,   DONE,  DONE,  404,   404,   404,   404,   404),
    "note_add":               (LOGIN, 404,   404,   404,   404,   DONE,  DONE,  404,   404,   404,   404,   404),
    "media_add":              (LOGIN, 404,   404,   404,   404,   DONE,  DONE,  404,   404,   404,   404,   404),
    "member_report":          (LOGIN, 404,   404,   404,   404,   200,   200,   404,   404,   404,   404,   404),
    "member_report:post":     (LOGIN, 404,   404,   404,   404,   DONE,  DONE,  404,   404,   404,   404,   404),
    "escalate":               (LOGIN, 404,   404,   404,   404,   200,   200,   404,   404,   404,   404,   404),
    "escalate:post":          (LOGIN, 404,   404,   404,   404,   DONE,  DONE,  404,   404,   404,   404,   404),
    "berita_acara_add":       (LOGIN, 404,   404,   404,   404,   200,   200,   404,   404,   404,   404,   404),
    "berita_acara_add:post":  (LOGIN, 404,   404,   404,   404,   DONE,  DONE,  404,   404,   404,   404,   404),
    "media_file":             (LOGIN, 404,   404,   200,   404,   200,   200,   404,   200,   200,   404,   404),
    "media_thumbnail":        (LOGIN, 404,   404,   200,   404,   200,   200,   404,   200,   200,   404,   404),
    "access_log":             (LOGIN, 403,   403,   403,   403,   403,   403,   403,   403,   200,   403,   403),
    # The installable field app: nothing about any lokus, the same for everyone.
    "service_worker":         (200,   200,   200,   200,   200,   200,   200,   200,   200,   200,   200,   200),
    "offline":                (200,   200,   200,   200,   200,   200,   200,   200,   200,   200,   200,   200),
    "pwa_session":            (200,   200,   200,   200,   200,   200,   200,   200,   200,   200,   200,   200),
}
# fmt: on


# The world -----------------------------------------------------------------------------------


def png_upload(name: str = "foto.png") -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (16, 12), "red").save(out, format="PNG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/png")


PDF = b"%PDF-1.4\n% surat pemberitahuan\n%%EOF\n"


def grid_world(cast: dict) -> dict:
    """Plans of both partners and lokus of both sub-divisions at each stage, walked through
    the services by tests/lokus/builders.py."""
    kasubbid, partner, member, coordinator = cast["kasubbid"], cast["partner"], cast["member"], cast["coordinator"]
    team = [member, coordinator]
    letter = clean_document(SimpleUploadedFile("Surat Pemberitahuan.pdf", PDF, content_type="application/pdf"))
    world = {
        "received": builders.make_plan(partner, title="Rencana mitra belum diputuskan", attachments=[letter]),
        "other_plan": builders.make_plan(cast["other_partner"], title="Rencana dari mitra lain"),
        "composing": builders.make_ready_lokus(kasubbid, partner, team, coordinator, title="Lokus Wasdin menyusun tim"),
        "dispatched": builders.make_dispatched_lokus(
            kasubbid, partner, team, coordinator, title="Lokus Wasdin baru dikirim"
        ),
        "confirmed": builders.make_dispatched_lokus(kasubbid, partner, team, coordinator, title="Lokus Wasdin siap"),
        "running": builders.make_dispatched_lokus(kasubbid, partner, team, coordinator, title="Lokus Wasdin berjalan"),
        "wasbang": builders.make_dispatched_lokus(
            cast["other_kasubbid"],
            cast["other_partner"],
            [cast["other_member"]],
            cast["other_member"],
            title="Lokus Wasbang",
            starts_at=builders.future_wib(days=9),
        ),
    }
    world["attachment"] = world["received"].attachments.get()
    builders.confirm_all(world["confirmed"], team)
    services.risk_record(user=coordinator, lokus_id=world["confirmed"].pk, data=builders.risk_data(go=True))
    builders.advance_to_running(world["running"], team, coordinator)
    world["media"] = services.field_media_add(
        user=member,
        lokus_id=world["running"].pk,
        kind=MediaKind.PHOTO,
        clean=clean_image(png_upload()),
        caption="Gerbang",
    )
    # Everyone has something unread; the Kasubbid's newest is the one the grid opens.
    notify(cast.values(), "Pemberitahuan uji", url=reverse("home"))
    world["notification"] = Notification.objects.filter(recipient=kasubbid).latest("pk")
    for obj in world.values():
        obj.refresh_from_db()
    return world


def world_state() -> dict:
    """Everything a request could change, read fresh from the database."""
    return {
        "plans": list(ActivityPlan.objects.order_by("pk").values_list("pk", "status", "decided_by")),
        "lokus": list(Lokus.objects.order_by("pk").values_list("pk", "state", "problem", "dispatched_at")),
        "team": list(Assignment.objects.order_by("pk").values_list("lokus", "member", "is_coordinator", "state")),
        "grants": LokusUserObjectPermission.objects.count(),
        "audit": AuditEntry.objects.count(),
        "unread": list(Notification.objects.filter(read_at__isnull=True).order_by("pk").values_list("pk", flat=True)),
        "notifications": Notification.objects.count(),
        "attachments": PlanAttachment.objects.count(),
        "risk": list(RiskAssessment.objects.values_list("lokus", "go")),
        "notes": FieldNote.objects.count(),
        "media": FieldMedia.objects.count(),
        "reports": MemberReport.objects.count(),
        "escalations": Escalation.objects.count(),
        "berita_acara": BeritaAcara.objects.count(),
    }


# The cells ---------------------------------------------------------------------------------


def _refreshed(world, key):
    obj = world[key]
    obj.refresh_from_db()
    return obj


def _team_of(world, key):
    return sorted(
        Assignment.objects.filter(lokus=world[key]).values_list("member__username", "is_coordinator", "state")
    )


def _wib(moment) -> str:
    return timezone.localtime(moment).strftime(DATETIME_FORMAT)


def _plan_form(world, cast) -> dict:
    data = builders.plan_data(title="Rencana baru dari tabel izin")
    return {
        **{k: v for k, v in data.items() if k not in ("kecamatan", "kelurahan", "starts_at", "ends_at")},
        "starts_at": _wib(data["starts_at"]),
        "ends_at": _wib(data["ends_at"]),
        "kecamatan": data["kecamatan"].pk,
        "kelurahan": data["kelurahan"].pk,
        "source_name": "Ketua RW 05",
    }


def _lokus_form(world, cast) -> dict:
    lokus = world["composing"]
    return {
        "problem": "Masalah yang diperbarui oleh Kasubbid.",
        "location": lokus.location,
        "latitude": lokus.latitude,
        "longitude": lokus.longitude,
        "assembly_point": lokus.assembly_point,
        "assembly_at": _wib(lokus.assembly_at),
        "starts_at": _wib(lokus.starts_at),
        "ends_at": _wib(lokus.ends_at),
        "risk_level": lokus.risk_level,
        "classification": lokus.classification,
        "surat_tugas_number": lokus.surat_tugas_number,
    }


@dataclass(frozen=True)
class Cell:
    """One row of the grid: the URL, the object it is about, what is sent, and the state
    that an allowed request changes (read back after the request)."""

    url_name: str
    target: str | None = None
    method: str = "GET"
    data: Callable | None = None
    state: Callable | None = None
    only: bool = False  # the view takes only this method (the other one answers 405)
    title: str | None = None  # world key whose title the page shows, and a refusal never does

    def url(self, world) -> str:
        return reverse(self.url_name, args=[world[self.target].pk] if self.target else [])


CELLS = {
    "home": Cell("home", only=True),
    "notifications": Cell("notifications", only=True),
    "notification_open": Cell(
        "notification_open", "notification", "POST", state=lambda w, c: _refreshed(w, "notification").read_at, only=True
    ),
    "notifications_read_all": Cell(
        "notifications_read_all",
        method="POST",
        state=lambda w, c: Notification.objects.filter(read_at__isnull=True).count(),
        only=True,
    ),
    "plan_list": Cell("lokus:plan_list", only=True),
    "plan_create": Cell("lokus:plan_create"),
    "plan_create:post": Cell(
        "lokus:plan_create", method="POST", data=_plan_form, state=lambda w, c: ActivityPlan.objects.count()
    ),
    "plan_calendar": Cell("lokus:plan_calendar", only=True),
    "plan_detail:received": Cell("lokus:plan_detail", "received", only=True, title="received"),
    "plan_detail:other_plan": Cell("lokus:plan_detail", "other_plan", only=True, title="other_plan"),
    "plan_choose": Cell(
        "lokus:plan_choose", "received", "POST", state=lambda w, c: _refreshed(w, "received").status, only=True
    ),
    "plan_not_chosen": Cell(
        "lokus:plan_not_chosen",
        "received",
        "POST",
        data=lambda w, c: {"reason": "Kegiatan rutin berskala kecil."},
        state=lambda w, c: (_refreshed(w, "received").status, w["received"].decision_reason),
        only=True,
    ),
    "plan_attachment": Cell("lokus:plan_attachment", "attachment", only=True),
    "kelurahan_options": Cell(
        "lokus:kelurahan_options", data=lambda w, c: {"kecamatan": w["received"].kecamatan_id}, only=True
    ),
    "list": Cell("lokus:list", only=True),
    "detail:composing": Cell("lokus:detail", "composing", only=True, title="composing"),
    "detail:running": Cell("lokus:detail", "running", only=True, title="running"),
    "detail:wasbang": Cell("lokus:detail", "wasbang", only=True, title="wasbang"),
    "edit:composing": Cell("lokus:edit", "composing", title="composing"),
    "edit:composing:post": Cell(
        "lokus:edit", "composing", "POST", data=_lokus_form, state=lambda w, c: _refreshed(w, "composing").problem
    ),
    "edit:running": Cell("lokus:edit", "running"),
    "team:composing": Cell("lokus:team", "composing", title="composing"),
    "team:composing:post": Cell(
        "lokus:team",
        "composing",
        "POST",
        data=lambda w, c: {
            "members": [c["member"].pk, c["coordinator"].pk, c["other_member"].pk],
            "coordinator": c["member"].pk,
        },
        state=lambda w, c: _team_of(w, "composing"),
    ),
    "team:running": Cell("lokus:team", "running"),
    "dispatch:composing": Cell(
        "lokus:dispatch", "composing", "POST", state=lambda w, c: _refreshed(w, "composing").state, only=True
    ),
    "dispatch:running": Cell(
        "lokus:dispatch", "running", "POST", state=lambda w, c: _refreshed(w, "running").state, only=True
    ),
    "assignments": Cell("lokus:assignments", only=True),
    "assignment:composing": Cell("lokus:assignment", "composing", only=True, title="composing"),
    "assignment:running": Cell("lokus:assignment", "running", only=True, title="running"),
    "assignment:wasbang": Cell("lokus:assignment", "wasbang", only=True, title="wasbang"),
    "confirm": Cell(
        "lokus:confirm",
        "dispatched",
        "POST",
        data=lambda w, c: {"equipment": [Equipment.SMARTPHONE, Equipment.ID_CARD]},
        state=lambda w, c: _team_of(w, "dispatched"),
        only=True,
    ),
    "risk": Cell("lokus:risk", "dispatched", title="dispatched"),
    "risk:post": Cell(
        "lokus:risk",
        "dispatched",
        "POST",
        data=lambda w, c: {**builders.risk_data(), "go": "go"},
        state=lambda w, c: RiskAssessment.objects.filter(lokus=w["dispatched"]).exists(),
    ),
    "check_in": Cell("lokus:check_in", "confirmed", "POST", state=lambda w, c: _team_of(w, "confirmed"), only=True),
    "note_add": Cell(
        "lokus:note_add",
        "running",
        "POST",
        data=lambda w, c: builders.note_data(),
        state=lambda w, c: FieldNote.objects.filter(assignment__lokus=w["running"]).count(),
        only=True,
    ),
    "media_add": Cell(
        "lokus:media_add",
        "running",
        "POST",
        data=lambda w, c: {"kind": MediaKind.PHOTO, "file": png_upload(), "caption": "Spanduk"},
        state=lambda w, c: FieldMedia.objects.filter(assignment__lokus=w["running"]).count(),
        only=True,
    ),
    "member_report": Cell("lokus:member_report", "running", title="running"),
    "member_report:post": Cell(
        "lokus:member_report",
        "running",
        "POST",
        data=lambda w, c: builders.report_data(),
        state=lambda w, c: _team_of(w, "running"),
    ),
    "escalate": Cell("lokus:escalate", "running", title="running"),
    "escalate:post": Cell(
        "lokus:escalate",
        "running",
        "POST",
        data=lambda w, c: {"kind": EscalationKind.ESCALATION, "message": "Massa mulai ricuh di sisi timur."},
        state=lambda w, c: Escalation.objects.filter(lokus=w["running"]).count(),
    ),
    "berita_acara_add": Cell("lokus:berita_acara_add", "running", title="running"),
    "berita_acara_add:post": Cell(
        "lokus:berita_acara_add",
        "running",
        "POST",
        data=lambda w, c: {
            "title": "Dialog dengan koordinator aksi",
            "place": "Halaman Pusat Pemerintahan",
            "held_at": _wib(timezone.now()),
            "parties": "Budi Santoso; koordinator aksi\nAKP Rahmat; Polres",
            "discussion": "Rute aksi dan batas waktu penyampaian aspirasi.",
            "copies": 2,
        },
        state=lambda w, c: BeritaAcara.objects.filter(lokus=w["running"]).count(),
    ),
    "media_file": Cell("lokus:media_file", "media", only=True),
    "media_thumbnail": Cell("lokus:media_thumbnail", "media", only=True),
    "access_log": Cell("lokus:access_log", only=True),
    "service_worker": Cell("lokus:service_worker", only=True),
    "offline": Cell("lokus:offline", only=True),
    "pwa_session": Cell("lokus:pwa_session", only=True),
}

FILE_CELLS = {"plan_attachment", "media_file", "media_thumbnail"}


def _title(world, key) -> str:
    obj = world[key]
    return obj.plan.title if isinstance(obj, Lokus) else obj.title


def _levels(response) -> list[int]:
    return [m.level for m in get_messages(response.wsgi_request)]


def _request(client, cell: Cell, world, cast, method: str):
    url = cell.url(world)
    data = cell.data(world, cast) if cell.data and method == cell.method else {}
    return url, (client.get(url, data) if method == "GET" else client.post(url, data))


# The tests ---------------------------------------------------------------------------------


def test_the_grid_is_complete():
    """A new URL without an expected answer for every role fails here."""
    named = {f"lokus:{p.name}" for p in lokus_urls.urlpatterns}
    assert named - {cell.url_name for cell in CELLS.values()} == set()
    assert set(GRID) == set(CELLS)
    assert all(len(row) == len(ROLES) for row in GRID.values())


@contextmanager
def rolled_back(world: dict):
    """Run one role's request, then put the database back as the world left it, so that
    every role of a row meets the same world (built once per row: the world costs more than
    the twelve requests)."""
    savepoint = transaction.savepoint()
    try:
        yield
    finally:
        transaction.savepoint_rollback(savepoint)
        for obj in world.values():
            obj.refresh_from_db()


@pytest.mark.parametrize("cell_id", list(GRID))
def test_permission_grid(client_for, cast, subtests, cell_id):
    world = grid_world(cast)
    for role, expected in zip(ROLES, GRID[cell_id], strict=True):
        with subtests.test(role=role or "anonymous", expected=expected), rolled_back(world):
            check_cell(client_for(role), cast, world, cell_id, expected)


def check_cell(client, cast, world, cell_id, expected):
    cell = CELLS[cell_id]
    before = world_state()
    target_before = cell.state(world, cast) if cell.state else None

    _url, response = _request(client, cell, world, cast, cell.method)

    after = world_state()
    target_after = cell.state(world, cast) if cell.state else None
    if expected == LOGIN:
        assert response.status_code == 302
        location = urlsplit(response["Location"])
        assert location.path == reverse("login")
        assert parse_qs(location.query)["next"] == [response.wsgi_request.get_full_path()]
    elif expected == DONE:
        assert response.status_code == 302, response.content[:300]
        assert not response["Location"].startswith(reverse("login"))
        assert message_levels.ERROR not in _levels(response)
        assert target_after != target_before, "the allowed action did not change its object"
        assert after != before
    elif expected == BACK:
        assert response.status_code == 302
        assert message_levels.ERROR in _levels(response), "a refusal tells the user why"
    else:
        assert response.status_code == expected

    if expected != DONE:
        assert after == before, "a refused request or a GET must not change anything"
        assert target_after == target_before

    if cell.title and expected in (200, 403, 404):
        shown = _title(world, cell.title) in response.content.decode()
        assert shown == (expected == 200), "a page shows its object; a refusal does not reveal it"

    if cell_id in FILE_CELLS and expected == 200:
        assert response["Cache-Control"] == "private, no-store"
        assert response["X-Content-Type-Options"] == "nosniff"
        body = b"".join(response.streaming_content)
        if cell_id == "plan_attachment":
            assert (response["Content-Type"], body) == ("application/pdf", PDF)
        else:
            assert response["Content-Type"] == "image/jpeg" and body.startswith(b"\xff\xd8")
    # No response.close() here: consuming streaming_content already closed the file
    # through the test client, and an explicit close() sends request_finished, which
    # closes the PostgreSQL connection in the middle of the test's transaction.


def _allowed_role(cell_id: str, answers: tuple) -> str:
    return next(role for role, answer in zip(ROLES, GRID[cell_id], strict=True) if answer in answers)


POST_ONLY = [cell_id for cell_id, cell in CELLS.items() if cell.only and cell.method == "POST"]
GET_ONLY = [cell_id for cell_id, cell in CELLS.items() if cell.only and cell.method == "GET" and 200 in GRID[cell_id]]


def test_post_only_actions_refuse_get_and_change_nothing(client_for, cast, subtests):
    """GET never changes anything: a POST-only action answers 405 even to the user who may
    take it, and every row is as it was."""
    world = grid_world(cast)
    for cell_id in POST_ONLY:
        cell = CELLS[cell_id]
        with subtests.test(cell=cell_id), rolled_back(world):
            client = client_for(_allowed_role(cell_id, (DONE, BACK)))
            before, target_before = world_state(), cell.state(world, cast)

            _url, response = _request(client, cell, world, cast, "GET")

            assert response.status_code == 405
            assert response["Allow"] == "POST"
            assert world_state() == before
            assert cell.state(world, cast) == target_before


def test_read_only_pages_refuse_post(client_for, cast, subtests):
    world = grid_world(cast)
    for cell_id in GET_ONLY:
        cell = CELLS[cell_id]
        with subtests.test(cell=cell_id), rolled_back(world):
            client = client_for(_allowed_role(cell_id, (200,)))
            before = world_state()

            _url, response = _request(client, cell, world, cast, "POST")

            assert response.status_code == 405
            assert world_state() == before
