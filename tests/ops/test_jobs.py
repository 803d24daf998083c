"""Background jobs (accounts.tasks, home.tasks, manage.py run_periodic).

In this process: the e-mail of a notification is queued in the caller's transaction, retried
with back-off against a mail server that refuses, marked failed after the last retry and sent
again from the admin; a job never sends a mail twice; the sweep gives lost mail a new job; the
scheduler enqueues each periodic job once per time slot however many schedulers run.

On PostgreSQL, with real ``manage.py db_worker`` processes and a real SMTP server (aiosmtpd
on a free 127.0.0.1 port): while the mail server is down an action that notifies still
succeeds and its mail waits; once the server is up every message arrives exactly once;
urgent mail goes first; a worker killed in the middle of a mail loses nothing."""

import asyncio
import email
import email.policy
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from accounts import services
from accounts.enums import MailStatus
from accounts.models import Notification, OutgoingMail
from accounts.tasks import URGENT_PRIORITY, _error_text, deliver_mail, requeue_overdue_mail
from home import tasks as periodic
from home.management.commands.run_periodic import JOBS, enqueue_due
from reports.enums import ReportState
from tests.factories import UserFactory
from tests.helpers import race
from tests.reports import builders as report_builders

ROOT = Path(__file__).resolve().parents[2]
DATABASE_BACKEND = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
DELIVER = deliver_mail.module_path
WAIT = 60  # seconds; a guard against a hung worker, never waited for when things work

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="a real db_worker process needs a database another process can open: PostgreSQL "
    "(DATABASE_URL); the SQLite test database lives in memory",
)


@pytest.fixture
def jobs_in_database(settings):
    """The production set-up: jobs are rows of the database, run by db_worker processes."""
    settings.TASKS = DATABASE_BACKEND


def people(n: int, prefix: str = "penerima") -> list:
    return [UserFactory(username=f"{prefix}{i}") for i in range(n)]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(condition, what: str, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting: {what}")
        time.sleep(0.1)


# The e-mail job in this process ---------------------------------------------------------------------


def test_notify_writes_the_mail_and_its_job_in_the_callers_transaction(db, jobs_in_database, mailoutbox):
    normal, urgent = people(2), people(1, "mendesak")
    with transaction.atomic():
        services.notify(normal, "Laporan diteruskan", url="/laporan/1/")
        services.notify(urgent, "Eskalasi", url="/lokus/2/", urgent=True)
        # Inside the transaction already: the mail and its job are rows of the same commit.
        assert OutgoingMail.objects.count() == 3
        assert DBTaskResult.objects.filter(task_path=DELIVER).count() == 3

    mails = {m.address: m for m in OutgoingMail.objects.all()}
    assert set(mails) == {user.email for user in normal + urgent}
    assert all(m.status == MailStatus.QUEUED and m.attempts == 0 for m in mails.values())
    jobs = {job.args_kwargs["args"][0]: job for job in DBTaskResult.objects.filter(task_path=DELIVER)}
    assert set(jobs) == {m.pk for m in mails.values()}, "one job per mail"
    assert jobs[mails[urgent[0].email].pk].priority == URGENT_PRIORITY, "urgent mail is taken first"
    assert {jobs[mails[u.email].pk].priority for u in normal} == {0}
    assert mailoutbox == [], "the request sends nothing: a worker does"


@pytest.mark.parametrize("backend", ["database", "in process"])
def test_a_rolled_back_action_sends_nothing(db, settings, mailoutbox, django_capture_on_commit_callbacks, backend):
    if backend == "database":
        settings.TASKS = DATABASE_BACKEND
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        services.notify(people(2), "Laporan diteruskan", url="/laporan/1/")
        raise RuntimeError("the action fails after notifying")
    assert not Notification.objects.exists()
    assert not OutgoingMail.objects.exists()
    assert not DBTaskResult.objects.exists()
    assert mailoutbox == []


def test_in_process_jobs_send_after_the_commit(db, mailoutbox, django_capture_on_commit_callbacks):
    """The tests' backend: the job runs right after the commit, so mail.outbox still works."""
    with django_capture_on_commit_callbacks(execute=False) as callbacks, transaction.atomic():
        services.notify(people(2), "Laporan diteruskan", url="/laporan/1/")
    assert mailoutbox == []
    assert len(callbacks) == 1
    callbacks[0]()
    assert sorted(m.to[0] for m in mailoutbox) == ["penerima0@uji.invalid", "penerima1@uji.invalid"]
    assert all("/laporan/1/" in m.body for m in mailoutbox)
    sent = OutgoingMail.objects.all()
    assert {(m.status, m.attempts) for m in sent} == {(MailStatus.SENT, 1)}
    assert all(m.sent_at is not None for m in sent)


@pytest.fixture
def mail_server_down(settings):
    """A real SMTP connection to a local port where nothing listens: refused at once."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    settings.MAIL_RETRY_SECONDS = [60, 5 * 60, 15 * 60, 60 * 60]


def test_a_refused_mail_is_retried_after_1_5_15_and_60_minutes_then_failed(db, jobs_in_database, mail_server_down):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        services.notify(people(1), "Eskalasi", url="/lokus/2/", urgent=True)
        mail_row = OutgoingMail.objects.get()
        for attempt, delay in enumerate([60, 5 * 60, 15 * 60, 60 * 60], start=1):
            assert deliver_mail.call(mail_row.pk) == MailStatus.QUEUED
            mail_row.refresh_from_db()
            assert mail_row.attempts == attempt
            assert mail_row.next_attempt_at == timezone.now() + timedelta(seconds=delay)
            assert mail_row.last_error.startswith("ConnectionRefusedError")
            # The retry's job waits for its time, and stays urgent.
            retry = DBTaskResult.objects.get(task_path=DELIVER, run_after=mail_row.next_attempt_at)
            assert retry.priority == URGENT_PRIORITY
            # A job that comes too early (a duplicate) does not try before the time.
            assert deliver_mail.call(mail_row.pk) == "not due"
            mail_row.refresh_from_db()
            assert mail_row.attempts == attempt
            clock.move_to(mail_row.next_attempt_at)
        jobs_before = DBTaskResult.objects.count()
        assert deliver_mail.call(mail_row.pk) == MailStatus.FAILED

    mail_row.refresh_from_db()
    assert mail_row.status == MailStatus.FAILED
    assert mail_row.attempts == 5
    assert "Connection refused" in mail_row.last_error
    assert DBTaskResult.objects.count() == jobs_before, "no retry after the last"
    assert deliver_mail.call(mail_row.pk) == MailStatus.FAILED, "a failed mail is not tried by an old job"


def test_the_error_kept_for_the_administrator_holds_no_password(settings):
    settings.EMAIL_HOST_PASSWORD = "rahasia-smtp-123"
    text = _error_text(OSError("login as lokus with rahasia-smtp-123 refused"))
    assert "rahasia-smtp-123" not in text
    assert text.startswith("OSError: ")
    assert len(_error_text(OSError("x" * 1000))) == 300


def test_a_sent_mail_is_never_sent_again(db, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.notify(people(1), "Laporan diteruskan", url="/laporan/1/")
    sent = OutgoingMail.objects.get()
    assert len(mailoutbox) == 1
    for _ in range(3):  # a retried, duplicated or replayed job
        assert deliver_mail.call(sent.pk) == MailStatus.SENT
    assert len(mailoutbox) == 1
    sent.refresh_from_db()
    assert sent.attempts == 1


def test_the_sweep_gives_lost_mail_a_new_job(db, jobs_in_database, settings):
    settings.MAIL_SWEEP_AFTER_SECONDS = 300
    services.notify(people(3), "Laporan diteruskan", url="/laporan/1/")
    lost, late, fresh = OutgoingMail.objects.order_by("pk")
    now = timezone.now()
    # Its job vanished (a worker killed in the middle of it) long ago; the other only just.
    DBTaskResult.objects.all().delete()
    OutgoingMail.objects.filter(pk=lost.pk).update(next_attempt_at=now - timedelta(seconds=301))
    OutgoingMail.objects.filter(pk=late.pk).update(next_attempt_at=now - timedelta(seconds=200))

    assert requeue_overdue_mail(now) == 1
    jobs = list(DBTaskResult.objects.filter(task_path=DELIVER))
    assert [job.args_kwargs["args"] for job in jobs] == [[lost.pk]]
    lost.refresh_from_db()
    assert lost.next_attempt_at == now, "the new job is due now, and the next sweep leaves it alone"
    assert requeue_overdue_mail(now) == 0
    fresh.refresh_from_db()
    assert fresh.status == MailStatus.QUEUED


def lost_mail() -> OutgoingMail:
    """A queued mail whose job was lost an hour ago (nothing sent it)."""
    user = UserFactory()
    row = OutgoingMail.objects.create(recipient=user, address=user.email, subject="Lokus: Uji", body="Buka Lokus")
    OutgoingMail.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now() - timedelta(hours=1))
    return row


def test_the_sweep_sends_lost_mail_with_the_in_process_backend(db, mailoutbox, django_capture_on_commit_callbacks):
    row = lost_mail()
    with django_capture_on_commit_callbacks(execute=True):
        assert requeue_overdue_mail() == 1
    assert [m.to for m in mailoutbox] == [[row.address]]


# The administrator's list and "send again" -----------------------------------------------------


def failed_mail(user, subject="Lokus: Rencana kegiatan rahasia") -> OutgoingMail:
    row = OutgoingMail.objects.create(recipient=user, address=user.email, subject=subject, body="Buka Lokus")
    OutgoingMail.objects.filter(pk=row.pk).update(status=MailStatus.FAILED, attempts=5, last_error="SMTPError: 451")
    row.refresh_from_db()
    return row


def test_the_administrator_sees_failed_mail_and_sends_it_again(
    client_for, cast, mailoutbox, django_capture_on_commit_callbacks
):
    failed = failed_mail(cast["kasubbid"])
    with django_capture_on_commit_callbacks(execute=True):
        services.notify([cast["kabid"]], "Laporan diteruskan", url="/laporan/1/")
    sent = OutgoingMail.objects.get(status=MailStatus.SENT)
    mailoutbox.clear()
    client = client_for("admin")
    changelist = reverse("admin:accounts_outgoingmail_changelist")

    page = client.get(changelist, {"status__exact": "failed"})
    assert page.status_code == 200
    assert [row.pk for row in page.context["cl"].result_list] == [failed.pk]
    assert "send_again" in page.context["action_form"].fields["action"].choices[1]
    content = page.content.decode()
    assert failed.address in content
    assert "Rencana kegiatan rahasia" not in content, "the subject names field content: not shown"
    assert (
        "Rencana kegiatan rahasia"
        not in client.get(reverse("admin:accounts_outgoingmail_change", args=[failed.pk])).content.decode()
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(changelist, {"action": "send_again", "_selected_action": [failed.pk, sent.pk]})

    assert response.status_code == 302
    failed.refresh_from_db()
    sent.refresh_from_db()
    assert failed.status == MailStatus.SENT and failed.attempts == 1 and failed.last_error == ""
    assert [m.to for m in mailoutbox] == [[cast["kasubbid"].email]], "only the failed one, once"
    assert sent.attempts == 1


def test_send_again_queues_a_fresh_round_of_attempts(db, jobs_in_database):
    user = UserFactory()
    row = failed_mail(user)
    assert services.mail_send_again([row.pk]) == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == (MailStatus.QUEUED, 0)
    assert [job.args_kwargs["args"] for job in DBTaskResult.objects.filter(task_path=DELIVER)] == [[row.pk]]
    assert services.mail_send_again([row.pk]) == 0, "a queued mail is left alone"


@pytest.mark.parametrize("role", ["kasubbid", "kaban", "member"])
def test_other_roles_have_no_mail_list(client_for, cast, role):
    failed = failed_mail(cast["kabid"])
    client = client_for(role)
    changelist = reverse("admin:accounts_outgoingmail_changelist")
    assert client.get(changelist).status_code in (302, 403)
    client.post(changelist, {"action": "send_again", "_selected_action": [failed.pk]})
    failed.refresh_from_db()
    assert failed.status == MailStatus.FAILED


# The scheduler ----------------------------------------------------------------------------------


def test_each_periodic_job_is_enqueued_once_per_slot(db, jobs_in_database):
    moment = timezone.now().replace(minute=7, second=30, microsecond=0)
    first = enqueue_due(moment)
    assert first == {job.name: True for job in JOBS}
    # A second scheduler (or the same one again) in the same minute adds nothing.
    assert enqueue_due(moment + timedelta(seconds=20)) == {job.name: False for job in JOBS}
    # A minute later only the heartbeat's slot is new; the 5-minute and daily ones are not.
    later = enqueue_due(moment + timedelta(minutes=1))
    assert [name for name, new in later.items() if new] == ["heartbeat"]
    counts = {job.name: DBTaskResult.objects.filter(task_path=job.task.module_path).count() for job in JOBS}
    assert counts == {"heartbeat": 2, "mail sweep": 1, "escalation": 1, "prune job results": 1, "monev occurrences": 1}
    slot = DBTaskResult.objects.filter(task_path=periodic.escalate_overdue.module_path).get().run_after
    assert slot == moment.replace(minute=5, second=0), "the job carries the start of its slot"


def test_run_periodic_runs_the_jobs_in_process_without_a_queue(db, mailoutbox, django_capture_on_commit_callbacks):
    row = lost_mail()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("run_periodic", verbosity=0)
    assert [m.to for m in mailoutbox] == [[row.address]], "the mail sweep ran"


def test_the_escalation_job_runs_monev_escalation(db):
    pytest.importorskip("monev.escalation")
    outcome = periodic.escalate_overdue.call()
    assert set(outcome) >= {"holder", "superior", "notified"}
    assert outcome == dict.fromkeys(outcome, 0), "nothing is overdue in an empty database"


@postgres_only
def test_two_schedulers_at_once_enqueue_each_job_once(transactional_db, jobs_in_database):
    moment = timezone.now().replace(second=10, microsecond=0)
    outcomes = race(*[lambda: enqueue_due(moment)] * 3)
    assert not any(isinstance(outcome, Exception) for outcome in outcomes), outcomes
    for job in JOBS:
        assert [outcome[job.name] for outcome in outcomes].count(True) == 1, job.name
        assert DBTaskResult.objects.filter(task_path=job.task.module_path).count() == 1


# Real workers and a real mail server (PostgreSQL) --------------------------------------------------


class MailServer:
    """aiosmtpd on 127.0.0.1:port, in a thread. Keeps every message it accepted. With
    ``stall`` set it holds each conversation at RCPT, before any message is taken."""

    def __init__(self, port: int):
        self.port = port
        self.messages: list[tuple[tuple[str, ...], str]] = []
        self.stall = threading.Event()
        self.rcpt_seen = threading.Event()
        self._lock = threading.Lock()
        self._controller = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.rcpt_seen.set()
        while self.stall.is_set():
            await asyncio.sleep(0.05)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self.messages.append((tuple(envelope.rcpt_tos), str(message["Subject"])))
        return "250 Message accepted for delivery"

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self.stall.clear()
            self._controller.stop()
            self._controller = None

    def received(self) -> list[str]:
        with self._lock:
            return sorted(address for rcpt, _subject in self.messages for address in rcpt)


class Workers:
    """``manage.py db_worker`` processes on the test database, sending to the mail server's
    port with one-second retries; stopped (or killed) by pid."""

    def __init__(self, port: int, folder: Path):
        database_url = urlsplit(os.environ["DATABASE_URL"])._replace(path="/" + connection.settings_dict["NAME"])
        self.env = {
            **{k: v for k, v in os.environ.items() if k not in ("DJANGO_MODE", "TASKS_BACKEND")},
            "DATABASE_URL": database_url.geturl(),
            "EMAIL_URL": f"smtp://127.0.0.1:{port}",
            "EMAIL_TIMEOUT": "30",
            "MAIL_RETRY_SECONDS": "1,1,1,1,1,1,1,1,1,1",
            "MEDIA_ROOT": str(folder / "media"),
            "PYTHONUNBUFFERED": "1",
        }
        self.folder = folder
        self.running: list[subprocess.Popen] = []

    def start(self) -> subprocess.Popen:
        log = open(self.folder / f"worker-{len(self.running)}.log", "w")  # noqa: SIM115 (the process keeps it)
        command = [sys.executable, "manage.py", "db_worker", "--no-reload", "--no-startup-delay", "--interval=0.1"]
        process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.running.append(process)
        return process

    def kill(self, process: subprocess.Popen) -> None:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=WAIT)

    def stop_all(self) -> None:
        for process in self.running:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()

    def logs(self) -> str:
        return "\n".join(path.read_text() for path in sorted(self.folder.glob("worker-*.log")))


@pytest.fixture
def smtp(request):
    server = MailServer(free_port())
    yield server
    server.stop()


@pytest.fixture
def workers(transactional_db, jobs_in_database, smtp, tmp_path):
    pool = Workers(smtp.port, tmp_path)
    yield pool
    pool.stop_all()


def pending_deliveries(but=()) -> bool:
    """Whether a delivery job waits or runs (``but``: jobs of a killed worker, which stay
    marked running)."""
    jobs = DBTaskResult.objects.filter(task_path=DELIVER, status__in=["READY", "RUNNING"])
    return jobs.exclude(id__in=list(but)).exists()


def statuses() -> set:
    return set(OutgoingMail.objects.values_list("status", flat=True))


@postgres_only
def test_mail_waits_while_the_server_is_down_and_then_arrives_exactly_once(cast, workers, smtp, mailoutbox):
    report = report_builders.make_report_in(cast, ReportState.KASUBBID_VERIFIED)
    OutgoingMail.objects.all().delete()  # the walk's mail; their jobs find nothing to send
    workers.start()

    # The mail server is down: the forward still succeeds, its mail waits in the queue.
    forwarded = report_builders.act(report, cast, "forward", "kasubbid", note="Mohon arahan.")
    assert forwarded.state == ReportState.AT_KABID
    with transaction.atomic():
        services.notify(
            [cast["kaban"], cast["kasubbid"]], "Eskalasi: laporan terlambat", url="/laporan/1/", urgent=True
        )
        services.notify([cast["member"], cast["coordinator"]], "Laporan diteruskan", url="/laporan/1/")
    expected = sorted(cast[who].email for who in ("kabid", "kaban", "kasubbid", "member", "coordinator"))
    assert sorted(OutgoingMail.objects.values_list("address", flat=True)) == expected

    wait_until(lambda: not OutgoingMail.objects.filter(attempts=0).exists(), "every mail tried against the closed port")
    assert statuses() == {MailStatus.QUEUED}, "a refused mail waits for its retry"
    assert all("Connection refused" in e for e in OutgoingMail.objects.values_list("last_error", flat=True))
    # A duplicated job per mail, as a replay or a second sweep would make.
    for row in OutgoingMail.objects.all():
        deliver_mail.enqueue(row.pk)

    smtp.start()
    wait_until(lambda: statuses() == {MailStatus.SENT}, "every mail sent once the server is up")
    wait_until(lambda: not pending_deliveries(), "every job done, the duplicates too")

    assert smtp.received() == expected, "each message exactly once"
    assert mailoutbox == [], "sent by the worker over SMTP, not by this process"
    subjects = {subject for _rcpt, subject in smtp.messages}
    assert any(report.lokus.plan.title in subject for subject in subjects)


@postgres_only
def test_urgent_mail_is_sent_first(workers, smtp):
    smtp.start()
    with transaction.atomic():
        services.notify(people(3, "biasa"), "Laporan diteruskan", url="/laporan/1/")
        services.notify(people(2, "mendesak"), "Eskalasi", url="/lokus/2/", urgent=True)
    workers.start()  # one worker, a queue of five: the order is the queue's
    wait_until(lambda: len(smtp.messages) == 5, "five messages", timeout=WAIT)
    order = [rcpt[0].split("@")[0] for rcpt, _subject in smtp.messages]
    assert sorted(order[:2]) == ["mendesak0", "mendesak1"], order


@postgres_only
def test_a_worker_killed_in_the_middle_of_a_mail_loses_nothing(workers, smtp, settings):
    settings.MAIL_SWEEP_AFTER_SECONDS = 0
    smtp.stall.set()
    smtp.start()
    services.notify(people(1), "Eskalasi", url="/lokus/2/", urgent=True)
    row = OutgoingMail.objects.get()
    first = workers.start()

    assert smtp.rcpt_seen.wait(WAIT), workers.logs()  # the worker is talking to the server
    workers.kill(first)
    smtp.stall.clear()
    dead_job = DBTaskResult.objects.get(task_path=DELIVER, status="RUNNING").id

    row.refresh_from_db()
    assert (row.status, row.attempts) == (MailStatus.QUEUED, 0), "the killed attempt left no trace"
    assert smtp.messages == []
    workers.start()
    # The sweep finds the mail once the dead worker's lock is gone, and gives it a new job.
    wait_until(lambda: requeue_overdue_mail() == 1, "the sweep requeues the lost mail")
    wait_until(lambda: statuses() == {MailStatus.SENT}, "the mail sent by the second worker")
    wait_until(lambda: not pending_deliveries(but=[dead_job]), "no job left")
    assert smtp.received() == [row.address], "exactly once"
    row.refresh_from_db()
    assert row.attempts == 1
