"""Each list page costs the same few queries at 1 row as at many (STYLE.md: no query per
row). N is the count measured with one row; the same N must hold with many rows.

The numbers include the request's own overhead: session, user, role groups, permissions,
the unread-notification count of the header."""

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from accounts.enums import Role
from accounts.models import Qualification
from accounts.services import notify
from core.enums import Classification
from core.models import AccessLog
from lokus import services
from lokus.enums import EscalationKind, MediaKind
from lokus.uploads import clean_image
from tests.factories import UserFactory, sub_division
from tests.lokus import builders

pytestmark = pytest.mark.django_db

MANY = 30  # plans, notifications
MANY_LOKUS = 10  # lokus with their teams


def _photo():
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "blue").save(out, format="PNG")
    return clean_image(SimpleUploadedFile("foto.png", out.getvalue()))


def _plans(cast, n: int) -> list:
    """n plans of both partners and of staff, a third of them chosen, a third declined, all
    in the coming week (so the calendar shows them too)."""
    start = builders.future_wib(days=7, hour=7)
    plans = []
    for i in range(n):
        by = [cast["partner"], cast["other_partner"], cast["kabid"]][i % 3]
        plan = builders.make_plan(by, title=f"Rencana {i}", starts_at=start + timedelta(hours=i % 12))
        if i % 3 == 1:
            services.plan_choose(user=cast["kasubbid"], plan_id=plan.pk)
        elif i % 3 == 2:
            services.plan_mark_not_chosen(user=cast["kasubbid"], plan_id=plan.pk, reason="Rutin")
        plans.append(plan)
    return plans


def _lokus(cast, n: int) -> list:
    """n Wasdin lokus with the member and the Korlap on the team, at every stage of steps
    3-5 in turn: dispatched, composing, confirmed, running (the first is always one the
    member sees)."""
    team, korlap = [cast["member"], cast["coordinator"]], cast["coordinator"]
    rows = []
    for i in range(n):
        starts_at = builders.future_wib(days=2 + i)
        if i % 4 == 1:
            rows.append(builders.make_ready_lokus(cast["kasubbid"], cast["partner"], team, korlap, starts_at=starts_at))
            continue
        lokus = builders.make_dispatched_lokus(cast["kasubbid"], cast["partner"], team, korlap, starts_at=starts_at)
        if i % 4 == 2:
            builders.confirm_all(lokus, team)
        elif i % 4 == 3:
            builders.advance_to_running(lokus, team, korlap)
        rows.append(lokus)
    return rows


def _big_team(cast, n: int) -> list:
    """The member and the Korlap, plus n - 2 more officers, each with qualifications."""
    wasdin = sub_division("wasdin")
    qualifications = list(Qualification.objects.all()[:3])
    team = [cast["member"], cast["coordinator"]][:n]
    for i in range(n - len(team)):
        team.append(UserFactory(username=f"anggota.{i}", roles=[Role.MEMBER], sub_division=wasdin))
    for officer in team:
        officer.qualifications.set(qualifications)
    return team


def _field_lokus(cast, size: int):
    """A running lokus with a team of ``size`` (at least 2, all qualified): a quarter of
    them recorded ``size`` notes and photos each, half reported and raised an escalation."""
    team = _big_team(cast, max(size, 2))
    lokus = builders.make_dispatched_lokus(cast["kasubbid"], cast["partner"], team, cast["coordinator"])
    builders.advance_to_running(lokus, team, cast["coordinator"])
    for officer in team[: max(1, size // 4)]:
        for _i in range(size):
            services.field_note_add(user=officer, lokus_id=lokus.pk, data=builders.note_data())
            services.field_media_add(user=officer, lokus_id=lokus.pk, kind=MediaKind.PHOTO, clean=_photo())
    for officer in team[: max(1, size // 2)]:
        services.member_report_submit(user=officer, lokus_id=lokus.pk, data=builders.report_data())
        services.escalation_raise(user=officer, lokus_id=lokus.pk, kind=EscalationKind.ESCALATION, message="Ricuh")
    return lokus


def plan_list(cast, n):
    _plans(cast, n)
    return reverse("lokus:plan_list")


def calendar(cast, n):
    _plans(cast, n)
    return reverse("lokus:plan_calendar") + f"?date={builders.future_wib(days=7):%Y-%m-%d}"


def lokus_list(cast, n):
    _lokus(cast, n)
    return reverse("lokus:list")


def assignment_list(cast, n):
    _lokus(cast, n)
    return reverse("lokus:assignments")


def notifications(cast, n):
    for i in range(n):
        notify([cast["member"]], f"Pemberitahuan {i}", body="Isi", url=reverse("home"), urgent=i % 2 == 0)
    return reverse("notifications")


def access_log(cast, n):
    """n access-log rows by four readers over two lokus, of every kind."""
    lokus = _lokus(cast, 2)
    readers = [cast["kabid"], cast["kaban"], cast["kasubbid"], cast["member"]]
    kinds = AccessLog.Kind.values
    for i in range(n):
        AccessLog.objects.create(
            user=readers[i % len(readers)],
            kind=kinds[i % len(kinds)],
            lokus_id=lokus[i % 2].pk,
            object_id=lokus[i % 2].pk,
            classification=Classification.TERBATAS if i % 2 else Classification.RAHASIA,
            ip_address="127.0.0.1",
        )
    return reverse("lokus:access_log")


def home_with_plans_and_lokus(cast, n):
    _plans(cast, n)
    _lokus(cast, n)
    return reverse("home")


def lokus_detail(cast, n):
    return reverse("lokus:detail", args=[_field_lokus(cast, n).pk])


def assignment_detail(cast, n):
    return reverse("lokus:assignment", args=[_field_lokus(cast, n).pk])


@dataclass(frozen=True)
class Page:
    who: str
    build: Callable  # build(cast, n) makes n rows and returns the URL
    many: int
    queries: int  # measured with one row
    rows: Callable  # rows(response): how many rows the page shows
    shown: tuple  # what rows shows with one row, and with many


def _page(response) -> int:
    return len(response.context["page"].object_list)


PAGES = {
    "plan list": Page("kasubbid", plan_list, MANY, 9, _page, (1, 25)),
    "plan list (partner)": Page("partner", plan_list, MANY, 10, _page, (1, 10)),
    # Two reads of the plans: when each of the week's runs (counts, clashes), then the shown ones
    # (at most lokus.selectors.CALENDAR_PER_DAY a day: the other 15 of the day are counted).
    "calendar": Page("kasubbid", calendar, MANY, 8, lambda r: sum(len(d["plans"]) for d in r.context["days"]), (1, 5)),
    "lokus list": Page("kasubbid", lokus_list, MANY_LOKUS, 8, _page, (1, 10)),
    # One more than the Kasubbid's: the Kabid's verified second factor is read per request.
    "lokus list (kabid)": Page("kabid", lokus_list, MANY_LOKUS, 9, _page, (1, 10)),
    "assignment list": Page("member", assignment_list, MANY_LOKUS, 9, _page, (1, 7)),
    "notifications": Page("member", notifications, MANY, 9, _page, (1, 30)),
    "access log": Page("kaban", access_log, MANY, 9, _page, (1, 30)),
    "home (kasubbid)": Page(
        "kasubbid", home_with_plans_and_lokus, MANY_LOKUS, 16, lambda r: len(r.context["tasks"]), (2, 15)
    ),
    "home (member)": Page(
        "member", home_with_plans_and_lokus, MANY_LOKUS, 12, lambda r: len(r.context["tasks"]), (1, 7)
    ),
    # Detail pages of a Terbatas lokus write one access-log row.
    "lokus detail": Page(
        "kasubbid",
        lokus_detail,
        MANY_LOKUS,
        24,
        lambda r: tuple(len(r.context[k]) for k in ("assignments", "notes", "media", "reports", "escalations")),
        ((2, 1, 1, 1, 1), (10, 20, 20, 5, 5)),
    ),
    "assignment detail": Page(
        "member",
        assignment_detail,
        MANY_LOKUS,
        20,
        lambda r: (len(r.context["team"]), len(r.context["my_notes"])),
        ((2, 1), (10, 10)),
    ),
}


@pytest.mark.parametrize("size", ["one", "many"])
@pytest.mark.parametrize("name", list(PAGES))
def test_list_pages_cost_the_same_queries_at_one_and_many_rows(
    client_for, cast, django_assert_max_num_queries, name, size
):
    page = PAGES[name]
    url = page.build(cast, 1 if size == "one" else page.many)
    client = client_for(page.who)

    with django_assert_max_num_queries(page.queries):
        response = client.get(url)

    assert response.status_code == 200
    assert page.rows(response) == page.shown[0 if size == "one" else 1]
