import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.http import HttpRequest

from accounts.models import Agency, User

pytestmark = pytest.mark.django_db

DEMO_USERNAMES = {
    "admin",
    "mitra.polres",
    "mitra.kelurahan",
    "kasubbid.wasdin",
    "kasubbid.wasbang",
    "anggota1",
    "anggota2",
    "anggota3",
    "anggota4",
    "anggota5",
    "kabid",
    "kaban",
}


def snapshot():
    return {model.__name__: model.objects.count() for model in [User, Agency]}


def test_seed_demo_is_idempotent(settings):
    call_command("seed_demo")
    first = snapshot()
    call_command("seed_demo")
    assert snapshot() == first
    assert set(User.objects.values_list("username", flat=True)) >= DEMO_USERNAMES


def test_every_demo_user_can_sign_in_with_demo_password(settings):
    call_command("seed_demo")
    for username in DEMO_USERNAMES:
        request = HttpRequest()
        request.META["REMOTE_ADDR"] = "127.0.0.1"
        assert authenticate(request=request, username=username, password=settings.DEMO_PASSWORD) is not None, username


def test_demo_users_have_their_roles():
    call_command("seed_demo")
    assert User.objects.get(username="mitra.polres").agency.name == "Polres Metro Tangerang Kota"
    assert User.objects.get(username="kasubbid.wasbang").sub_division.code == "wasbang"
    members = User.objects.filter(username__startswith="anggota")
    assert {m.sub_division.code for m in members} == {"wasdin", "wasbang"}
    assert len({frozenset(m.qualifications.values_list("pk", flat=True)) for m in members}) == 5
    admin = User.objects.get(username="admin")
    assert admin.is_staff and not admin.is_superuser
    assert User.objects.get(username="kaban").has_role("Kepala Badan")


def test_seed_demo_refuses_production(settings):
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="production"):
        call_command("seed_demo")
    assert not User.objects.filter(username="kaban").exists()
