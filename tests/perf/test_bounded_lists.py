"""The bounded pages of issue 12 behave as they say: a home queue shows the kind's first rows
by due time and links to a list holding exactly the kind's rows, in the same order where the
list can; a crowded calendar day links to the plan list of that day; a list counts only what
its pages need; the time standards are read once per request and never kept stale."""

import random
from datetime import timedelta

import pytest
import time_machine
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.enums import Role
from core.enums import Classification
from core.models import AccessLog
from core.views import CappedPaginator
from lokus import selectors, services
from lokus.enums import PlanStatus
from lokus.models import StepStandard
from reports import selectors as report_selectors
from tests.factories import UserFactory, sub_division, wib
from tests.lokus import builders
from tests.perf import world as scale

pytestmark = pytest.mark.django_db

T0 = wib(2031, 3, 3, 8, 0)


def _tile_urls(response, step=None) -> list[str]:
    return [t.url for t in response.context["tasks"] if step is None or t.step == step]


# The home queues ---------------------------------------------------------------------------


def test_the_plans_to_decide_show_the_longest_waiting_first_and_link_to_the_rest(client_for, cast):
    limit = selectors.QUEUE_LIMIT
    order = list(range(limit + 2))
    random.Random(12).shuffle(order)  # submitted out of order: the queue orders them itself
    with time_machine.travel(T0, tick=False) as clock:
        plans = {}
        for i in order:
            with time_machine.travel(T0 + timedelta(minutes=5 * i), tick=False):
                plans[i] = builders.make_plan(cast["partner"], title=f"Rencana antre {i:02d}")
        clock.move_to(T0 + timedelta(minutes=62))  # step 2 takes 1 h: the first plan is overdue
        home = client_for("kasubbid").get(reverse("home"))
        tasks = [t for t in home.context["tasks"] if t.step == 2]
        overdue = [t.overdue for t in tasks]
        [more] = [q for q in home.context["more"] if q.url.startswith(reverse("lokus:plan_list"))]
        listing = client_for("kasubbid").get(more.url)

    by_wait = [reverse("lokus:plan_detail", args=[plans[i].pk]) for i in range(limit + 2)]
    assert [t.url for t in tasks] == by_wait[:limit]
    assert overdue == [True] + [False] * (limit - 1)
    assert (more.total, more.rest) == (limit + 2, 2)
    # The list continues the queue: every undecided plan, longest waiting first.
    rows = listing.context["page"].object_list
    assert [reverse("lokus:plan_detail", args=[p.pk]) for p in rows] == by_wait
    assert listing.context["filters"].selected == {"status": PlanStatus.RECEIVED, "when": "waiting"}
    assert f'href="{more.url.replace("&", "&amp;")}"' in home.content.decode()


def _row_url(row) -> str:
    """The page a list row opens, as a home tile names it."""
    name = type(row).__name__
    if name == "ActivityPlan":
        return reverse("lokus:plan_detail", args=[row.pk])
    if name == "Lokus":
        return reverse("lokus:detail", args=[row.pk])
    if name == "ActivityReport":
        return reverse("reports:detail", args=[row.pk])
    return reverse("lokus:assignment", args=[row.lokus_id])


def _listed(client, url) -> set[str]:
    urls, page = set(), 1
    while True:
        response = client.get(f"{url}&page={page}")  # a queue's link always has a query string
        assert response.status_code == 200
        urls |= {_row_url(row) for row in response.context["page"].object_list}
        if not response.context["page"].has_next():
            return urls
        page += 1


@pytest.mark.parametrize("who", ["kasubbid", "kabid", "kaban"])
def test_each_queue_links_to_a_list_of_exactly_its_rows(client_for, cast, who):
    world = scale.base(cast)
    scale.add_backlog(cast, world, 1)
    user = cast[who]
    shown = [*selectors.work_queues(user, limit=1), report_selectors.report_queue(user, limit=1)]
    everything = [*selectors.work_queues(user, limit=100), report_selectors.report_queue(user, limit=100)]
    client = client_for(who)

    checked = 0
    for queue, whole in zip(shown, everything, strict=False):
        if not queue.total or queue.url.startswith(reverse("lokus:assignments")):
            continue  # the member's list holds every assignment, open ones first
        assert queue.rest == queue.total - 1 and len(whole.tasks) == whole.total == queue.total
        assert _listed(client, queue.url) == {t.url for t in whole.tasks}, queue.label
        checked += 1
    assert checked == {"kasubbid": 5, "kabid": 2, "kaban": 1}[who]


def test_the_members_queue_lists_open_assignments_by_due_time(client_for, cast):
    with time_machine.travel(T0, tick=False) as clock:
        team, korlap = [cast["member"], cast["coordinator"]], cast["coordinator"]
        later = builders.make_dispatched_lokus(
            cast["kasubbid"], cast["partner"], team, korlap, starts_at=builders.future_wib(days=9)
        )
        clock.shift(timedelta(minutes=10))
        sooner = builders.make_dispatched_lokus(
            cast["kasubbid"], cast["partner"], team, korlap, starts_at=builders.future_wib(days=8)
        )
        builders.confirm_all(sooner, team)  # step 5 next, due at the schedule's end
        home = client_for("member").get(reverse("home"))

    # Step 4 of the later lokus is due 30 minutes after its dispatch: before the sooner's end.
    assert [(t.url, t.step) for t in home.context["tasks"]] == [
        (reverse("lokus:assignment", args=[later.pk]), 4),
        (reverse("lokus:assignment", args=[sooner.pk]), 5),
    ]
    assert home.context["more"] == []


# The lists -----------------------------------------------------------------------------------


def test_your_turn_lists_only_the_reports_the_user_holds(client_for, cast):
    world = scale.base(cast)
    for who, held in [("kasubbid", world["at_kasubbid"]), ("kabid", world["at_kabid"])]:
        response = client_for(who).get(reverse("reports:list"), {"turn": "mine"})
        assert [r.pk for r in response.context["page"].object_list] == [held.pk], who
        assert all(r.mine for r in response.context["page"].object_list)
    assert list(client_for("kaban").get(reverse("reports:list"), {"turn": "mine"}).context["page"].object_list) == []
    # An unknown value is ignored: the whole list.
    everything = client_for("kabid").get(reverse("reports:list"), {"turn": "semua"})
    assert everything.context["page"].paginator.count == 3


def test_the_lokus_list_counts_each_team_without_joining_the_teams(client_for, cast):
    wasdin = sub_division("wasdin")
    extra = [UserFactory(username=f"anggota.tim.{i}", roles=[Role.MEMBER], sub_division=wasdin) for i in range(3)]
    team = [cast["member"], cast["coordinator"]]
    small = builders.make_ready_lokus(cast["kasubbid"], cast["partner"], team, cast["coordinator"])
    big = builders.make_ready_lokus(
        cast["kasubbid"], cast["partner"], [*team, *extra], cast["coordinator"], starts_at=builders.future_wib(9)
    )
    empty = builders.make_chosen_lokus(cast["kasubbid"], cast["partner"], starts_at=builders.future_wib(11))
    client = client_for("kasubbid")

    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("lokus:list"))

    sizes = {lokus.pk: lokus.team_size for lokus in response.context["page"].object_list}
    assert sizes == {small.pk: 2, big.pk: 5, empty.pk: 0}
    [count] = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith("SELECT COUNT(*)") and "lokus_lokus" in q["sql"]
    ]
    assert "lokus_assignment" not in count and "GROUP BY" not in count
    [rows] = [q["sql"] for q in queries.captured_queries if 'AS "team_size"' in q["sql"] and "COUNT(*)" not in q["sql"]]
    assert "GROUP BY" not in rows.split('AS "team_size"', 1)[1]  # only inside the team's subquery


def test_a_long_list_counts_only_a_few_pages_ahead(client_for, cast):
    lokus = builders.make_chosen_lokus(cast["kasubbid"], cast["partner"])
    AccessLog.objects.bulk_create(
        AccessLog(
            user=cast["kabid"],
            kind=AccessLog.Kind.LOKUS,
            lokus_id=lokus.pk,
            object_id=lokus.pk,
            classification=Classification.TERBATAS,
        )
        for _i in range(600)
    )
    client = client_for("kaban")

    with CaptureQueriesContext(connection) as queries:
        first = client.get(reverse("lokus:access_log"))
    # Read before the next request, which empties the connection's query log.
    [count] = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT COUNT(*) FROM (SELECT")]
    deep = client.get(reverse("lokus:access_log"), {"page": 9})
    past_the_end = client.get(reverse("lokus:access_log"), {"page": 40})

    assert first.status_code == 200
    pages = first.context["page"].paginator
    assert (pages.more, pages.num_pages, pages.count) == (True, 11, 550)  # 10 pages ahead of page 1
    assert "LIMIT 551" in count and "ORDER BY" not in count
    assert first.content.decode().count('class="pagination"') == 1 and "page=2" in first.content.decode()
    # Further on, the whole list is counted: 600 rows are 12 pages; past the end, the last.
    assert (deep.context["page"].paginator.more, deep.context["page"].paginator.num_pages) == (False, 12)
    assert past_the_end.context["page"].number == 12 and len(past_the_end.context["page"].object_list) == 50


def test_the_capped_paginator_reads_page_numbers_like_the_plain_one(cast):
    lokus = builders.make_chosen_lokus(cast["kasubbid"], cast["partner"])
    rows = AccessLog.objects.filter(lokus_id=lokus.pk)
    AccessLog.objects.bulk_create(
        AccessLog(
            user=cast["kabid"],
            kind=AccessLog.Kind.LOKUS,
            lokus_id=lokus.pk,
            object_id=i,
            classification=Classification.TERBATAS,
        )
        for i in range(30)
    )
    for number in [None, "", "satu", "-3", "0", "²", "99999999999999999999999"]:
        paginator = CappedPaginator(rows, 2, number)
        page = paginator.get_page(number)
        assert page.number in (1, paginator.num_pages), number
    exact = CappedPaginator(rows, 2, "15")
    assert (exact.count, exact.num_pages, exact.more) == (30, 15, False)
    capped = CappedPaginator(rows, 2, "1")
    assert (capped.count, capped.num_pages, capped.more) == (22, 11, True)


# The calendar ----------------------------------------------------------------------------------


def test_a_crowded_day_shows_its_first_plans_and_links_to_the_plan_list_of_that_day(client_for, cast):
    start = builders.future_wib(days=7, hour=6)
    plans = [
        builders.make_plan(cast["partner"], title=f"Acara {i}", starts_at=start + timedelta(minutes=30 * i))
        for i in range(selectors.CALENDAR_PER_DAY + 3)
    ]
    declined = builders.make_plan(cast["kasubbid"], title="Acara ditolak", starts_at=start)
    services.plan_mark_not_chosen(user=cast["kasubbid"], plan_id=declined.pk, reason="Rutin")
    client = client_for("kasubbid")

    week = client.get(reverse("lokus:plan_calendar"), {"date": start.date().isoformat()})
    [day] = [d for d in week.context["days"] if d["date"] == start.date()]
    html = week.content.decode()
    listing = client.get(day["url"])

    assert (day["count"], day["rest"]) == (len(plans), 3)
    assert [p.pk for p in day["plans"]] == [p.pk for p in plans[: selectors.CALENDAR_PER_DAY]]
    assert f'href="{day["url"].replace("&", "&amp;")}" data-testid="day-more"' in html
    # The list of that day: the same plans in the same order, the declined one left out.
    assert [p.pk for p in listing.context["page"].object_list] == [p.pk for p in plans]
    day_view = client.get(reverse("lokus:plan_calendar"), {"date": start.date().isoformat(), "mode": "day"})
    assert [p.pk for p in day_view.context["days"][0]["plans"]] == [p.pk for p in plans]
    assert day_view.context["days"][0]["rest"] == 0


def test_the_day_filter_of_the_plan_list_ignores_a_date_out_of_range(client_for, cast):
    plan = builders.make_plan(cast["partner"])
    client = client_for("kasubbid")
    for value in ["9999-12-31", "0001-01-01", "kemarin", "2031-02-30"]:
        response = client.get(reverse("lokus:plan_list"), {"day": value})
        assert response.status_code == 200
        assert response.context["filters"].selected == {}, value
        assert [p.pk for p in response.context["page"].object_list] == [plan.pk]


def test_clashes_are_found_as_by_comparing_every_pair():
    rng = random.Random(7)
    for _round in range(200):
        spans = []
        for pk in range(rng.randint(0, 12)):
            start = T0 + timedelta(minutes=15 * rng.randint(0, 40))
            spans.append((pk, start, start + timedelta(minutes=15 * rng.randint(1, 12))))
        spans.sort(key=lambda s: (s[1], s[0]))
        pairs = {
            pk
            for pk, start, end in spans
            for other, other_start, other_end in spans
            if other != pk and start < other_end and other_start < end
        }
        assert selectors.overlapping_plan_ids(spans) == pairs, spans


# The time standards ----------------------------------------------------------------------------


def test_the_standards_are_read_once_per_request_and_a_change_is_seen_at_once(reference_data):
    with CaptureQueriesContext(connection) as outside:
        selectors.step_standards()
        selectors.step_standards()
    assert len(outside) == 2  # outside a request nothing is kept

    # A request's signals, as the test client sends them: without closing the connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    request_started.send(sender=None)
    try:
        with CaptureQueriesContext(connection) as inside:
            first = selectors.step_standards()
            assert selectors.step_standards() is first
        assert len(inside) == 1
        step2 = StepStandard.objects.get(number=2)
        step2.minutes = 90
        step2.save()  # as the admin does: the request's copy is dropped
        assert selectors.step_standards()[2].minutes == 90
    finally:
        request_finished.send(sender=None)
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    with CaptureQueriesContext(connection) as after:
        selectors.step_standards()
    assert len(after) == 1


def test_a_standard_changed_in_the_admin_moves_the_due_time_on_the_next_page(client_for, cast):
    with time_machine.travel(T0, tick=False):
        plan = builders.make_plan(cast["partner"])
        client = client_for("kasubbid")
        url = reverse("lokus:plan_detail", args=[plan.pk])
        before = next(t for t in client.get(reverse("home")).context["tasks"] if t.url == url)
        StepStandard.objects.filter(number=2).update(minutes=180)  # no signal: a new request reads it
        after = next(t for t in client.get(reverse("home")).context["tasks"] if t.url == url)
    assert after.due_at - before.due_at == timedelta(minutes=120)
