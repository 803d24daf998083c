"""Overdue escalation (monev/escalation.py, ``manage.py escalate_overdue``) with a frozen
clock: the holder is reminded once the step passes its due time, the superior once it
passes twice its standard, nobody before, each reminder once however often the job runs,
and once when two jobs run at the same moment (PostgreSQL)."""

import io
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Notification
from accounts.services import notify
from lokus import services as lokus_services
from lokus.models import StepStandard
from monev.escalation import escalate_overdue
from monev.models import Reminder, ReminderLevel, ReminderSubject
from reports.enums import ReportState
from tests.factories import UserFactory
from tests.helpers import race
from tests.lokus import builders as lokus_builders
from tests.reports import builders as report_builders

pytestmark = pytest.mark.django_db

MINUTE = timedelta(minutes=1)


def minutes(n: int) -> timedelta:
    return timedelta(minutes=n)


def notified(url: str, since: int = 0) -> list[str]:
    """Usernames notified with this link after the notification numbered ``since``."""
    rows = Notification.objects.filter(url=url, pk__gt=since).select_related("recipient")
    return sorted(n.recipient.username for n in rows)


def last_notification() -> int:
    return Notification.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


# Step 2: a plan nobody decided ----------------------------------------------------------------


def test_nothing_before_the_due_time_nor_at_it(cast):
    plan = lokus_builders.make_plan(cast["partner"])
    before = last_notification()

    assert escalate_overdue(now=plan.submitted_at + minutes(59)).reminders == 0
    assert escalate_overdue(now=plan.submitted_at + minutes(60)).reminders == 0  # due, not yet past it

    assert Reminder.objects.count() == 0
    assert last_notification() == before


def test_the_holders_are_reminded_after_the_due_time_and_the_superior_after_twice_the_standard(cast):
    plan = lokus_builders.make_plan(cast["partner"])
    url = reverse("lokus:plan_detail", args=[plan.pk])
    before = last_notification()

    after_due = escalate_overdue(now=plan.submitted_at + minutes(61))

    # Step 2 (60 minutes) is every Kasubbid's: plans have no sub-division yet.
    assert (after_due.holder, after_due.superior, after_due.notified) == (1, 0, 2)
    assert notified(url, before) == ["kasubbid", "kasubbid.lain"]
    reminder = Reminder.objects.get()
    assert (reminder.subject, reminder.object_id, reminder.step, reminder.level) == (
        ReminderSubject.PLAN,
        plan.pk,
        2,
        ReminderLevel.HOLDER,
    )
    assert reminder.started_at == plan.submitted_at
    assert reminder.due_at == plan.submitted_at + minutes(60)
    assert reminder.recipients == 2

    still_within_twice = escalate_overdue(now=plan.submitted_at + minutes(120))
    assert still_within_twice.reminders == 0

    past_twice = escalate_overdue(now=plan.submitted_at + minutes(121))
    assert (past_twice.holder, past_twice.superior) == (0, 1)
    assert notified(url, before) == ["kabid", "kasubbid", "kasubbid.lain"]
    superior = Reminder.objects.get(level=ReminderLevel.SUPERIOR)
    assert superior.due_at == plan.submitted_at + minutes(120)


def test_each_reminder_is_sent_once_however_often_the_job_runs(cast):
    plan = lokus_builders.make_plan(cast["partner"])
    late = plan.submitted_at + timedelta(hours=5)

    first = escalate_overdue(now=late)  # past twice the standard at once: both levels
    notifications = Notification.objects.count()
    second = escalate_overdue(now=late)
    third = escalate_overdue(now=late + timedelta(days=1))

    assert (first.holder, first.superior) == (1, 1)
    assert second.reminders == third.reminders == 0
    assert Notification.objects.count() == notifications
    assert Reminder.objects.count() == 2


def test_a_changed_standard_moves_the_due_time(cast):
    StepStandard.objects.filter(number=2).update(minutes=10)
    plan = lokus_builders.make_plan(cast["partner"])

    assert escalate_overdue(now=plan.submitted_at + minutes(11)).holder == 1


def test_a_decided_plan_is_not_reminded(cast):
    plan = lokus_builders.make_plan(cast["partner"])
    lokus_services.plan_mark_not_chosen(user=cast["kasubbid"], plan_id=plan.pk, reason="Kegiatan rutin.")

    assert escalate_overdue(now=plan.submitted_at + timedelta(days=2)).reminders == 0


# Steps 3-6: the lokus ------------------------------------------------------------------------


def test_step_3_reminds_the_kasubbid_of_the_sub_division_then_the_kabid(cast):
    lokus = lokus_builders.make_chosen_lokus(cast["kasubbid"], cast["partner"])
    url = reverse("lokus:detail", args=[lokus.pk])
    before = last_notification()

    assert escalate_overdue(now=lokus.created_at + minutes(120)).reminders == 0
    assert escalate_overdue(now=lokus.created_at + minutes(121)).holder == 1
    assert notified(url, before) == ["kasubbid"]  # not the other sub-division's Kasubbid
    assert escalate_overdue(now=lokus.created_at + minutes(241)).superior == 1
    assert notified(url, before) == ["kabid", "kasubbid"]


def test_step_4_reminds_the_members_yet_to_confirm_then_their_kasubbid(cast):
    member, coordinator = cast["member"], cast["coordinator"]
    lokus = lokus_builders.make_dispatched_lokus(cast["kasubbid"], cast["partner"], [member, coordinator], coordinator)
    lokus_builders.confirm_all(lokus, [coordinator])
    before = last_notification()

    assert escalate_overdue(now=lokus.dispatched_at + minutes(30)).reminders == 0
    assert escalate_overdue(now=lokus.dispatched_at + minutes(31)).holder == 1
    assert notified(reverse("lokus:assignment", args=[lokus.pk]), before) == ["anggota"]
    assert escalate_overdue(now=lokus.dispatched_at + minutes(61)).superior == 1
    assert notified(reverse("lokus:detail", args=[lokus.pk]), before) == ["kasubbid"]


def test_step_5_is_due_at_the_scheduled_end_and_escalates_after_the_span_again(cast):
    team = [cast["member"], cast["coordinator"]]
    lokus = lokus_builders.make_dispatched_lokus(cast["kasubbid"], cast["partner"], team, cast["coordinator"])
    lokus = lokus_builders.advance_to_running(lokus, team, cast["coordinator"])
    lokus_builders.report_all(lokus, [cast["coordinator"]])
    span = lokus.ends_at - lokus.starts_at  # 4 hours
    before = last_notification()

    assert escalate_overdue(now=lokus.ends_at).reminders == 0
    assert escalate_overdue(now=lokus.ends_at + MINUTE).holder == 1
    # Only the member whose own report is missing.
    assert notified(reverse("lokus:assignment", args=[lokus.pk]), before) == ["anggota"]
    assert escalate_overdue(now=lokus.ends_at + span).reminders == 0
    assert escalate_overdue(now=lokus.ends_at + span + MINUTE).superior == 1
    assert notified(reverse("lokus:detail", args=[lokus.pk]), before) == ["kasubbid"]
    reminder = Reminder.objects.get(level=ReminderLevel.HOLDER)
    assert (reminder.step, reminder.started_at, reminder.due_at) == (5, lokus.starts_at, lokus.ends_at)


def test_step_6_is_one_occurrence_before_and_after_the_korlap_opens_the_report(cast):
    lokus = report_builders.make_field_done_lokus(cast)
    before = last_notification()

    assert escalate_overdue(now=lokus.field_done_at + minutes(121)).holder == 1
    assert notified(reverse("lokus:assignment", args=[lokus.pk]), before) == ["korlap"]

    report = report_builders.start_report(cast, lokus)
    # The draft is the same step 6, started when field work was done: not reminded again.
    assert escalate_overdue(now=lokus.field_done_at + minutes(122)).reminders == 0
    assert escalate_overdue(now=lokus.field_done_at + minutes(241)).superior == 1
    assert notified(reverse("reports:detail", args=[report.pk]), before) == ["kasubbid"]


# Steps 7-15: the report chain --------------------------------------------------------------------


def test_the_kabid_is_reminded_then_the_kepala_badan(cast):
    report = report_builders.make_report_in(cast, ReportState.AT_KABID)
    url = reverse("reports:detail", args=[report.pk])
    before = last_notification()

    assert escalate_overdue(now=report.state_changed_at + minutes(30)).reminders == 0
    assert escalate_overdue(now=report.state_changed_at + minutes(31)).holder == 1  # step 10: 30 minutes
    assert notified(url, before) == ["kabid"]
    assert escalate_overdue(now=report.state_changed_at + minutes(61)).superior == 1
    assert notified(url, before) == ["kaban", "kabid"]


def test_the_kepala_badan_has_no_superior(cast):
    report = report_builders.make_report_in(cast, ReportState.KABAN_RECEIVED)  # step 14: 1 hour
    url = reverse("reports:detail", args=[report.pk])
    before = last_notification()

    counts = escalate_overdue(now=report.state_changed_at + timedelta(days=1))

    assert (counts.holder, counts.superior) == (1, 0)
    assert notified(url, before) == ["kaban"]
    assert escalate_overdue(now=report.state_changed_at + timedelta(days=2)).reminders == 0


def test_a_returned_report_is_a_new_occurrence_of_its_step(cast):
    report = report_builders.make_report(cast)
    url = reverse("reports:detail", args=[report.pk])
    first_round = report.state_changed_at
    assert escalate_overdue(now=first_round + minutes(121)).holder == 1

    report = report_builders.walk(report, ReportState.RETURNED_TO_KORLAP, cast)
    before = last_notification()

    assert report.state_changed_at > first_round
    assert escalate_overdue(now=report.state_changed_at + minutes(120)).reminders == 0
    assert escalate_overdue(now=report.state_changed_at + minutes(121)).holder == 1
    assert notified(url, before) == ["korlap"]
    assert set(Reminder.objects.filter(step=6).values_list("started_at", flat=True)) == {
        first_round,
        report.state_changed_at,
    }


def test_an_approved_report_is_never_reminded(cast):
    report = report_builders.make_report_in(cast, ReportState.APPROVED)

    assert escalate_overdue(now=report.state_changed_at + timedelta(days=30)).reminders == 0


def test_a_role_without_anyone_in_it_is_tried_again_at_the_next_run(cast):
    lokus = lokus_builders.make_chosen_lokus(cast["kasubbid"], cast["partner"])
    cast["kasubbid"].is_active = False
    cast["kasubbid"].save()

    assert escalate_overdue(now=lokus.created_at + minutes(121)).reminders == 0
    cast["kasubbid"].is_active = True
    cast["kasubbid"].save()
    assert escalate_overdue(now=lokus.created_at + minutes(122)).holder == 1


# The command, the clock and the cost ------------------------------------------------------------


def test_the_command_uses_the_current_time(cast):
    plan = lokus_builders.make_plan(cast["partner"])
    out = io.StringIO()

    with time_machine.travel(plan.submitted_at + minutes(30), tick=False):
        call_command("escalate_overdue", stdout=out)
    with time_machine.travel(plan.submitted_at + minutes(90), tick=False):
        call_command("escalate_overdue", stdout=out)
        call_command("escalate_overdue", stdout=out)

    assert out.getvalue().splitlines() == [
        "Overdue reminders sent: 0 to holders, 0 to superiors (0 notifications).",
        "Overdue reminders sent: 1 to holders, 0 to superiors (2 notifications).",
        "Overdue reminders sent: 0 to holders, 0 to superiors (0 notifications).",
    ]
    assert Reminder.objects.get().sent_at == plan.submitted_at + minutes(90)


def _notify_cost(users) -> int:
    """The queries of one ``notify`` to these users (rolled back): its own affair."""
    with transaction.atomic():
        with CaptureQueriesContext(connection) as captured:
            notify(users, "Uji", url="/uji/")
        transaction.set_rollback(True)
    return len(captured)


def _measure(cast, now) -> tuple[int, int]:
    """The queries one run costs beyond its notifications, and the reminders it sent."""
    # notify costs a + b per recipient (its inserts are bulk, its jobs may be one per mail).
    one, two = _notify_cost([cast["kabid"]]), _notify_cost([cast["kabid"], cast["kaban"]])
    newest = Reminder.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    with CaptureQueriesContext(connection) as captured:
        counts = escalate_overdue(now=now)
    sent = Reminder.objects.filter(pk__gt=newest)
    notifications = sum(one + (r.recipients - 1) * (two - one) for r in sent)
    assert sent.count() == counts.reminders
    return len(captured) - notifications, counts.reminders


def _overdue_things(cast, n: int) -> None:
    """n plans, n lokus being composed and n reports at the Kabid, made now."""
    for _i in range(n):
        lokus_builders.make_plan(cast["partner"])
        lokus_builders.make_chosen_lokus(cast["kasubbid"], cast["partner"])
        report_builders.make_report_in(cast, ReportState.AT_KABID)


def test_the_cost_does_not_grow_with_the_data(cast):
    """With 1 or 3 of each kind of overdue step, a run costs the same few queries besides
    the notifications it sends, whether it sends reminders or has nothing left to send."""
    _overdue_things(cast, 1)
    late = timezone.now() + minutes(65)  # plans past 60 minutes, the Kabid past twice 30
    one_sending, one_sent = _measure(cast, late)
    one_idle, nothing = _measure(cast, late)
    assert (one_sent, nothing) == (3, 0)

    _overdue_things(cast, 2)
    later = timezone.now() + minutes(65)
    many_sending, many_sent = _measure(cast, later)
    many_idle, nothing = _measure(cast, later)

    assert (many_sent, nothing) == (6, 0)
    assert many_idle == one_idle
    assert many_sending == one_sending


def test_the_admin_shows_the_reminders_read_only(client, cast):
    plan = lokus_builders.make_plan(cast["partner"])
    escalate_overdue(now=plan.submitted_at + minutes(61))
    reminder = Reminder.objects.get()
    boss = UserFactory(username="super", is_staff=True, is_superuser=True)
    client.force_login(boss)

    listed = client.get(reverse("admin:monev_reminder_changelist"))
    shown = client.get(reverse("admin:monev_reminder_change", args=[reminder.pk]))
    posted = client.post(reverse("admin:monev_reminder_change", args=[reminder.pk]), {"step": 9})

    assert listed.status_code == shown.status_code == 200
    assert list(listed.context["cl"].result_list) == [reminder]
    assert plan.title not in listed.content.decode()  # numbers and times, no content
    assert client.get(reverse("admin:monev_reminder_add")).status_code == 403
    assert client.get(reverse("admin:monev_reminder_delete", args=[reminder.pk])).status_code == 403
    assert posted.status_code == 403
    reminder.refresh_from_db()
    assert reminder.step == 2


# Two jobs at the same moment (PostgreSQL) -------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL: SQLite serialises whole-database writes, so there is no race to lose",
)
def test_two_jobs_at_the_same_moment_send_each_reminder_once(cast):
    plan = lokus_builders.make_plan(cast["partner"])
    report = report_builders.make_report_in(cast, ReportState.AT_KABID)
    late = max(plan.submitted_at, report.state_changed_at) + timedelta(hours=3)
    before, newest = Notification.objects.count(), last_notification()

    outcomes = race(lambda: escalate_overdue(now=late), lambda: escalate_overdue(now=late))

    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    # Plan: holder and superior; report at the Kabid: holder and superior.
    assert sum(o.reminders for o in outcomes) == 4
    assert Reminder.objects.count() == 4
    assert Notification.objects.count() - before == sum(o.notified for o in outcomes) == 2 + 1 + 1 + 1
    assert notified(reverse("reports:detail", args=[report.pk]), newest) == ["kaban", "kabid"]
