"""The dashboard's officer rows come a page at a time (``officers=`` in the address, at scale
there are hundreds of officer and step pairs): every row on exactly one page, in the same
order as the figures, the other parameters kept in the page links, a bad page number the
first page."""

import re

import pytest
from django.db.models import F
from django.urls import reverse

from monev import views
from reports.enums import ReportState
from tests.factories import sub_division
from tests.lokus import builders as lokus_builders
from tests.monev.test_dashboard_numbers import other_kecamatan
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


def approved_wasbang_report(cast):
    """A Wasbang report approved: its own Kasubbid and member, the same Kabid and Kepala Badan."""
    lokus = lokus_builders.make_dispatched_lokus(
        cast["other_kasubbid"], cast["other_partner"], [cast["other_member"]], cast["other_member"]
    )
    lokus = lokus_builders.advance_to_running(lokus, [cast["other_member"]], cast["other_member"])
    lokus_builders.report_all(lokus, [cast["other_member"]])
    holders = {**cast, "coordinator": cast["other_member"], "kasubbid": cast["other_kasubbid"]}
    report = report_builders.start_report(holders, lokus)
    return report_builders.walk(report, ReportState.APPROVED, holders)


def test_a_page_of_officers_has_the_times_of_the_selection_only(cast):
    """The times of a page of officers are read from the table apart from the other figures:
    they keep to the sub-division and the kecamatan chosen, as the figures computed for every
    officer do. The Kabid and the Kepala Badan review both sub-divisions' reports, so their
    times differ with the selection."""
    import datetime

    from accounts.models import SubDivision
    from lokus.selectors import step_standards
    from monev import metrics
    from monev.models import StepOccurrence

    elsewhere = other_kecamatan()
    reports = [
        report_builders.walk(report_builders.make_report(cast), ReportState.APPROVED, cast),
        report_builders.walk(report_builders.make_report(cast, **elsewhere), ReportState.APPROVED, cast),
        approved_wasbang_report(cast),
    ]
    # The steps took a few milliseconds each: a minute more per report, so that each
    # selection's median is its own.
    for number, report in enumerate(reports, start=1):
        StepOccurrence.objects.filter(report_id=report.pk).update(seconds=F("seconds") + 60 * number)
    standards, subs = step_standards(), list(SubDivision.objects.all())
    period = metrics.period_for(metrics.PeriodKind.YEAR, datetime.date.today())
    selections = {
        "all": metrics.Selection(period, None),
        "wasdin": metrics.Selection(period, frozenset({sub_division("wasdin").pk})),
        "wasbang": metrics.Selection(period, frozenset({sub_division("wasbang").pk})),
        "elsewhere": metrics.Selection(period, None, elsewhere["kecamatan"].pk),
    }
    medians = {}
    for name, selection in selections.items():
        every = metrics.dashboard(selection, standards, subs).officers
        paged = metrics.dashboard(selection, standards, subs, officers=(1, 1000)).officers
        medians[name] = {(r.step, r.user_id): r.figures.median for r in every}
        assert medians[name] and {(r.step, r.user_id): r.figures.median for r in paged} == medians[name], name
    kabid = next(step for step, user in medians["wasbang"] if user == cast["kabid"].pk)
    key = (kabid, cast["kabid"].pk)
    # One report each in Wasbang and in the other kecamatan, two in Wasdin: all different.
    assert len({medians[name][key] for name in ("wasdin", "wasbang", "elsewhere")}) == 3
    assert cast["other_kasubbid"].pk not in {user for _step, user in medians["wasdin"]}
    assert cast["kasubbid"].pk not in {user for _step, user in medians["wasbang"]}
