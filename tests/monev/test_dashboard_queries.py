"""The dashboard costs the same few queries (at most 20, the request's own overhead included:
session, user, permissions, the header's notifications) with one report as with many, for
the leadership and for a Kasubbid; so do the list behind a figure and the exports."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

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
    assert main.count('<svg class="chart" role="img" aria-labelledby=') == 3
    assert main.count("<desc id=") == 3
    assert main.count('class="table table-compact chart-numbers"') == 3
