"""The periodic jobs: `manage.py run_periodic` (a systemd timer or cron, once a minute)
enqueues each when its time slot comes, and a db_worker runs it (README "Background jobs").
They live on top of the layers because the escalation belongs to monev."""

import dataclasses

from django.core.management import call_command
from django_tasks import task


@task()
def heartbeat() -> str:
    """Nothing but proof that a worker takes jobs: /readyz reads when one last ran."""
    return "alive"


@task()
def escalate_overdue() -> dict:
    """The monitoring's escalation of overdue steps (monev.escalation). The job's result is
    what the run sent, for the job list in the admin."""
    from monev.escalation import escalate_overdue as escalate

    outcome = escalate()
    return dataclasses.asdict(outcome) if dataclasses.is_dataclass(outcome) else {"outcome": str(outcome)}


@task()
def prune_job_results() -> str:
    """Finished jobs are kept two weeks, failed ones a month (the job list in the admin)."""
    call_command("prune_db_task_results", "--min-age-days=14", "--failed-min-age-days=30", verbosity=0)
    return "pruned"


@task()
def rebuild_occurrences() -> dict:
    """The monitoring's stored step occurrences rebuilt from every row they come from: each
    change refreshes its own plan after the commit, and this catches whatever no signal
    announced (bulk writes, a refresh that failed)."""
    from monev.occurrences import rebuild

    return {"rows": rebuild()}
