"""Field work ends (lokus RUNNING -> FIELD_DONE) through one service,
``lokus.services.lokus_complete_field_work``, from both ends of step 5: the last member's own
report, and the Korlap sending the team report with a member excused (reports.services).
Either way the lokus's timeline gets exactly one FIELD_DONE entry."""

import pytest
from django.db.transaction import TransactionManagementError
from django.utils import timezone

from lokus import services
from lokus.enums import AuditAction, LokusState
from lokus.models import AuditEntry, Lokus
from reports import services as report_services
from tests.lokus import builders
from tests.reports import builders as report_builders


def field_done_entries(lokus: Lokus) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(lokus=lokus, action=AuditAction.FIELD_DONE))


def assert_done_once(lokus: Lokus, actor) -> None:
    lokus.refresh_from_db()
    assert lokus.state == LokusState.FIELD_DONE
    assert lokus.field_done_at is not None
    [entry] = field_done_entries(lokus)
    assert (entry.actor, entry.plan, entry.lokus) == (actor, lokus.plan, lokus)
    assert (entry.from_state, entry.to_state) == (LokusState.RUNNING, LokusState.FIELD_DONE)


@pytest.mark.django_db
def test_the_last_member_report_completes_the_field_work_once(cast):
    lokus = report_builders.make_running_lokus(cast)
    builders.report_all(lokus, [cast["coordinator"]])
    assert lokus.state == LokusState.RUNNING
    assert field_done_entries(lokus) == []

    builders.report_all(lokus, [cast["member"]])

    assert_done_once(lokus, cast["member"])


@pytest.mark.django_db
def test_the_team_report_sent_with_a_member_excused_completes_the_field_work_once(cast):
    report = report_builders.make_report_with_missing_member(cast)
    lokus, korlap = report.lokus, cast["coordinator"]
    missing = lokus.assignments.get(member=cast["member"])
    report_services.report_excuse(user=korlap, report_id=report.pk, assignment_id=missing.pk, reason="Sakit")

    report_services.report_submit(user=korlap, report_id=report.pk)

    assert_done_once(lokus, korlap)
    # The excused member's own report still comes in late: field work does not end twice.
    services.member_report_submit(user=cast["member"], lokus_id=lokus.pk, data=builders.report_data())
    assert_done_once(lokus, korlap)


@pytest.mark.django_db
def test_a_team_report_sent_after_every_member_reported_adds_no_second_entry(cast):
    report = report_builders.make_report(cast)  # the member, then the Korlap, reported

    report_services.report_submit(user=cast["coordinator"], report_id=report.pk)

    assert_done_once(report.lokus, cast["coordinator"])


@pytest.mark.django_db
def test_field_work_that_is_not_running_is_left_alone(cast, dispatched_lokus):
    done = services.lokus_complete_field_work(user=cast["kasubbid"], lokus_id=dispatched_lokus.pk, at=timezone.now())

    assert done is False
    dispatched_lokus.refresh_from_db()
    assert dispatched_lokus.state == LokusState.DISPATCHED
    assert dispatched_lokus.field_done_at is None
    assert field_done_entries(dispatched_lokus) == []


def test_it_runs_only_inside_the_callers_transaction():
    """It locks the lokus for the caller's step, so it refuses to run on its own (no
    database access is needed to find that out)."""
    with pytest.raises(TransactionManagementError):
        services.lokus_complete_field_work(user=None, lokus_id=1, at=timezone.now())
