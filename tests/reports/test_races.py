"""Races that used to answer 403 to the loser: the same step by two holders of the same role at
once, a forward and a return at once, and a report started in two tabs at once. The loser
gets ActionRefused naming the winner, never PermissionDenied; the log holds the step once.

Needs PostgreSQL, as tests/reports/test_concurrency.py (SQLite ignores the row locks)."""

import pytest
from django.db import connection

from accounts.enums import Role
from core.errors import ActionRefused
from reports import services
from reports.enums import ReportAction, ReportState
from reports.models import ActivityReport, ReportLog
from tests.factories import UserFactory
from tests.helpers import as_user, race
from tests.reports import builders

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: SQLite ignores select_for_update(), so there are no row locks to race on",
    ),
]

S = ReportState


def winner_and_refusal(outcomes, users):
    """The user whose call returned, and the loser's refusal."""
    won = [i for i, o in enumerate(outcomes) if isinstance(o, ActivityReport)]
    assert len(won) == 1 and isinstance(outcomes[1 - won[0]], ActionRefused), outcomes
    return users[won[0]], outcomes[1 - won[0]]


def test_two_kabids_pass_the_report_down_at_once(cast, reference_data):
    # After the pass-down the step is open to the Kasubbid: the loser used to get 403.
    report = builders.make_report_in(cast, S.RETURNED_TO_KABID)
    second_kabid = UserFactory(username="kabid.dua", full_name="Rahmat Kabid Kedua", roles=[Role.KABID])
    users = [as_user(cast["kabid"]), as_user(second_kabid)]

    outcomes = race(
        *(lambda u=u: services.report_pass_down(user=u, report_id=report.pk, note="Kasubbid, perbaiki.") for u in users)
    )

    winner, refusal = winner_and_refusal(outcomes, users)
    assert winner.full_name in refusal.message
    assert ActivityReport.objects.get(pk=report.pk).state == S.RETURNED_TO_KASUBBID
    assert ReportLog.objects.filter(report=report, action=ReportAction.PASSED_DOWN).count() == 1


def test_the_kabid_forwards_and_returns_at_once(cast, reference_data):
    report = builders.make_report_in(cast, S.KABID_VERIFIED)
    users = [as_user(cast["kabid"]), as_user(cast["kabid"])]

    outcomes = race(
        lambda: services.report_forward(user=users[0], report_id=report.pk),
        lambda: services.report_return(user=users[1], report_id=report.pk, note="Analisis dipertajam."),
    )

    _winner, refusal = winner_and_refusal(outcomes, users)
    assert cast["kabid"].full_name in refusal.message
    report.refresh_from_db()
    assert report.state in (S.AT_KABAN, S.RETURNED_TO_KASUBBID)
    moves = ReportLog.objects.filter(report=report, from_state=S.KABID_VERIFIED)
    assert list(moves.values_list("to_state", flat=True)) == [report.state]


def test_the_korlap_starts_the_report_in_two_tabs_at_once(cast, reference_data):
    lokus = builders.make_field_done_lokus(cast)
    users = [as_user(cast["coordinator"]), as_user(cast["coordinator"])]

    outcomes = race(*(lambda u=u: services.report_start(user=u, lokus_id=lokus.pk) for u in users))

    _winner, refusal = winner_and_refusal(outcomes, users)
    assert isinstance(refusal, services.ReportAlreadyStarted)
    report = ActivityReport.objects.get(lokus=lokus)
    assert refusal.report_id == report.pk
    assert cast["coordinator"].full_name in refusal.message
    assert ReportLog.objects.filter(report=report, action=ReportAction.CREATED).count() == 1
