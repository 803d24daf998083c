"""What must not grow with the data (issue 12): the busy pages are measured with one row of
each kind, then again after a backlog of BACKLOG more of each (more than a home queue shows,
more than a list page holds, a crowded calendar day), and must keep

- the same number of queries or fewer (and no more than measured, ``Page.queries``);
- a bounded number of tiles on each home page (exactly ``Page.tiles``: at most
  ``QUEUE_LIMIT`` per kind of work), each kind's rest counted under a link;
- HTML under HTML_LIMIT on every page;
- the time standards (Mutu Baku) read at most once per request.

The world is built once and measured twice in one test (a backlog of every kind costs a few
seconds through the real services). Wall-clock time is never asserted here: bench/ measures
it on PostgreSQL at the full seeded size."""

import re
from dataclasses import dataclass

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from lokus.selectors import CALENDAR_PER_DAY, QUEUE_LIMIT
from tests.perf import world as scale

pytestmark = pytest.mark.django_db

KB = 1024
HTML_LIMIT = 60 * KB
BACKLOG = QUEUE_LIMIT + 2  # per kind: every queue then holds more than it shows


@dataclass(frozen=True)
class Page:
    who: str
    url: object  # url(world) -> the page's address
    queries: int  # measured with one row of each kind (the request's own overhead included)
    tiles: tuple[int, int] | None = None  # home pages: tiles with one row, and with the backlog


def _home(world):
    return reverse("home")


def _day(world):
    return reverse("lokus:plan_calendar") + f"?date={scale.crowded_start():%Y-%m-%d}"


# One row of each kind -> the backlog: the Kasubbid's five kinds (plans to decide, teams to
# compose, to confirm, in the field, reports), the leadership's lokus in progress and
# reports, the member's and the Korlap's open assignments (both are on every Wasdin team).
PAGES = {
    "home (kasubbid)": Page("kasubbid", _home, 12, (5, 5 * QUEUE_LIMIT)),
    "home (kabid)": Page("kabid", _home, 9, (3, 2 * QUEUE_LIMIT)),
    "home (kepala badan)": Page("kaban", _home, 9, (2, QUEUE_LIMIT)),
    "home (member)": Page("member", _home, 10, (2, QUEUE_LIMIT)),
    "home (korlap)": Page("coordinator", _home, 10, (2, QUEUE_LIMIT)),
    "lokus list (kasubbid)": Page("kasubbid", lambda w: reverse("lokus:list"), 6),
    "lokus list (kabid)": Page("kabid", lambda w: reverse("lokus:list"), 7),
    "report list (kasubbid)": Page("kasubbid", lambda w: reverse("reports:list"), 8),
    "report list (kabid)": Page("kabid", lambda w: reverse("reports:list"), 9),
    "report list, your turn (kasubbid)": Page("kasubbid", lambda w: reverse("reports:list") + "?turn=mine", 8),
    "plan list (kasubbid)": Page("kasubbid", lambda w: reverse("lokus:plan_list"), 7),
    "plan list, to decide (kasubbid)": Page(
        "kasubbid", lambda w: reverse("lokus:plan_list") + "?status=received&when=waiting", 7
    ),
    "calendar week (kasubbid)": Page("kasubbid", _day, 6),
    "notifications (kasubbid)": Page("kasubbid", lambda w: reverse("notifications"), 6),
    "assignment list (member)": Page("member", lambda w: reverse("lokus:assignments"), 7),
    "access log (kepala badan)": Page("kaban", lambda w: reverse("lokus:access_log"), 7),
    "download log (kepala badan)": Page("kaban", lambda w: reverse("reports:downloads"), 7),
    "lokus page (kasubbid)": Page("kasubbid", lambda w: reverse("lokus:detail", args=[w["running"].pk]), 18),
    "report page (kasubbid)": Page("kasubbid", lambda w: reverse("reports:detail", args=[w["at_kasubbid"].pk]), 16),
    "assignment page (member)": Page("member", lambda w: reverse("lokus:assignment", args=[w["running"].pk]), 14),
    "plan page (kasubbid)": Page("kasubbid", lambda w: reverse("lokus:plan_detail", args=[w["plan"].pk]), 9),
}


@dataclass(frozen=True)
class Measure:
    queries: int
    standards_reads: int
    size: int
    tiles: int | None
    tiles_in_html: int | None
    more: list | None
    calendar: list | None


QUEUE = re.compile(r'<ul class="tiles" data-testid="queue">(.*?)</ul>', re.S)


def _measure(client_for, world) -> dict[str, Measure]:
    found = {}
    for name, page in PAGES.items():
        client = client_for(page.who)
        url = page.url(world)
        client.get(url)  # the session and the user's caches are warm, as on any later page
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200, (name, response.status_code)
        html = response.content.decode()
        home = page.tiles is not None
        queue = QUEUE.search(html) if home else None
        found[name] = Measure(
            queries=len(queries),
            standards_reads=sum('FROM "lokus_stepstandard"' in q["sql"] for q in queries.captured_queries),
            size=len(response.content),
            tiles=len(response.context["tasks"]) if home else None,
            tiles_in_html=(queue.group(1).count('class="tile"') if queue else 0) if home else None,
            more=[(str(q.label), q.rest, q.url) for q in response.context["more"]] if home else None,
            calendar=[(d["count"], len(d["plans"]), d["rest"]) for d in response.context["days"]]
            if "days" in response.context
            else None,
        )
    return found


def _costs(one: dict, many: dict) -> list[str]:
    problems = []
    for name, page in PAGES.items():
        small, big = one[name], many[name]
        if big.queries > small.queries:
            problems.append(f"{name}: {small.queries} queries with one row, {big.queries} with the backlog")
        if small.queries > page.queries or big.queries > page.queries:
            problems.append(f"{name}: {small.queries}/{big.queries} queries, pinned at {page.queries}")
        if max(small.standards_reads, big.standards_reads) > 1:
            problems.append(f"{name}: the step standards read {big.standards_reads} times in one request")
        if big.size > HTML_LIMIT:
            problems.append(f"{name}: {big.size:,} bytes of HTML with the backlog (limit {HTML_LIMIT:,})")
        if page.tiles is not None:
            if (small.tiles, big.tiles) != page.tiles:
                problems.append(f"{name}: {small.tiles} -> {big.tiles} tiles, expected {page.tiles}")
            if (small.tiles_in_html, big.tiles_in_html) != (small.tiles, big.tiles):
                problems.append(f"{name}: the page shows {big.tiles_in_html} tiles of {big.tiles} tasks")
    return problems


def _rests(one: dict, many: dict) -> list[str]:
    """What a home queue leaves out is counted, under a link to the list that holds it."""
    rest = BACKLOG + 1 - QUEUE_LIMIT  # one row of each kind, then the backlog
    both_runs = 2 * (BACKLOG + 1) - QUEUE_LIMIT  # dispatched and running lokus together
    expected = {
        "home (kasubbid)": [
            (rest, reverse("lokus:plan_list")),
            (rest, reverse("lokus:list")),
            (rest, reverse("lokus:list")),
            (rest, reverse("lokus:list")),
            (rest, reverse("reports:list")),
        ],
        "home (kabid)": [(both_runs, reverse("lokus:list")), (rest, reverse("reports:list"))],
        "home (member)": [(both_runs, reverse("lokus:assignments"))],
    }
    problems = [f"{name}: {one[name].more} left out with one row" for name in expected if one[name].more]
    for name, rests in expected.items():
        found = [(n, url.split("?")[0]) for _label, n, url in many[name].more]
        if found != rests:
            problems.append(f"{name}: left out {found}, expected {rests}")
    return problems


def _calendar(many: dict) -> list[str]:
    """A crowded day shows its first plans and counts the rest."""
    days = many["calendar week (kasubbid)"].calendar
    problems = [
        f"a day of {count} plans shows {shown} and counts {rest} more"
        for count, shown, rest in days
        if shown != min(count, CALENDAR_PER_DAY) or rest != count - shown
    ]
    if max(count for count, _shown, _rest in days) <= CALENDAR_PER_DAY:
        problems.append(f"no day of the week is crowded: {days}")
    return problems


def test_the_busy_pages_stay_bounded_with_a_large_backlog(cast, client_for):
    world = scale.base(cast)
    one = _measure(client_for, world)
    scale.add_backlog(cast, world, BACKLOG)
    many = _measure(client_for, world)

    problems = _costs(one, many) + _rests(one, many) + _calendar(many)
    assert not problems, "\n".join(problems)
