"""A small world with the backlog of a busy agency, for the scale pins.

``base`` builds one of everything the busy pages show, through the real services (the
builders of tests/lokus and tests/reports): an undecided plan, a Wasdin lokus at each of
steps 3-5, a report waiting at the Kasubbid and one at the Kabid, an approved report, the
logs and notifications all that writes. ``add_backlog`` then adds ``n`` more of each, so
that every home queue holds more than it may show, the list pages have more than one page
and one day of the calendar is crowded."""

from datetime import timedelta

from django.urls import reverse

from accounts.models import Notification
from core.enums import Classification
from core.models import AccessLog
from reports.enums import ReportState as S
from reports.models import DocumentDownload, DocumentKind
from tests.lokus import builders
from tests.reports import builders as report_builders

# The calendar's crowded day: a week ahead, from 07:00 WIB.
CROWDED_DAY_OFFSET = 7


def crowded_start():
    return builders.future_wib(days=CROWDED_DAY_OFFSET, hour=7)


def base(cast) -> dict:
    """One row of each kind; returns them by name."""
    team, korlap = [cast["member"], cast["coordinator"]], cast["coordinator"]
    kasubbid, partner = cast["kasubbid"], cast["partner"]
    world = {
        "plan": builders.make_plan(partner, title="Rencana menunggu keputusan", starts_at=crowded_start()),
        "composing": builders.make_ready_lokus(
            kasubbid, partner, team, korlap, title="Lokus disusun", starts_at=builders.future_wib(days=3)
        ),
        "dispatched": builders.make_dispatched_lokus(
            kasubbid, partner, team, korlap, title="Lokus dikirim", starts_at=builders.future_wib(days=4)
        ),
        "running": report_builders.make_running_lokus(cast, title="Lokus berjalan"),
        "at_kasubbid": report_builders.make_report_in(cast, S.AT_KASUBBID, title="Laporan di Kasubbid"),
        "at_kabid": report_builders.make_report_in(cast, S.AT_KABID, title="Laporan di Kabid"),
        "approved": report_builders.make_report_in(cast, S.APPROVED, title="Laporan disetujui"),
    }
    lokus = world["running"]
    _logs(cast, lokus, 1)
    return world


def _logs(cast, lokus, n: int) -> None:
    readers = [cast["kabid"], cast["kaban"], cast["kasubbid"], cast["member"]]
    AccessLog.objects.bulk_create(
        AccessLog(
            user=readers[i % len(readers)],
            kind=AccessLog.Kind.values[i % len(AccessLog.Kind.values)],
            lokus_id=lokus.pk,
            object_id=lokus.pk,
            classification=Classification.TERBATAS,
            ip_address="127.0.0.1",
        )
        for i in range(n)
    )
    DocumentDownload.objects.bulk_create(
        DocumentDownload(
            user=readers[i % len(readers)],
            kind=DocumentKind.values[i % len(DocumentKind.values)],
            lokus=lokus,
            object_id=lokus.pk,
            number=f"800.1.11.1/{i:04d}",
            classification=Classification.TERBATAS,
        )
        for i in range(n)
    )
    Notification.objects.bulk_create(
        Notification(recipient=user, title=f"Pemberitahuan {i}", body="Isi", url=reverse("home"), is_urgent=i % 2 == 0)
        for i in range(n)
        for user in (cast["kasubbid"], cast["kabid"], cast["member"])
    )


def add_backlog(cast, world: dict, n: int) -> None:
    """``n`` more of each kind: undecided plans on the crowded day (and decided ones), lokus
    at steps 3, 4 and 5 with the cast's member on the team, reports at the Kasubbid and at the
    Kabid, a few approved (the Korlap's past), and ``10 * n`` log rows and notifications."""
    team, korlap = [cast["member"], cast["coordinator"]], cast["coordinator"]
    kasubbid, partner = cast["kasubbid"], cast["partner"]
    start = crowded_start()
    for i in range(n):
        builders.make_plan(partner, title=f"Rencana antre {i}", starts_at=start + timedelta(minutes=10 * i))
        builders.make_ready_lokus(
            kasubbid, partner, team, korlap, title=f"Lokus disusun {i}", starts_at=builders.future_wib(days=20 + i)
        )
        builders.make_dispatched_lokus(
            kasubbid, partner, team, korlap, title=f"Lokus dikirim {i}", starts_at=builders.future_wib(days=60 + i)
        )
        report_builders.make_running_lokus(cast, title=f"Lokus berjalan {i}")
        report_builders.make_report_in(cast, S.AT_KASUBBID, title=f"Laporan di Kasubbid {i}")
        report_builders.make_report_in(cast, S.AT_KABID, title=f"Laporan di Kabid {i}")
        if i % 4 == 0:  # a Korlap's past: approved reports of lokus long done
            report_builders.make_report_in(cast, S.APPROVED, title=f"Laporan disetujui {i}")
    _logs(cast, world["running"], 10 * n)
