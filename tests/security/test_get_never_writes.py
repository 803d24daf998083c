"""GET never writes (STYLE.md): every named URL of the project, the admin's included, is
requested with GET by every role of the cast and an anonymous visitor, and every table of
the database is read back after each request.

Allowed: the session (a sign-in's own state, not domain data) and the two logs whose purpose
is to record reads, the access log (core.AccessLog) and the document-download log
(reports.DocumentDownload); these may only gain rows. Any other change fails, with the URL
and the tables it changed.

The world is the permission grids' (tests/lokus/test_permission_grid.py,
tests/reports/test_permission_grid.py): plans with an attachment, lokus at every step of
3-5 (one in the field, with a photo), a notification; plus an approved Terbatas report whose
lokus has a Berita Acara and a photo stored before print renditions existed, and a draft
report. The letterhead row is gone (an administrator may delete it): documents fall back to
the defaults and must not put the row back."""

import hashlib
import io

import pytest
from django.apps import apps
from django.contrib import admin
from django.db import connection
from django.urls import URLResolver, get_resolver, reverse
from django.utils import timezone
from pypdf import PdfReader

from core.enums import Classification
from core.models import AccessLog
from lokus import services as lokus_services
from lokus.enums import MediaKind
from lokus.models import FieldMedia
from lokus.uploads import clean_image
from reports.enums import ReportState
from reports.models import ActivityReport, DocumentDownload, Letterhead
from tests.helpers import ROLES
from tests.lokus import builders as lokus_builders
from tests.lokus import test_permission_grid as lokus_grid
from tests.reports import builders as report_builders
from tests.reports import test_permission_grid as reports_grid
from tests.security import test_access_control as access_grid
from tests.security.test_access_control import project_url_names

pytestmark = pytest.mark.django_db

# Tables a GET may add rows to (never change or remove one): logs of reads.
READ_LOGS = {AccessLog._meta.db_table, DocumentDownload._meta.db_table}
# Not domain data: the signed-in browser's own state.
IGNORED = {"django_session"}

# Which objects of the world each URL that names an object is requested for. A new URL with
# a parameter fails test_every_url_with_a_parameter_names_its_objects until it is added.
LOKUS = ["composing", "dispatched", "confirmed", "running", "wasbang", "reported"]
REPORTS = ["draft", "approved"]
OBJECTS = {
    "notification_open": ["notification"],
    "lokus:plan_detail": ["received", "other_plan"],
    "lokus:plan_choose": ["received"],
    "lokus:plan_not_chosen": ["received"],
    "lokus:plan_attachment": ["attachment"],
    "lokus:media_file": ["media", "old_photo"],
    "lokus:media_thumbnail": ["media", "old_photo"],
    **{
        f"lokus:{name}": LOKUS
        for name in (
            "detail",
            "edit",
            "team",
            "dispatch",
            "assignment",
            "confirm",
            "risk",
            "check_in",
            "note_add",
            "media_add",
            "member_report",
            "escalate",
            "berita_acara_add",
        )
    },
    "reports:start": ["running", "reported"],
    "reports:surat_tugas": ["running", "reported"],
    "reports:berita_acara_pdf": ["berita_acara"],
    "reports:verify_document": ["code", "unknown_code"],
    **{
        f"reports:{name}": REPORTS
        for name in (
            "detail",
            "edit",
            "excuse",
            "submit",
            "receive",
            "verify",
            "forward",
            "return",
            "pass_down",
            "approve",
            "versions",
            "report_pdf",
        )
    },
}


# Pages of the walk and the grid row that says who sees them (answers 200).
SHOWN = {
    "lokus:plan_attachment:attachment": (lokus_grid.GRID, "plan_attachment"),
    "lokus:detail:running": (lokus_grid.GRID, "detail:running"),
    "lokus:detail:wasbang": (lokus_grid.GRID, "detail:wasbang"),
    "lokus:assignment:running": (lokus_grid.GRID, "assignment:running"),
    "lokus:media_file:media": (lokus_grid.GRID, "media_file"),
    "lokus:media_file:old_photo": (lokus_grid.GRID, "media_file"),
    "lokus:media_thumbnail:media": (lokus_grid.GRID, "media_thumbnail"),
    "lokus:access_log": (lokus_grid.GRID, "access_log"),
    "reports:detail:approved": (reports_grid.GRID, "detail"),
    "reports:report_pdf:approved": (reports_grid.GRID, "report_pdf"),
    "reports:berita_acara_pdf:berita_acara": (reports_grid.GRID, "berita_acara_pdf"),
    "reports:downloads": (reports_grid.GRID, "downloads"),
    "home": (lokus_grid.GRID, "home"),
    # The health checks answer everyone, and readyz's probe of the media storage leaves no row.
    "healthz": (access_grid.GRID, "healthz"),
    "readyz": (access_grid.GRID, "readyz"),
    # The monitoring map: its markers and table are read, nothing is written.
    "monev:map": (access_grid.GRID, "monev:map"),
    "monev:map_markers": (access_grid.GRID, "monev:map_markers"),
    "monev:map_items": (access_grid.GRID, "monev:map_items"),
    # The monitoring dashboard and the list behind its figures read; its exports (XLSX, the
    # monthly PDF) add a row to the download log only.
    "monev:dashboard": (access_grid.GRID, "monev:dashboard"),
    "monev:trend": (access_grid.GRID, "monev:trend"),
    "monev:occurrences": (access_grid.GRID, "monev:occurrences"),
    "monev:export_xlsx": (access_grid.GRID, "monev:export_xlsx"),
    "monev:export_pdf": (access_grid.GRID, "monev:export_pdf"),
}


# The world ----------------------------------------------------------------------------------


def _photo(user, lokus) -> FieldMedia:
    return lokus_services.field_media_add(
        user=user, lokus_id=lokus.pk, kind=MediaKind.PHOTO, clean=clean_image(lokus_grid.png_upload())
    )


@pytest.fixture
def world(cast) -> dict:
    world = lokus_grid.grid_world(cast)
    # An approved Terbatas report (its pages and PDFs are logged) whose lokus has a Berita
    # Acara and a photo without a print rendition (stored before renditions existed).
    lokus = report_builders.make_running_lokus(cast)
    old_photo = _photo(cast["member"], lokus)
    old_photo.print_file.delete(save=False)
    FieldMedia.objects.filter(pk=old_photo.pk).update(print_file="")
    lokus_builders.report_all(lokus, report_builders.team(cast))
    world["berita_acara"] = lokus_services.berita_acara_add(
        user=cast["member"],
        lokus_id=lokus.pk,
        data={
            "title": "Berita Acara dialog dengan koordinator aksi",
            "place": "Ruang rapat Pusat Pemerintahan",
            # Now, not an hour ago: from midnight to 1:00 WIB an hour ago is the day before
            # the lokus was chosen, which a Berita Acara may not be dated.
            "held_at": timezone.now(),
            "parties": [{"name": "Ketua Serikat Pekerja Uji", "position": "Koordinator aksi"}],
            "discussion": "Tuntutan kenaikan upah minimum kota.",
            "agreements": "Aspirasi diteruskan ke Wali Kota.",
            "events": "",
            "copies": 2,
        },
    )
    report = report_builders.start_report(cast, lokus, classification=Classification.TERBATAS)
    world["approved"] = report_builders.walk(report, ReportState.APPROVED, cast)
    world["reported"] = world["approved"].lokus
    world["old_photo"] = old_photo
    world["draft"] = report_builders.make_report(cast)
    Letterhead.objects.all().delete()
    for obj in world.values():
        obj.refresh_from_db()
    return world


def _path(name: str, world: dict, key: str | None) -> str:
    if key is None:
        path = reverse(name)
    elif key == "code":
        path = reverse(name, args=[ActivityReport.objects.get(pk=world["approved"].pk).verification_code])
    elif key == "unknown_code":
        path = reverse(name, args=["TIDAKADA1234"])
    else:
        path = reverse(name, args=[world[key].pk])
    if name == "lokus:kelurahan_options":
        path += f"?kecamatan={world['received'].kecamatan_id}"
    elif name == "lokus:plan_calendar":
        path += f"?date={timezone.localtime(world['received'].starts_at):%Y-%m-%d}"
    return path


def project_paths(world: dict) -> dict[str, str]:
    """label -> path: every named URL outside the admin, once per object it is asked for."""
    names, _unnamed = project_url_names()
    paths = {}
    for name in sorted(names):
        for key in OBJECTS.get(name, [None]):
            paths[f"{name}:{key}" if key else name] = _path(name, world, key)
    return paths


def admin_paths() -> dict[str, str]:
    """label -> path: every named admin URL, on the first row of its model."""
    paths = {}
    registered = {f"{m._meta.app_label}/{m._meta.model_name}/": m for m in admin.site._registry}

    def walk(patterns, model=None):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, registered.get(str(entry.pattern), model))
            elif entry.name and entry.name != "view_on_site":
                params = set(entry.pattern.converters) | set(entry.pattern.regex.groupindex)
                name = f"admin:{entry.name}"
                if not params:
                    paths[name] = reverse(name)
                elif params == {"app_label"}:
                    for app_label in sorted({m._meta.app_label for m in registered.values()}):
                        paths[f"{name}:{app_label}"] = reverse(name, args=[app_label])
                elif len(params) == 1 and model is not None:
                    pk = model._default_manager.order_by("pk").values_list("pk", flat=True).first()
                    if pk is not None:
                        paths[name] = reverse(name, args=[pk])

    walk(admin.site.urls[0])
    return paths


# Reading every table ---------------------------------------------------------------------------


def _tables() -> dict[str, str]:
    """Every table of a model (many-to-many tables included), with its primary-key column."""
    tables = {model._meta.db_table: model._meta.pk.column for model in apps.get_models(include_auto_created=True)}
    missing = set(tables) - set(connection.introspection.table_names())
    assert not missing, f"models without a table: {missing}"
    return {table: pk for table, pk in sorted(tables.items()) if table not in IGNORED}


def snapshot(tables: dict[str, str]) -> dict[str, tuple]:
    """Per table: its row count, highest key and a fingerprint of every value (the logs of
    reads: their rows, so that only additions pass)."""
    state = {}
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table, pk in tables.items():
            cursor.execute(f"SELECT {quote(pk)}, * FROM {quote(table)} ORDER BY {quote(pk)}")  # noqa: S608
            rows = cursor.fetchall()
            if table in READ_LOGS:
                state[table] = tuple(rows)
            else:
                digest = hashlib.sha256(repr(rows).encode()).hexdigest()
                state[table] = (len(rows), rows[-1][0] if rows else None, digest)
    return state


def changes(before: dict, after: dict) -> list[str]:
    changed = []
    for table, was in before.items():
        now = after[table]
        if table in READ_LOGS:
            if now[: len(was)] != was:
                changed.append(f"{table} (a logged row changed or went)")
        elif now[0] != was[0]:
            changed.append(f"{table} ({was[0]} -> {now[0]} rows)")
        elif now != was:
            changed.append(f"{table} (a row changed)")
    return changed


def _read(response) -> None:
    if response.streaming:
        b"".join(response.streaming_content)  # closes the file (close() would end the DB connection)


# The tests -------------------------------------------------------------------------------------


def test_every_url_with_a_parameter_names_its_objects():
    names, _unnamed = project_url_names()
    with_parameter = set()
    resolver = get_resolver()
    for name in names:
        namespace, _sep, short = name.rpartition(":")
        source = resolver.namespace_dict[namespace][1] if namespace else resolver
        for _bits, pattern, _defaults, converters in source.reverse_dict.getlist(short):
            if converters or "(?P<" in pattern:
                with_parameter.add(name)
    assert with_parameter == set(OBJECTS), "say which objects of the world a new URL is requested for"


@pytest.mark.parametrize("role", ROLES, ids=lambda role: role or "anonymous")
def test_no_get_writes_anything(client_for, cast, world, role):
    paths = {**project_paths(world), **admin_paths()}
    assert len(paths) > 150
    client = client_for(role)
    tables = _tables()
    state = snapshot(tables)
    logged = {table: len(state[table]) for table in READ_LOGS}
    answers, writes = {}, {}

    for label, path in paths.items():
        response = client.get(path)
        _read(response)
        answers[label] = response.status_code
        after = snapshot(tables)
        if changed := changes(state, after):
            writes[f"{label} {path}"] = changed
        state = after

    assert writes == {}, "a GET wrote to the database"
    # The walk met real pages, not only refusals: who sees them is what the grids say.
    for label, (grid, row) in SHOWN.items():
        assert (answers[label] == 200) == (grid[row][ROLES.index(role)] == 200), label
    if role == "kaban":  # the logs of reads did their job
        assert all(len(state[table]) > logged[table] for table in READ_LOGS)


def test_a_document_without_the_letterhead_row_is_made_from_the_defaults(client_for, cast):
    """The row the data migration made may be deleted; the next document is made from the
    defaults, and the download does not put the row back."""
    lokus = lokus_builders.make_dispatched_lokus(cast["kasubbid"], cast["partner"], [cast["member"]], cast["member"])
    Letterhead.objects.all().delete()

    response = client_for("kasubbid").get(reverse("reports:surat_tugas", args=[lokus.pk]))

    assert response.status_code == 200
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "PEMERINTAH KOTA TANGERANG" in text
    assert "BADAN KESATUAN BANGSA DAN POLITIK" in text
    assert not Letterhead.objects.exists()
    assert Letterhead.current().pk is None


def test_the_letterhead_is_the_row_the_migration_made(cast):
    assert Letterhead.objects.count() == 1
    Letterhead.objects.update(city="Kota Contoh")
    assert Letterhead.current().city == "Kota Contoh"
    assert Letterhead.current().pk == Letterhead.objects.get().pk
