"""The monitoring map (``/monev/peta/``, its markers as JSON ``/monev/peta/penanda/`` and as a
list ``/monev/peta/daftar/``, monev/views_map.py): who may open each, which markers each viewer
gets, that a marker never carries a classified lokus's content to someone who may
not read it, the table per kecamatan, the tile server from the settings and the CSP that lets
exactly its origin in (for images, nothing else)."""

import json
import re
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from core.enums import Classification
from core.navigation import items_for
from lokus import services as lokus_services
from lokus.enums import RiskLevel
from lokus.models import Kecamatan, Kelurahan
from monev import views_map
from monev.metrics import PeriodKind, Selection, period_for
from tests.accounts.test_settings import run_manage
from tests.factories import sub_division
from tests.helpers import ROLES
from tests.lokus import builders

pytestmark = pytest.mark.django_db

URL = reverse("monev:map")
MARKERS_URL = reverse("monev:map_markers")
ITEMS_URL = reverse("monev:map_items")
LOGIN = "login"
OSM = "https://tile.openstreetmap.org"

# fmt: off
#          anon   partnr o.part kasub  o.kasb member korlap o.memb kabid  kaban  admin  norole
GRID = (LOGIN, 403,   403,   200,   200,   403,   403,   403,   200,   200,   403,   403)
# fmt: on

SECRET_PROBLEM = "Masalah sangat rahasia Wasbang"
SECRET_TITLE = "Lokus Wasbang rahasia"


def _lokus(kasubbid, partner, *, title, kelurahan, classification, risk, problem, position):
    kelurahan = Kelurahan.objects.select_related("kecamatan").get(code=kelurahan)
    lokus = builders.make_chosen_lokus(
        kasubbid,
        partner,
        title=title,
        kecamatan=kelurahan.kecamatan,
        kelurahan=kelurahan,
        latitude=position[0],
        longitude=position[1],
    )
    return lokus_services.lokus_update(
        user=kasubbid,
        lokus_id=lokus.pk,
        data={"problem": problem, "classification": classification, "risk_level": risk},
    )


@pytest.fixture
def world(cast):
    """Made now (this month): in Kecamatan Tangerang a Wasdin lokus (Terbatas, high risk), a
    plan waiting for a decision and one without a position; in Cipondoh two Wasbang lokus
    (Rahasia and Biasa) and a plan the Wasbang Kasubbid declined."""
    wasdin = _lokus(
        cast["kasubbid"],
        cast["partner"],
        title="Lokus Wasdin terpetakan",
        kelurahan="36.71.01.1001",
        classification=Classification.TERBATAS,
        risk=RiskLevel.HIGH,
        problem="Masalah Wasdin yang terbatas",
        position=("-6.178306", "106.631889"),
    )
    secret = _lokus(
        cast["other_kasubbid"],
        cast["other_partner"],
        title=SECRET_TITLE,
        kelurahan="36.71.05.1001",
        classification=Classification.RAHASIA,
        risk=RiskLevel.LOW,
        problem=SECRET_PROBLEM,
        position=("-6.189000", "106.678000"),
    )
    ordinary = _lokus(
        cast["other_kasubbid"],
        cast["other_partner"],
        title="Lokus Wasbang biasa",
        kelurahan="36.71.05.1001",
        classification=Classification.BIASA,
        risk=RiskLevel.MEDIUM,
        problem="Masalah biasa Wasbang",
        position=("-6.190000", "106.679000"),
    )
    waiting = builders.make_plan(cast["partner"], title="Rencana menunggu keputusan")
    unplaced = builders.make_plan(cast["partner"], title="Rencana tanpa posisi", latitude=None, longitude=None)
    cipondoh = Kelurahan.objects.get(code="36.71.05.1001")
    declined = builders.make_plan(
        cast["other_partner"],
        title="Rencana ditolak Wasbang",
        kecamatan=cipondoh.kecamatan,
        kelurahan=cipondoh,
        latitude="-6.188000",
        longitude="106.677000",
    )
    lokus_services.plan_mark_not_chosen(user=cast["other_kasubbid"], plan_id=declined.pk, reason="Kegiatan rutin.")
    return {
        "wasdin": wasdin,
        "secret": secret,
        "ordinary": ordinary,
        "waiting": waiting,
        "unplaced": unplaced,
        "declined": declined,
    }


def markers(client, params=None) -> list[dict]:
    """The markers the map's script fetches, with the page's filters."""
    response = client.get(MARKERS_URL, params or {})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    return response.json()["markers"]


def titles(client, params=None) -> set[str]:
    return {m["title"] for m in markers(client, params)}


def items(client, params=None) -> list[str]:
    """The titles of the list of the map's items, first page, in order."""
    html = client.get(ITEMS_URL, params or {}).content.decode()
    listed = re.search(r'<ul class="map-items" data-testid="map-items">(.*?)</ul>', html, re.S)
    return (
        []
        if listed is None
        else [
            re.sub(r"<[^>]+>", "", li).split("\n")[1].strip()
            for li in re.findall(r"<li>(.*?)</li>", listed.group(1), re.S)
        ]
    )


class _Table(HTMLParser):
    """The cells of the table marked data-testid="kecamatan-table", row by row."""

    def __init__(self):
        super().__init__()
        self.rows, self._inside, self._cell = [], False, None

    def handle_starttag(self, tag, attrs):
        if tag == "table" and ("data-testid", "kecamatan-table") in attrs:
            self._inside = True
        elif self._inside and tag == "tr":
            self.rows.append([])
        elif self._inside and tag in ("td", "th"):
            self._cell = ""

    def handle_endtag(self, tag):
        if tag == "table":
            self._inside = False
        elif self._inside and tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append(self._cell.strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data


def table(response) -> dict[str, list[str]]:
    """The body's rows by kecamatan (and the total), and the two header rows as "header"."""
    parser = _Table()
    parser.feed(response.content.decode())
    first, second, *body = parser.rows
    return {"header": first + second, **{row[0]: row[1:] for row in body}}


# Who may open the map ---------------------------------------------------------------------------


@pytest.mark.parametrize("url", [URL, MARKERS_URL, ITEMS_URL])
def test_permission_grid(client_for, cast, world, subtests, url):
    for role, expected in zip(ROLES, GRID, strict=True):
        with subtests.test(role=role or "anonymous"):
            response = client_for(role).get(url)
            if expected == LOGIN:
                assert response.status_code == 302
                location = urlsplit(response["Location"])
                assert location.path == reverse("login")
                assert parse_qs(location.query)["next"] == [url]
            else:
                assert response.status_code == expected
            if expected != 200:
                body = response.content.decode()
                assert "Lokus Wasdin terpetakan" not in body and SECRET_TITLE not in body


def test_the_menu_offers_the_map_to_the_same_people(cast):
    for role, expected in zip(ROLES, GRID, strict=True):
        if role is not None:
            offered = "monev:map" in [item.url_name for item in items_for(cast[role])]
            assert offered == (expected == 200), role


# Which markers, with what -------------------------------------------------------------------------


def test_the_leadership_sees_every_sub_division(client_for, world):
    client = client_for("kabid")
    response = client.get(URL)

    assert response.status_code == 200
    assert titles(client) == {
        "Lokus Wasdin terpetakan",
        SECRET_TITLE,
        "Lokus Wasbang biasa",
        "Rencana menunggu keputusan",
        "Rencana ditolak Wasbang",
    }
    by_title = {m["title"]: m for m in markers(client)}
    assert by_title[SECRET_TITLE]["url"] == reverse("lokus:detail", args=[world["secret"].pk])
    assert by_title[SECRET_TITLE]["risk"] == RiskLevel.LOW
    assert gettext("Rahasia (secret)") in by_title[SECRET_TITLE]["lines"]
    # A classified problem is read on the lokus page, where the view is logged; not here.
    for body in (response, client.get(MARKERS_URL), client.get(ITEMS_URL)):
        assert SECRET_PROBLEM not in body.content.decode()
    assert "Masalah biasa Wasbang" in by_title["Lokus Wasbang biasa"]["lines"]
    assert by_title["Rencana ditolak Wasbang"]["url"] == reverse("lokus:plan_detail", args=[world["declined"].pk])
    assert by_title["Rencana ditolak Wasbang"]["kind"] == "plan"
    # The plan without a position is counted, not drawn.
    assert response.context["page"].unplaced == 1


@pytest.mark.parametrize(
    ("who", "own", "other"),
    [
        ("kasubbid", {"Lokus Wasdin terpetakan"}, {SECRET_TITLE, "Lokus Wasbang biasa", "Rencana ditolak Wasbang"}),
        (
            "other_kasubbid",
            {SECRET_TITLE, "Lokus Wasbang biasa", "Rencana ditolak Wasbang"},
            {"Lokus Wasdin terpetakan"},
        ),
    ],
)
def test_a_kasubbid_sees_only_their_own_sub_division(client_for, world, who, own, other):
    client = client_for(who)
    response = client.get(URL)

    shown = titles(client)
    # Plans still waiting for a decision are every Kasubbid's (step 2 is a shared queue).
    assert shown == own | {"Rencana menunggu keputusan"}
    assert set(items(client)) == shown
    body = "".join(client.get(url).content.decode() for url in (URL, MARKERS_URL, ITEMS_URL))
    for title in other:
        assert title not in body
    if who == "kasubbid":
        assert SECRET_PROBLEM not in body
        assert "Masalah biasa Wasbang" not in body
        assert "Cipondoh" in response.content.decode()  # the table's row, with nothing in it
        assert table(response)["Cipondoh"] == ["0", "0", "0", "0", "0"]


def test_a_marker_never_carries_a_classified_lokus_the_viewer_may_not_read(cast, world):
    """The marker rule itself, for a viewer shown more lokus than they may read: the Wasdin
    Kasubbid given every sub-division (the map's own scope never does that; this is the guard
    behind it). The Rahasia lokus is a bare "restricted" point, the Biasa one keeps its title
    but not its problem nor a link; the table counts the restricted one apart, not by risk."""
    viewer = cast["kasubbid"]
    selection = Selection(period_for(PeriodKind.MONTH, timezone.localdate()), None)
    page = views_map.map_page(viewer, selection, list(Kecamatan.objects.order_by("name")))
    markers = views_map.map_markers(viewer, selection)

    by_kind = {}
    for marker in markers:
        by_kind.setdefault(marker["title"], marker)
    restricted = [m for m in markers if m["restricted"]]
    assert len(restricted) == 1
    assert restricted[0] == {
        "kind": "lokus",
        "lat": -6.189,
        "lng": 106.678,
        "restricted": True,
        "risk": "",
        "title": gettext("Restricted lokus"),
        "url": "",
        "lines": [],
    }
    ordinary = by_kind["Lokus Wasbang biasa"]
    assert ordinary["url"] == "" and not any("Masalah biasa" in line for line in ordinary["lines"])
    own = by_kind["Lokus Wasdin terpetakan"]
    assert own["url"] == reverse("lokus:detail", args=[world["wasdin"].pk])
    dumped = json.dumps(markers)
    assert SECRET_TITLE not in dumped and SECRET_PROBLEM not in dumped
    cipondoh = next(row for row in page.rows if row.name == "Cipondoh")
    assert (cipondoh.risk_counts, cipondoh.restricted, cipondoh.plans) == ([0, 1, 0], 1, 1)
    assert page.totals.restricted == 1


def test_the_table_counts_every_kecamatan_by_risk_level(client_for, world):
    response = client_for("kabid").get(URL)

    rows = table(response)
    assert rows["header"] == [
        "Kecamatan",
        gettext("Lokus by risk level"),
        gettext("Plans"),
        gettext("Total"),
        *(str(label) for _value, label in RiskLevel.choices),
    ]
    assert len(rows) == 1 + Kecamatan.objects.count() + 1  # header, 13 kecamatan, total
    # Lokus: low, medium, high; plans (not a lokus); total.
    assert rows["Tangerang"] == ["0", "0", "1", "2", "3"]
    assert rows["Cipondoh"] == ["1", "1", "0", "1", "3"]
    assert rows["Benda"] == ["0", "0", "0", "0", "0"]
    assert rows[gettext("Total")] == ["1", "1", "1", "3", "6"]


def test_the_filters_are_the_dashboards(client_for, world):
    cipondoh = Kecamatan.objects.get(code="36.71.05")
    client = client_for("kabid")

    in_cipondoh = {"kecamatan": cipondoh.pk}
    wasdin_only = {"sub_division": sub_division("wasdin").pk}
    last_month = {"period": PeriodKind.LAST_MONTH}
    nonsense = {"kecamatan": "x", "period": "kemarin", "sub_division": "999999"}

    assert titles(client, in_cipondoh) == {SECRET_TITLE, "Lokus Wasbang biasa", "Rencana ditolak Wasbang"}
    assert set(items(client, in_cipondoh)) == titles(client, in_cipondoh)
    assert titles(client, wasdin_only) == {"Lokus Wasdin terpetakan", "Rencana menunggu keputusan"}
    assert markers(client, last_month) == []
    nothing = gettext("Nothing with a position in this period and these filters.")
    assert nothing in client.get(URL, last_month).content.decode()
    assert nothing in client.get(ITEMS_URL, last_month).content.decode()
    for url in (URL, MARKERS_URL, ITEMS_URL):
        assert client.get(url, nonsense).status_code == 200
    assert titles(client, nonsense) == titles(client)
    # The page hands its filters on to the markers it fetches and to the list.
    html = client.get(URL, in_cipondoh).content.decode()
    assert f'data-markers-url="{MARKERS_URL}?kecamatan={cipondoh.pk}"' in html
    assert f'href="{ITEMS_URL}?kecamatan={cipondoh.pk}"' in html


def test_a_kasubbid_cannot_widen_their_scope_with_the_filter(client_for, world):
    client = client_for("kasubbid")
    wider = {"sub_division": sub_division("wasbang").pk}

    for url in (URL, MARKERS_URL, ITEMS_URL):
        assert SECRET_TITLE not in client.get(url, wider).content.decode()
    assert "Lokus Wasbang biasa" not in titles(client, wider)


def test_the_cost_does_not_grow_with_the_data(client_for, cast, world, django_assert_max_num_queries):
    client = client_for("kabid")
    few = {}
    for url in (URL, MARKERS_URL, ITEMS_URL):
        with django_assert_max_num_queries(20) as queries:
            client.get(url)
        few[url] = len(queries.captured_queries)
    for n in range(6):
        builders.make_chosen_lokus(cast["kasubbid"], cast["partner"], title=f"Lokus tambahan {n}")
        builders.make_plan(cast["partner"], title=f"Rencana tambahan {n}")
    for url in (URL, MARKERS_URL, ITEMS_URL):
        with django_assert_max_num_queries(20) as many:
            client.get(url)
        assert len(many.captured_queries) == few[url], url

    assert len(markers(client)) == 5 + 12
    # The page itself reads the counts only: its size does not grow with the markers.
    assert "Lokus tambahan" not in client.get(URL).content.decode()


def test_the_markers_are_written_without_spaces(client_for, world):
    """Hundreds of markers: the JSON is written compact (no space after "," and ":"), the
    same data as the indented-free default would carry."""
    response = client_for("kabid").get(MARKERS_URL)
    body = response.content.decode()
    assert body == json.dumps(response.json(), separators=(",", ":"))
    assert len(response.json()["markers"]) > 1


def test_at_most_the_newest_markers_are_drawn(client_for, world, monkeypatch):
    monkeypatch.setattr(views_map, "MARKER_LIMIT", 2)
    client = client_for("kabid")

    response = client.get(URL)

    assert titles(client) == {"Lokus Wasbang biasa", SECRET_TITLE}  # the newest lokus first
    assert items(client) == ["Lokus Wasbang biasa", SECRET_TITLE]
    page = response.context["page"]
    assert (page.shown, page.placed) == (2, 5)
    assert table(response)[gettext("Total")][-1] == "6"  # the table counts everything


def test_the_list_of_the_items_goes_page_by_page(client_for, world, monkeypatch):
    monkeypatch.setattr(views_map, "ITEMS_PER_PAGE", 2)
    client = client_for("kabid")
    drawn = [m["title"] for m in markers(client)]

    pages = [items(client, {"page": n}) for n in (1, 2, 3)]

    assert [title for page in pages for title in page] == drawn  # every marker once, in order
    assert [len(page) for page in pages] == [2, 2, 1]
    assert items(client, {"page": "x"}) == pages[0]
    assert items(client, {"page": 99}) == pages[2]
    html = client.get(ITEMS_URL, {"page": 2, "kecamatan": ""}).content.decode()
    assert "page=1" in html and "page=3" in html


# The page: JSON, tiles, CSP ----------------------------------------------------------------------


def test_the_markers_travel_as_json_and_no_script_is_inline(client_for, world):
    client = client_for("kabid")
    html = client.get(URL).content.decode()

    scripts = re.findall(r"<script\b([^>]*)>", html)
    assert [attrs for attrs in scripts if "src=" not in attrs] == []
    assert "Lokus Wasdin terpetakan" not in html  # the page holds no marker
    assert f'data-markers-url="{MARKERS_URL}"' in html
    response = client.get(MARKERS_URL, HTTP_ACCEPT_ENCODING="gzip")
    assert response["Content-Encoding"] == "gzip"  # compressed for weak mobile data
    assert "no-store" in response["Cache-Control"]  # nothing of it stays in a cache
    assert ' style="' not in html
    assert 'src="/static/vendor/leaflet/leaflet.js"' in html
    assert 'href="/static/vendor/leaflet/leaflet.css"' in html


def test_markup_in_a_title_stays_text(client_for, cast, world):
    title = '<img src=x onerror="alert(1)">'
    builders.make_plan(cast["partner"], title=title)
    client = client_for("kabid")

    html = client.get(ITEMS_URL).content.decode()

    assert title not in html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html
    # Data in the JSON, never sniffed as a page; the script puts it in as text (textContent).
    response = client.get(MARKERS_URL)
    assert title in titles(client)
    assert response["Content-Type"] == "application/json" and response["X-Content-Type-Options"] == "nosniff"


def test_the_tile_server_is_the_settings(client_for, world, settings):
    default = client_for("kabid").get(URL).content.decode()
    assert f'data-tile-url="{OSM}/{{z}}/{{x}}/{{y}}.png"' in default
    assert "OpenStreetMap" in default

    with override_settings(
        MAP_TILE_URL="https://peta.tangerangkota.go.id/tiles/{z}/{x}/{y}.png",
        MAP_TILE_ATTRIBUTION="Peta dasar Pemkot Tangerang",
    ):
        own = client_for("kabid").get(URL).content.decode()
    assert 'data-tile-url="https://peta.tangerangkota.go.id/tiles/{z}/{x}/{y}.png"' in own
    assert 'data-tile-attribution="Peta dasar Pemkot Tangerang"' in own


def _csp(response) -> dict[str, list[str]]:
    directives = {}
    for part in response["Content-Security-Policy"].split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def test_the_csp_lets_exactly_the_tile_origin_in_for_images(client_for, world):
    csp = _csp(client_for("kabid").get(URL))

    assert csp["img-src"] == ["'self'", "data:", OSM]
    for name, values in csp.items():
        if name != "img-src":
            assert not any("openstreetmap" in value for value in values), name
    assert csp["script-src"] == ["'self'"] and csp["style-src"] == ["'self'"]
    assert csp["connect-src"] == ["'self'"]


@pytest.mark.parametrize(
    ("tile_url", "img_src"),
    [
        ("https://{s}.tiles.example.go.id/{z}/{x}/{y}.png", "'self' data: https://*.tiles.example.go.id"),
        ("http://10.1.2.3:8080/osm/{z}/{x}/{y}.png", "'self' data: http://10.1.2.3:8080"),
        ("/tiles/{z}/{x}/{y}.png", "'self' data:"),
        ("", "'self' data:"),
    ],
)
def test_the_csp_origin_follows_the_environment(tile_url, img_src):
    result = run_manage(
        "shell",
        "-c",
        "from django.conf import settings; print(' '.join(settings.CONTENT_SECURITY_POLICY['DIRECTIVES']['img-src']))",
        MAP_TILE_URL=tile_url,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == img_src


@pytest.mark.parametrize(
    "tile_url",
    [
        "https://tiles.example.go.id/{z}/{x}.png",  # no {y}
        "https://tiles.example.go.id;script-src */{z}/{x}/{y}.png",  # a second directive smuggled in
        "javascript://tiles/{z}/{x}/{y}",
        "https://user@tiles.example.go.id/{z}/{x}/{y}.png",
    ],
)
def test_a_tile_url_that_is_no_origin_is_refused_at_start(tile_url):
    result = run_manage("check", MAP_TILE_URL=tile_url)
    assert result.returncode != 0
    assert "MAP_TILE_URL must be an http(s) address" in result.stderr


def test_a_lokus_without_a_position_of_its_own_stands_where_its_plan_is(client_for, cast, world):
    lokus = world["wasdin"]
    lokus_services.lokus_update(user=cast["kasubbid"], lokus_id=lokus.pk, data={"latitude": None, "longitude": "106.7"})
    plan = lokus.plan

    marker = next(m for m in markers(client_for("kabid")) if m["title"] == "Lokus Wasdin terpetakan")

    assert (marker["lat"], marker["lng"]) == (float(plan.latitude), float(plan.longitude))
