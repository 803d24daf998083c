"""Two-factor sign-in (django-otp): who is forced, enrolment, verification with the app's
code or a backup code, the per-role switch, and the administrator's reset.

These tests sign in with a plain ``django.test.Client`` through the real sign-in form, so
the enforcement itself is under test (the ``client`` fixture would give the second factor)."""

import base64
import datetime
import re
from urllib.parse import unquote, urlsplit

import pytest
import time_machine
from django.contrib import admin
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.enums import Role
from accounts.models import RolePolicy
from accounts.security import TWO_FACTOR_OPEN
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

START = datetime.datetime(2025, 3, 3, 8, 0, tzinfo=datetime.UTC)
SETUP, VERIFY = "two_factor_setup", "two_factor_verify"
FORCED = ["kabid", "kaban", "admin"]
NOT_FORCED = ["kasubbid", "member", "partner"]


@pytest.fixture
def clock():
    """A frozen clock: codes are computed for an exact moment, and the app's throttle and
    one-use-per-step rules are passed by moving the clock on, never by sleeping."""
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def sign_in(username: str) -> Client:
    client = Client()
    response = client.post(reverse("login"), {"username": username, "password": TEST_PASSWORD})
    assert response.status_code == 302, response.content[:300]
    assert "_auth_user_id" in client.session
    return client


def sign_out(client: Client) -> None:
    client.post(reverse("logout"))


def path_of(response) -> str:
    return urlsplit(response["Location"]).path


def enrol(client: Client) -> tuple[bytes, list[str]]:
    """Read the key from the setup page as a person types it into the app, answer with the
    app's current code, and return the key and the backup codes shown."""
    page = client.get(reverse(SETUP))
    assert page.status_code == 200
    secret = page.context["secret"]
    assert f'data-testid="secret">{secret}<' in page.content.decode()
    assert 'data-testid="qr"' in page.content.decode()
    compact = secret.replace(" ", "")
    key = base64.b32decode(compact + "=" * (-len(compact) % 8))

    done = client.post(reverse(SETUP), {"token": code(key)})

    assert done.status_code == 200, done.content[:300]
    assert 'data-testid="backup-codes"' in done.content.decode()
    codes = done.context["codes"]
    assert len(codes) == len(set(codes)) == 10
    return key, codes


def code(key: bytes) -> str:
    return f"{totp(key):06d}"


def sample_paths() -> dict[str, str]:
    """One concrete path for every named URL of the project outside the admin."""
    paths = {}

    def walk(patterns, namespace=None):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                if entry.namespace == "admin":
                    continue
                walk(entry.url_patterns, entry.namespace or namespace)
            elif isinstance(entry, URLPattern) and entry.name:
                name = f"{namespace}:{entry.name}" if namespace else entry.name
                kwargs = {
                    key: 1 if type(conv).__name__ == "IntConverter" else "ABC123"
                    for key, conv in entry.pattern.converters.items()
                }
                paths[name] = reverse(name, kwargs=kwargs)

    walk(get_resolver().url_patterns)
    paths["admin:index"] = reverse("admin:index")
    return paths


# Who is forced ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", FORCED)
def test_leadership_and_administrator_must_enrol_before_anything_else(cast, name):
    client = sign_in(cast[name].username)

    for url_name, path in sample_paths().items():
        if url_name in TWO_FACTOR_OPEN:
            continue
        for method in (client.get, client.post):
            response = method(path)
            assert response.status_code == 302, url_name
            assert response["Location"] == reverse(SETUP), url_name
    # The sign-in did not count as verified: no device, no second factor in the session.
    assert not TOTPDevice.objects.filter(user=cast[name], confirmed=True).exists()


@pytest.mark.parametrize("name", FORCED)
def test_enrolment_opens_the_product(cast, clock, name):
    client = sign_in(cast[name].username)
    assert client.get(reverse("home"))["Location"] == reverse(SETUP)

    enrol(client)

    assert client.get(reverse("home")).status_code == 200
    assert TOTPDevice.objects.filter(user=cast[name], confirmed=True).count() == 1
    assert StaticToken.objects.filter(device__user=cast[name]).count() == 10


def test_a_wrong_code_does_not_enrol(cast, clock):
    client = sign_in("kabid")
    client.get(reverse(SETUP))

    response = client.post(reverse(SETUP), {"token": "000000"})

    assert response.status_code == 200
    assert response.context["form"].errors
    assert not TOTPDevice.objects.filter(user=cast["kabid"]).exists(), "not even an unconfirmed device"
    assert client.get(reverse("home"))["Location"] == reverse(SETUP)


def test_opening_the_setup_page_stores_no_device(cast, clock):
    """GET never writes: the key being enrolled waits in the session until a code confirms it."""
    client = sign_in("kabid")

    first = client.get(reverse(SETUP))
    again = client.get(reverse(SETUP))

    assert first.status_code == again.status_code == 200
    assert not TOTPDevice.objects.filter(user=cast["kabid"]).exists()
    assert not StaticDevice.objects.filter(user=cast["kabid"]).exists()
    # The same key on every visit of the session, so the app scanned first still matches.
    assert first.context["secret"] == again.context["secret"]
    assert first.context["qr"] == again.context["qr"]


def test_enrolment_stores_the_key_shown_and_the_code_is_used_up(cast, clock):
    client = sign_in("kabid")
    key, _codes = enrol(client)

    device = TOTPDevice.objects.get(user=cast["kabid"])
    assert device.confirmed
    assert device.bin_key == key
    assert StaticDevice.objects.get(user=cast["kabid"]).token_set.count() == 10
    # The code that confirmed the enrolment does not sign in again within its time step.
    sign_out(client)
    replay = sign_in("kabid")
    assert replay.post(reverse(VERIFY), {"token": code(key)}).status_code == 200
    assert path_of(replay.get(reverse("home"))) == reverse(VERIFY)


def test_another_session_gets_another_key(cast, clock):
    first = sign_in("kabid").get(reverse(SETUP)).context["secret"]
    second = sign_in("kabid").get(reverse(SETUP)).context["secret"]
    assert first != second
    assert not TOTPDevice.objects.filter(user=cast["kabid"]).exists()


def test_an_unconfirmed_device_left_by_an_older_release_is_replaced(cast, clock):
    TOTPDevice.objects.create(user=cast["kabid"], name="authenticator", confirmed=False)
    client = sign_in("kabid")

    key, _codes = enrol(client)

    assert [(d.confirmed, d.bin_key) for d in TOTPDevice.objects.filter(user=cast["kabid"])] == [(True, key)]


def test_a_second_session_cannot_enrol_another_key_afterwards(cast, clock):
    other = sign_in("kasubbid")
    other_secret = other.get(reverse(SETUP)).context["secret"].replace(" ", "")
    other_key = base64.b32decode(other_secret + "=" * (-len(other_secret) % 8))
    key, _codes = enrol(sign_in("kasubbid"))

    late = other.post(reverse(SETUP), {"token": code(other_key)})

    assert late.status_code == 302
    assert late["Location"] == reverse("home")
    assert [d.bin_key for d in TOTPDevice.objects.filter(user=cast["kasubbid"])] == [key]
    assert StaticToken.objects.filter(device__user=cast["kasubbid"]).count() == 10


# The next sign-in -----------------------------------------------------------------------------


def test_the_next_sign_in_asks_for_the_code(cast, clock):
    client = sign_in("kabid")
    key, _codes = enrol(client)
    sign_out(client)
    clock.shift(datetime.timedelta(minutes=1))

    client = sign_in("kabid")
    response = client.get(reverse("lokus:list"))
    assert path_of(response) == reverse(VERIFY)
    assert client.get(reverse("home")).status_code == 302

    refused = client.post(reverse(VERIFY), {"token": "123456", "next": reverse("lokus:list")})
    assert refused.status_code == 200
    assert refused.context["form"].errors
    assert path_of(client.get(reverse("home"))) == reverse(VERIFY)

    clock.shift(datetime.timedelta(seconds=30))  # past the app's throttle after a wrong code
    accepted = client.post(reverse(VERIFY), {"token": code(key), "next": reverse("lokus:list")})
    assert accepted.status_code == 302
    assert accepted["Location"] == reverse("lokus:list")
    assert client.get(reverse("home")).status_code == 200


def test_a_code_is_accepted_only_once(cast, clock):
    first = sign_in("kabid")
    key, _codes = enrol(first)
    clock.shift(datetime.timedelta(minutes=1))
    used = code(key)
    first_verify = sign_in("kabid")
    assert first_verify.post(reverse(VERIFY), {"token": used}).status_code == 302

    replay = sign_in("kabid")
    response = replay.post(reverse(VERIFY), {"token": used})

    assert response.status_code == 200
    assert path_of(replay.get(reverse("home"))) == reverse(VERIFY)


def test_a_backup_code_works_once(cast, clock):
    client = sign_in("kaban")
    _key, codes = enrol(client)
    sign_out(client)
    clock.shift(datetime.timedelta(minutes=1))

    client = sign_in("kaban")
    response = client.post(reverse(VERIFY), {"token": codes[0]})
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 200
    assert StaticToken.objects.filter(device__user=cast["kaban"]).count() == 9
    sign_out(client)
    clock.shift(datetime.timedelta(minutes=1))

    client = sign_in("kaban")
    again = client.post(reverse(VERIFY), {"token": codes[0]})
    assert again.status_code == 200
    assert again.context["form"].errors
    assert path_of(client.get(reverse("home"))) == reverse(VERIFY)

    clock.shift(datetime.timedelta(minutes=1))
    assert client.post(reverse(VERIFY), {"token": codes[1]}).status_code == 302
    assert client.get(reverse("home")).status_code == 200


def test_the_verify_page_does_not_send_anyone_off_site(cast, clock):
    client = sign_in("admin")
    key, _codes = enrol(client)
    sign_out(client)
    clock.shift(datetime.timedelta(minutes=1))

    for target in ("https://penipu.example/masuk/", "//penipu.example/", "/\\penipu.example/"):
        client = sign_in("admin")
        page = client.get(reverse(VERIFY), {"next": target})
        assert target not in page.content.decode()
        response = client.post(reverse(VERIFY), {"token": code(key), "next": target})
        assert response.status_code == 302
        assert response["Location"] == reverse("home"), target
        sign_out(client)
        clock.shift(datetime.timedelta(minutes=1))


# Voluntary enrolment and the per-role switch ----------------------------------------------------


@pytest.mark.parametrize("name", NOT_FORCED)
def test_other_roles_are_not_forced_but_may_enrol(cast, clock, name):
    client = sign_in(cast[name].username)
    assert client.get(reverse("home")).status_code == 200

    key, _codes = enrol(client)
    assert client.get(reverse("home")).status_code == 200
    sign_out(client)
    clock.shift(datetime.timedelta(minutes=1))

    client = sign_in(cast[name].username)
    assert path_of(client.get(reverse("home"))) == reverse(VERIFY)
    assert client.post(reverse(VERIFY), {"token": code(key)}).status_code == 302
    assert client.get(reverse("home")).status_code == 200


def test_the_roles_that_require_two_factor_are_set_per_role(cast, clock):
    assert sign_in("kasubbid").get(reverse("home")).status_code == 200

    RolePolicy.objects.filter(group=Group.objects.get(name=Role.KASUBBID.value)).update(requires_two_factor=True)

    client = sign_in("kasubbid")
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"] == reverse(SETUP)
    enrol(client)
    assert client.get(reverse("home")).status_code == 200


def test_a_policy_change_reaches_open_sessions_within_five_minutes(cast, clock):
    client = sign_in("kasubbid")
    assert client.get(reverse("home")).status_code == 200

    RolePolicy.objects.filter(group=Group.objects.get(name=Role.KASUBBID.value)).update(requires_two_factor=True)
    clock.shift(datetime.timedelta(minutes=6))

    assert client.get(reverse("home"))["Location"] == reverse(SETUP)


def test_the_role_list_lives_in_the_reference_data(cast):
    strict = set(RolePolicy.objects.filter(requires_two_factor=True).values_list("group__name", flat=True))
    assert strict == {Role.KABID.value, Role.KABAN.value, Role.ADMIN.value}


# The administrator's reset -----------------------------------------------------------------------


def test_the_administrator_resets_a_lost_phone(client, cast, clock):
    kabid_client = sign_in("kabid")
    enrol(kabid_client)
    assert kabid_client.get(reverse("home")).status_code == 200

    client.force_login(cast["admin"])
    response = client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "reset_two_factor", "_selected_action": [cast["kabid"].pk]},
    )

    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=cast["kabid"]).exists()
    assert not StaticDevice.objects.filter(user=cast["kabid"]).exists()
    assert not StaticToken.objects.filter(device__user=cast["kabid"]).exists()
    # The session on the lost phone ends at once.
    ended = kabid_client.get(reverse("home"))
    assert ended.status_code == 302
    assert path_of(ended) == reverse("login")
    # Signing in again means enrolling again.
    fresh = sign_in("kabid")
    assert fresh.get(reverse("home"))["Location"] == reverse(SETUP)
    # The administrator's own session and device are untouched.
    assert client.get(reverse("admin:index")).status_code == 200


def test_device_secrets_are_not_in_the_admin(client, cast):
    assert not admin.site.is_registered(TOTPDevice)
    assert not admin.site.is_registered(StaticDevice)
    client.force_login(cast["admin"])
    assert client.get("/admin/otp_totp/totpdevice/").status_code == 404
    assert client.get("/admin/otp_static/staticdevice/").status_code == 404


# The enrolment pages: header, backup codes to keep --------------------------------------------


def header_of(response) -> str:
    return re.search(r'<header class="topbar">(.*?)</header>', response.content.decode(), re.DOTALL).group(1)


def assert_sign_out_only(header: str) -> None:
    """Brand, language switch and sign-out: every menu link would lead back to the page. (The
    phone's outbox stays: it is hidden unless it holds something, and its link to sign in
    again is for a session that ended.)"""
    assert 'class="menu"' not in header
    assert "{#" not in header, "a template comment leaked into the page"
    links = re.sub(r'<details class="outbox".*?</details>', "", header, flags=re.DOTALL)
    assert re.findall(r'<a [^>]*href="([^"]*)"', links) == [reverse("home")], "the brand only"
    logout = re.escape(reverse("logout"))
    sign_out_form = re.search(rf'<form [^>]*action="{logout}"[^>]*>', header).group(0)
    assert 'method="post"' in sign_out_form and "data-outbox-logout" in sign_out_form
    assert f'action="{reverse("set_language")}"' in header


def test_the_setup_page_offers_only_sign_out_while_enrolment_is_required(cast, clock):
    client = sign_in("kabid")

    assert_sign_out_only(header_of(client.get(reverse(SETUP))))
    # A wrong code shows the page again, still without the menu.
    assert_sign_out_only(header_of(client.post(reverse(SETUP), {"token": "000000"})))


def test_the_code_page_offers_only_sign_out(cast, clock):
    client = sign_in("kabid")
    enrol(client)
    sign_out(client)
    clock.shift(datetime.timedelta(minutes=1))

    client = sign_in("kabid")

    assert_sign_out_only(header_of(client.get(reverse(VERIFY))))


def test_voluntary_enrolment_keeps_the_menu(cast, clock):
    client = sign_in("kasubbid")

    page = client.get(reverse(SETUP))

    assert 'class="menu"' in header_of(page)
    assert f'href="{reverse("password_change")}"' in header_of(page)


def test_the_backup_codes_can_be_downloaded_and_must_be_confirmed(cast, clock):
    client = sign_in("kabid")
    page = client.get(reverse(SETUP))
    secret = page.context["secret"].replace(" ", "")
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))

    done = client.post(reverse(SETUP), {"token": code(key)})

    html = done.content.decode()
    codes = done.context["codes"]
    assert set(codes) == set(StaticToken.objects.filter(device__user=cast["kabid"]).values_list("token", flat=True))
    # Still the enrolment: the way on is the confirmation below, not the menu.
    assert_sign_out_only(header_of(done))
    # The download is the file itself, in the link.
    link = re.search(r'<a [^>]*download="lokus-kode-cadangan.txt"[^>]*>', html).group(0)
    href = re.search(r'href="data:text/plain;charset=utf-8,([^"]*)"', link).group(1)
    lines = unquote(href).split("\n")
    assert lines[0] == "Kode cadangan Lokus untuk kabid, dibuat 3 Maret 2025 15:00 WIB"
    assert [line for line in lines if line in codes] == codes
    # Print: the codes sit in the area the print stylesheet keeps; the button needs JavaScript.
    area = re.search(r'<div class="print-area">(.*?)</div>', html, re.DOTALL).group(1)
    assert all(f"<code>{c}</code>" in area for c in codes)
    assert re.search(r"<button [^>]*hidden data-print", html)
    # Continue: the browser holds the form until the box is ticked, with or without JavaScript.
    home = re.escape(reverse("home"))
    form = re.search(rf'<form method="get" action="{home}">(.*?)</form>', html, re.DOTALL).group(1)
    assert re.search(r'<input type="checkbox" id="codes-saved" required', form)
    assert "Saya sudah menyimpan kode cadangan" in form
    assert 'data-enabled-by="codes-saved"' in form
    # Nothing of the page stays behind to be fetched again: the session holds no code.
    session = str(dict(client.session.items()))
    assert not [c for c in codes if c in session]
    assert client.get(reverse("home")).status_code == 200
