"""The fixed cast of users, one per role plus outsiders (STYLE.md)."""

import shutil
import tempfile

import pytest
from django.http import HttpRequest
from django.test import Client

from accounts.enums import AgencyKind, Role
from tests.factories import AgencyFactory, UserFactory, sub_division

MODEL_BACKEND = "accounts.backends.ModelBackend"


class PersonClient(Client):
    """Signs in the way a person does. ``login`` goes through django-axes with a request;
    ``force_login`` uses the model backend (axes' backend, listed first, keeps no session)
    and, for a user whose role requires two-factor sign-in or who has an authenticator,
    also gives the second factor with a real confirmed device, as ``django_otp.login`` does.
    Tests of the enforcement itself use a plain ``django.test.Client``."""

    def login(self, **credentials):
        from django.contrib.auth import authenticate

        request = HttpRequest()
        request.META["REMOTE_ADDR"] = "127.0.0.1"
        user = authenticate(request=request, **credentials)
        if user is None:
            return False
        self._login(user, MODEL_BACKEND)
        return True

    def force_login(self, user, backend=None):
        super().force_login(user, backend or MODEL_BACKEND)
        give_second_factor(self, user)


def give_second_factor(client, user) -> None:
    from django_otp import DEVICE_ID_SESSION_KEY, user_has_device
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts.models import RolePolicy

    needed = RolePolicy.objects.filter(group__user=user, requires_two_factor=True).exists()
    if not needed and not user_has_device(user, confirmed=True):
        return
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or TOTPDevice.objects.create(
        user=user, name="authenticator", confirmed=True
    )
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


@pytest.fixture
def client():
    return PersonClient()


def pytest_configure(config):
    from django.conf import settings

    # Hashing strength is not under test; it would only slow every login down.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Background jobs run in the test process right after the commit (accounts.tasks), so that
    # e-mail still lands in mail.outbox; tests/ops runs real db_worker processes.
    from django.core.signals import setting_changed

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    setting_changed.send(sender=None, setting="TASKS", value=settings.TASKS, enter=True)
    # A test's transaction never commits: the monitoring's stored step occurrences are
    # replaced at each save instead of after the commit (monev.occurrences.mark).
    settings.MONEV_OCCURRENCES_IMMEDIATE = True


@pytest.fixture(autouse=True)
def _private_media(settings):
    media = tempfile.mkdtemp(prefix="lokus-media-")
    settings.MEDIA_ROOT = media
    yield
    shutil.rmtree(media, ignore_errors=True)


@pytest.fixture
def reference_data(db):
    """Reference data from the data migrations. Transactional tests (browser, concurrency)
    end with a flush that empties every table; post_migrate brings back the groups and
    permissions, and this brings back the rest."""
    from django.contrib.auth.models import Group

    from accounts.models import Qualification, RolePolicy, SubDivision
    from accounts.reference import load_accounts_reference, load_role_policies
    from lokus.models import Kecamatan, Kelurahan, StepStandard
    from lokus.standards import load_step_standards
    from lokus.wilayah import load_wilayah

    load_accounts_reference(SubDivision, Qualification)
    load_role_policies(Group, RolePolicy)
    load_wilayah(Kecamatan, Kelurahan)
    load_step_standards(StepStandard)


@pytest.fixture
def cast(reference_data):
    """One user per role, plus the outsiders every permission test needs."""
    wasdin, wasbang = sub_division("wasdin"), sub_division("wasbang")
    polres = AgencyFactory(name="Polres Uji", kind=AgencyKind.POLRI)
    kelurahan = AgencyFactory(name="Kelurahan Uji", kind=AgencyKind.KELURAHAN)
    users = {
        "partner": UserFactory(username="mitra", roles=[Role.PARTNER], agency=polres),
        "other_partner": UserFactory(username="mitra.lain", roles=[Role.PARTNER], agency=kelurahan),
        "kasubbid": UserFactory(username="kasubbid", roles=[Role.KASUBBID], sub_division=wasdin),
        "other_kasubbid": UserFactory(username="kasubbid.lain", roles=[Role.KASUBBID], sub_division=wasbang),
        "member": UserFactory(username="anggota", roles=[Role.MEMBER], sub_division=wasdin),
        "coordinator": UserFactory(username="korlap", roles=[Role.MEMBER], sub_division=wasdin),
        "other_member": UserFactory(username="anggota.lain", roles=[Role.MEMBER], sub_division=wasbang),
        "kabid": UserFactory(username="kabid", roles=[Role.KABID]),
        "kaban": UserFactory(username="kaban", roles=[Role.KABAN]),
        "admin": UserFactory(username="admin", roles=[Role.ADMIN], is_staff=True),
        "norole": UserFactory(username="tanpa.peran"),
    }
    return users


@pytest.fixture
def client_for(client, cast):
    """Return a test client signed in as the named cast member (None: anonymous)."""

    def _client_for(name):
        client.logout()
        if name is not None:
            client.force_login(cast[name])
        return client

    return _client_for
