"""Who may do what to a report (SOP steps 6-15) as one table: every URL of
``reports/urls.py`` (each chain action at the state where it is open, and at some where it
is not) × every role of the cast and an anonymous visitor.

Each cell runs against a fresh Wasdin report built through the real services and reads the
database back after the request: an allowed action moved the report where it should; a
refusal or any GET changed nothing.

Answers: 200 page shown; 403 the user may see the report but not do this now; 404 the user
may not know the report exists; LOGIN redirect to the sign-in page; DONE the action ran (302
and the report changed as expected); BACK a business rule refused it (302 back to the report
with an error message, nothing changed)."""

from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.messages import constants as message_levels
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from accounts.models import Notification
from core.enums import Classification
from lokus import services as lokus_services
from lokus.models import Assignment, AuditEntry, BeritaAcara
from reports import urls as reports_urls
from reports.enums import ReportState
from reports.models import ActivityReport, ReportExcuse, ReportLog, ReportVerification, ReportVersion
from tests.helpers import ROLES
from tests.reports import builders

pytestmark = pytest.mark.django_db

S = ReportState
LOGIN, DONE, BACK = "login", "done", "back"
TITLE = "Aksi damai buruh di depan Pusat Pemerintahan"

# The columns of the table: tests.helpers.ROLES, in order (None is the anonymous visitor).

# Readers of the Wasdin report: its Korlap, the Wasdin Kasubbid, the Kabid and the Kepala Badan.
# Outsiders (404): the partners, the Wasbang Kasubbid, the team member who is not the Korlap,
# the other team's member, the administrator and a user without a role.
# A reader who may not take a step now gets 403 only when the step waits for someone else and
# was never theirs on this report (the Korlap asking to receive). Otherwise, BACK: the step is
# not open to anyone now, or it was once theirs, so an old tab of theirs may still show the
# button (the Kasubbid's "receive" on a report now at the Kabid, the Kabid's "forward" after
# returning the report); the message names who took the last step and when.
# fmt: off
GRID = {
    #                            anon   partnr o.prtn kasub  o.kasb member korlap o.memb kabid  kaban  admin  norole
    "list":                     (LOGIN, 403,   403,   200,   200,   403,   200,   403,   200,   200,   403,   403),
    "start":                    (LOGIN, 404,   404,   403,   404,   403,   DONE,  404,   403,   403,   404,   404),
    "detail":                   (LOGIN, 404,   404,   200,   404,   404,   200,   404,   200,   200,   404,   404),
    "edit":                     (LOGIN, 404,   404,   403,   404,   404,   200,   404,   403,   403,   404,   404),
    "edit:post":                (LOGIN, 404,   404,   403,   404,   404,   DONE,  404,   403,   403,   404,   404),
    "edit:returned_kasubbid":   (LOGIN, 404,   404,   DONE,  404,   404,   BACK,  404,   403,   403,   404,   404),
    "edit:approved":            (LOGIN, 404,   404,   BACK,  404,   404,   BACK,  404,   BACK,  BACK,  404,   404),
    "excuse":                   (LOGIN, 404,   404,   403,   404,   404,   DONE,  404,   403,   403,   404,   404),
    "submit":                   (LOGIN, 404,   404,   403,   404,   404,   DONE,  404,   403,   403,   404,   404),
    "submit:returned_korlap":   (LOGIN, 404,   404,   403,   404,   404,   DONE,  404,   403,   403,   404,   404),
    "submit:again":             (LOGIN, 404,   404,   BACK,  404,   404,   BACK,  404,   BACK,  BACK,  404,   404),
    "receive":                  (LOGIN, 404,   404,   DONE,  404,   404,   403,   404,   403,   403,   404,   404),
    "receive:at_kabid":         (LOGIN, 404,   404,   BACK,  404,   404,   403,   404,   DONE,  403,   404,   404),
    "receive:at_kaban":         (LOGIN, 404,   404,   BACK,  404,   404,   403,   404,   BACK,  DONE,  404,   404),
    "receive:twice":            (LOGIN, 404,   404,   BACK,  404,   404,   BACK,  404,   BACK,  BACK,  404,   404),
    "verify":                   (LOGIN, 404,   404,   200,   404,   404,   403,   404,   403,   403,   404,   404),
    "verify:post":              (LOGIN, 404,   404,   DONE,  404,   404,   403,   404,   403,   403,   404,   404),
    "verify:kabid:post":        (LOGIN, 404,   404,   BACK,  404,   404,   403,   404,   DONE,  403,   404,   404),
    "verify:not_received":      (LOGIN, 404,   404,   BACK,  404,   404,   BACK,  404,   BACK,  BACK,  404,   404),
    "forward":                  (LOGIN, 404,   404,   DONE,  404,   404,   403,   404,   403,   403,   404,   404),
    "forward:kabid":            (LOGIN, 404,   404,   BACK,  404,   404,   403,   404,   DONE,  403,   404,   404),
    "forward:revised":          (LOGIN, 404,   404,   DONE,  404,   404,   403,   404,   BACK,  403,   404,   404),
    "forward:before_verify":    (LOGIN, 404,   404,   BACK,  404,   404,   BACK,  404,   BACK,  BACK,  404,   404),
    "return":                   (LOGIN, 404,   404,   200,   404,   404,   403,   404,   403,   403,   404,   404),
    "return:post":              (LOGIN, 404,   404,   DONE,  404,   404,   403,   404,   403,   403,   404,   404),
    "return:no_note":           (LOGIN, 404,   404,   200,   404,   404,   403,   404,   403,   403,   404,   404),
    "return:kabid:post":        (LOGIN, 404,   404,   BACK,  404,   404,   403,   404,   DONE,  403,   404,   404),
    "return:kaban:post":        (LOGIN, 404,   404,   BACK,  404,   404,   403,   404,   BACK,  DONE,  404,   404),
    "pass_down":                (LOGIN, 404,   404,   200,   404,   404,   403,   404,   403,   403,   404,   404),
    "pass_down:post":           (LOGIN, 404,   404,   DONE,  404,   404,   403,   404,   403,   403,   404,   404),
    "pass_down:kabid:post":     (LOGIN, 404,   404,   403,   404,   404,   403,   404,   DONE,  403,   404,   404),
    "approve":                  (LOGIN, 404,   404,   403,   404,   404,   403,   404,   403,   DONE,  404,   404),
    "approve:draft":            (LOGIN, 404,   404,   BACK,  404,   404,   BACK,  404,   BACK,  BACK,  404,   404),
    "versions":                 (LOGIN, 404,   404,   200,   404,   404,   200,   404,   200,   200,   404,   404),
    "report_pdf":               (LOGIN, 404,   404,   200,   404,   404,   200,   404,   200,   200,   404,   404),
    "surat_tugas":              (LOGIN, 404,   404,   200,   404,   200,   200,   404,   200,   200,   404,   404),
    "berita_acara_pdf":         (LOGIN, 404,   404,   200,   404,   200,   200,   404,   200,   200,   404,   404),
    "verify_document":          (200,   200,   200,   200,   200,   200,   200,   200,   200,   200,   200,   200),
    "verify_document:unknown":  (404,   404,   404,   404,   404,   404,   404,   404,   404,   404,   404,   404),
    "downloads":                (LOGIN, 403,   403,   403,   403,   403,   403,   403,   403,   200,   403,   403),
}
# fmt: on


# The cells: what each row builds, requests and expects ----------------------------------------


@dataclass
class Cell:
    url_name: str
    method: str  # the method the row sends
    setup: str  # a report state, or one of the special worlds in ``build``
    data: Callable | None = None  # (world, cast) -> POST data
    after: Callable | None = None  # (world) -> None: asserts what a DONE request changed
    allow: str = ""  # the Allow header when the view takes only one method
    arg: str = "report"  # which object of the world the URL names


def _edit_data(_world, _cast) -> dict:
    return builders.filled_data(facts="Kronologi direvisi lewat formulir.", classification=Classification.TERBATAS)


def _excuse_data(world, cast) -> dict:
    assignment = Assignment.objects.get(lokus=world["report"].lokus, member=cast["member"])
    return {"assignment": assignment.pk, "reason": "Sakit, surat dokter terlampir."}


def _checks(_world, _cast) -> dict:
    return {"complete": "on", "facts_separate": "on", "attachments_present": "on", "classification_right": "on"}


def _note(_world, _cast) -> dict:
    return {"note": "Lengkapi kronologi dan lampirkan foto."}


def _state_is(state):
    def check(world):
        assert ActivityReport.objects.get(pk=world["report"].pk).state == state

    return check


def _new_version(by):
    def check(world):
        report = ActivityReport.objects.get(pk=world["report"].pk)
        assert report.version == 3
        newest = ReportVersion.objects.get(report=report, number=3)
        assert (newest.created_by.username, newest.content["facts"]) == (by, "Kronologi direvisi lewat formulir.")

    return check


def _started(world):
    report = ActivityReport.objects.get(lokus=world["lokus"])
    assert (report.state, report.version) == (S.DRAFT, 1)


def _excused(world):
    assert ReportExcuse.objects.filter(report=world["report"]).count() == 1


CELLS = {
    "list": Cell("list", "GET", S.AT_KASUBBID, arg=""),
    "start": Cell("start", "POST", "field_done", after=_started, allow="POST", arg="lokus"),
    "detail": Cell("detail", "GET", S.AT_KASUBBID, allow="GET"),
    "edit": Cell("edit", "GET", S.DRAFT),
    "edit:post": Cell("edit", "POST", S.DRAFT, _edit_data, _new_version("korlap")),
    "edit:returned_kasubbid": Cell("edit", "POST", S.RETURNED_TO_KASUBBID, _edit_data, _new_version("kasubbid")),
    "edit:approved": Cell("edit", "POST", S.APPROVED, _edit_data),
    "excuse": Cell("excuse", "POST", "missing_member", _excuse_data, _excused, allow="POST"),
    "submit": Cell("submit", "POST", S.DRAFT, after=_state_is(S.AT_KASUBBID), allow="POST"),
    "submit:returned_korlap": Cell("submit", "POST", S.RETURNED_TO_KORLAP, after=_state_is(S.AT_KASUBBID)),
    "submit:again": Cell("submit", "POST", S.AT_KASUBBID),
    "receive": Cell("receive", "POST", S.AT_KASUBBID, after=_state_is(S.KASUBBID_RECEIVED), allow="POST"),
    "receive:at_kabid": Cell("receive", "POST", S.AT_KABID, after=_state_is(S.KABID_RECEIVED)),
    "receive:at_kaban": Cell("receive", "POST", S.AT_KABAN, after=_state_is(S.KABAN_RECEIVED)),
    "receive:twice": Cell("receive", "POST", S.KASUBBID_RECEIVED),
    "verify": Cell("verify", "GET", S.KASUBBID_RECEIVED),
    "verify:post": Cell("verify", "POST", S.KASUBBID_RECEIVED, _checks, _state_is(S.KASUBBID_VERIFIED)),
    "verify:kabid:post": Cell("verify", "POST", S.KABID_RECEIVED, _checks, _state_is(S.KABID_VERIFIED)),
    "verify:not_received": Cell("verify", "GET", S.AT_KASUBBID),
    "forward": Cell("forward", "POST", S.KASUBBID_VERIFIED, after=_state_is(S.AT_KABID), allow="POST"),
    "forward:kabid": Cell("forward", "POST", S.KABID_VERIFIED, after=_state_is(S.AT_KABAN)),
    "forward:revised": Cell("forward", "POST", S.RETURNED_TO_KASUBBID, after=_state_is(S.AT_KABID)),
    "forward:before_verify": Cell("forward", "POST", S.KASUBBID_RECEIVED),
    "return": Cell("return", "GET", S.KASUBBID_VERIFIED),
    "return:post": Cell("return", "POST", S.KASUBBID_VERIFIED, _note, _state_is(S.RETURNED_TO_KORLAP)),
    "return:no_note": Cell("return", "POST", S.KASUBBID_VERIFIED, lambda w, c: {"note": "  "}),
    "return:kabid:post": Cell("return", "POST", S.KABID_VERIFIED, _note, _state_is(S.RETURNED_TO_KASUBBID)),
    "return:kaban:post": Cell("return", "POST", S.KABAN_VERIFIED, _note, _state_is(S.RETURNED_TO_KABID)),
    "pass_down": Cell("pass_down", "GET", S.RETURNED_TO_KASUBBID),
    "pass_down:post": Cell("pass_down", "POST", S.RETURNED_TO_KASUBBID, _note, _state_is(S.RETURNED_TO_KORLAP)),
    "pass_down:kabid:post": Cell("pass_down", "POST", S.RETURNED_TO_KABID, _note, _state_is(S.RETURNED_TO_KASUBBID)),
    "approve": Cell("approve", "POST", S.KABAN_VERIFIED, after=_state_is(S.APPROVED), allow="POST"),
    "approve:draft": Cell("approve", "POST", S.DRAFT),
    "versions": Cell("versions", "GET", S.AT_KASUBBID, allow="GET"),
    "report_pdf": Cell("report_pdf", "GET", S.AT_KASUBBID, allow="GET"),
    "surat_tugas": Cell("surat_tugas", "GET", S.AT_KASUBBID, allow="GET", arg="lokus"),
    "berita_acara_pdf": Cell("berita_acara_pdf", "GET", "berita_acara", allow="GET", arg="berita_acara"),
    "verify_document": Cell("verify_document", "GET", S.APPROVED, allow="GET", arg="code"),
    "verify_document:unknown": Cell("verify_document", "GET", S.APPROVED, arg="unknown_code"),
    "downloads": Cell("downloads", "GET", S.AT_KASUBBID, allow="GET", arg=""),
}
# Pages that show the report's title when they answer 200 (and must not reveal it otherwise).
TITLED = {"detail", "edit", "verify", "return", "pass_down", "versions"}
PDF = {"report_pdf", "surat_tugas", "berita_acara_pdf"}


def build(cast, setup: str) -> dict:
    """A fresh world for one cell, built through the services."""
    if setup == "field_done":
        return {"lokus": builders.make_field_done_lokus(cast)}
    if setup == "missing_member":
        report = builders.make_report_with_missing_member(cast)
        return {"report": report, "lokus": report.lokus}
    if setup == "berita_acara":
        report = builders.make_report(cast)
        record = lokus_services.berita_acara_add(
            user=cast["member"],
            lokus_id=report.lokus_id,
            data={
                "title": "Berita Acara dialog dengan koordinator aksi",
                "place": "Ruang rapat Pusat Pemerintahan",
                "held_at": timezone.now(),
                "parties": [{"name": "Ketua Serikat Pekerja Uji", "position": "Koordinator aksi"}],
                "discussion": "Tuntutan kenaikan upah minimum kota.",
                "agreements": "Aspirasi diteruskan ke Wali Kota.",
                "events": "",
                "copies": 2,
            },
        )
        return {"report": report, "lokus": report.lokus, "berita_acara": record}
    report = builders.make_report_in(cast, setup)
    return {"report": report, "lokus": report.lokus}


def url_of(cell: Cell, world) -> str:
    if cell.arg == "":
        return reverse(f"reports:{cell.url_name}")
    if cell.arg == "code":
        code = ActivityReport.objects.get(pk=world["report"].pk).verification_code
        assert code, "an approved report carries a verification code"
        return reverse("reports:verify_document", args=[code])
    if cell.arg == "unknown_code":
        return reverse("reports:verify_document", args=["TIDAKADA1234"])
    return reverse(f"reports:{cell.url_name}", args=[world[cell.arg].pk])


def world_state() -> dict:
    """Everything the report URLs may change, read fresh (a GET must leave it as it was)."""
    return {
        "reports": list(
            ActivityReport.objects.order_by("pk").values_list(
                "pk", "state", "version", "revision_round", "state_changed_at", "approved_at", "facts", "analysis"
            )
        ),
        "versions": list(ReportVersion.objects.order_by("pk").values_list("pk", "number", "content")),
        "log": list(ReportLog.objects.order_by("pk").values_list("pk", "action", "to_state")),
        "verifications": ReportVerification.objects.count(),
        "excuses": list(ReportExcuse.objects.values_list("assignment_id", "reason")),
        "notifications": Notification.objects.count(),
        "audit": AuditEntry.objects.count(),
        "berita_acara": BeritaAcara.objects.count(),
    }


def _message_levels(response) -> list[int]:
    return [m.level for m in get_messages(response.wsgi_request)]


def _request(client, cell: Cell, world, cast, method: str):
    url = url_of(cell, world)
    data = cell.data(world, cast) if cell.data and method == cell.method else {}
    return client.get(url, data) if method == "GET" else client.post(url, data)


# The tests -------------------------------------------------------------------------------------


def test_the_grid_is_complete():
    """A new URL without an expected answer for every role fails here."""
    named = {p.name for p in reports_urls.urlpatterns}
    assert named - {cell.url_name for cell in CELLS.values()} == set()
    assert set(GRID) == set(CELLS)
    assert all(len(row) == len(ROLES) for row in GRID.values())


@pytest.mark.parametrize(
    ("cell_id", "role"),
    [(cell_id, role) for cell_id in GRID for role in ROLES],
    ids=[f"{cell_id}-{role or 'anonymous'}" for cell_id in GRID for role in ROLES],
)
def test_permission_grid(client_for, cast, cell_id, role):
    cell, expected = CELLS[cell_id], GRID[cell_id][ROLES.index(role)]
    world = build(cast, cell.setup)
    client = client_for(role)
    before = world_state()

    response = _request(client, cell, world, cast, cell.method)

    after = world_state()
    if expected == LOGIN:
        assert response.status_code == 302
        location = urlsplit(response["Location"])
        assert location.path == reverse("login")
        assert parse_qs(location.query)["next"] == [response.wsgi_request.get_full_path()]
    elif expected == DONE:
        assert response.status_code == 302, response.content[:300]
        assert not response["Location"].startswith(reverse("login"))
        assert message_levels.ERROR not in _message_levels(response)
        assert after != before, "the allowed action changed nothing"
        cell.after(world)
    elif expected == BACK:
        assert response.status_code == 302
        assert response["Location"] == reverse("reports:detail", args=[world["report"].pk])
        assert message_levels.ERROR in _message_levels(response), "a refusal tells the user why"
    else:
        assert response.status_code == expected, f"{cell_id} as {role}: {response.status_code} != {expected}"

    if expected != DONE:
        assert after == before, "a refused request or a GET must not change anything"

    if cell.url_name in TITLED and expected in (200, 403, 404):
        assert (TITLE in response.content.decode()) == (expected == 200), "a refusal does not reveal the report"
    if cell.url_name == "list" and expected == 200:
        listed = [r.pk for r in response.context["page"].object_list]
        sees = role in ("kasubbid", "coordinator", "kabid", "kaban")
        assert listed == ([world["report"].pk] if sees else []), "the list holds only reports the user may see"
    if cell.url_name in PDF and expected == 200:
        assert response["Content-Type"] == "application/pdf"
        assert response.content.startswith(b"%PDF")
        assert response["Cache-Control"] == "private, no-store"


def _holder(cell_id: str) -> str | None:
    return next(role for role, answer in zip(ROLES, GRID[cell_id], strict=True) if answer in (DONE, BACK, 200))


@pytest.mark.parametrize("cell_id", [cell_id for cell_id, cell in CELLS.items() if cell.allow == "POST"])
def test_post_only_actions_refuse_get_and_change_nothing(client_for, cast, cell_id):
    """GET never changes anything: a POST-only action answers 405 even to the one who may
    take it, and the report is as it was."""
    cell = CELLS[cell_id]
    world = build(cast, cell.setup)
    client = client_for(_holder(cell_id))
    before = world_state()

    response = _request(client, cell, world, cast, "GET")

    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert world_state() == before


@pytest.mark.parametrize("cell_id", [cell_id for cell_id, cell in CELLS.items() if cell.allow == "GET"])
def test_read_only_pages_refuse_post(client_for, cast, cell_id):
    cell = CELLS[cell_id]
    world = build(cast, cell.setup)
    client = client_for(_holder(cell_id))
    before = world_state()

    response = _request(client, cell, world, cast, "POST")

    assert response.status_code == 405
    assert world_state() == before


# The action buttons come from the transitions the user may take now --------------------------

READERS = ["coordinator", "kasubbid", "kabid", "kaban"]
# fmt: off
BUTTONS = {
    S.DRAFT:                ("coordinator", {"submit"}),
    S.RETURNED_TO_KORLAP:   ("coordinator", {"submit"}),
    S.AT_KASUBBID:          ("kasubbid",    {"receive"}),
    S.KASUBBID_RECEIVED:    ("kasubbid",    {"verify"}),
    S.KASUBBID_VERIFIED:    ("kasubbid",    {"forward", "return_for_revision"}),
    S.RETURNED_TO_KASUBBID: ("kasubbid",    {"forward", "pass_down"}),
    S.AT_KABID:             ("kabid",       {"receive"}),
    S.KABID_RECEIVED:       ("kabid",       {"verify"}),
    S.KABID_VERIFIED:       ("kabid",       {"forward", "return_for_revision"}),
    S.RETURNED_TO_KABID:    ("kabid",       {"forward", "pass_down"}),
    S.AT_KABAN:             ("kaban",       {"receive"}),
    S.KABAN_RECEIVED:       ("kaban",       {"verify"}),
    S.KABAN_VERIFIED:       ("kaban",       {"return_for_revision", "approve"}),
    S.APPROVED:             (None,          set()),
}
# fmt: on


class _Actions(HTMLParser):
    """Collects the ``data-action`` of every element inside ``data-testid=report-actions``."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self):
        super().__init__()
        self.depth = 0
        self.found = False
        self.actions: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if self.depth:
            if "data-action" in attrs:
                self.actions.append(attrs["data-action"])
            if tag not in self.VOID:
                self.depth += 1
        elif attrs.get("data-testid") == "report-actions":
            self.found = True
            self.depth = 1

    def handle_endtag(self, tag):
        if self.depth and tag not in self.VOID:
            self.depth -= 1


def actions_on_page(html: str) -> list[str]:
    parser = _Actions()
    parser.feed(html)
    return parser.actions


def test_the_button_table_covers_every_state():
    assert set(BUTTONS) == set(S.values)


@pytest.mark.parametrize("state", list(BUTTONS))
def test_the_report_page_offers_exactly_the_transitions_of_the_user(client_for, cast, state):
    report = builders.make_report_in(cast, state)
    holder, holder_actions = BUTTONS[state]

    for role in READERS:
        response = client_for(role).get(reverse("reports:detail", args=[report.pk]))
        assert response.status_code == 200
        shown = actions_on_page(response.content.decode())
        allowed = {t.name for t in report.get_available_user_state_transitions(cast[role])}
        assert sorted(shown) == sorted(allowed), f"{role} in {state}"
        assert set(shown) == (holder_actions if role == holder else set()), f"{role} in {state}"
