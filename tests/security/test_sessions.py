"""Sessions: the idle limit per role, 12 hours in all, a fresh session key at sign-in, and
ending every session of a user at once (deactivation, the administrator's button,
``session_epoch``). Clocks are frozen with time_machine."""

import datetime
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from accounts.models import User
from accounts.services import user_end_sessions
from tests.conftest import MODEL_BACKEND
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

START = datetime.datetime(2025, 3, 3, 1, 0, tzinfo=datetime.UTC)  # 08:00 WIB
NEW_PASSWORD = "Sandi-baru-yang-cukup-panjang-7"


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def signed_in_as(user) -> Client:
    """A plain client with a real session (the model backend, as the sign-in form uses)."""
    client = Client()
    client.force_login(user, backend=MODEL_BACKEND)
    return client


def is_in(client: Client, url_name: str = "home") -> bool:
    response = client.get(reverse(url_name))
    if response.status_code == 200:
        return True
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert location.path == reverse("login")
    assert parse_qs(location.query)["next"] == [reverse(url_name)]
    return False


def minutes(n: int) -> datetime.timedelta:
    return datetime.timedelta(minutes=n)


# Idle and absolute limits -----------------------------------------------------------------------


def test_a_kasubbid_idle_29_minutes_is_still_signed_in(cast, clock):
    client = signed_in_as(cast["kasubbid"])
    assert is_in(client)

    clock.shift(minutes(29))

    assert is_in(client)


def test_a_kasubbid_idle_31_minutes_is_signed_out(cast, clock):
    client = signed_in_as(cast["kasubbid"])
    assert is_in(client)

    clock.shift(minutes(31))

    assert not is_in(client, "lokus:list")
    assert "_auth_user_id" not in client.session
    # Signed out for good, not only for that one request.
    assert not is_in(client)


def test_activity_keeps_the_idle_clock_at_zero(cast, clock):
    client = signed_in_as(cast["kasubbid"])
    for _step in range(4):
        clock.shift(minutes(25))
        assert is_in(client)


def test_the_kabid_is_signed_out_after_15_idle_minutes(client, cast, clock):
    client.force_login(cast["kabid"])  # with the second factor: only the idle rule is under test
    assert is_in(client)
    clock.shift(minutes(14))
    assert is_in(client)

    clock.shift(minutes(16))

    assert not is_in(client)


@pytest.mark.parametrize("name", ["kaban", "admin"])
def test_the_other_strict_roles_have_15_idle_minutes_too(client, cast, clock, name):
    client.force_login(cast[name])
    assert is_in(client)

    clock.shift(minutes(16))

    assert not is_in(client)


def test_a_session_used_every_10_minutes_ends_after_12_hours(cast, clock):
    client = signed_in_as(cast["kasubbid"])
    for step in range(1, 72):  # up to 11 h 50 min
        clock.shift(minutes(10))
        assert is_in(client), f"signed out after {step * 10} minutes"

    clock.shift(minutes(20))  # 12 h 10 min after sign-in

    assert not is_in(client)


# Sign-in -------------------------------------------------------------------------------------------


def test_the_session_key_changes_at_sign_in(cast):
    client = Client()
    session = client.session
    session["seen_banner"] = True
    session.save()
    before = session.session_key
    assert Session.objects.filter(session_key=before).exists()

    response = client.post(reverse("login"), {"username": "kasubbid", "password": TEST_PASSWORD})

    assert response.status_code == 302
    after = client.session.session_key
    assert after != before
    assert not Session.objects.filter(session_key=before).exists()
    assert client.session["seen_banner"] is True  # same visit, new key


# Ending sessions -------------------------------------------------------------------------------------


def _change_form_data(admin_client: Client, user: User) -> dict:
    """The admin change form of ``user`` as the administrator's browser would send it back."""
    page = admin_client.get(reverse("admin:accounts_user_change", args=[user.pk]))
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        if field.disabled:
            continue
        value = form[name].value()
        if isinstance(value, bool):
            if value:
                data[name] = "on"
        elif isinstance(value, list | tuple):
            data[name] = [str(v) for v in value]
        elif value is not None:
            data[name] = str(value)
    return data


def test_deactivation_in_the_admin_ends_the_users_sessions_at_once(client, cast):
    member = cast["member"]
    phone, laptop = signed_in_as(member), signed_in_as(member)
    assert is_in(phone) and is_in(laptop)
    client.force_login(cast["admin"])
    change_url = reverse("admin:accounts_user_change", args=[member.pk])

    data = _change_form_data(client, member)
    assert data.pop("is_active") == "on"
    response = client.post(change_url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    member.refresh_from_db()
    assert not member.is_active
    assert not is_in(phone)
    assert not is_in(laptop, "lokus:assignments")

    # Activating the account again does not bring the old sessions back (a lost phone).
    client.post(change_url, {**data, "is_active": "on"})
    member.refresh_from_db()
    assert member.is_active
    assert not is_in(laptop)
    assert is_in(signed_in_as(member))


def test_the_end_sessions_service_signs_out_every_device(cast):
    member = cast["member"]
    phone, laptop = signed_in_as(member), signed_in_as(member)
    colleague = signed_in_as(cast["coordinator"])

    user_end_sessions(member)

    assert not is_in(phone)
    assert not is_in(laptop)
    assert is_in(colleague)
    assert is_in(signed_in_as(member))  # a new sign-in works


def test_the_end_sessions_admin_action(client, cast):
    phone = signed_in_as(cast["member"])
    client.force_login(cast["admin"])

    response = client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "end_sessions", "_selected_action": [cast["member"].pk]},
    )

    assert response.status_code == 302
    assert not is_in(phone)
    assert is_in(client)  # the administrator stays signed in


def test_raising_the_session_epoch_ends_sessions(cast):
    member = cast["member"]
    phone = signed_in_as(member)
    assert is_in(phone)

    User.objects.filter(pk=member.pk).update(session_epoch=member.session_epoch + 1)

    assert not is_in(phone)


# Passwords -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("short", ["Pendek-12ab", "Ab3$efgh", "x"])
def test_passwords_shorter_than_12_characters_are_refused(cast, short):
    client = signed_in_as(cast["kasubbid"])

    response = client.post(
        reverse("password_change"),
        {"old_password": TEST_PASSWORD, "new_password1": short, "new_password2": short},
    )

    assert response.status_code == 200
    assert "new_password2" in response.context["form"].errors
    member = User.objects.get(pk=cast["kasubbid"].pk)
    assert member.check_password(TEST_PASSWORD)
    assert not member.check_password(short)


def test_a_long_password_is_accepted_and_ends_the_other_sessions(cast):
    client, other_device = signed_in_as(cast["kasubbid"]), signed_in_as(cast["kasubbid"])
    assert len(NEW_PASSWORD) >= 12

    response = client.post(
        reverse("password_change"),
        {"old_password": TEST_PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("password_change_done")
    assert User.objects.get(pk=cast["kasubbid"].pk).check_password(NEW_PASSWORD)
    assert is_in(client)
    assert not is_in(other_device)
