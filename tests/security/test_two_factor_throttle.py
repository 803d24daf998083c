"""Wrong sign-in codes: django-otp's throttle (after n wrong codes every code, the right one
too, is refused for 2^(n-1) seconds) is explained with the wait, and every wrong or refused
code is recorded like a wrong password, in django-axes' failure log, for the administrator.
Signs in through the real forms with a plain client, as test_two_factor.py does; the clock
is frozen and moved on, never slept."""

import datetime

import pytest
import time_machine
from axes.models import AccessAttempt, AccessFailureLog
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.factories import TEST_PASSWORD
from tests.security.test_two_factor import START, VERIFY, code, enrol, path_of, sign_in, sign_out

pytestmark = pytest.mark.django_db

NOT_VALID = "Kode tidak valid."
TOO_MANY = "Terlalu banyak kode yang salah."


@pytest.fixture
def frozen():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def enrolled(username: str, frozen) -> bytes:
    """Enrol, sign out and sign in again: the verify page asks for the code."""
    client = sign_in(username)
    key, _codes = enrol(client)
    sign_out(client)
    frozen.shift(datetime.timedelta(minutes=1))
    return key


def wrong(key: bytes) -> str:
    return f"{(int(code(key)) + 1) % 1_000_000:06d}"


def test_after_twelve_wrong_codes_the_user_is_told_how_long_to_wait(cast, frozen):
    # A Kasubbid: the waits between the codes (up to 17 minutes) fit in their idle time.
    key = enrolled("kasubbid", frozen)
    client = sign_in("kasubbid")

    for n in range(1, 13):
        response = client.post(reverse(VERIFY), {"token": wrong(key)})
        assert NOT_VALID in response.content.decode()
        if n < 12:
            frozen.shift(datetime.timedelta(seconds=2 ** (n - 1)))  # past the throttle: each code is checked
    # The 12th wrong code already says how long the next one must wait: 2^11 s, 35 minutes.
    until = timezone.localtime(timezone.now() + datetime.timedelta(minutes=35)).strftime("%H:%M")
    assert f"{TOO_MANY} Tunggu 35 menit (sampai pukul {until}) lalu coba lagi." in response.content.decode()

    frozen.shift(datetime.timedelta(minutes=10))
    refused = client.post(reverse(VERIFY), {"token": code(key)})

    page = refused.content.decode()
    assert refused.status_code == 200
    assert f"{TOO_MANY} Tunggu 25 menit (sampai pukul {until}) lalu coba lagi." in page
    assert NOT_VALID not in page  # the right code is not called wrong
    assert path_of(client.get(reverse("home"))) == reverse(VERIFY)

    failures = list(code_failures("kasubbid").order_by("attempt_time", "pk"))
    assert [f.locked_out for f in failures] == [False] * 12 + [True]
    assert {(f.ip_address, f.path_info) for f in failures} == {("127.0.0.1", reverse(VERIFY))}

    frozen.shift(datetime.timedelta(minutes=25))
    accepted = client.post(reverse(VERIFY), {"token": code(key)})
    assert accepted.status_code == 302
    assert client.get(reverse("home")).status_code == 200
    assert code_failures("kasubbid").count() == 13


def test_a_code_right_after_a_wrong_one_waits_a_second(cast, frozen):
    key = enrolled("kaban", frozen)
    client = sign_in("kaban")
    first = client.post(reverse(VERIFY), {"token": wrong(key)})
    assert NOT_VALID in first.content.decode()
    assert TOO_MANY not in first.content.decode()  # a second's wait is not worth a word

    again = client.post(reverse(VERIFY), {"token": code(key)})

    assert f"{TOO_MANY} Tunggu 1 detik lalu coba lagi." in again.content.decode()
    assert list(code_failures("kaban").order_by("attempt_time", "pk").values_list("locked_out", flat=True)) == [
        False,
        True,
    ]
    frozen.shift(datetime.timedelta(seconds=2))
    assert client.post(reverse(VERIFY), {"token": code(key)}).status_code == 302


def test_the_administrator_reads_the_wrong_codes_with_the_wrong_passwords(client, cast, frozen):
    key = enrolled("kabid", frozen)
    sign_in("kabid").post(reverse(VERIFY), {"token": wrong(key)}, HTTP_USER_AGENT="Ponsel Uji")
    Client().post(reverse("login"), {"username": "kabid", "password": "bukan-sandinya"})
    code_failure = code_failures("kabid").get()

    client.force_login(cast["admin"])
    changelist = client.get(reverse("admin:axes_accessfailurelog_changelist"))

    assert changelist.status_code == 200
    assert code_failure in changelist.context["cl"].result_list
    page = changelist.content.decode()
    assert "Ponsel Uji" in page
    assert "kode masuk salah" in page and "kata sandi salah" in page
    assert client.get(reverse("admin:axes_accessfailurelog_add")).status_code == 403


def test_wrong_codes_do_not_count_towards_the_password_lockouts(cast, frozen):
    """Only someone who knows the password gives codes, and the throttle answers them: ten
    wrong codes do not turn the next password lockout into the 2-hour one."""
    key = enrolled("kabid", frozen)
    client = sign_in("kabid")
    for n in range(1, 11):
        client.post(reverse(VERIFY), {"token": wrong(key)})
        frozen.shift(datetime.timedelta(seconds=2 ** (n - 1)))
    sign_out(client)
    assert code_failures("kabid").count() == 10

    for _ in range(5):
        Client().post(reverse("login"), {"username": "kabid", "password": "bukan-sandinya"})
    locked = Client().post(reverse("login"), {"username": "kabid", "password": TEST_PASSWORD})
    assert 'data-testid="locked-out"' in locked.content.decode()
    frozen.shift(datetime.timedelta(minutes=16))

    assert sign_in("kabid").post(reverse(VERIFY), {"token": code(key)}).status_code == 302
    # Nor do they count towards the account's 20 an hour.
    assert AccessAttempt.objects.get(username="kabid", ip_address__isnull=True).failures_since_start == 5


def test_the_next_sign_in_counts_the_wrong_codes(cast, frozen):
    key = enrolled("kabid", frozen)
    client = sign_in("kabid")
    frozen.shift(datetime.timedelta(seconds=10))
    client.post(reverse(VERIFY), {"token": wrong(key)})
    sign_out(client)
    frozen.shift(datetime.timedelta(minutes=5))

    client = Client()
    client.post(reverse("login"), {"username": "kabid", "password": TEST_PASSWORD})
    page = client.get(reverse(VERIFY)).content.decode()
    assert "Ada 1 percobaan masuk yang gagal pada akun Anda" in page


@pytest.mark.parametrize("name", ["kabid", "kaban", "kasubbid"])
def test_only_the_administrator_reads_the_failures(client, cast, name):
    client.force_login(cast[name])
    response = client.get(reverse("admin:axes_accessfailurelog_changelist"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def code_failures(username: str):
    return AccessFailureLog.objects.filter(username=username, path_info=reverse(VERIFY))
