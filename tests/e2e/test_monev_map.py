"""The monitoring map in a real browser on a 360 px phone, with the tile server out of reach
(offline, or an intranet without a route to it): the markers are drawn on a plain background
and say what they are, the page says why there is no map behind them, the table per
kecamatan is there, nothing scrolls sideways and no script fails under the strict CSP."""

import pytest

from core.enums import Classification
from lokus import services as lokus_services
from lokus.enums import RiskLevel
from tests.e2e.conftest import PHONE, assert_no_sideways_scroll, sign_in
from tests.lokus import builders

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _world(cast):
    high = builders.make_chosen_lokus(cast["kasubbid"], cast["partner"], title="Aksi buruh di Pusat Pemerintahan")
    lokus_services.lokus_update(
        user=cast["kasubbid"],
        lokus_id=high.pk,
        data={"risk_level": RiskLevel.HIGH, "classification": Classification.TERBATAS, "problem": "Potensi bentrok."},
    )
    builders.make_chosen_lokus(
        cast["kasubbid"], cast["partner"], title="Pawai budaya", latitude="-6.190000", longitude="106.660000"
    )
    builders.make_plan(cast["partner"], title="Rencana belum diputuskan", latitude="-6.200000", longitude="106.620000")
    # Another sub-division's lokus: not on this Kasubbid's map.
    builders.make_chosen_lokus(cast["other_kasubbid"], cast["other_partner"], title="Lokus sub-bidang lain")
    return high


def test_the_map_shows_markers_and_the_table_with_the_tiles_blocked(new_page, live_server, cast):
    high = _world(cast)
    page = new_page(PHONE)
    blocked = []

    def only_this_site(route):
        if route.request.url.startswith(live_server.url):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    page.context.route("**/*", only_this_site)
    sign_in(page, live_server, "kasubbid")
    page.goto(f"{live_server.url}/monev/peta/")

    page.wait_for_selector("#monev-map[data-markers-drawn='3']")
    assert page.locator("path.map-marker").count() == 3
    assert page.locator("path.map-marker-risk-tinggi").count() == 1
    assert page.locator("path.map-marker-plan").count() == 1
    # The tiles were asked for and refused; the page says so, the markers stay.
    page.wait_for_selector("#monev-map-status:not([hidden])")
    assert blocked and all(url.startswith("https://tile.openstreetmap.org/") for url in blocked)
    assert page.locator("#monev-map").evaluate("el => el.classList.contains('map-offline')")
    assert page.locator("[data-map-fallback]").count() == 0

    # A marker opens what it is, with the link to the lokus page.
    page.locator("path.map-marker-risk-tinggi").click()
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    assert "Aksi buruh di Pusat Pemerintahan" in popup.inner_text()
    assert popup.locator("a").get_attribute("href") == f"/lokus/{high.pk}/"

    table = page.locator("[data-testid=kecamatan-table]")
    assert table.is_visible()
    assert table.locator("tbody tr").count() == 13
    assert "Lokus sub-bidang lain" not in page.content()
    assert_no_sideways_scroll(page)
    # The table fits the phone: its box needs no scrolling of its own either.
    assert page.locator(".table-scroll").evaluate("el => el.scrollWidth <= el.clientWidth")
    box = page.locator("#monev-map").bounding_box()
    assert box["width"] <= PHONE["width"] and box["height"] >= 280
    assert page.js_errors == []


def test_when_the_markers_cannot_load_the_page_says_so_and_the_list_has_them(new_page, live_server, cast):
    _world(cast)
    page = new_page(PHONE)

    def no_markers(route):
        if "/monev/peta/penanda/" in route.request.url:
            route.abort()
        elif route.request.url.startswith(live_server.url):
            route.continue_()
        else:
            route.abort()

    page.context.route("**/*", no_markers)
    sign_in(page, live_server, "kasubbid")
    page.goto(f"{live_server.url}/monev/peta/")

    page.wait_for_selector("#monev-map[data-markers-failed='true']")
    status = page.locator("#monev-map-status")
    page.wait_for_selector("#monev-map.map-offline")  # the tiles failed too: both are said
    holder = page.locator("#monev-map")
    for reason in ("data-markers-failed-text", "data-offline-text"):
        assert holder.get_attribute(reason) in status.inner_text()
    assert page.locator("path.map-marker").count() == 0
    assert page.locator("[data-testid=kecamatan-table] tbody tr").count() == 13

    # The same items, as a list, without the map.
    page.locator("[data-testid=map-items-link]").click()
    page.wait_for_selector("[data-testid=map-items]")
    listed = page.locator("[data-testid=map-items] li")
    assert listed.count() == 3
    assert "Aksi buruh di Pusat Pemerintahan" in page.locator("[data-testid=map-items]").inner_text()
    assert "Lokus sub-bidang lain" not in page.content()
    assert_no_sideways_scroll(page)
    assert page.js_errors == []
