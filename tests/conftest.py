"""The fixed cast of users, one per role plus outsiders (STYLE.md)."""

import shutil
import tempfile

import pytest

from accounts.enums import AgencyKind, Role
from tests.factories import AgencyFactory, UserFactory, sub_division


def pytest_configure(config):
    from django.conf import settings

    # Hashing strength is not under test; it would only slow every login down.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


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
    from accounts.models import Qualification, SubDivision
    from accounts.reference import load_accounts_reference
    from lokus.models import Kecamatan, Kelurahan, StepStandard
    from lokus.standards import load_step_standards
    from lokus.wilayah import load_wilayah

    load_accounts_reference(SubDivision, Qualification)
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
