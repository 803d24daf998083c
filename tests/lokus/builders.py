"""Plain builders that walk a plan through the SOP's steps 1-5 by the real services.

Fixtures in ``tests/lokus/conftest.py`` are thin wrappers around these; permission grids,
view tests and end-to-end tests call them directly when they need more than one lokus."""

import itertools
from datetime import datetime, timedelta
from decimal import Decimal

from django.utils import timezone

from accounts.models import User
from lokus import permissions, services
from lokus.enums import Equipment, PlanCategory, Situation
from lokus.models import ActivityPlan, Kecamatan, Kelurahan, Lokus

KECAMATAN_CODE = "36.71.01"  # Tangerang
KELURAHAN_CODE = "36.71.01.1001"  # Sukarasa, in Kecamatan Tangerang

_surat_tugas_numbers = itertools.count(1)


def future_wib(days: int = 7, hour: int = 9) -> datetime:
    """A whole hour in WIB, some days ahead of now."""
    day = timezone.localtime() + timedelta(days=days)
    return day.replace(hour=hour, minute=0, second=0, microsecond=0)


def plan_data(**overrides) -> dict:
    """Valid data for ``services.plan_submit``: a rally next week, 09:00-13:00 WIB."""
    starts_at = overrides.pop("starts_at", None) or future_wib()
    data = {
        "title": "Aksi damai buruh di depan Pusat Pemerintahan",
        "category": PlanCategory.DEMONSTRATION,
        "description": "Penyampaian aspirasi tentang upah minimum kota.",
        "organiser": "Serikat Pekerja Uji",
        "organiser_contact": "0812-0000-1111",
        "expected_participants": 300,
        "starts_at": starts_at,
        "ends_at": starts_at + timedelta(hours=4),
        "address": "Jl. Satria Sudirman No. 1",
        "kecamatan": Kecamatan.objects.get(code=KECAMATAN_CODE),
        "kelurahan": Kelurahan.objects.get(code=KELURAHAN_CODE),
        "latitude": Decimal("-6.178306"),
        "longitude": Decimal("106.631889"),
    }
    data.update(overrides)
    return data


def make_plan(
    submitted_by: User, *, attachments=(), source_agency=None, source_name: str | None = None, **overrides
) -> ActivityPlan:
    """A plan submitted through ``plan_submit``. Kesbangpol staff need a named source; one
    is filled in for them unless given."""
    if source_name is None:
        source_name = "Ketua RW 05" if permissions.submits_on_behalf(submitted_by) and source_agency is None else ""
    return services.plan_submit(
        user=submitted_by,
        data=plan_data(**overrides),
        attachments=attachments,
        source_agency=source_agency,
        source_name=source_name,
    )


def make_chosen_lokus(kasubbid: User, submitted_by: User, **plan_overrides) -> Lokus:
    """A plan submitted by ``submitted_by`` and chosen as lokus by ``kasubbid`` (step 2)."""
    plan = make_plan(submitted_by, **plan_overrides)
    return services.plan_choose(user=kasubbid, plan_id=plan.pk)


def ready_data(lokus: Lokus, **overrides) -> dict:
    """What step 3 needs before dispatch: problem, assembly point and time, Surat Tugas."""
    data = {
        "problem": "Potensi bentrok antara massa aksi dan kelompok tandingan.",
        "assembly_point": "Halaman kantor Kesbangpol",
        "assembly_at": lokus.starts_at - timedelta(hours=1),
        "surat_tugas_number": f"800.1.11.1/{next(_surat_tugas_numbers):04d}-Kesbangpol/UJI",
    }
    data.update(overrides)
    return data


def make_ready_lokus(
    kasubbid: User, submitted_by: User, members: list[User], coordinator: User, **plan_overrides
) -> Lokus:
    """A chosen lokus with its details filled in and its team composed, not yet dispatched."""
    lokus = make_chosen_lokus(kasubbid, submitted_by, **plan_overrides)
    lokus = services.lokus_update(user=kasubbid, lokus_id=lokus.pk, data=ready_data(lokus))
    services.lokus_set_team(user=kasubbid, lokus_id=lokus.pk, members=members, coordinator=coordinator)
    return lokus


def make_dispatched_lokus(
    kasubbid: User, submitted_by: User, members: list[User], coordinator: User, **plan_overrides
) -> Lokus:
    lokus = make_ready_lokus(kasubbid, submitted_by, members, coordinator, **plan_overrides)
    return services.lokus_dispatch(user=kasubbid, lokus_id=lokus.pk)


def risk_data(go: bool = True, **overrides) -> dict:
    data = {
        "threats": "Massa tandingan berkumpul di sisi timur.",
        "access_routes": "Jl. Satria Sudirman dari arah utara.",
        "exit_routes": "Jl. KS Tubun ke arah selatan.",
        "security_contact": "Polsek Tangerang, 021-000000",
        "go": go,
    }
    data.update(overrides)
    return data


def note_data(**overrides) -> dict:
    data = {"body": "Massa mulai berkumpul, suasana tertib.", "crowd_estimate": 150, "situation": Situation.KONDUSIF}
    data.update(overrides)
    return data


def report_data(**overrides) -> dict:
    data = {
        "summary": "Aksi berjalan tertib dan selesai pukul 12.30 WIB.",
        "situation": Situation.KONDUSIF,
        "crowd_estimate": 280,
    }
    data.update(overrides)
    return data


def confirm_all(lokus: Lokus, members: list[User]) -> None:
    for member in members:
        services.assignment_confirm(user=member, lokus_id=lokus.pk, equipment=list(Equipment.values))


def advance_to_running(lokus: Lokus, members: list[User], coordinator: User) -> Lokus:
    """From dispatched to field work running: everyone says "Siap", the Korlap records a
    risk mapping with "go", everyone presses "Mulai"."""
    confirm_all(lokus, members)
    services.risk_record(user=coordinator, lokus_id=lokus.pk, data=risk_data(go=True))
    for member in members:
        services.assignment_check_in(user=member, lokus_id=lokus.pk)
    lokus.refresh_from_db()
    return lokus


def report_all(lokus: Lokus, members: list[User]) -> Lokus:
    """Every member submits their report: field work completes."""
    for member in members:
        services.member_report_submit(user=member, lokus_id=lokus.pk, data=report_data())
    lokus.refresh_from_db()
    return lokus


def seed_world(cast: dict) -> dict:
    """Plans and lokus in every state, in both sub-divisions, for permission tests.

    - ``received``: a plan from the partner, not yet decided;
    - ``other_partner_plan``: a plan from the other partner;
    - ``not_chosen``: a plan by the Kasubbid on behalf of the public, marked not chosen;
    - ``composing``: a Wasdin lokus with its team (member + Korlap) composed, not dispatched;
    - ``wasdin``: a Wasdin lokus dispatched to member + Korlap, running in the field;
    - ``wasbang``: a Wasbang lokus (the other Kasubbid's) dispatched to the other member.
    """
    member, coordinator = cast["member"], cast["coordinator"]
    world = {
        "received": make_plan(cast["partner"], title="Rencana belum diputuskan"),
        "other_partner_plan": make_plan(cast["other_partner"], title="Rencana mitra lain"),
    }
    not_chosen = make_plan(cast["kasubbid"], title="Rencana tidak dipilih")
    world["not_chosen"] = services.plan_mark_not_chosen(
        user=cast["kasubbid"], plan_id=not_chosen.pk, reason="Kegiatan rutin berskala kecil."
    )
    world["composing"] = make_ready_lokus(
        cast["kasubbid"], cast["partner"], [member, coordinator], coordinator, title="Lokus belum dikirim"
    )
    wasdin = make_dispatched_lokus(
        cast["kasubbid"], cast["partner"], [member, coordinator], coordinator, title="Lokus Wasdin"
    )
    world["wasdin"] = advance_to_running(wasdin, [member, coordinator], coordinator)
    world["wasbang"] = make_dispatched_lokus(
        cast["other_kasubbid"],
        cast["other_partner"],
        [cast["other_member"]],
        cast["other_member"],
        title="Lokus Wasbang",
        starts_at=future_wib(days=9),
    )
    return world
