"""The monitoring trend on a 360 px phone: the dashboard links to it, its two charts fit the
screen, and a cell of the grid opens the completions of its step and month."""

import pytest
from django.utils import timezone

from reports.enums import ReportState
from tests.e2e.conftest import PHONE, assert_no_sideways_scroll, sign_in
from tests.reports import builders as report_builders

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_dashboard_leads_to_the_trend_and_a_cell_to_its_completions(new_page, live_server, cast):
    report = report_builders.make_report(cast)
    report_builders.walk(report, ReportState.APPROVED, cast)
    page = new_page(PHONE)
    sign_in(page, live_server, "kasubbid")
    page.goto(f"{live_server.url}/monev/")
    assert page.locator("svg.chart").count() == 1  # the plans received; the trend is apart
    page.locator("[data-testid=trend-link] a").click()
    page.wait_for_url("**/monev/tren/**")
    assert page.locator("h1").inner_text() == "Tren dua belas bulan terakhir"
    assert page.locator("svg.chart").count() == 2
    assert_no_sideways_scroll(page)
    for chart in page.locator("svg.chart").all():
        assert chart.bounding_box()["width"] <= PHONE["width"]

    # The whole chain's cell of this month: the approved report.
    today = timezone.localdate()
    page.locator(f'svg.chart a[href*="step=0&month={today.year * 100 + today.month}"]').click()
    page.wait_for_url("**/monev/langkah/**")
    rows = page.locator("table[data-testid=occurrences] tbody tr")
    assert rows.count() == 1
    assert report.lokus.plan.title in rows.first.inner_text()
    assert_no_sideways_scroll(page)
