"""Fuzzing: no input gives a server error, and nothing stored breaks a page.

Every named URL of the project (from the resolver, through the three permission grids that
``test_access_control`` proves cover them all, and their worlds) is requested with hostile
input, as every role of the cast and anonymously: control characters and NUL, very long
strings (up to 10,000 characters), digits that are not ASCII ("²", "١"), extreme and
impossible dates ("0001-01-01T00:00", "9999-12-31T23:59", "2024-02-30"), huge and negative
numbers and ids, wrong choices, hostile markup and file names.

The properties: no answer is a 5xx (nor an exception in a view), and after any POST that was
accepted, the main pages of that user and the pages of the object it changed (PDFs
included) still answer without a 5xx. Every example runs in a savepoint that is rolled back
and starts from the same signed-in cookies, so examples do not leak into each other.

Four tests: two fixed sweeps (every URL × every role with the worst query or form; every
field of every form in turn with its worst values, as the user who may send it) and two
Hypothesis searches (generated query strings and path values for every GET page; mutated
forms for every POST, by a random role). By default, and in CI, Hypothesis tries
``FUZZ_EXAMPLES`` = 15 examples per URL from a fixed seed (``derandomize``): the same run
every time, about two minutes of CPU. To search harder by hand, with fresh random examples
on every run::

    FUZZ_EXAMPLES=500 .venv/bin/python -m pytest tests/security/test_fuzz.py -q

(CI=true keeps the fixed seed whatever FUZZ_EXAMPLES says; DATABASE_URL=postgres://… runs it
on PostgreSQL, which refuses more than SQLite does.) A failure prints the shrunk example:
the role, the URL and the data that gave the 5xx."""

import copy
import os
import re
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import quote

import pytest
from django.contrib.messages import constants as message_levels
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import resolve, reverse
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from lokus.models import ActivityPlan, BeritaAcara, Lokus
from reports.models import ActivityReport
from tests.conftest import PersonClient
from tests.lokus import test_permission_grid as lokus_grid
from tests.reports import test_permission_grid as reports_grid
from tests.security import test_access_control as access_grid

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "15"))
FIXED_SEED = os.environ.get("CI") == "true" or "FUZZ_EXAMPLES" not in os.environ
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=FIXED_SEED,
    deadline=None,
    database=None,  # nothing written to .hypothesis/ in the project folder
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)
ROLES = access_grid.ROLES

# Generated values ------------------------------------------------------------------------

CONTROL = st.sampled_from([chr(code) for code in range(32)] + ["\x7f"])
DATES = st.one_of(
    st.sampled_from(["0001-01-01T00:00", "9999-12-31T23:59", "2024-02-30T10:00", "0001-01-01", "9999-12-28"]),
    st.sampled_from(["1999-12-31T23:59", "0000-00-00T00:00", "2024-13-45T25:61", "2030-01-01 09:00:00", "T"]),
    # Any moment Python knows; Hypothesis favours the edges (year 1, year 9999).
    st.datetimes().map(lambda d: f"{d.year:04d}-{d.month:02d}-{d.day:02d}T{d.hour:02d}:{d.minute:02d}"),
)
NUMBERS = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.sampled_from(["²", "١٢", "𝟙", "1²", "½", "1e309", "NaN", "inf", "-0", "0x1F", " 7 ", "٣٣٣", "9" * 5000]),
)
MARKUP = st.sampled_from(
    [
        "<script>alert(1)</script>",
        '"><img src=x onerror=alert(1)>',
        "' OR 1=1 --",
        "../../../../etc/passwd",
        "{{ 7*7 }}{% debug %}",
        "%00",
        "\ufeff\u202e\u200b",
        "\ud7ff\ue000\U0010ffff",
        "file:///etc/passwd",
    ]
)
LONG = st.builds(lambda char, n: char * n, st.characters(), st.integers(min_value=200, max_value=10_000))
TEXT = st.one_of(
    st.text(max_size=30),
    st.tuples(st.text(max_size=6), CONTROL, st.text(max_size=6)).map("".join),
    LONG,
    MARKUP,
)
# Values that broke pages before, tried often.
TROUBLE = st.sampled_from(
    ["²", "١", "𝟙", "-1", "0", "9" * 30, "9999-12-31", "9999-12-28", "0001-01-01", "2024-02-30", "a\x00b", "\x1b", ""]
)
VALUE = st.one_of(TROUBLE, TEXT, DATES, NUMBERS)
VALUES = st.one_of(VALUE, st.lists(VALUE, min_size=1, max_size=3))
# The query parameters the views read (grep request.GET), and then any name at all.
PARAM_NAMES = [
    "q",
    "status",
    "kecamatan",
    "kelurahan",
    "when",
    "mode",
    "date",
    "page",
    "state",
    "kind",
    "a",
    "b",
    "next",
]
QUERY = st.tuples(
    st.fixed_dictionaries({}, optional=dict.fromkeys(PARAM_NAMES, VALUES)),
    st.dictionaries(st.text(max_size=8), VALUES, max_size=2),
).map(lambda both: {**both[1], **both[0]})
FILE = st.builds(
    lambda name, content: SimpleUploadedFile(name or "x", content),
    st.one_of(TEXT, st.just("foto.png"), st.just("a" * 900 + ".pdf")),
    st.one_of(
        st.binary(max_size=300),
        st.just(b"%PDF-1.4\n<html><script>alert(1)</script></html>\n%%EOF"),
        st.just(b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom<html>"),
    ),
)


DATETIME_VALUE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d")


def values_like(value) -> st.SearchStrategy:
    """Generated values, half of them of the kind the field holds (dates for a date)."""
    if isinstance(value, SimpleUploadedFile):
        return FILE
    if isinstance(value, str) and DATETIME_VALUE.fullmatch(value):
        return st.one_of(DATES, DATES, VALUES)
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return st.one_of(NUMBERS, VALUES)
    return VALUES


@st.composite
def mutated(draw, base: dict) -> dict:
    """The valid ``base`` form with up to three fields replaced by generated values (often
    of the field's own kind) or dropped, plus fields the form does not have: a form that is
    often accepted, so that what it stored is then shown by the pages."""
    data = dict(base)
    for key in draw(st.lists(st.sampled_from(sorted(base)), max_size=3, unique=True)) if base else []:
        if draw(st.integers(min_value=0, max_value=3)) == 0:
            del data[key]
        else:
            data[key] = draw(values_like(base[key]))
    return {**draw(st.dictionaries(st.text(max_size=8), VALUES, max_size=2)), **data}


# The URLs ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """One URL of the project with the object it names and, for a POST, a valid form."""

    label: str
    method: str
    url: Callable  # (world) -> path
    data: Callable | None = None  # (world, cast) -> a valid form
    role: str | None = None  # who may use it: half the examples use this role
    pages: Callable = lambda world: []  # (world) -> pages of the object a POST changes


def _allowed(grid: dict, cell_id: str, answers: tuple) -> str | None:
    return next((role for role, a in zip(ROLES, grid[cell_id], strict=True) if a in answers), None)


# The actions that change what the Surat Tugas shows: the PDF is checked after them.
SURAT_TUGAS_CHANGES = {"lokus:edit", "lokus:team", "lokus:dispatch"}


def _lokus_pages(key: str | None, url_name: str) -> Callable:
    def pages(world) -> list[str]:
        obj = world["lokus"].get(key)
        if isinstance(obj, ActivityPlan):
            return [reverse("lokus:plan_detail", args=[obj.pk])]
        if not isinstance(obj, Lokus):
            return []
        urls = [
            reverse("lokus:detail", args=[obj.pk]),
            reverse("lokus:assignment", args=[obj.pk]),
            reverse("lokus:plan_detail", args=[obj.plan_id]),
        ]
        return urls + [reverse("reports:surat_tugas", args=[obj.pk])] if url_name in SURAT_TUGAS_CHANGES else urls

    return pages


def _report_pages(setup: str, with_pdf: bool) -> Callable:
    def pages(world) -> list[str]:
        report = (
            world["reports"][setup].get("report")
            or ActivityReport.objects.filter(lokus=world["reports"][setup]["lokus"]).first()
        )
        if report is None:
            return []
        urls = [reverse("reports:detail", args=[report.pk]), reverse("reports:versions", args=[report.pk])]
        return urls + [reverse("reports:report_pdf", args=[report.pk])] if with_pdf else urls

    return pages


NEW_PASSWORD = "Kata-Sandi-Baru-2025"
# Forms of the sign-in and account pages (the access grid requests them without data).
ACCOUNT_FORMS = {
    "login": (None, lambda w, c: {"username": "anggota", "password": "salah"}),
    "password_change": (
        "member",
        lambda w, c: {"old_password": "x", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    ),
    "two_factor_verify": ("kabid", lambda w, c: {"token": "123456"}),
    "two_factor_setup": ("member", lambda w, c: {"token": "123456"}),
    "set_language": ("member", lambda w, c: {"language": "en", "next": reverse("home")}),
    "logout": ("member", lambda w, c: {}),
}


def targets() -> list[Target]:
    """Every URL of the three permission grids, once per method (reports: the cell where the
    action is open), plus the account forms with data."""
    found: dict[tuple[str, str], Target] = {}
    for cell_id, cell in lokus_grid.CELLS.items():
        answers = ("done", "back") if cell.method == "POST" else (200,)
        found[(cell_id, cell.method)] = Target(
            f"lokus:{cell_id}",
            cell.method,
            lambda w, cell=cell: cell.url(w["lokus"]),
            (lambda w, c, cell=cell: cell.data(w["lokus"], c)) if cell.data else None,
            _allowed(lokus_grid.GRID, cell_id, answers),
            _lokus_pages(cell.target, cell.url_name),
        )
    for cell_id, cell in reports_grid.CELLS.items():
        answer_wanted = "done" if cell.method == "POST" else 200
        key = (f"reports:{cell.url_name}", cell.method)
        if key in found or answer_wanted not in reports_grid.GRID[cell_id]:
            continue
        found[key] = Target(
            f"reports:{cell_id}",
            cell.method,
            lambda w, cell=cell: reports_grid.url_of(cell, w["reports"][cell.setup]),
            (lambda w, c, cell=cell: cell.data(w["reports"][cell.setup], c)) if cell.data else None,
            _allowed(reports_grid.GRID, cell_id, (answer_wanted,)),
            _report_pages(cell.setup, with_pdf=cell.url_name == "edit"),
        )
    for row, (url_name, method) in access_grid.REQUESTS.items():
        found[(row, method)] = Target(row, method, lambda w, name=url_name: reverse(name), role="member")
    for url_name, (role, data) in ACCOUNT_FORMS.items():
        found[(url_name, "POST")] = Target(
            f"{url_name}:post", "POST", lambda w, name=url_name: reverse(name), data, role
        )
    return list(found.values())


def report_setups() -> set[str]:
    """The report worlds the targets name."""
    setups = set()
    for cell_id, cell in reports_grid.CELLS.items():
        if ("done" if cell.method == "POST" else 200) in reports_grid.GRID[cell_id]:
            setups.add(cell.setup)
    return setups


def test_the_fuzz_covers_every_named_url():
    names, unnamed = access_grid.project_url_names()
    covered = (
        {cell.url_name for cell in lokus_grid.CELLS.values()}
        | {f"reports:{cell.url_name}" for cell in reports_grid.CELLS.values() if cell.setup in report_setups()}
        | {url_name for url_name, _method in access_grid.REQUESTS.values()}
    )
    assert unnamed == []
    assert names == covered
    posted = {t.label for t in targets() if t.method == "POST"}
    assert {"lokus:berita_acara_add:post", "lokus:edit:composing:post", "reports:edit:post", "login:post"} <= posted


# Running requests --------------------------------------------------------------------------


@pytest.fixture
def world(cast):
    """The lokus grid's world (plans and lokus of both sub-divisions at every stage) and a
    report world for each state a report URL needs, all built through the services."""
    return {
        "lokus": lokus_grid.grid_world(cast),
        "reports": {setup: reports_grid.build(cast, setup) for setup in sorted(report_setups())},
    }


@pytest.fixture
def clients(cast):
    """A signed-in client per role (None: anonymous) and its cookies right after signing
    in: every example starts from them again (an example may sign out or switch language)."""
    signed_in = {}
    for role in ROLES:
        client = PersonClient()
        if role is not None:
            client.force_login(cast[role])
        signed_in[role] = (client, copy.deepcopy(client.cookies))
    return signed_in


@contextmanager
def rolled_back(clients: dict):
    """One example: whatever it wrote is rolled back, and every client's cookies restored."""
    savepoint = transaction.savepoint()
    try:
        yield
    finally:
        transaction.savepoint_rollback(savepoint)
        for client, cookies in clients.values():
            client.cookies = copy.deepcopy(cookies)


def answer(client, method: str, url: str, data=None):
    """The response; an exception in the view fails the example like a 5xx does."""
    response = client.get(url, data or {}) if method == "GET" else client.post(url, data or {})
    if response.streaming:
        b"".join(response.streaming_content)  # reading closes the file (close() would end the DB connection)
    assert response.status_code < 500, f"{response.status_code} for {method} {url}"
    return response


# The main pages (URL name, query, the grid row that says who sees it).
MAIN_PAGES = [
    ("home", "", lokus_grid.GRID["home"]),
    ("notifications", "", lokus_grid.GRID["notifications"]),
    ("lokus:plan_list", "", lokus_grid.GRID["plan_list"]),
    ("lokus:plan_list", "?when=all", lokus_grid.GRID["plan_list"]),
    ("lokus:plan_calendar", "", lokus_grid.GRID["plan_calendar"]),
    ("lokus:list", "", lokus_grid.GRID["list"]),
    ("lokus:assignments", "", lokus_grid.GRID["assignments"]),
    ("lokus:access_log", "", lokus_grid.GRID["access_log"]),
    ("reports:list", "", reports_grid.GRID["list"]),
    ("reports:downloads", "", reports_grid.GRID["downloads"]),
]


def main_pages(role: str | None) -> list[str]:
    """The main pages the role sees (a refusal shows no stored data, so cannot break)."""
    index = ROLES.index(role)
    return [reverse(name) + query for name, query, row in MAIN_PAGES if row[index] == 200]


PLACEHOLDER = "FUZZ-PATH-VALUE"


def fuzzed_path(url: str, value) -> str:
    """``url`` with a generated path value: a number for <int:...> (whatever its size), a
    string for <str:...>, percent-encoded as a browser sends it."""
    match = resolve(url)
    kwargs = {}
    for name, current in match.kwargs.items():
        if isinstance(current, int):
            kwargs[name] = value if isinstance(value, int) else current
        else:
            kwargs[name] = PLACEHOLDER if isinstance(value, str) else current
    path = reverse(match.view_name, kwargs=kwargs)
    return path.replace(PLACEHOLDER, quote(value, safe="")) if isinstance(value, str) else path


PATH_VALUES = st.one_of(
    st.none(),
    st.integers(min_value=0, max_value=10**30),
    st.sampled_from([0, 2**31, 2**63 - 1, 2**63, 2**64]),
    TEXT.filter(lambda text: text and "/" not in text),
)

# The worst of everything at once, for the sweep over every role.
WORST_QUERY = {
    "q": "a\x00b",
    "kecamatan": "²",
    "date": "9999-12-31",
    "page": "9" * 5000,
    "a": "١",
    "b": "-1",
    "when": "x" * 10_000,
}
WORST_FORM = {
    "starts_at": "0001-01-01T00:00",
    "ends_at": "9999-12-31T23:59",
    "assembly_at": "0001-01-01T00:00",
    "held_at": "0001-01-01T00:00",
}


# The tests ---------------------------------------------------------------------------------


def test_every_role_meets_every_url_with_hostile_input(cast, world, clients):
    """The fixed sweep: every URL as every role and anonymously, with the worst query
    (GET) or a valid form with impossible dates and a "²" kecamatan (POST): never a 5xx."""
    for target in targets():
        url = target.url(world)
        for role in ROLES:
            with rolled_back(clients):
                if target.method == "GET":
                    data = WORST_QUERY
                else:
                    form = target.data(world, cast) if target.data else {}
                    data = {**form, **{k: v for k, v in WORST_FORM.items() if k in form}, "kecamatan": "²"}
                answer(clients[role][0], target.method, url, data)


def worst_values(value) -> list:
    """The worst values for a field that holds ``value``, of its own kind and of others."""
    if isinstance(value, SimpleUploadedFile):
        return [lokus_grid.png_upload("\u202e" + "a" * 300 + ".png")]
    if isinstance(value, list):
        return [["²"], ["9" * 30], []]
    if isinstance(value, str) and DATETIME_VALUE.fullmatch(value):
        return ["0001-01-01T00:00", "9999-12-31T23:59", "2024-02-30T10:00"]
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return ["²", "-1", "9" * 30]
    return ["x" * 10_000, "\x1b[31m\u202e<b>{{ 7*7 }}</b>\t\r\n", "²"]


def test_each_form_field_with_its_worst_values_breaks_no_page(cast, world, clients, subtests):
    """The fixed sweep over fields: each field of each form in turn gets its worst values
    (the rest of the form valid, so that it is often accepted), as the user who may send it.
    After each accepted form the pages of its object, and at the end of each form the main
    pages, answer without a 5xx."""
    for target in [t for t in targets() if t.method == "POST" and t.data]:
        url = target.url(world)
        client = clients[target.role][0]
        with subtests.test(url=target.label), rolled_back(clients):
            minutes_before = set(BeritaAcara.objects.values_list("pk", flat=True))
            for field, value in target.data(world, cast).items():
                for worst in worst_values(value):
                    form = {**target.data(world, cast), field: worst}
                    response = answer(client, "POST", url, form)
                    levels = [message.level for message in get_messages(response.wsgi_request)]
                    if response.status_code == 302 and message_levels.ERROR not in levels:
                        for page in target.pages(world):
                            answer(client, "GET", page)
            pages = main_pages(target.role)
            pages.append(reverse("lokus:plan_detail", args=[ActivityPlan.objects.latest("pk").pk]))
            pages += [
                reverse("reports:berita_acara_pdf", args=[pk])
                for pk in BeritaAcara.objects.exclude(pk__in=minutes_before).values_list("pk", flat=True)
            ]
            for page in pages:
                answer(client, "GET", page)


def get_fuzzer(target: Target, url: str, base: dict, clients: dict):
    @FUZZ
    @given(role=st.one_of(st.just(target.role), st.sampled_from(ROLES)), query=QUERY, path_value=PATH_VALUES)
    def fuzz(role, query, path_value):
        path = url if path_value is None else fuzzed_path(url, path_value)
        note(f"{role or 'anonymous'} GET {path} {query!r:.500}")
        with rolled_back(clients):
            answer(clients[role][0], "GET", path, {**base, **query})

    return fuzz


def test_get_parameters_and_path_values_never_give_5xx(cast, world, clients, subtests):
    for target in [t for t in targets() if t.method == "GET"]:
        base = target.data(world, cast) if target.data else {}
        with subtests.test(url=target.label):
            get_fuzzer(target, target.url(world), base, clients)()


def post_fuzzer(target: Target, url: str, cast, world, clients: dict):

    @FUZZ
    @given(role=st.one_of(st.just(target.role), st.sampled_from(ROLES)), data=st.data())
    def fuzz(role, data):
        client = clients[role][0]
        with rolled_back(clients):
            form = data.draw(mutated(target.data(world, cast) if target.data else {}), label="form")
            note(f"{role or 'anonymous'} POST {url}")
            minutes_before = set(BeritaAcara.objects.values_list("pk", flat=True))
            response = answer(client, "POST", url, form)
            levels = [message.level for message in get_messages(response.wsgi_request)]
            if response.status_code != 302 or message_levels.ERROR in levels:
                return  # refused: nothing was stored
            pages = main_pages(role) + target.pages(world)
            pages.append(reverse("lokus:plan_detail", args=[ActivityPlan.objects.latest("pk").pk]))
            pages += [
                reverse("reports:berita_acara_pdf", args=[pk])
                for pk in BeritaAcara.objects.exclude(pk__in=minutes_before).values_list("pk", flat=True)
            ]
            for page in pages:
                note(f"then GET {page}")
                answer(client, "GET", page)

    return fuzz


def test_forms_never_give_5xx_and_what_they_store_breaks_no_page(cast, world, clients, subtests):
    for target in [t for t in targets() if t.method == "POST"]:
        with subtests.test(url=target.label):
            post_fuzzer(target, target.url(world), cast, world, clients)()
