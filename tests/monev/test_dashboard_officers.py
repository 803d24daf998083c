"""The dashboard's officer rows come a page at a time (``officers=`` in the address, at scale
there are hundreds of officer and step pairs): every row on exactly one page, in the same
order as the figures, the other parameters kept in the page links, a bad page number the
first page."""

import re

import pytest
from django.urls import reverse

from monev import views
from reports.enums import ReportState
from tests.reports import builders as report_builders

pytestmark = pytest.mark.django_db

ROW = re.compile(r'<tr data-officer="(\d+)" data-step="(\d+)">')


def officer_rows(html: str) -> list[tuple[int, int]]:
    return [(int(user), int(step)) for user, step in ROW.findall(html)]


def test_the_officers_come_a_page_at_a_time(client_for, cast, monkeypatch):
    monkeypatch.setattr(views, "OFFICERS_PER_PAGE", 5)
    report = report_builders.make_report(cast)
    report_builders.walk(report, ReportState.APPROVED, cast)
    client = client_for("kaban")
    first = client.get(reverse("monev:dashboard") + "?period=year")
    every = [(row.user_id, row.step) for row in first.context["data"].officers if row.figures.done]
    assert len(every) > 10, "enough rows for three pages"
    html = first.content.decode()
    pages = [officer_rows(html)]
    while (link := re.search(r'href="(\?[^"]*officers=\d+#who)">[^<]*Berikutnya', html)) is not None:
        assert "period=year" in link.group(1), "the filters stay"
        html = client.get(reverse("monev:dashboard") + link.group(1).replace("&amp;", "&")).content.decode()
        pages.append(officer_rows(html))
    assert [len(page) for page in pages[:-1]] == [5] * (len(pages) - 1)
    assert [row for page in pages for row in page] == every, "each row once, in order"
    # A page number that does not fit gives a page, not an error.
    for bad in ("0", "-3", "abc", "99999"):
        response = client.get(reverse("monev:dashboard") + f"?period=year&officers={bad}")
        assert response.status_code == 200
        assert officer_rows(response.content.decode())


def test_only_the_shown_officers_have_their_median_computed_and_it_is_the_same(cast):
    import datetime

    from accounts.models import SubDivision
    from lokus.selectors import step_standards
    from monev import metrics

    report = report_builders.make_report(cast)
    report_builders.walk(report, ReportState.APPROVED, cast)
    standards, subs = step_standards(), list(SubDivision.objects.all())
    today = datetime.date.today()
    selection = metrics.Selection(metrics.period_for(metrics.PeriodKind.YEAR, today), None)
    full = metrics.dashboard(selection, standards, subs).officers
    assert len(full) > 6 and all(row.figures.median is not None for row in full)
    per_page = 3
    pages = -(-len(full) // per_page)
    for number in [*range(1, pages + 1), pages + 5]:  # past the end: the last page
        shown = full[(min(number, pages) - 1) * per_page :][:per_page]
        rows = metrics.dashboard(selection, standards, subs, officers=(number, per_page)).officers
        assert [(r.step, r.user_id, r.figures.done) for r in rows] == [
            (r.step, r.user_id, r.figures.done) for r in full
        ]
        timed = [(r.step, r.user_id, r.figures.median) for r in rows if r.figures.median is not None]
        assert timed == [(r.step, r.user_id, r.figures.median) for r in shown], number
