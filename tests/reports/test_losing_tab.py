"""The losing tab: a step sent again after someone (the same officer in another tab, or a
colleague in the same role) already took it, or took another step from the same state.

Each ends on the report page with a message that names who took the last step and when
(WIB), never a bare 403; the second request changes nothing, and the log holds the step once."""

import pytest
from django.contrib.messages import constants as message_levels
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from accounts.enums import Role
from reports.enums import ReportState
from reports.models import ActivityReport, ReportLog
from tests.factories import UserFactory, sub_division
from tests.reports import builders
from tests.reports.builders import snapshot

pytestmark = pytest.mark.django_db

S = ReportState
NOTE = {"note": "Lengkapi kronologi dan lampirkan foto."}
CHECKS = {"complete": "on", "facts_separate": "on", "attachments_present": "on", "classification_right": "on"}


@pytest.fixture
def colleagues(cast):
    """A second Wasdin Kasubbid and a second Kabid: both hold the report as the first ones do."""
    cast["kasubbid2"] = UserFactory(
        username="kasubbid.dua",
        full_name="Dewi Kasubbid Kedua",
        roles=[Role.KASUBBID],
        sub_division=sub_division("wasdin"),
    )
    cast["kabid2"] = UserFactory(username="kabid.dua", full_name="Rahmat Kabid Kedua", roles=[Role.KABID])
    return cast


def errors(response) -> list[str]:
    return [m.message for m in get_messages(response.wsgi_request) if m.level == message_levels.ERROR]


def last_move(report) -> ReportLog:
    return (
        ReportLog.objects.filter(report=report).exclude(to_state="").select_related("actor").latest("created_at", "pk")
    )


def assert_told_who_and_when(response, report, actor, at=None) -> None:
    """Back on the report page, with one error message naming the actor and the time (WIB)
    of the last step (by default the report's last move in the log)."""
    assert response.status_code == 302, response.status_code
    assert response["Location"] == reverse("reports:detail", args=[report.pk])
    (message,) = errors(response)
    if at is None:
        move = last_move(report)
        assert move.actor == actor
        at = move.created_at
        assert move.get_action_display() in message
    assert actor.full_name in message
    assert f"{timezone.localtime(at):%H:%M} WIB" in message


# What each request posts, by URL name.
DATA = {
    "return": NOTE,
    "pass_down": NOTE,
    "verify": CHECKS,
    "edit": builders.filled_data(facts="Kronologi dari tab lama."),
}
# (id, starting state, the first request "who:URL name", the second one, the state after
# both). The second comes from an older page of the same officer or of a colleague in the
# same role.
LOSING = [
    ("return-twice", S.KASUBBID_VERIFIED, "kasubbid:return", "kasubbid:return", S.RETURNED_TO_KORLAP),
    ("return-twice-by-a-colleague", S.KASUBBID_VERIFIED, "kasubbid2:return", "kasubbid:return", S.RETURNED_TO_KORLAP),
    ("kabid-returns-twice", S.KABID_VERIFIED, "kabid:return", "kabid:return", S.RETURNED_TO_KASUBBID),
    ("pass-down-twice", S.RETURNED_TO_KASUBBID, "kasubbid:pass_down", "kasubbid:pass_down", S.RETURNED_TO_KORLAP),
    ("kabid-passes-down-twice", S.RETURNED_TO_KABID, "kabid:pass_down", "kabid:pass_down", S.RETURNED_TO_KASUBBID),
    ("pass-down-by-a-colleague", S.RETURNED_TO_KABID, "kabid2:pass_down", "kabid:pass_down", S.RETURNED_TO_KASUBBID),
    ("forward-after-return", S.KASUBBID_VERIFIED, "kasubbid:return", "kasubbid:forward", S.RETURNED_TO_KORLAP),
    ("kabid-forwards-after-return", S.KABID_VERIFIED, "kabid2:return", "kabid:forward", S.RETURNED_TO_KASUBBID),
    ("forward-after-pass-down", S.RETURNED_TO_KABID, "kabid:pass_down", "kabid:forward", S.RETURNED_TO_KASUBBID),
    ("return-after-forward", S.KASUBBID_VERIFIED, "kasubbid:forward", "kasubbid:return", S.AT_KABID),
    ("receive-twice", S.AT_KASUBBID, "kasubbid2:receive", "kasubbid:receive", S.KASUBBID_RECEIVED),
    ("verify-twice", S.KABID_RECEIVED, "kabid2:verify", "kabid:verify", S.KABID_VERIFIED),
    ("approve-after-return", S.KABAN_VERIFIED, "kaban:return", "kaban:approve", S.RETURNED_TO_KABID),
    ("send-twice", S.DRAFT, "coordinator:submit", "coordinator:submit", S.AT_KASUBBID),
    ("edit-after-sending", S.DRAFT, "coordinator:submit", "coordinator:edit", S.AT_KASUBBID),
    ("kabid-edits-after-passing-down", S.RETURNED_TO_KABID, "kabid:pass_down", "kabid:edit", S.RETURNED_TO_KASUBBID),
]


def post(client_for, request: str, report):
    who, url_name = request.split(":")
    return client_for(who).post(reverse(f"reports:{url_name}", args=[report.pk]), DATA.get(url_name, {}))


@pytest.mark.parametrize(("state", "first", "second", "after"), [row[1:] for row in LOSING], ids=[r[0] for r in LOSING])
def test_the_losing_tab_is_told_who_took_the_step_and_when(client_for, colleagues, state, first, second, after):
    report = builders.make_report_in(colleagues, state)
    moves_before = ReportLog.objects.filter(report=report).exclude(to_state="").count()

    won = post(client_for, first, report)
    assert errors(won) == []
    report.refresh_from_db()
    assert report.state == after
    world = snapshot(report)

    lost = post(client_for, second, report)

    assert_told_who_and_when(lost, report, colleagues[first.split(":")[0]])
    report.refresh_from_db()
    assert report.state == after
    assert snapshot(report) == world, "the losing request changed nothing"
    assert ReportLog.objects.filter(report=report).exclude(to_state="").count() == moves_before + 1


@pytest.mark.parametrize(
    ("state", "first", "url_name"),
    [
        (S.KASUBBID_VERIFIED, "return", "return"),
        (S.RETURNED_TO_KABID, "pass_down", "pass_down"),
        (S.KABID_RECEIVED, "verify", "verify"),
    ],
)
def test_an_old_link_to_a_steps_form_is_told_too(client_for, cast, state, first, url_name):
    """The "Kembalikan" / "Turunkan" / "Verifikasi" link of a page loaded before the step."""
    report = builders.make_report_in(cast, state)
    holder = builders.HOLDER_KEY[state]
    builders.act(report, cast, first, holder)
    world = snapshot(report)

    response = client_for(holder).get(reverse(f"reports:{url_name}", args=[report.pk]))

    assert_told_who_and_when(response, report, cast[holder])
    assert snapshot(report) == world


def test_starting_the_report_twice_goes_to_the_report_and_names_who_started_it(client_for, cast):
    lokus = builders.make_field_done_lokus(cast)
    client = client_for("coordinator")
    url = reverse("reports:start", args=[lokus.pk])

    first = client.post(url)
    report = ActivityReport.objects.get(lokus=lokus)
    assert first["Location"] == reverse("reports:edit", args=[report.pk])
    world = snapshot(report)

    second = client.post(url)  # the other tab

    assert_told_who_and_when(second, report, cast["coordinator"], at=report.created_at)
    assert ActivityReport.objects.filter(lokus=lokus).count() == 1
    assert snapshot(report) == world
    assert ReportLog.objects.filter(report=report, action="created").count() == 1
