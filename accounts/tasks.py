"""Background jobs of accounts: the e-mail copies of notifications (README "Background jobs").

An ``OutgoingMail`` row is the record of one e-mail; a job only carries its id. The job is
idempotent: it locks the row, and a mail that is already sent (or given up) is never sent
again, however often its job runs (a retry, the sweep's copy, a worker that took it twice).
A worker killed in the middle of a mail rolls its transaction back, so the row is queued
again and the periodic sweep gives it a new job: a message may be late, it is never lost."""

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone
from django_tasks import task
from django_tasks_db import DatabaseBackend
from django_tasks_db.utils import exclusive_transaction

from accounts.enums import MailStatus
from accounts.models import OutgoingMail

logger = logging.getLogger(__name__)

# Urgent mail (Eskalasi, Mundur) is taken from the queue before everything else.
URGENT_PRIORITY = 50
NORMAL_PRIORITY = 0
# A job's clock and the row's may differ by this much (the worker that set the time and the
# one that runs the job are other machines).
CLOCK_SLACK = timedelta(seconds=2)
# The sweep gives at most this many mails a new job per run; the next run takes the rest.
SWEEP_BATCH = 500


def _jobs_in_database() -> bool:
    """Whether jobs are rows of this database (written in the caller's transaction) or run
    elsewhere: the in-process backend runs a job at once, so it must wait for the commit."""
    return isinstance(deliver_mail.get_backend(), DatabaseBackend)


def schedule_delivery(mails: Iterable[OutgoingMail], *, at: datetime | None = None) -> None:
    """Enqueue one delivery job per mail, urgent ones first. On the database backend the jobs
    are written in the caller's transaction, so that a rolled-back action sends nothing and a
    committed one always has its jobs; on a backend that runs jobs at once (the tests'), they
    are enqueued after the commit."""
    mails = list(mails)
    if not mails:
        return
    in_database = _jobs_in_database()
    if at is not None and not deliver_mail.get_backend().supports_defer:
        return  # a backend that cannot wait: the sweep gives the mail its job when it is due

    def enqueue() -> None:
        for mail in mails:
            job = deliver_mail.using(priority=URGENT_PRIORITY if mail.is_urgent else NORMAL_PRIORITY)
            if at is not None:
                job = job.using(run_after=at)
            job.enqueue(mail.pk)

    if in_database:
        enqueue()
    else:
        transaction.on_commit(enqueue)


def _error_text(exc: BaseException) -> str:
    """The error's kind and the server's answer, for the administrator; never a credential."""
    text = f"{type(exc).__name__}: {exc}"
    password = getattr(settings, "EMAIL_HOST_PASSWORD", "")
    if password:
        text = text.replace(password, "***")
    return text[:300]


def _record_failure(mail: OutgoingMail, exc: BaseException, now: datetime) -> None:
    delays = settings.MAIL_RETRY_SECONDS
    error = _error_text(exc)
    if mail.attempts >= len(delays):
        mail.mark_failed(error=error)
        logger.error("E-mail %s failed after %d attempts: %s", mail.pk, mail.attempts, error)
        return
    mail.attempts += 1
    mail.last_error = error
    mail.next_attempt_at = now + timedelta(seconds=delays[mail.attempts - 1])
    logger.warning("E-mail %s attempt %d failed (%s); next at %s", mail.pk, mail.attempts, error, mail.next_attempt_at)
    # In the same transaction as the row: the retry exists exactly when the row says it does.
    schedule_delivery([mail], at=mail.next_attempt_at)


@task(priority=NORMAL_PRIORITY)
def deliver_mail(mail_id: int) -> str:
    """Send one queued e-mail; on failure schedule the next attempt (MAIL_RETRY_SECONDS) or,
    after the last, mark it failed. Returns what became of it (the job's result)."""
    # The row stays locked while the mail server is talked to: a second job for the same
    # mail waits here and then finds it sent. (SQLite has no row locks: there the whole
    # transaction takes the database's write lock.)
    with exclusive_transaction():
        mail = OutgoingMail.objects.select_for_update().filter(pk=mail_id).first()
        if mail is None:
            return "gone"
        if mail.status != MailStatus.QUEUED:
            return str(mail.status)
        now = timezone.now()
        if mail.next_attempt_at > now + CLOCK_SLACK:
            # An earlier job for an attempt that has been rescheduled; the new one has its job.
            return "not due"
        message = EmailMessage(mail.subject, mail.body, settings.DEFAULT_FROM_EMAIL, [mail.address])
        try:
            message.send(fail_silently=False)
        except Exception as exc:  # whatever the mail server or the network did: retry later
            _record_failure(mail, exc, now)
        else:
            mail.mark_sent(at=timezone.now())
        mail.save()
        return str(mail.status)


def requeue_overdue_mail(now: datetime | None = None) -> int:
    """Give a new job to each queued mail whose attempt is MAIL_SWEEP_AFTER_SECONDS overdue:
    its job was lost (a worker killed in the middle of it, a job that failed outside the
    mail server). A mail a worker is sending now is locked and skipped. Returns how many."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.MAIL_SWEEP_AFTER_SECONDS)
    with transaction.atomic():
        overdue = list(
            OutgoingMail.objects.select_for_update(skip_locked=True)
            .filter(status=MailStatus.QUEUED, next_attempt_at__lte=cutoff)
            .order_by("-is_urgent", "next_attempt_at", "pk")[:SWEEP_BATCH]
        )
        if overdue:
            OutgoingMail.objects.filter(pk__in=[mail.pk for mail in overdue]).update(next_attempt_at=now)
            schedule_delivery(overdue)
            logger.warning("Gave %d overdue e-mail(s) a new delivery job", len(overdue))
    return len(overdue)


@task(priority=NORMAL_PRIORITY)
def sweep_mail() -> int:
    """The periodic job of requeue_overdue_mail (manage.py run_periodic)."""
    return requeue_overdue_mail()
