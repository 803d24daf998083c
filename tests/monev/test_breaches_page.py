"""The dashboard's page of breaches is read by itself (``metrics._breach_source``: the worst
completed ones through an index, then those without a due time, then the open ones), not
from the figures' relation that the list behind a figure reads. Both must give the same rows
in the same order, on every page, in every scope: late, early and untimed occurrences, ties,
open ones past and before their due time, rows outside the period, the chain and members'
parts (never breaches of the list)."""

import datetime

import pytest
from django.utils import timezone

from accounts.models import SubDivision
from lokus.selectors import step_standards
from monev import metrics
from monev.models import StepOccurrence
from tests.lokus.builders import make_plan

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2025, 6, 20, 12, 0, tzinfo=datetime.UTC)


def occurrence(plan, sub, *, step=8, kind="step", ended=None, started=None, late=None, report=None, **extra):
    started = started or NOW - datetime.timedelta(days=3)
    return StepOccurrence(
        kind=kind,
        step=step,
        plan_id=plan.pk,
        lokus_id=None,
        report_id=report,
        sub_division_id=sub.pk,
        scope_id=sub.pk,
        kecamatan_id=plan.kecamatan_id,
        started_at=started,
        ended_at=ended,
        seconds=None if ended is None else (ended - started).total_seconds(),
        month=None if ended is None else int(timezone.localtime(ended).strftime("%Y%m")),
        minutes=extra.pop("minutes", 60),
        late=late,
        on_time=ended is not None and late is not None and late <= metrics.TOLERANCE,
        **extra,
    )


@pytest.fixture
def occurrences(cast):
    plans = [make_plan(cast["partner"]) for _ in range(3)]
    wasdin, wasbang = SubDivision.objects.order_by("pk")[:2]
    rows = []
    june = datetime.datetime(2025, 6, 10, 3, 0, tzinfo=datetime.UTC)
    for index in range(30):
        plan, sub = plans[index % 3], (wasdin, wasbang)[index % 2]
        ended = june + datetime.timedelta(hours=index)
        # Late by a few distinct amounts (ties included), early, on the tolerance, untimed.
        late = [3600.0, 7200.0, 3600.0, -60.0, 0.0, None, 120.0][index % 7]
        rows.append(
            occurrence(
                plan,
                sub,
                step=6 + index % 9,
                ended=ended,
                started=ended - datetime.timedelta(hours=5),
                late=late,
                report=index % 4 or None,
                minutes=None if late is None else 60,
            )  # fmt: skip
        )
    for index in range(6):  # open: past due (started long ago) and not yet due
        started = NOW - datetime.timedelta(hours=30 if index % 3 else 0.25)
        rows.append(occurrence(plans[index % 3], (wasdin, wasbang)[index % 2], step=7 + index, started=started))
    # Outside the period, the chain, a member's part: never on the dashboard's breaches list.
    rows.append(occurrence(plans[0], wasdin, ended=datetime.datetime(2025, 5, 31, 3, tzinfo=datetime.UTC),
                           late=99999.0))  # fmt: skip
    rows.append(occurrence(plans[0], wasdin, kind="chain", step=0, ended=june, late=88888.0))
    rows.append(occurrence(plans[1], wasbang, kind="member", step=4, ended=june, late=77777.0))
    StepOccurrence.objects.bulk_create(rows)
    return wasdin, wasbang


def pages(selection, standards, size):
    """Each page as the dashboard reads it, and as the list behind a figure reads it."""
    listed = metrics.OccurrenceRows(selection, standards, metrics.OccurrenceFilter(status=metrics.Status.BREACH),
                                    now=NOW)  # fmt: skip
    total = listed.count()
    for offset in range(0, total + size, size):
        rows = metrics.figure_rows(selection, standards, now=NOW, breaches=(offset, size))
        (json_text,) = [row[3] for row in rows if row[0] == "breaches"]
        dashboard = listed.from_json(json_text)
        yield offset, dashboard, listed[offset : offset + size]


def key(row):
    return (row.step, row.plan_id, row.report_id, row.started, row.ended, row.late, row.holder, row.title)


@pytest.mark.parametrize("size", [1, 4, 7, 100])
def test_the_dashboards_breaches_are_the_lists_breaches(occurrences, size):
    wasdin, wasbang = occurrences
    standards = step_standards()
    june = metrics.Period(metrics.PeriodKind.MONTH, datetime.date(2025, 6, 1), datetime.date(2025, 6, 30))
    seen = 0
    for scope in (None, frozenset({wasdin.pk}), frozenset({wasbang.pk})):
        selection = metrics.Selection(june, scope)
        every = []
        for offset, dashboard, listed in pages(selection, standards, size):
            assert [key(row) for row in dashboard] == [key(row) for row in listed], (scope, offset)
            every += dashboard
        seen += len(every)
        assert every, "each scope has breaches"
        assert all(row.step != 0 for row in every), "the chain is not a step's breach"
        assert all(row.is_open or row.late is None or row.is_late for row in every)
        assert any(row.late is None for row in every), "the untimed ones are on the list (last)"
        assert any(row.is_open for row in every), "the open ones past due are on the list"
    assert seen > 20
