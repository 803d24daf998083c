"""Health checks for a load balancer or an orchestrator (README "Health checks").

* ``/healthz``: the process answers. It touches nothing else, so a slow database never
  makes a load balancer restart healthy web processes.
* ``/readyz``: this instance can serve: the database answers, every migration is applied,
  the media storage takes a file, and a background worker was seen lately.

Neither needs a sign-in and neither says more than "ok" or "failing" per check (the reason
goes to the log): an anonymous caller learns nothing about the installation."""

import logging
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Max
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from django_tasks import task_backends
from django_tasks_db import DatabaseBackend
from django_tasks_db.models import DBTaskResult

logger = logging.getLogger(__name__)

OK, FAILING = "ok", "failing"

# Facts that stay true once seen, kept per process so that a probe every few seconds costs
# next to nothing: migrations do not get unapplied under a running process, and a worker seen
# at a time stays seen until the window has passed.
_state: dict[str, object] = {"migrated": False, "worker_seen_at": None}


def _database() -> bool:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT 1")
        return cursor.fetchone() == (1,)


def _migrations() -> bool:
    if not _state["migrated"]:
        executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
        _state["migrated"] = not executor.migration_plan(executor.loader.graph.leaf_nodes())
    return bool(_state["migrated"])


def _media() -> bool:
    """The storage of uploads takes a file and gives it back (local disk or a bucket)."""
    name = default_storage.save(f".readyz/{uuid.uuid4().hex}", ContentFile(b"ok"))
    try:
        with default_storage.open(name) as probe:
            return probe.read() == b"ok"
    finally:
        default_storage.delete(name)


def _worker() -> bool:
    """A db_worker started or finished a job within READYZ_WORKER_MINUTES. The scheduler
    (manage.py run_periodic) enqueues a heartbeat job every minute, so this sees the scheduler,
    the queue and a worker at once. A backend that runs jobs in the web process needs none."""
    backend = task_backends["default"]
    if not isinstance(backend, DatabaseBackend):
        return True
    window = timedelta(minutes=settings.READYZ_WORKER_MINUTES)
    now = timezone.now()
    seen: datetime | None = _state["worker_seen_at"]  # type: ignore[assignment]
    if seen is None or now - seen >= window:
        latest = DBTaskResult.objects.filter(backend_name=backend.alias).aggregate(
            started=Max("started_at"), finished=Max("finished_at")
        )
        seen = max((moment for moment in latest.values() if moment is not None), default=None)
        _state["worker_seen_at"] = seen
    return seen is not None and now - seen < window


CHECKS = {"database": _database, "migrations": _migrations, "media": _media, "worker": _worker}


def _run(name: str, check) -> str:
    try:
        return OK if check() else FAILING
    except Exception:  # any failure is "not ready"; the details are for the log only
        logger.warning("Readiness check %s failed", name, exc_info=True)
        return FAILING


@require_safe
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"process": OK})


@require_safe
@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    results = {}
    for name, check in CHECKS.items():
        if name != "database" and results.get("database") != OK:
            results[name] = FAILING  # cannot be known without the database
            continue
        results[name] = _run(name, check)
    ready = all(result == OK for result in results.values())
    return JsonResponse(results, status=200 if ready else 503)
