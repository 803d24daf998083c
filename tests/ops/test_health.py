"""/healthz and /readyz (core/health.py): open to anyone, answering only ok/failing per check;
/readyz fails for each thing that keeps an instance from serving (the database, a migration
not applied, media storage that takes no file, no worker seen), and in production neither is
redirected to HTTPS (a load balancer probes over plain HTTP)."""

import json
import os
import secrets
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.db import DEFAULT_DB_ALIAS, OperationalError, connections
from django.db.migrations.recorder import MigrationRecorder
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from core import health
from home import tasks as periodic
from home.management.commands.run_periodic import enqueue_due
from tests.ops.test_jobs import DATABASE_BACKEND, Workers, free_port, postgres_only, wait_until

ROOT = Path(__file__).resolve().parents[2]
CHECKS = {"database", "migrations", "media", "worker"}
ALL_OK = dict.fromkeys(CHECKS, "ok")


@pytest.fixture(autouse=True)
def _fresh_process_state():
    """What a process remembers between probes (migrations seen applied, a worker seen)."""
    health._state.update(migrated=False, worker_seen_at=None)
    yield
    health._state.update(migrated=False, worker_seen_at=None)


def readyz(client=None):
    response = (client or Client()).get(reverse("readyz"))
    body = response.json()
    assert set(body) == CHECKS
    assert set(body.values()) <= {"ok", "failing"}, "nothing but ok or failing"
    assert response["Cache-Control"].startswith("max-age=0")
    return response.status_code, body


def test_healthz_answers_without_the_database(db, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = Client().get(reverse("healthz"))
        head = Client().head(reverse("healthz"))
    assert response.status_code == 200
    assert response.json() == {"process": "ok"}
    assert head.status_code == 200


def test_readyz_is_ok_when_everything_is(db):
    assert readyz() == (200, ALL_OK)


def test_readyz_needs_a_worker_seen_lately_with_jobs_in_the_database(db, settings):
    settings.TASKS = DATABASE_BACKEND
    settings.READYZ_WORKER_MINUTES = 5
    assert readyz() == (503, {**ALL_OK, "worker": "failing"}), "no worker ever ran a job"

    now = timezone.now()
    job = periodic.heartbeat.enqueue()
    DBTaskResult.objects.filter(id=job.id).update(status="SUCCESSFUL", started_at=now, finished_at=now)
    assert readyz() == (200, ALL_OK)
    with time_machine.travel(now + timedelta(minutes=4, seconds=50)):
        assert readyz() == (200, ALL_OK)
    with time_machine.travel(now + timedelta(minutes=5, seconds=1)):
        assert readyz() == (503, {**ALL_OK, "worker": "failing"}), "the worker has not been seen for 5 minutes"


def test_readyz_fails_while_a_migration_is_not_applied(db):
    MigrationRecorder.Migration.objects.filter(app="accounts", name="0007_outgoing_mail").delete()
    assert readyz() == (503, {**ALL_OK, "migrations": "failing"})


def test_readyz_fails_when_media_storage_takes_no_file(db, settings, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the media folder should be")
    settings.MEDIA_ROOT = str(blocker / "media")
    assert readyz() == (503, {**ALL_OK, "media": "failing"})


def test_readyz_leaves_no_file_in_media(db, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    assert readyz() == (200, ALL_OK)
    assert [path for path in tmp_path.rglob("*") if path.is_file()] == []


def test_readyz_fails_without_the_database_and_says_no_more(db, monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError('could not connect to server: password authentication failed for user "lokus"')

    with monkeypatch.context() as patch:
        patch.setattr(connections[DEFAULT_DB_ALIAS], "cursor", refuse)
        response = Client().get(reverse("readyz"))
    assert response.status_code == 503
    assert response.json() == dict.fromkeys(CHECKS, "failing")
    assert b"lokus" not in response.content and b"password" not in response.content


def test_the_health_checks_are_not_redirected_to_https_in_production(tmp_path):
    """The real production settings: every other page goes to HTTPS, the probes do not."""
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_MODE", "DEBUG", "SECRET_KEY", "SITE_URL")}
    env.update(
        DJANGO_MODE="production",
        SECRET_KEY=secrets.token_urlsafe(64),
        SITE_URL="https://lokus.example.go.id",
        ALLOWED_HOSTS="lokus.example.go.id",
        DATABASE_URL=f"sqlite:///{tmp_path / 'empty.sqlite3'}",
        MEDIA_ROOT=str(tmp_path / "media"),
    )
    code = (
        "import json; from django.test import Client; c = Client(HTTP_HOST='lokus.example.go.id'); "
        "print(json.dumps({p: c.get(p).status_code for p in ('/healthz', '/readyz', '/masuk/')}))"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    answers = json.loads(result.stdout.strip().splitlines()[-1])
    assert answers["/masuk/"] == 301, "a page is redirected to HTTPS"
    assert answers["/healthz"] == 200
    assert answers["/readyz"] == 503, "answered (an empty database is not ready), not redirected"


@postgres_only
def test_readyz_sees_a_real_worker_through_the_heartbeat(transactional_db, settings, tmp_path):
    settings.TASKS = DATABASE_BACKEND
    assert readyz()[1]["worker"] == "failing"
    workers = Workers(free_port(), tmp_path)
    workers.start()
    try:
        enqueue_due()  # what the timer does each minute: the heartbeat among the jobs
        wait_until(
            lambda: DBTaskResult.objects.filter(task_path=periodic.heartbeat.module_path, status="SUCCESSFUL").exists(),
            "the worker ran the heartbeat",
        )
        health._state.update(worker_seen_at=None)
        assert readyz() == (200, ALL_OK)
    finally:
        workers.stop_all()
