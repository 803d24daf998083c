"""The same report step taken twice at the same moment (two tabs, a double tap, a retry on
weak data): one wins, the other gets a clear refusal, never a server error, and the log
holds the step once.

Needs PostgreSQL: the services lock the report with ``select_for_update()``, which SQLite
ignores (it serialises whole-database writes instead), so a race there would prove nothing."""

import pytest
from django.db import connection

from accounts.models import Notification
from core.errors import ActionRefused
from reports import services
from reports.enums import ReportAction, ReportState
from reports.models import ActivityReport, ReportLog, ReportVerification
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


def one_won(outcomes) -> None:
    assert sorted(type(o).__name__ for o in outcomes) == ["ActionRefused", "ActivityReport"], outcomes


def test_the_kasubbid_receives_in_two_tabs_at_once(cast, reference_data):
    report = builders.make_report_in(cast, S.AT_KASUBBID)
    first, second = as_user(cast["kasubbid"]), as_user(cast["kasubbid"])

    outcomes = race(
        lambda: services.report_receive(user=first, report_id=report.pk),
        lambda: services.report_receive(user=second, report_id=report.pk),
    )

    one_won(outcomes)
    assert isinstance(next(o for o in outcomes if isinstance(o, Exception)), ActionRefused)
    report.refresh_from_db()
    assert report.state == S.KASUBBID_RECEIVED
    assert ReportLog.objects.filter(report=report, action=ReportAction.RECEIVED).count() == 1


def test_the_kepala_badan_approves_twice_at_once(cast, reference_data):
    report = builders.make_report_in(cast, S.KABAN_VERIFIED)
    notified = Notification.objects.count()
    first, second = as_user(cast["kaban"]), as_user(cast["kaban"])

    outcomes = race(
        lambda: services.report_approve(user=first, report_id=report.pk),
        lambda: services.report_approve(user=second, report_id=report.pk),
    )

    one_won(outcomes)
    report.refresh_from_db()
    assert report.state == S.APPROVED
    assert report.approved_at is not None
    assert ReportLog.objects.filter(report=report, action=ReportAction.APPROVED).count() == 1
    # The Korlap, the Kasubbid and the Kabid hear of the approval once each.
    assert Notification.objects.count() == notified + 3


def test_the_korlap_sends_twice_at_once(cast, reference_data):
    report = builders.make_report(cast)
    notified = Notification.objects.filter(recipient=cast["kasubbid"]).count()
    first, second = as_user(cast["coordinator"]), as_user(cast["coordinator"])

    outcomes = race(
        lambda: services.report_submit(user=first, report_id=report.pk),
        lambda: services.report_submit(user=second, report_id=report.pk),
    )

    one_won(outcomes)
    assert ActivityReport.objects.get(pk=report.pk).state == S.AT_KASUBBID
    assert ReportLog.objects.filter(report=report, action=ReportAction.SUBMITTED).count() == 1
    assert Notification.objects.filter(recipient=cast["kasubbid"]).count() == notified + 1


def test_forward_and_return_at_once_one_of_them_wins(cast, reference_data):
    # The Kasubbid forwards in one tab and returns in another.
    report = builders.make_report_in(cast, S.KASUBBID_VERIFIED)
    first, second = as_user(cast["kasubbid"]), as_user(cast["kasubbid"])

    outcomes = race(
        lambda: services.report_forward(user=first, report_id=report.pk),
        lambda: services.report_return(user=second, report_id=report.pk, note="Lengkapi kronologi."),
    )

    one_won(outcomes)
    report.refresh_from_db()
    moves = list(
        ReportLog.objects.filter(report=report, action__in=[ReportAction.FORWARDED, ReportAction.RETURNED]).values_list(
            "action", "to_state"
        )
    )
    assert len(moves) == 1
    assert moves[0][1] == report.state
    assert report.state in (S.AT_KABID, S.RETURNED_TO_KORLAP)
    assert report.revision_round == (2 if report.state == S.RETURNED_TO_KORLAP else 1)


def test_two_verifications_at_once_keep_one_record(cast, reference_data):
    report = builders.make_report_in(cast, S.KASUBBID_RECEIVED)
    first, second = as_user(cast["kasubbid"]), as_user(cast["kasubbid"])

    outcomes = race(
        lambda: services.report_verify(user=first, report_id=report.pk, checks=builders.ALL_CHECKS),
        lambda: services.report_verify(user=second, report_id=report.pk, checks=builders.ALL_CHECKS),
    )

    assert sorted(type(o).__name__ for o in outcomes) == ["ActionRefused", "ReportVerification"], outcomes
    assert ActivityReport.objects.get(pk=report.pk).state == S.KASUBBID_VERIFIED
    assert ReportVerification.objects.filter(report=report).count() == 1
