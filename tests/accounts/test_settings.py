import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]


SCRUBBED = {"DJANGO_MODE", "SECRET_KEY", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE", "SITE_URL"}


def run_manage(*args, **env):
    full_env = {k: v for k, v in os.environ.items() if k not in SCRUBBED}
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=120
    )


def test_locale_and_time_zone():
    assert settings.LANGUAGE_CODE == "id"
    assert settings.TIME_ZONE == "Asia/Jakarta"
    assert settings.USE_TZ is True
    assert {code for code, _ in settings.LANGUAGES} == {"id", "en"}
    assert settings.AUTH_USER_MODEL == "accounts.User"
    assert "guardian.backends.ObjectPermissionBackend" in settings.AUTHENTICATION_BACKENDS


def test_production_refuses_development_secret():
    result = run_manage("check", DJANGO_MODE="production", ALLOWED_HOSTS="lokus.example.go.id")
    assert result.returncode != 0
    assert "development secret is refused" in result.stderr


def test_production_refuses_debug():
    result = run_manage("check", DJANGO_MODE="production", DEBUG="true", SECRET_KEY=secrets.token_urlsafe(64))
    assert result.returncode != 0
    assert "DEBUG must be off" in result.stderr


@pytest.mark.parametrize("site_url", [None, "", "lokus.example.go.id", "https://"])
def test_production_refuses_to_start_without_its_address(site_url):
    """Documents print SITE_URL as their verification link: a missing or partial one would
    send whoever checks a paper to another address."""
    env = {"DJANGO_MODE": "production", "SECRET_KEY": secrets.token_urlsafe(64), "ALLOWED_HOSTS": "lokus.example.go.id"}
    if site_url is not None:
        env["SITE_URL"] = site_url
    result = run_manage("check", **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured: Production mode needs SITE_URL" in result.stderr


def test_production_check_deploy_is_clean():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_MODE="production",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="lokus.example.go.id",
        SITE_URL="https://lokus.example.go.id",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_development_check_deploy_would_warn():
    # The same check in development mode is not clean: the test above proves something.
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", DJANGO_MODE="development")
    assert result.returncode != 0
