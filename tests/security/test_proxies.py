"""The client address behind reverse proxies (core.net.client_ip, settings.TRUSTED_PROXIES).

X-Forwarded-For counts only when the request comes straight from a trusted proxy: whoever
reaches gunicorn directly could put a new address in it on every try and never be locked out.
Sign-in attempts are POSTed to the real sign-in page with a plain client."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, RequestFactory
from django.urls import reverse

from core.net import client_ip
from tests.factories import TEST_PASSWORD

ROOT = Path(__file__).resolve().parents[2]
WRONG = "bukan-sandi-yang-benar"
LOCKED = 'data-testid="locked-out"'
PRODUCTION_DEFAULT = ["127.0.0.1", "::1"]
ATTACKER = "203.0.113.7"


def sign_in(username: str, password: str, remote: str, forwarded: str | None = None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    client = Client()
    response = client.post(reverse("login"), {"username": username, "password": password}, **extra)
    return client, response


def is_locked_out(response) -> bool:
    return LOCKED in response.content.decode()


# The rule ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("trusted", "remote", "forwarded", "expected"),
    [
        # Nobody trusted (development): the header is never read.
        ([], "203.0.113.7", "198.51.100.1", "203.0.113.7"),
        # A peer that is not a trusted proxy: its header is its own invention.
        (PRODUCTION_DEFAULT, "203.0.113.7", "198.51.100.1", "203.0.113.7"),
        (PRODUCTION_DEFAULT, "203.0.113.7", "127.0.0.1", "203.0.113.7"),
        # Through the local proxy: the address it appended, whatever the client wrote before it.
        (PRODUCTION_DEFAULT, "127.0.0.1", "198.51.100.1", "198.51.100.1"),
        (PRODUCTION_DEFAULT, "127.0.0.1", "6.6.6.6, 198.51.100.1", "198.51.100.1"),
        (PRODUCTION_DEFAULT, "::1", "2001:db8::7", "2001:db8::7"),
        # Several trusted proxies: their own addresses are skipped, from the right.
        (["127.0.0.1", "10.0.0.0/8"], "127.0.0.1", "6.6.6.6, 198.51.100.1, 10.1.2.3", "198.51.100.1"),
        (["127.0.0.1", "10.0.0.0/8"], "127.0.0.1", "10.9.9.9, 198.51.100.1, 10.1.2.3, 10.0.0.1", "198.51.100.1"),
        # An IPv4 client seen through an IPv6 socket is the same client.
        (PRODUCTION_DEFAULT, "::ffff:127.0.0.1", "::ffff:198.51.100.1", "198.51.100.1"),
        # Malformed entries: the chain cannot be read, the peer's own address is used.
        (PRODUCTION_DEFAULT, "127.0.0.1", "unknown", "127.0.0.1"),
        (PRODUCTION_DEFAULT, "127.0.0.1", "198.51.100.1, ", "127.0.0.1"),
        (PRODUCTION_DEFAULT, "127.0.0.1", "198.51.100.1:4711", "127.0.0.1"),
        (PRODUCTION_DEFAULT, "127.0.0.1", "", "127.0.0.1"),
        # Every hop a trusted proxy (a request from inside): the farthest is the client.
        (["127.0.0.1", "10.0.0.0/8"], "127.0.0.1", "10.0.0.5, 10.0.0.1", "10.0.0.5"),
        # No header at all.
        (PRODUCTION_DEFAULT, "127.0.0.1", None, "127.0.0.1"),
        # A peer without an IP address (a Unix socket): nothing to trust or to store.
        (PRODUCTION_DEFAULT, "", "198.51.100.1", ""),
    ],
)
def test_client_ip(settings, trusted, remote, forwarded, expected):
    settings.TRUSTED_PROXIES = trusted
    meta = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    request = RequestFactory().get("/", **meta)

    assert client_ip(request) == expected


def test_a_malformed_trusted_proxy_setting_is_refused(settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1", "proxy.local"]
    with pytest.raises(ImproperlyConfigured, match="proxy.local"):
        client_ip(RequestFactory().get("/", REMOTE_ADDR="127.0.0.1"))


def test_axes_reads_the_address_from_core_net(settings):
    assert settings.AXES_CLIENT_IP_CALLABLE == "core.net.client_ip"
    assert not hasattr(settings, "TRUSTED_PROXY_COUNT")


# Sign-in, straight to gunicorn and through the proxy ---------------------------------------------


@pytest.mark.django_db
def test_a_forged_header_from_a_direct_client_does_not_escape_the_lockout(cast, settings):
    """Production trusts only the local proxy. Someone who reaches gunicorn directly with a
    new X-Forwarded-For on every try is still one address: locked after 5 failures."""
    settings.TRUSTED_PROXIES = PRODUCTION_DEFAULT

    responses = [sign_in("kasubbid", WRONG, ATTACKER, f"198.51.100.{n}")[1] for n in range(5)]
    assert not any(is_locked_out(r) for r in responses[:4])
    assert is_locked_out(responses[4])

    client, response = sign_in("kasubbid", TEST_PASSWORD, ATTACKER, "198.51.100.99")
    assert response.status_code == 429
    assert is_locked_out(response)
    assert "_auth_user_id" not in client.session
    attempt = AccessAttempt.objects.get(username="kasubbid", ip_address__isnull=False)
    assert (attempt.ip_address, attempt.failures_since_start) == (ATTACKER, 5)


@pytest.mark.django_db
def test_two_clients_behind_the_proxy_are_counted_apart(cast, settings):
    """Through the local proxy every client keeps its own address: one client's failures do
    not lock out another signing in to the same account."""
    settings.TRUSTED_PROXIES = PRODUCTION_DEFAULT
    proxy, guesser, owner = "127.0.0.1", "198.51.100.1", "198.51.100.2"

    for _ in range(5):
        sign_in("kasubbid", WRONG, proxy, guesser)
    _client, locked = sign_in("kasubbid", TEST_PASSWORD, proxy, guesser)
    assert is_locked_out(locked)

    client, response = sign_in("kasubbid", TEST_PASSWORD, proxy, owner)
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert "_auth_user_id" in client.session
    assert set(AccessAttempt.objects.filter(ip_address__isnull=False).values_list("ip_address", flat=True)) == {guesser}


# The settings of each mode -------------------------------------------------------------------------

SCRUBBED = {"DJANGO_MODE", "SECRET_KEY", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE", "TRUSTED_PROXIES"}
PRINT_PROXIES = """
import json
import django
django.setup()
from django.conf import settings
print(json.dumps([settings.TRUSTED_PROXIES, hasattr(settings, "TRUSTED_PROXY_COUNT")]))
"""


def settings_of(**env) -> list:
    environ = {k: v for k, v in os.environ.items() if k not in SCRUBBED}
    environ.update(DJANGO_SETTINGS_MODULE="config.settings", **env)
    result = subprocess.run(
        [sys.executable, "-c", PRINT_PROXIES],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_trusts_only_the_local_proxy_by_default():
    production = {
        "DJANGO_MODE": "production",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "SITE_URL": "https://lokus.example.go.id",
    }
    assert settings_of(**production) == [PRODUCTION_DEFAULT, False]
    assert settings_of(**production, TRUSTED_PROXIES="127.0.0.1,10.0.0.0/8") == [["127.0.0.1", "10.0.0.0/8"], False]


def test_development_trusts_no_proxy():
    assert settings_of(DJANGO_MODE="development") == [[], False]
