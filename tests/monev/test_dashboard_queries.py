"""The dashboard costs the same few queries (at most 20, the request's own overhead included:
session, user, permissions, the header's notifications) with one report as with many, for
the leadership and for a Kasubbid; so do the list behind a figure and the exports."""

import datetime
import html as html_lib
import re

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from lokus import services as lokus_services
from reports.enums import ReportState
from tests.lokus import builders as lokus_builders
from tests.reports import builders as report_builders

pytestmark = pytest.mark.django_db

MAX_QUERIES = 20
PAGES = {
    "dashboard": ("monev:dashboard", "?period=year"),
    "occurrences": ("monev:occurrences", "?period=year&status=done"),
    "breaches page 2": ("monev:dashboard", "?period=year&page=2"),
    "trend": ("monev:trend", "?period=year"),
}


def add_reports(cast, n: int) -> None:
    """n approved reports (every third returned once by the Kasubbid), a declined plan, an
    undecided plan and a lokus still being composed, per report."""
    for i in range(n):
        report = report_builders.make_report(cast)
        if i % 3 == 0:
            report_builders.walk(report, ReportState.RETURNED_TO_KORLAP, cast)
        report_builders.walk(report, ReportState.APPROVED, cast)
        declined = lokus_builders.make_plan(cast["partner"], title=f"Tidak dipilih {i}")
        lokus_services.plan_mark_not_chosen(user=cast["kasubbid"], plan_id=declined.pk, reason=f"Alasan {i % 2}")
        lokus_builders.make_plan(cast["other_partner"], title=f"Belum diputuskan {i}")
        lokus_builders.make_chosen_lokus(cast["kasubbid"], cast["partner"], title=f"Disusun {i}")


def count(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("who", ["kaban", "kasubbid"])
def test_the_same_queries_with_one_report_as_with_many(client_for, cast, django_assert_max_num_queries, who):
    urls = {name: reverse(url_name) + query for name, (url_name, query) in PAGES.items()}
    urls["xlsx"] = reverse("monev:export_xlsx") + "?period=year"
    add_reports(cast, 1)
    client = client_for(who)
    client.get(urls["dashboard"])  # the second factor's first check is not the page's cost
    few = {name: count(client, url) for name, url in urls.items()}

    add_reports(cast, 6)
    many = {}
    for name, url in urls.items():
        with django_assert_max_num_queries(MAX_QUERIES if name != "xlsx" else few[name]):
            many[name] = count(client, url)

    assert many == few
    assert max(few[name] for name in PAGES) <= MAX_QUERIES
    response = client.get(urls["dashboard"])
    data = response.context["data"]
    assert data.chain.figures.done == 7
    assert data.steps[8].figures.returned == 3


def test_the_charts_are_inline_svg_that_the_content_security_policy_allows(client_for, cast):
    """No style attribute, no inline script, no <style> element: the strict policy
    (style-src 'self', script-src 'self') would block them. Each chart is labelled for screen
    readers and its numbers follow as a table."""
    add_reports(cast, 2)
    response = client_for("kabid").get(reverse("monev:dashboard") + "?period=year")
    html = response.content.decode()
    main = html[html.index('<main id="content">') : html.index("</main>")]
    assert "style=" not in main and "<style" not in main and "<script" not in main
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    # The dashboard draws the plans received; its trend page the chain and the steps.
    assert main.count('<svg class="chart" role="img" aria-labelledby=') == 1
    assert main.count("<desc id=") == 1
    assert main.count('class="table table-compact chart-numbers"') == 1
    trend_url = re.search(r'data-testid="trend-link">.*?<a href="([^"]+)"', main, re.S).group(1)
    response = client_for("kabid").get(html_lib.unescape(trend_url))
    assert response.status_code == 200
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    trend = response.content.decode()
    trend = trend[trend.index('<main id="content">') : trend.index("</main>")]
    assert "style=" not in trend and "<style" not in trend and "<script" not in trend
    assert trend.count('<svg class="chart" role="img" aria-labelledby=') == 2
    assert trend.count("<desc id=") == 2
    assert trend.count('class="table table-compact chart-numbers"') == 2


def test_the_dashboard_and_its_trend_stay_under_60_kb(client_for, cast):
    """The trend's grid (16 rows of 12 linked cells) is on its own page, and the dashboard
    shows ten breaches a page: each stays under the 60 KB of issue 12 with every cell and
    row filled and the period in each link. (A custom range's two dates in each of the 192
    links make the trend page about 4 KB more: README, "Load benchmark".)"""
    # Three days ago: the plans still undecided and the lokus still being composed are
    # overdue now (breaches).
    with time_machine.travel(timezone.now() - datetime.timedelta(days=3), tick=False):
        add_reports(cast, 12)
    client = client_for("kabid")
    query = "?period=year"
    dashboard = client.get(reverse("monev:dashboard") + "?period=year")
    assert dashboard.status_code == 200
    assert len(dashboard.context["breaches"].object_list) == 10 < dashboard.context["data"].breaches_total
    assert "<svg" in dashboard.content.decode() and "month=" not in dashboard.content.decode()
    trend = client.get(reverse("monev:trend") + query)
    assert trend.status_code == 200
    html = trend.content.decode()
    assert html.count("month=") == 16 * 12  # every cell links to its completions
    for response in (client.get(reverse("monev:dashboard")), trend):
        assert len(response.content) < 60 * 1024, response.request["PATH_INFO"]
