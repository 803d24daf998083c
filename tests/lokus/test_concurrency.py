"""Two people (or two tabs, or a phone retrying on weak data) doing the same thing at the
same moment: one wins, the other gets a clear refusal, never a server error, and the
database holds the result once.

Needs PostgreSQL: the services lock rows with ``select_for_update()``, which SQLite ignores
(it serialises whole-database writes instead), so a race there would prove nothing."""

import pytest
from django.db import connection

from accounts.models import Notification, User
from core.errors import ActionRefused
from lokus import services
from lokus.enums import AssignmentState, AuditAction, LokusState
from lokus.models import AuditEntry, Lokus, MemberReport
from tests.helpers import as_user, race
from tests.lokus import builders

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: SQLite ignores select_for_update(), so there are no row locks to race on",
    ),
]


def test_two_kasubbids_choose_the_same_plan_at_once(cast, plan):
    wasdin, wasbang = as_user(cast["kasubbid"]), as_user(cast["other_kasubbid"])
    outcomes = race(
        lambda: services.plan_choose(user=wasdin, plan_id=plan.pk),
        lambda: services.plan_choose(user=wasbang, plan_id=plan.pk),
    )

    won = [o for o in outcomes if isinstance(o, Lokus)]
    refused = [o for o in outcomes if isinstance(o, ActionRefused)]
    assert (len(won), len(refused)) == (1, 1), outcomes
    lokus = Lokus.objects.get()
    assert lokus == won[0]
    plan.refresh_from_db()
    assert plan.decided_by_id == lokus.created_by_id
    assert lokus.sub_division_id == User.objects.get(pk=lokus.created_by_id).sub_division_id
    assert AuditEntry.objects.filter(action=AuditAction.PLAN_CHOSEN).count() == 1
    # The partner hears of the choice once.
    assert Notification.objects.filter(recipient=cast["partner"]).count() == 1


def test_the_same_kasubbid_dispatches_twice_at_once(cast, ready_lokus):
    # Two tabs, or a double tap on "Kirim ke tim".
    first, second = as_user(cast["kasubbid"]), as_user(cast["kasubbid"])
    outcomes = race(
        lambda: services.lokus_dispatch(user=first, lokus_id=ready_lokus.pk),
        lambda: services.lokus_dispatch(user=second, lokus_id=ready_lokus.pk),
    )

    assert sorted(type(o).__name__ for o in outcomes) == ["ActionRefused", "Lokus"], outcomes
    ready_lokus.refresh_from_db()
    assert ready_lokus.state == LokusState.DISPATCHED
    assert AuditEntry.objects.filter(action=AuditAction.DISPATCHED).count() == 1
    for name in ("member", "coordinator"):
        assert Notification.objects.filter(recipient=cast[name]).count() == 1, name
    assert as_user(cast["member"]).has_perm("lokus.view_lokus", ready_lokus)


def test_two_members_press_mulai_at_once(cast, team, dispatched_lokus):
    builders.confirm_all(dispatched_lokus, team)
    services.risk_record(user=cast["coordinator"], lokus_id=dispatched_lokus.pk, data=builders.risk_data())
    member, coordinator = as_user(cast["member"]), as_user(cast["coordinator"])
    outcomes = race(
        lambda: services.assignment_check_in(user=member, lokus_id=dispatched_lokus.pk),
        lambda: services.assignment_check_in(user=coordinator, lokus_id=dispatched_lokus.pk),
    )

    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    dispatched_lokus.refresh_from_db()
    assert dispatched_lokus.state == LokusState.RUNNING
    assert set(dispatched_lokus.assignments.values_list("state", flat=True)) == {AssignmentState.CHECKED_IN}
    assert AuditEntry.objects.filter(action=AuditAction.FIELD_STARTED).count() == 1
    assert AuditEntry.objects.filter(action=AuditAction.CHECKED_IN).count() == 2


def test_the_last_two_reports_arrive_at_once(cast, running_lokus):
    member, coordinator = as_user(cast["member"]), as_user(cast["coordinator"])
    outcomes = race(
        lambda: services.member_report_submit(user=member, lokus_id=running_lokus.pk, data=builders.report_data()),
        lambda: services.member_report_submit(user=coordinator, lokus_id=running_lokus.pk, data=builders.report_data()),
    )

    assert all(isinstance(o, MemberReport) for o in outcomes), outcomes
    running_lokus.refresh_from_db()
    assert running_lokus.state == LokusState.FIELD_DONE, "whichever report came last completes the field work"
    assert AuditEntry.objects.filter(action=AuditAction.FIELD_DONE).count() == 1


def test_the_same_report_sent_twice_at_once(cast, running_lokus):
    # A phone on weak data resends the form.
    first, second = as_user(cast["member"]), as_user(cast["member"])
    outcomes = race(
        lambda: services.member_report_submit(user=first, lokus_id=running_lokus.pk, data=builders.report_data()),
        lambda: services.member_report_submit(user=second, lokus_id=running_lokus.pk, data=builders.report_data()),
    )

    assert sorted(type(o).__name__ for o in outcomes) == ["ActionRefused", "MemberReport"], outcomes
    assert MemberReport.objects.count() == 1
    assert AuditEntry.objects.filter(action=AuditAction.MEMBER_REPORTED).count() == 1
