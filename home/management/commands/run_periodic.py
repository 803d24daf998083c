"""Enqueue the periodic jobs whose time slot has come (README "Background jobs").

Run it once a minute from a systemd timer or cron, on one machine or several: each job is
enqueued once per slot however many schedulers run. The slot is written into the job itself
(its run_after is the slot's start), and the schedulers take turns under a lock (PostgreSQL:
an advisory lock; SQLite: the database's write lock), so the second one finds the job of the
slot already there. ``--every SECONDS`` keeps it running instead (the demo, containers)."""

import signal
import sys
import time
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.core.management.base import BaseCommand
from django.db import connection
from django.utils import timezone
from django_tasks import task_backends
from django_tasks.base import Task
from django_tasks_db import DatabaseBackend
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction

from accounts.tasks import sweep_mail
from home import tasks

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
# pg_advisory_xact_lock's key: any number no other code of this database uses.
LOCK_KEY = zlib.crc32(b"lokus.run_periodic")


@dataclass(frozen=True)
class Job:
    name: str
    task: Task
    every: timedelta
    # Only meaningful with jobs in the database (the in-process backend has no job table).
    database_only: bool = False

    def slot(self, now: datetime) -> datetime:
        """The start of the time slot that ``now`` falls in."""
        return EPOCH + (now - EPOCH) // self.every * self.every


JOBS = [
    Job("heartbeat", tasks.heartbeat, timedelta(minutes=1), database_only=True),
    Job("mail sweep", sweep_mail, timedelta(minutes=5)),
    Job("escalation", tasks.escalate_overdue, timedelta(minutes=5)),
    Job("prune job results", tasks.prune_job_results, timedelta(days=1), database_only=True),
    Job("monev occurrences", tasks.rebuild_occurrences, timedelta(days=1)),
]


def enqueue_due(now: datetime | None = None) -> dict[str, bool]:
    """Enqueue each job whose current slot has no job yet. Returns job name -> whether this
    call enqueued it (False: another scheduler did, earlier in the slot)."""
    now = now or timezone.now()
    backend = task_backends["default"]
    if not isinstance(backend, DatabaseBackend):
        # Jobs run in this process as they are enqueued: there is no shared queue to look in.
        return {job.name: bool(job.task.enqueue()) for job in JOBS if not job.database_only}
    done = {}
    with exclusive_transaction():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # Held until the commit: a second scheduler waits, then sees this one's jobs.
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
        for job in JOBS:
            slot = job.slot(now)
            taken = DBTaskResult.objects.filter(
                backend_name=backend.alias, task_path=job.task.module_path, run_after=slot
            ).exists()
            if not taken:
                job.task.using(run_after=slot).enqueue()
            done[job.name] = not taken
    return done


class Command(BaseCommand):
    help = (
        "Enqueue the periodic jobs (escalation, mail sweep, heartbeat, pruning, the monitoring's "
        "occurrences) whose time has come."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--every",
            type=int,
            default=0,
            metavar="SECONDS",
            help="Keep running and enqueue every SECONDS (default: once, for a timer or cron).",
        )

    def handle(self, *args, every: int, **options):
        if every <= 0:
            self._once(options["verbosity"])
            return
        # A stop signal between two runs ends the loop at once; during a run the transaction
        # is rolled back, so nothing half-done is left.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        try:
            while True:
                self._once(options["verbosity"])
                time.sleep(every)
        except KeyboardInterrupt:
            pass

    def _once(self, verbosity: int) -> None:
        done = enqueue_due()
        if verbosity >= 1:
            self.stdout.write(
                "; ".join(f"{name}: {'enqueued' if new else 'already enqueued'}" for name, new in done.items())
            )
