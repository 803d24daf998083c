"""reports.permissions: the list querysets and the single-report checks agree.

Every rule is written twice on purpose, once for one report and once as a filter for lists
(see the module's docstring); here both forms meet every user of the cast and a report in
every state of the chain, in both sub-divisions, and must give the same answer. The action
buttons (django-fsm's available transitions) must agree with ``can_take_step`` too."""

import pytest

from accounts.models import User
from reports import permissions
from reports.enums import STEPS, ReportState
from reports.models import ActivityReport
from tests.helpers import CAST
from tests.lokus import builders as lokus_builders
from tests.reports import builders

pytestmark = pytest.mark.django_db

S = ReportState
# Who reads the reports of each sub-division's lokus; nobody else reads any.
WASDIN_READERS = {"kasubbid", "coordinator", "kabid", "kaban"}
WASBANG_READERS = {"other_kasubbid", "other_member", "kabid", "kaban"}
WASBANG_STATES = [S.DRAFT, S.AT_KASUBBID, S.RETURNED_TO_KASUBBID, S.APPROVED]


def refetch(user) -> User:
    """The user as a new request loads it (no cached roles or permissions)."""
    return User.objects.get(pk=user.pk)


def wasbang_report(cast, state) -> ActivityReport:
    """A report of the other sub-division: the other Kasubbid's lokus, the other member its
    Korlap, walked up the chain by them and by the Kabid and the Kepala Badan."""
    korlap = cast["other_member"]
    lokus = lokus_builders.make_dispatched_lokus(
        cast["other_kasubbid"],
        cast["other_partner"],
        [korlap],
        korlap,
        starts_at=lokus_builders.future_wib(days=next(builders._days)),
    )
    lokus = lokus_builders.report_all(lokus_builders.advance_to_running(lokus, [korlap], korlap), [korlap])
    wasbang_cast = {**cast, "kasubbid": cast["other_kasubbid"], "coordinator": korlap}
    return builders.walk(builders.start_report(wasbang_cast, lokus), state, wasbang_cast)


@pytest.fixture
def every_report(cast) -> dict[ActivityReport, set[str]]:
    """A report in every state (Wasdin) and in some (Wasbang), each with who reads it."""
    reports = {builders.make_report_in(cast, state): WASDIN_READERS for state in S.values}
    reports |= {wasbang_report(cast, state): WASBANG_READERS for state in WASBANG_STATES}
    assert {r.state for r in reports} == set(S.values)
    return reports


def test_lists_and_report_checks_agree_for_every_user_and_state(cast, every_report):
    fetched = list(ActivityReport.objects.select_related("lokus"))
    assert len(fetched) == len(every_report)

    for name in CAST:
        user = refetch(cast[name])
        listed = set(permissions.reports_for(user))
        assert listed == {r for r in fetched if permissions.can_view_report(user, r)}, name
        assert listed == {r for r, readers in every_report.items() if name in readers}, name

        held = set(permissions.reports_held_by(user))
        assert held == {r for r in fetched if permissions.can_act(user, r)}, name
        assert held <= listed, name
        assert permissions.held_reports(user, fetched) == {r.pk for r in held}, name

        for report in fetched:
            buttons = {t.name for t in report.get_available_user_state_transitions(user)}
            steps = {step for step in STEPS if permissions.can_take_step(user, report, step)}
            assert buttons == steps, (name, report.state)


def test_every_state_but_the_approved_one_is_held_by_exactly_one_reader(cast, every_report):
    readers = {name: refetch(cast[name]) for name in CAST}
    for report in ActivityReport.objects.select_related("lokus"):
        holders = [name for name, user in readers.items() if permissions.can_act(user, report)]
        assert len(holders) == (0 if report.state == S.APPROVED else 1), (report.state, holders)


def test_deactivated_readers_see_and_hold_nothing(cast, every_report):
    User.objects.filter(pk__in=[cast[name].pk for name in WASDIN_READERS | WASBANG_READERS]).update(is_active=False)
    fetched = list(ActivityReport.objects.select_related("lokus"))

    for name in sorted(WASDIN_READERS | WASBANG_READERS):
        user = refetch(cast[name])
        assert not permissions.reports_for(user).exists(), name
        assert not permissions.reports_held_by(user).exists(), name
        assert not permissions.may_list_reports(user), name
        assert not any(permissions.can_view_report(user, r) or permissions.can_act(user, r) for r in fetched), name
