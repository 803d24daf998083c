"""Every number of the monitoring dashboard, and of its XLSX export, against a small data set
counted by hand. The same test runs on SQLite (the percentile aggregate this app registers)
and on PostgreSQL (``percentile_cont``): ``DATABASE_URL=postgres://... pytest tests/monev``.

The world is made by the real services with a frozen clock, action by action, in WIB. Seven
reports; every lokus follows the same day unless said otherwise:

    08:00 plan received (step 1)             16:30 the Korlap's own report: field work done (5)
    08:40 chosen as lokus (step 2: 40 min)   16:40 team report started
    10:00 dispatched (step 3: 80 min)        17:40 sent to the Kasubbid (step 6: 60 min)
    10:10 member "Siap", 10:20 Korlap        17:50 received (7: 10), 18:20 verified (8: 30)
          "Siap" (step 4: 20 min)            18:30 forwarded (9: 10), 18:40 Kabid received (10: 10)
    13:00 field work starts (step 5, due     19:10 verified (11: 30), 19:20 forwarded (12: 10)
          at the scheduled end, 17:00)       19:30 Kepala Badan received (13: 10), 20:00 verified
    16:00 the member's own report                  (14: 30), 20:10 approved (15: 10)

- A (3 March): the Kasubbid verifies at 19:30, 100 minutes: over the 60 of step 8.
- B (5 March): returned twice: by the Kasubbid at 18:30 (the Korlap resends at 19:30), and by
  the Kabid at 21:10 (the Kasubbid forwards it again at 21:30); approved at 23:10.
- C (10 March): waits at the Kabid since 18:40, received and not verified: step 11 open.
- D (27 February): approved at 23:59 on 28 February WIB, before the period.
- E (28 February): approved at 00:00 on 1 March WIB, exactly at the period's start: its step
  15 (240 minutes) and its chain count in March, nothing else of it does.
- F (12 March): Wasbang, a team of one (the other member is the Korlap), the other Kasubbid.
- G (14 March): another kecamatan, high risk, Rahasia; an escalation raised at 14:00.

Besides: P1 and P2, declined (the same reason, written differently), P2 after 120 minutes;
P3 received at 18:30 on 31 March and not decided; H, chosen on 20 March and never dispatched.
The dashboard is read at 20:00 on 31 March WIB (``NOW``), for March 2025."""

import datetime
import io
from contextlib import contextmanager

import pytest
import time_machine
from django.urls import reverse
from openpyxl import load_workbook
from pypdf import PdfReader

from accounts.models import SubDivision
from lokus import services as lokus_services
from lokus.enums import EscalationKind, PlanCategory, PlanStatus, RiskLevel
from lokus.models import Kecamatan, StepStandard
from monev import metrics
from reports.enums import ReportState
from tests.factories import sub_division, wib
from tests.lokus import builders as lokus_builders
from tests.reports import builders as report_builders

pytestmark = pytest.mark.django_db

NOW = wib(2025, 3, 31, 20, 0)
MARCH = "?period=custom&since=2025-03-01&until=2025-03-31"
MINUTE = 60.0


@contextmanager
def at(moment: datetime.datetime):
    with time_machine.travel(moment, tick=False):
        yield


def on(day: datetime.date, hhmm: str, days: int = 0) -> datetime.datetime:
    hours, minutes = map(int, hhmm.split(":"))
    return wib(day.year, day.month, day.day, hours, minutes) + datetime.timedelta(days=days)


STANDARD_CHAIN = [
    ("17:50", "receive", "kasubbid"),
    ("18:20", "verify", "kasubbid"),
    ("18:30", "forward", "kasubbid"),
    ("18:40", "receive", "kabid"),
    ("19:10", "verify", "kabid"),
    ("19:20", "forward", "kabid"),
    ("19:30", "receive", "kaban"),
    ("20:00", "verify", "kaban"),
    ("20:10", "approve", "kaban"),
]


def run_lokus(cast, day, title, *, chain, kasubbid="kasubbid", team=("member", "coordinator"), korlap="coordinator",
              escalate=False, **plan):  # fmt: skip
    """One lokus through steps 1-6 on the standard day, then its chain: ``chain`` is a list of
    (time or (time, days later), action, who)."""
    holders = {**cast, "kasubbid": cast[kasubbid], "coordinator": cast[korlap]}
    members = [cast[name] for name in team]
    lokus_fields = {key: plan.pop(key) for key in ("risk_level", "classification") if key in plan}
    with at(on(day, "08:00")):
        created = lokus_builders.make_plan(cast["partner"], title=title, starts_at=on(day, "13:00"), **plan)
    with at(on(day, "08:40")):
        lokus = lokus_services.plan_choose(user=cast[kasubbid], plan_id=created.pk)
    with at(on(day, "09:00")):
        data = {**lokus_builders.ready_data(lokus), **lokus_fields}
        lokus_services.lokus_update(user=cast[kasubbid], lokus_id=lokus.pk, data=data)
        lokus_services.lokus_set_team(user=cast[kasubbid], lokus_id=lokus.pk, members=members, coordinator=cast[korlap])
    with at(on(day, "10:00")):
        lokus_services.lokus_dispatch(user=cast[kasubbid], lokus_id=lokus.pk)
    order = sorted(members, key=lambda m: m == cast[korlap])  # the Korlap last
    for member, hhmm in zip(order, ["10:10", "10:20"][-len(order) :], strict=True):
        with at(on(day, hhmm)):
            lokus_services.assignment_confirm(user=member, lokus_id=lokus.pk, equipment=["smartphone"])
    with at(on(day, "12:00")):
        lokus_services.risk_record(user=cast[korlap], lokus_id=lokus.pk, data=lokus_builders.risk_data())
    for member, hhmm in zip(order, ["13:00", "13:05"][: len(order)], strict=True):
        with at(on(day, hhmm)):
            lokus_services.assignment_check_in(user=member, lokus_id=lokus.pk)
    if escalate:
        with at(on(day, "14:00")):
            lokus_services.escalation_raise(
                user=members[0], lokus_id=lokus.pk, kind=EscalationKind.ESCALATION, message="Massa memanas"
            )
    for member, hhmm in zip(order, ["16:00", "16:30"][-len(order) :], strict=True):
        with at(on(day, hhmm)):
            lokus_services.member_report_submit(user=member, lokus_id=lokus.pk, data=lokus_builders.report_data())
    with at(on(day, "16:40")):
        report = report_builders.start_report(holders, lokus)
    with at(on(day, "17:40")):
        report_builders.act(report, holders, "submit", "coordinator")
    for when, action, who in chain:
        hhmm, days = when if isinstance(when, tuple) else (when, 0)
        with at(on(day, hhmm, days)):
            report_builders.act(report, holders, action, who)
    report.refresh_from_db()
    return report


def plan_only(cast, moment, title, category, *, decide=None):
    """A plan received at ``moment``; ``decide``: (minutes later, reason) to decline it."""
    with at(moment):
        plan = lokus_builders.make_plan(
            cast["partner"], title=title, category=category, starts_at=moment + datetime.timedelta(days=2)
        )
    if decide:
        minutes, reason = decide
        with at(moment + datetime.timedelta(minutes=minutes)):
            lokus_services.plan_mark_not_chosen(user=cast["kasubbid"], plan_id=plan.pk, reason=reason)
    return plan


def other_kecamatan() -> dict:
    kecamatan = Kecamatan.objects.exclude(code=lokus_builders.KECAMATAN_CODE).order_by("code").first()
    return {"kecamatan": kecamatan, "kelurahan": kecamatan.kelurahan.order_by("code").first()}


def build_world(cast) -> dict:
    day = datetime.date
    world = {}
    world["A"] = run_lokus(
        cast,
        day(2025, 3, 3),
        "Lokus A",
        chain=[
            ("17:50", "receive", "kasubbid"),
            ("19:30", "verify", "kasubbid"),
            ("19:40", "forward", "kasubbid"),
            ("19:50", "receive", "kabid"),
            ("20:20", "verify", "kabid"),
            ("20:30", "forward", "kabid"),
            ("20:40", "receive", "kaban"),
            ("21:10", "verify", "kaban"),
            ("21:20", "approve", "kaban"),
        ],
    )
    world["B"] = run_lokus(
        cast,
        day(2025, 3, 5),
        "Lokus B",
        chain=[
            ("17:50", "receive", "kasubbid"),
            ("18:20", "verify", "kasubbid"),
            ("18:30", "return", "kasubbid"),
            ("19:30", "submit", "coordinator"),
            ("19:40", "receive", "kasubbid"),
            ("20:10", "verify", "kasubbid"),
            ("20:20", "forward", "kasubbid"),
            ("20:30", "receive", "kabid"),
            ("21:00", "verify", "kabid"),
            ("21:10", "return", "kabid"),
            ("21:30", "forward", "kasubbid"),
            ("21:40", "receive", "kabid"),
            ("22:10", "verify", "kabid"),
            ("22:20", "forward", "kabid"),
            ("22:30", "receive", "kaban"),
            ("23:00", "verify", "kaban"),
            ("23:10", "approve", "kaban"),
        ],
    )
    world["C"] = run_lokus(cast, day(2025, 3, 10), "Lokus C", chain=STANDARD_CHAIN[:4])
    world["D"] = run_lokus(
        cast, day(2025, 2, 27), "Lokus D", chain=[*STANDARD_CHAIN[:-1], (("23:59", 1), "approve", "kaban")]
    )
    world["E"] = run_lokus(
        cast, day(2025, 2, 28), "Lokus E", chain=[*STANDARD_CHAIN[:-1], (("00:00", 1), "approve", "kaban")]
    )
    world["F"] = run_lokus(
        cast,
        day(2025, 3, 12),
        "Lokus F",
        chain=STANDARD_CHAIN,
        kasubbid="other_kasubbid",
        team=("other_member",),
        korlap="other_member",
    )
    world["G"] = run_lokus(
        cast,
        day(2025, 3, 14),
        "Lokus G",
        chain=STANDARD_CHAIN,
        escalate=True,
        risk_level=RiskLevel.HIGH,
        classification="rahasia",
        **other_kecamatan(),
    )
    world["P1"] = plan_only(
        cast, wib(2025, 3, 4, 8, 0), "Rencana P1", PlanCategory.RELIGIOUS, decide=(30, "Kegiatan rutin.")
    )
    world["P2"] = plan_only(
        cast, wib(2025, 3, 6, 8, 0), "Rencana P2", PlanCategory.RELIGIOUS, decide=(120, "  kegiatan RUTIN. ")
    )
    world["P3"] = plan_only(cast, wib(2025, 3, 31, 18, 30), "Rencana P3", PlanCategory.COMMUNITY)
    with at(wib(2025, 3, 20, 8, 0)):
        plan_h = lokus_builders.make_plan(cast["partner"], title="Lokus H", starts_at=wib(2025, 3, 22, 9, 0))
    with at(wib(2025, 3, 20, 9, 0)):
        world["H"] = lokus_services.plan_choose(user=cast["kasubbid"], plan_id=plan_h.pk)
    assert world["C"].state == ReportState.KABID_RECEIVED
    assert world["B"].revision_round == 3
    return world


@pytest.fixture
def world(cast):
    return build_world(cast)


def dashboard(client_for, who="kaban", query=MARCH):
    with at(NOW):
        response = client_for(who).get(reverse("monev:dashboard") + query)
    assert response.status_code == 200
    return response


def minutes(figure) -> float | None:
    return None if figure is None else figure / MINUTE


# (completed, median, p90 in minutes, within the standard, open now, overdue now), by hand.
STEPS = {
    1: (9, 0, 0, 9, 0, 0),  # every plan received in March: A B C F G H P1 P2 P3
    2: (8, 40, 78, 7, 1, 1),  # 30 40 40 40 40 40 60 120 (P2 late; H at exactly 60 is on time); P3 open
    3: (5, 80, 80, 5, 1, 1),  # A B C F G; H composing since 20 March
    4: (5, 20, 20, 5, 0, 0),
    5: (5, 210, 210, 5, 0, 0),  # 13:00 to 16:30, before the scheduled end at 17:00
    6: (6, 60, 60, 6, 0, 0),  # B twice (sent again after the return)
    7: (6, 10, 10, 6, 0, 0),
    8: (6, 30, 65, 5, 0, 0),  # 30 30 30 30 30 100 (A)
    9: (7, 10, 14, 7, 0, 0),  # 10 x6 and B's 20 minutes back at the Kasubbid
    10: (6, 10, 10, 6, 0, 0),
    11: (5, 30, 30, 5, 1, 1),  # C open at the Kabid since 10 March 18:40
    12: (5, 10, 10, 5, 0, 0),
    13: (4, 10, 10, 4, 0, 0),
    14: (4, 30, 30, 4, 0, 0),
    15: (5, 10, 148, 4, 0, 0),  # 10 10 10 10 and E's 240 minutes (ended 1 March 00:00 WIB)
}


def test_every_figure_against_the_hand_count(client_for, cast, world):
    response = dashboard(client_for)
    data = response.context["data"]

    assert [row.number for row in data.steps] == list(range(1, 16))
    for row in data.steps:
        f = row.figures
        got = (f.done, minutes(f.median), minutes(f.p90), f.on_time, f.open, f.overdue)
        assert got == pytest.approx(STEPS[row.number]), row.number
    assert data.steps[7].figures.share == pytest.approx(500 / 6)

    # The chain: A 800, B 910, F 730, G 730, E 960 minutes; C in progress (and past 20 hours).
    chain = data.chain.figures
    assert (chain.done, minutes(chain.median), minutes(chain.p90), chain.on_time) == pytest.approx((5, 800, 940, 5))
    assert (chain.open, chain.overdue, data.in_progress) == (1, 1, 1)
    assert data.rounds == {1: 4, 3: 1}
    returns = {number: (f.returned, f.returned_reports) for number, f in data.returns.items()}
    assert returns == {9: (1, 1), 12: (1, 1), 15: (0, 0)}

    # Per sub-division: Wasdin's chain A B E G; its 70 steps (P1 and P2 declined by its
    # Kasubbid), 3 late (P2, A's step 8, E's step 15). Wasbang: F's 15 steps.
    wasdin, wasbang = sub_division("wasdin"), sub_division("wasbang")
    subs = {row.sub_division: row for row in data.sub_divisions}
    assert set(subs) == {wasdin, wasbang}
    assert (subs[wasdin].chain.done, minutes(subs[wasdin].chain.median)) == (4, pytest.approx(855))
    assert (subs[wasdin].steps.done, subs[wasdin].steps.on_time) == (70, 67)
    assert (subs[wasbang].chain.done, minutes(subs[wasbang].chain.median)) == (1, pytest.approx(730))
    assert (subs[wasbang].steps.done, subs[wasbang].steps.on_time) == (15, 15)

    # Per officer: members and Korlap for steps 4-6, reviewers for 7-15.
    officers = {
        (row.name, row.step): (row.figures.done, round(minutes(row.figures.median), 6), row.figures.on_time)
        for row in data.officers
    }
    name = {key: cast[key].full_name for key in cast}
    expected = {
        (name["member"], 4): (4, 10, 4),
        (name["coordinator"], 4): (4, 20, 4),
        (name["other_member"], 4): (1, 20, 1),
        (name["member"], 5): (4, 180, 4),
        (name["coordinator"], 5): (4, 210, 4),
        (name["other_member"], 5): (1, 210, 1),
        (name["coordinator"], 6): (5, 60, 5),
        (name["other_member"], 6): (1, 60, 1),
        (name["kasubbid"], 7): (5, 10, 5),
        (name["other_kasubbid"], 7): (1, 10, 1),
        (name["kasubbid"], 8): (5, 30, 4),
        (name["other_kasubbid"], 8): (1, 30, 1),
        (name["kasubbid"], 9): (6, 10, 6),
        (name["other_kasubbid"], 9): (1, 10, 1),
        (name["kabid"], 10): (6, 10, 6),
        (name["kabid"], 11): (5, 30, 5),
        (name["kabid"], 12): (5, 10, 5),
        (name["kaban"], 13): (4, 10, 4),
        (name["kaban"], 14): (4, 30, 4),
        (name["kaban"], 15): (5, 10, 4),
    }
    assert officers == expected

    # Breaches, worst first: C's step 11 (21 days), H's step 3 (11 days 9 hours), E's step 15
    # (3 h 30), P2's decision (60 min), A's step 8 (40 min), P3 waiting (30 min).
    assert data.breaches_total == 6
    breaches = response.context["breaches"]
    rows = [(o.title, o.step, o.is_open, minutes(o.late)) for o in breaches.object_list]
    assert rows == [
        ("Lokus C", 11, True, pytest.approx(21 * 24 * 60 + 20)),
        ("Lokus H", 3, True, pytest.approx(11 * 24 * 60 + 9 * 60)),
        ("Lokus E", 15, False, pytest.approx(210)),
        ("Rencana P2", 2, False, pytest.approx(60)),
        ("Lokus A", 8, False, pytest.approx(40)),
        ("Rencana P3", 2, True, pytest.approx(30)),
    ]
    holders = [o.holder for o in breaches.object_list]
    assert holders[2] == cast["kaban"].full_name  # who approved E late
    assert holders[4] == cast["kasubbid"].full_name  # who verified A late
    assert holders[0] == data.standards[11].actor  # open: the actor the Mutu Baku names

    # Intake: nine plans received in March.
    intake = data.intake
    assert intake.plans_by_month == {
        (2025, 3): {PlanCategory.DEMONSTRATION: 6, PlanCategory.RELIGIOUS: 2, PlanCategory.COMMUNITY: 1}
    }
    k1 = Kecamatan.objects.get(code=lokus_builders.KECAMATAN_CODE)
    assert intake.plans_by_kecamatan == {k1.pk: 8, other_kecamatan()["kecamatan"].pk: 1}
    assert intake.plans_by_status == {PlanStatus.RECEIVED: 1, PlanStatus.CHOSEN: 6, PlanStatus.NOT_CHOSEN: 2}
    assert (intake.reasons, intake.other_reasons) == ([("kegiatan rutin.", 2)], 0)
    assert intake.lokus_by_risk == {(RiskLevel.MEDIUM, "terbatas"): 5, (RiskLevel.HIGH, "rahasia"): 1}
    assert intake.escalations == {(2025, 3): {EscalationKind.ESCALATION: 1}}

    # The trend is on its own page, not computed for the dashboard.
    assert data.trend == {} and data.trend_months == []
    with at(NOW):
        trend_page = client_for("kaban").get(reverse("monev:trend") + MARCH)
    assert trend_page.status_code == 200
    trend = trend_page.context["trend"]
    # The trend's March column holds the same figures as the period; February holds D's and
    # E's steps 1-14 and D's chain; the other ten months are empty.
    assert list(trend.months)[-2:] == [(2025, 2), (2025, 3)] and len(trend.months) == 12
    march = {n: trend.cells[n][-1].figures for n in [metrics.CHAIN, *metrics.STEPS]}
    assert {n: (f.done, f.on_time) for n, f in march.items()} == {
        0: (5, 5),
        **{n: (STEPS[n][0], STEPS[n][3]) for n in metrics.STEPS},
    }
    february = {n: trend.cells[n][-2].figures.done for n in [metrics.CHAIN, *metrics.STEPS]}
    assert february == {0: 1, **dict.fromkeys(range(1, 15), 2), 15: 1}
    assert all(cell.figures.done == 0 for n in trend.cells for cell in trend.cells[n][:-2])
    # The PDF's dashboard computes the trend in its own statement: the same cells.
    with at(NOW):
        full = metrics.dashboard(data.selection, data.standards, list(SubDivision.objects.all()))
    assert full.trend_months == trend.months and full.trend == trend.cells
    assert full.steps == data.steps and full.chain == data.chain
    # The trend's page names its months and links each cell to its completions.
    trend_html = trend_page.content.decode()
    assert "April 2024" in trend_html and "Maret 2025" in trend_html
    assert trend_html.count("month=202503") == 16

    # The page shows them: every step had occurrences; step 8's share, its late one.
    html = response.content.decode()
    assert html.count('data-figure="none"') == 0
    assert html.count('data-figure="done"') == 15
    row8 = html[html.index('<tr data-step="8">') :]
    row8 = row8[: row8.index("</tr>")]
    assert ">83%<" in row8 and ">6<" in row8


def test_the_period_starts_at_midnight_wib(client_for, cast, world):
    """E's approval at 00:00 on 1 March WIB (17:00 on 28 February UTC) is March's; D's at
    23:59 on 28 February WIB is February's."""
    march = dashboard(client_for).context["data"]
    february = dashboard(client_for, query="?period=custom&since=2025-02-01&until=2025-02-28").context["data"]
    assert march.steps[14].figures.done == 5 and february.steps[14].figures.done == 1
    assert minutes(february.steps[14].figures.median) == pytest.approx(27 * 60 + 59)  # D: 20:00 to 23:59 next day
    assert (march.chain.figures.done, february.chain.figures.done) == (5, 1)
    # "This month" on 31 March is the same as the custom range of March.
    this_month = dashboard(client_for, query="?period=month").context["data"]
    assert [r.figures for r in this_month.steps] == [r.figures for r in march.steps]
    assert this_month.chain.figures == march.chain.figures
    # A day later, "last month" is March too.
    with at(wib(2025, 4, 1, 0, 0)):
        last_month = client_for("kaban").get(reverse("monev:dashboard") + "?period=last_month").context["data"]
    assert last_month.selection.period.first == datetime.date(2025, 3, 1)
    assert [r.figures.done for r in last_month.steps] == [r.figures.done for r in march.steps]


def test_a_kasubbid_sees_the_figures_of_their_sub_division(client_for, cast, world):
    data = dashboard(client_for, "kasubbid").context["data"]
    # Wasdin: A B C G H, P1 P2 it declined, and P3 (undecided: every Kasubbid's queue).
    assert [r.figures.done for r in data.steps] == [8, 7, 4, 4, 4, 5, 5, 5, 6, 5, 4, 4, 3, 3, 4]
    assert (data.chain.figures.done, minutes(data.chain.figures.median)) == (4, pytest.approx(855))
    assert [row.sub_division for row in data.sub_divisions] == [sub_division("wasdin")]
    names = {row.name for row in data.officers}
    assert cast["other_kasubbid"].full_name not in names and cast["other_member"].full_name not in names
    assert data.intake.plans == 8  # F is Wasbang's
    assert data.breaches_total == 6  # all of them are Wasdin's or undecided

    other = dashboard(client_for, "other_kasubbid").context["data"]
    assert [r.figures.done for r in other.steps] == [2, 1, *([1] * 13)]  # F, and P3's receipt
    assert other.breaches_total == 1  # P3, waiting for any Kasubbid


def test_every_figure_links_to_the_items_behind_it(client_for, cast, world):
    response = dashboard(client_for)
    context = response.context
    client = client_for("kaban")

    def count(url):
        with at(NOW):
            page = client.get(url)
        assert page.status_code == 200, url
        return page.context["page"].paginator.count, page.content.decode()

    steps = {item["row"].number: item for item in context["steps"]}
    for number, (done, _median, _p90, on_time, open_now, overdue) in STEPS.items():
        links = steps[number]["links"]
        assert count(links["done"])[0] == done, number
        assert count(links["late"])[0] == done - on_time, number
        assert count(links["open"])[0] == open_now, number
        assert count(links["overdue"])[0] == overdue, number
    n, html = count(steps[8]["links"]["late"])
    assert "Lokus A" in html
    chain = context["chain"]
    assert count(chain["links"]["done"])[0] == 5
    assert count(chain["links"]["open"])[0] == 1
    assert [count(r["url"])[0] for r in chain["rounds"]] == [4, 1]
    assert [count(r["url"])[0] for r in chain["returns"]] == [1, 1, 0]
    for item in context["who"]["officers"]:
        assert count(item["url"])[0] == item["row"].figures.done
    for item in context["who"]["sub_divisions"]:
        assert count(item["chain_url"])[0] == item["row"].chain.done
        assert count(item["late_url"])[0] == item["row"].steps.late
    with at(NOW):
        trend = client.get(reverse("monev:trend") + MARCH).context
    for number, links in trend["trend_links"].items():
        cells = trend["trend"].cells[number]
        assert count(links[-1])[0] == cells[-1].figures.done, number
        assert count(links[-2])[0] == cells[-2].figures.done, number
    assert count(context["breaches_url"])[0] == 6

    intake = context["intake"]
    assert count(intake["plans_url"])[0] == 9
    for month in intake["months"]:
        assert count(month["url"])[0] == month["total"] == 9
        assert [count(cell["url"])[0] for cell in month["cells"]] == [cell["n"] for cell in month["cells"]]
    assert [(k["n"], count(k["url"])[0]) for k in intake["by_kecamatan"]] == [(8, 8), (1, 1)]
    assert [(s["n"], count(s["url"])[0]) for s in intake["statuses"]] == [(1, 1), (6, 6), (2, 2)]
    assert [(r["n"], count(r["url"])[0]) for r in intake["reasons"]] == [(2, 2)]
    assert count(intake["lokus_url"])[0] == 6
    for risk in intake["risk"]:
        assert count(risk["url"])[0] == risk["total"]
        assert [count(cell["url"])[0] for cell in risk["cells"]] == [cell["n"] for cell in risk["cells"]]
    march = next(m for m in intake["escalations"])
    assert [(cell["n"], count(cell["url"])[0]) for cell in march["cells"]] == [(1, 1), (0, 0)]


def test_the_xlsx_export_holds_the_same_numbers(client_for, cast, world):
    with at(NOW):
        response = client_for("kaban").get(reverse("monev:export_xlsx") + MARCH)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    book = load_workbook(io.BytesIO(response.content))
    assert len(book.sheetnames) == 5  # per step, breaches, plans, lokus, reports

    sheet = book.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    header = {row[0]: row[1] for row in rows[1:7] if row and row[0]}
    assert any("Maret 2025" in str(v) or "March 2025" in str(v) for v in header.values())
    assert cast["kaban"].full_name in " ".join(str(v) for v in header.values())
    exported_at = next(v for v in header.values() if isinstance(v, datetime.datetime))
    assert exported_at == datetime.datetime(2025, 3, 31, 20, 0)  # WIB, a real date cell
    table_start = next(i for i, row in enumerate(rows) if row and row[0] in ("Langkah", "Step"))
    table = {row[0]: row for row in rows[table_start + 1 : table_start + 17]}
    for number, (done, median, p90, on_time, open_now, overdue) in STEPS.items():
        row = table[number]
        assert row[4] == done and row[7] == on_time and row[9] == open_now and row[10] == overdue, number
        assert row[5] == pytest.approx(round(median / 60, 2)) and row[6] == pytest.approx(round(p90 / 60, 2)), number
    chain = next(row for row in table.values() if row[0] not in STEPS)
    assert chain[4:8] == (5, pytest.approx(13.33), pytest.approx(15.67), 5)

    breaches = list(book.worksheets[1].iter_rows(values_only=True))
    first = next(i for i, row in enumerate(breaches) if row and row[0] == 11)
    listed = [(row[0], row[1]) for row in breaches[first:] if row and row[0]]
    assert listed == [
        (11, "Lokus C"),
        (3, "Lokus H"),
        (15, "Lokus E"),
        (2, "Rencana P2"),
        (8, "Lokus A"),
        (2, "Rencana P3"),
    ]
    assert breaches[first][5] == datetime.datetime(2025, 3, 10, 19, 40)  # C's step 11 due, WIB

    plans, lokus, reports = (list(book.worksheets[i].iter_rows(values_only=True)) for i in (2, 3, 4))

    def titles(rows):
        """The first column of the table below the sheet's header (its first wide row)."""
        start = next(i for i, row in enumerate(rows) if sum(1 for c in row if c is not None) >= 5)
        return {row[0] for row in rows[start + 1 :] if row and row[0]}

    assert titles(plans) == {
        "Lokus A",
        "Lokus B",
        "Lokus C",
        "Lokus F",
        "Lokus G",
        "Lokus H",
        "Rencana P1",
        "Rencana P2",
        "Rencana P3",
    }
    assert titles(lokus) == {"Lokus A", "Lokus B", "Lokus C", "Lokus F", "Lokus G", "Lokus H"}
    assert titles(reports) == {"Lokus A", "Lokus B", "Lokus C", "Lokus E", "Lokus F", "Lokus G"}
    received = next(row for row in plans if row and row[0] == "Rencana P3")
    assert received[5] == datetime.datetime(2025, 3, 31, 18, 30)


def test_a_step_without_occurrences_says_so(client_for, cast, world):
    response = dashboard(client_for, query="?period=custom&since=2025-01-01&until=2025-01-31")
    data = response.context["data"]
    assert all(row.figures.done == 0 and row.figures.share is None for row in data.steps)
    html = response.content.decode()
    assert html.count('data-figure="none"') == 15
    # What is open now is shown whatever the period.
    assert [row.figures.open for row in data.steps] == [STEPS[n][4] for n in metrics.STEPS]


@pytest.mark.parametrize(
    "query",
    [
        "?period=custom",
        "?period=custom&since=2025-03-10",
        "?period=custom&since=2025-03-10&until=2025-03-01",
        "?period=custom&since=2020-01-01&until=2025-03-01",
        "?period=custom&since=kemarin&until=2025-03-01",
    ],
)
def test_a_bad_custom_range_says_why_and_shows_this_month(client_for, cast, query):
    with at(NOW):
        response = client_for("kabid").get(reverse("monev:dashboard") + query)
    assert response.status_code == 200
    assert response.context["problem"]
    assert 'data-testid="period-problem"' in response.content.decode()
    period = response.context["period"]
    assert (period.first, period.last) == (datetime.date(2025, 3, 1), datetime.date(2025, 3, 31))


@pytest.mark.parametrize("query", ["?period=tahun", "?sub_division=999999999999999999999", "?kecamatan=abc", "?page=x"])
def test_a_value_that_does_not_fit_is_ignored(client_for, cast, query):
    with at(NOW):
        response = client_for("kaban").get(reverse("monev:dashboard") + query)
    assert response.status_code == 200
    assert response.context["period"].first == datetime.date(2025, 3, 1)
    assert response.context["data"].selection.scope is None


def test_percentile_is_percentile_cont():
    assert metrics.percentile([], 0.5) is None
    assert metrics.percentile([5], 0.9) == 5
    assert metrics.percentile([30, 40, 40, 40, 40, 40, 60, 120], 0.9) == pytest.approx(78)
    assert metrics.percentile([4, 1, 3, 2], 0.5) == 2.5


def test_the_database_computes_the_percentiles(cast, world):
    """The statement's own aggregate gives step 8's 90th percentile (percentile_cont on
    PostgreSQL, the registered aggregate on SQLite): one row per step, no durations fetched."""
    standards = {s.number: s for s in StepStandard.objects.all()}
    march = metrics.period_for(
        metrics.PeriodKind.CUSTOM, NOW.date(), datetime.date(2025, 3, 1), datetime.date(2025, 3, 31)
    )
    with at(NOW):
        rows = metrics.figure_rows(metrics.Selection(march, None), standards)
    per_step = [row for row in rows if row[0] == "step"]
    assert sorted(row[1] for row in per_step) == list(range(16))
    step8 = next(row for row in per_step if row[1] == 8)
    assert (step8[4], step8[6] / MINUTE, step8[7] / MINUTE) == (6, pytest.approx(30), pytest.approx(65))


def test_the_monthly_pdf_report(client_for, cast, world):
    """The Laporan Monev of March: letterhead, the TERBATAS mark and the download stamp on
    every page, the figures, the breaches worst first, the charts drawn in."""
    with at(NOW):
        response = client_for("kaban").get(reverse("monev:export_pdf") + MARCH)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    pages = PdfReader(io.BytesIO(response.content)).pages
    texts = [page.extract_text() for page in pages]
    text = " ".join(texts)
    assert "BADAN KESATUAN BANGSA DAN POLITIK" in texts[0]
    assert "LAPORAN MONEV PELAKSANAAN LOKASI KHUSUS" in texts[0]
    assert all("TERBATAS" in page.replace(" ", "") for page in texts)
    assert all(cast["kaban"].full_name in page for page in texts)  # the download stamp
    assert "Maret 2025" in text
    assert text.index("Lokus C") < text.index("Lokus H") < text.index("Lokus E") < text.index("Lokus A")
    assert "83%" in text  # step 8 within the standard
    # The charts are drawn in: only their month labels name 2024 (the trend, April 2024 to
    # March 2025).
    assert "2024" in text
