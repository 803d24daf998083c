"""No input can break a page: regressions from an attacker / careless-user run against
gunicorn + PostgreSQL.

* Dates: every date and time a user can type has a sane range (core/validators.py),
  checked by the model, so forms, services and the admin all refuse year 1 or 9999 with a
  message naming the field; ``manage.py check_dates`` finds rows stored before; pages show
  a stored value that cannot be represented in WIB as "tanggal tidak valid".
* Parameters: control characters in the path or query and NUL in a form answer 400 (the
  project's 400 page); numbers are ASCII digits only (core/params.py); the calendar takes
  only sane dates; long upload file names are shortened instead of failing.
* Files that are valid PDF or MP4 and valid HTML at once are stored byte for byte and
  served so that a browser can never run them as a page of the product."""

import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse
from django.utils import formats, timezone, translation
from pypdf import PdfReader

from core.params import int_param, to_int
from core.validators import EARLIEST, earliest, in_range, latest
from lokus import services
from lokus.enums import MediaKind, PlanStatus
from lokus.forms import DATETIME_FORMAT, BeritaAcaraForm, LokusForm, PlanForm
from lokus.models import ActivityPlan, BeritaAcara, FieldMedia, Lokus, PlanAttachment
from lokus.uploads import clean_document
from tests.lokus import builders
from tests.reports import builders as report_builders

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
REFUSED_PAGE = "Permintaan tidak diterima"  # the 400 page's heading in Indonesian
INVALID_DATE = "tanggal tidak valid"
EXTREME_DATES = ["0001-01-01T00:00", "9999-12-31T23:59", "1999-12-31T23:59"]


def wib(moment: datetime.datetime) -> str:
    return timezone.localtime(moment).strftime(DATETIME_FORMAT)


def indonesian(day) -> str:
    """A date as the messages write it: "1 Januari 2000"."""
    with translation.override("id"):
        return formats.date_format(day, "j F Y")


def pdf_text(content: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


@pytest.fixture
def running(cast):
    """A Wasdin lokus in the field: cast["member"] on the team, cast["coordinator"] its Korlap."""
    team = [cast["member"], cast["coordinator"]]
    lokus = builders.make_dispatched_lokus(cast["kasubbid"], cast["partner"], team, cast["coordinator"])
    return builders.advance_to_running(lokus, team, cast["coordinator"])


def ba_form(**overrides) -> dict:
    data = {
        "title": "Dialog dengan koordinator aksi",
        "place": "Halaman Pusat Pemerintahan",
        "held_at": wib(timezone.now()),
        "parties": "Budi Santoso; koordinator aksi",
        "discussion": "Rute aksi dan batas waktu penyampaian aspirasi.",
        "copies": "2",
    }
    data.update(overrides)
    return data


def plan_form(**overrides) -> dict:
    data = builders.plan_data(title="Rencana dari formulir uji")
    form = {
        **{k: v for k, v in data.items() if k not in ("kecamatan", "kelurahan", "starts_at", "ends_at")},
        "starts_at": wib(data["starts_at"]),
        "ends_at": wib(data["ends_at"]),
        "kecamatan": data["kecamatan"].pk,
        "kelurahan": data["kelurahan"].pk,
    }
    form.update(overrides)
    return form


def lokus_form(lokus: Lokus, **overrides) -> dict:
    form = {
        "problem": "Potensi bentrok antara massa aksi dan kelompok tandingan.",
        "location": lokus.location,
        "assembly_point": "Halaman kantor Kesbangpol",
        "assembly_at": wib(lokus.starts_at - datetime.timedelta(hours=1)),
        "starts_at": wib(lokus.starts_at),
        "ends_at": wib(lokus.ends_at),
        "risk_level": lokus.risk_level,
        "classification": lokus.classification,
        "surat_tugas_number": "",
    }
    form.update(overrides)
    return form


# 1. Dates ---------------------------------------------------------------------------------


def test_the_sane_range_is_2000_to_five_years_ahead():
    assert datetime.date(2000, 1, 1) == EARLIEST
    assert in_range(earliest())
    assert not in_range(earliest() - datetime.timedelta(minutes=1))
    now = timezone.now()
    assert in_range(now)
    assert in_range(now + datetime.timedelta(days=365 * 5 - 2))
    assert not in_range(latest() + datetime.timedelta(minutes=1))
    # Year 1 in WIB lies before datetime.min in UTC: out of range, not an OverflowError.
    year_one = datetime.datetime(1, 1, 1, tzinfo=timezone.get_default_timezone())
    assert not in_range(year_one)
    assert not in_range(datetime.datetime(9999, 12, 31, 23, 59, tzinfo=timezone.get_default_timezone()))
    assert not in_range(datetime.datetime(2024, 1, 1))  # naive: cannot be placed in time
    assert in_range(datetime.date(2024, 2, 29)) and not in_range(datetime.date(1, 1, 1))


@pytest.mark.parametrize("held_at", EXTREME_DATES)
def test_a_berita_acara_dated_year_1_or_9999_is_refused_on_the_form(cast, client_for, running, held_at):
    client = client_for("member")

    response = client.post(reverse("lokus:berita_acara_add", args=[running.pk]), ba_form(held_at=held_at))

    assert response.status_code == 200
    errors = response.context["form"].errors["held_at"]
    assert errors == [f"Tanggal dan waktu (WIB): isi tanggal antara 1 Januari 2000 dan {indonesian(latest())}."]
    assert errors[0] in response.content.decode()
    assert not BeritaAcara.objects.exists()
    # Every page that would have shown it still works.
    assert client.get(reverse("lokus:assignment", args=[running.pk])).status_code == 200


def test_the_berita_acara_form_refuses_year_1_without_an_overflow(running):
    """0001-01-01T00:00 WIB has no UTC equivalent in Python: the form says so cleanly."""
    form = BeritaAcaraForm(ba_form(held_at="0001-01-01T00:00"), lokus=running)
    assert not form.is_valid()
    assert list(form.errors) == ["held_at"]
    form = BeritaAcaraForm(ba_form(held_at="2024-02-30T10:00"), lokus=running)
    assert not form.is_valid() and list(form.errors) == ["held_at"]


def test_a_berita_acara_is_dated_between_the_day_the_lokus_was_chosen_and_tomorrow(cast, client_for, running):
    client = client_for("member")
    url = reverse("lokus:berita_acara_add", args=[running.pk])
    chosen = timezone.localtime(running.created_at)

    before = client.post(url, ba_form(held_at=wib(chosen - datetime.timedelta(days=1))))
    ahead = client.post(url, ba_form(held_at=wib(timezone.now() + datetime.timedelta(days=2))))

    assert before.context["form"].errors["held_at"] == [
        f"Tanggal Berita Acara tidak boleh sebelum hari lokus dipilih ({indonesian(chosen)})."
    ]
    assert ahead.context["form"].errors["held_at"] == [
        "Tanggal Berita Acara tidak boleh lebih dari satu hari ke depan."
    ]
    assert not BeritaAcara.objects.exists()

    accepted = client.post(url, ba_form(title="Berita Acara hari ini"))

    assert accepted.status_code == 302
    assert BeritaAcara.objects.get().title == "Berita Acara hari ini"


def test_the_service_refuses_a_berita_acara_out_of_range_naming_the_field(cast, running):
    """The model holds the rule: the service refuses what no form sent."""
    from django.core.exceptions import ValidationError

    data = {
        "title": "Tanpa formulir",
        "place": "Pos jaga",
        "held_at": datetime.datetime(1, 1, 1, tzinfo=timezone.get_default_timezone()),
        "parties": [{"name": "Budi"}],
        "discussion": "Uji.",
        "agreements": "",
        "events": "",
        "copies": 2,
    }
    with pytest.raises(ValidationError) as refused:
        services.berita_acara_add(user=cast["member"], lokus_id=running.pk, data=data)
    assert list(refused.value.message_dict) == ["held_at"]
    assert refused.value.message_dict["held_at"][0].startswith("Tanggal dan waktu: isi tanggal antara 1 Januari 2000")
    assert not BeritaAcara.objects.exists()


@pytest.mark.parametrize("assembly_at", EXTREME_DATES)
def test_the_lokus_form_refuses_a_meeting_time_in_year_1_or_9999(cast, client_for, assembly_at):
    lokus = builders.make_chosen_lokus(cast["kasubbid"], cast["partner"])
    client = client_for("kasubbid")

    response = client.post(reverse("lokus:edit", args=[lokus.pk]), lokus_form(lokus, assembly_at=assembly_at))

    assert response.status_code == 200
    assert (
        response.context["form"]
        .errors["assembly_at"][0]
        .startswith("Waktu kumpul (WIB): isi tanggal antara 1 Januari 2000 dan")
    )
    lokus.refresh_from_db()
    assert lokus.assembly_at is None and lokus.problem == ""
    assert client.get(reverse("lokus:detail", args=[lokus.pk])).status_code == 200
    assert client.get(reverse("home")).status_code == 200


def test_the_meeting_time_is_within_two_days_before_the_schedule(cast, client_for):
    lokus = builders.make_chosen_lokus(cast["kasubbid"], cast["partner"])
    client = client_for("kasubbid")
    url = reverse("lokus:edit", args=[lokus.pk])

    early = client.post(url, lokus_form(lokus, assembly_at=wib(lokus.starts_at - datetime.timedelta(days=3))))

    assert early.context["form"].errors["assembly_at"] == ["Waktu kumpul paling awal dua hari sebelum jadwal mulai."]
    lokus.refresh_from_db()
    assert lokus.assembly_at is None

    fine = client.post(url, lokus_form(lokus, assembly_at=wib(lokus.starts_at - datetime.timedelta(days=1))))

    assert fine.status_code == 302
    lokus.refresh_from_db()
    assert lokus.assembly_at == lokus.starts_at - datetime.timedelta(days=1)


@pytest.mark.parametrize("field", ["starts_at", "ends_at"])
@pytest.mark.parametrize("value", EXTREME_DATES)
def test_the_plan_form_refuses_extreme_dates(cast, client_for, field, value):
    response = client_for("partner").post(reverse("lokus:plan_create"), plan_form(**{field: value}))

    assert response.status_code == 200
    label = {"starts_at": "Mulai (WIB)", "ends_at": "Selesai (WIB)"}[field]
    assert response.context["form"].errors[field][0].startswith(f"{label}: isi tanggal antara 1 Januari 2000")
    assert not ActivityPlan.objects.exists()


def test_the_forms_refuse_year_1_in_python_too():
    """No OverflowError from comparing or converting year 1 in any date form."""
    for form in (
        PlanForm(plan_form(starts_at="0001-01-01T00:00", ends_at="0001-01-01T01:00")),
        LokusForm({"starts_at": "0001-01-01T00:00", "ends_at": "9999-12-31T23:59", "assembly_at": "0001-01-01T00:00"}),
    ):
        assert not form.is_valid()
        assert {"starts_at", "ends_at"} <= set(form.errors)


def test_the_lokus_service_refuses_a_schedule_out_of_range(cast):
    from django.core.exceptions import ValidationError

    lokus = builders.make_chosen_lokus(cast["kasubbid"], cast["partner"])
    far = datetime.datetime(2099, 1, 1, 9, tzinfo=timezone.get_default_timezone())
    with pytest.raises(ValidationError) as refused:
        services.lokus_update(
            user=cast["kasubbid"], lokus_id=lokus.pk, data={"starts_at": far, "ends_at": far + datetime.timedelta(1)}
        )
    assert set(refused.value.message_dict) == {"starts_at", "ends_at"}
    assert refused.value.message_dict["starts_at"][0].startswith("Jadwal mulai: isi tanggal antara")
    lokus.refresh_from_db()
    assert lokus.starts_at < far


def _store_past_validation(lokus: Lokus, record: BeritaAcara, moment: datetime.datetime) -> None:
    """Rows as they may already be stored: written by update(), which validates nothing."""
    hour = datetime.timedelta(hours=1)
    ActivityPlan.objects.filter(pk=lokus.plan_id).update(starts_at=moment - hour, ends_at=moment)
    Lokus.objects.filter(pk=lokus.pk).update(starts_at=moment - hour, ends_at=moment, assembly_at=moment - 2 * hour)
    BeritaAcara.objects.filter(pk=record.pk).update(held_at=moment)


def _record(cast, lokus) -> BeritaAcara:
    return services.berita_acara_add(
        user=cast["member"],
        lokus_id=lokus.pk,
        data={
            "title": "Berita Acara tersimpan",
            "place": "Pos jaga",
            "held_at": timezone.now(),
            "parties": [{"name": "Budi Santoso", "position": "Koordinator aksi"}],
            "discussion": "Uji.",
            "agreements": "",
            "events": "",
            "copies": 2,
        },
    )


def test_check_dates_lists_rows_stored_out_of_range(cast, running):
    record = _record(cast, running)
    out = io.StringIO()
    call_command("check_dates", stdout=out)
    assert "Every stored date is in range." in out.getvalue()

    _store_past_validation(running, record, datetime.datetime(1, 1, 1, 12, tzinfo=UTC))
    out = io.StringIO()
    with pytest.raises(CommandError, match="6 stored date"):
        call_command("check_dates", stdout=out)

    rows = sorted(line.split("\t") for line in out.getvalue().splitlines())
    assert rows == sorted(
        [
            ["lokus.ActivityPlan", str(running.plan_id), "ends_at"],
            ["lokus.ActivityPlan", str(running.plan_id), "starts_at"],
            ["lokus.BeritaAcara", str(record.pk), "held_at"],
            ["lokus.Lokus", str(running.pk), "assembly_at"],
            ["lokus.Lokus", str(running.pk), "ends_at"],
            ["lokus.Lokus", str(running.pk), "starts_at"],
        ]
    )


@pytest.mark.skipif(connection.vendor != "postgresql", reason="BC timestamps exist only in PostgreSQL")
def test_check_dates_finds_a_bc_timestamp_that_cannot_be_read(cast, running):
    record = _record(cast, running)
    with connection.cursor() as cursor:
        # What the Berita Acara form stored before: 0001-01-01T00:00 WIB is 1 BC in UTC.
        cursor.execute(
            "UPDATE lokus_beritaacara SET held_at = %s::timestamptz WHERE id = %s",
            ["0001-01-01 00:00:00+07", record.pk],
        )
    with pytest.raises(ValueError, match="year -1 is out of range"):
        BeritaAcara.objects.get(pk=record.pk)

    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("check_dates", stdout=out)
    assert out.getvalue().splitlines() == [f"lokus.BeritaAcara\t{record.pk}\theld_at"]


def test_pages_show_a_stored_unrepresentable_date_as_invalid(cast, client_for, running):
    """9999-12-31 23:00 UTC is readable, but in WIB it is past year 9999: shown as invalid,
    the page answers."""
    record = _record(cast, running)
    _store_past_validation(running, record, datetime.datetime(9999, 12, 31, 23, tzinfo=UTC))
    pages = {
        "member": [
            reverse("lokus:assignment", args=[running.pk]),
            reverse("lokus:assignments"),
            reverse("lokus:list"),
            reverse("home"),
        ],
        "kasubbid": [
            reverse("lokus:detail", args=[running.pk]),
            reverse("lokus:list"),
            reverse("home"),
            reverse("lokus:plan_list") + "?when=all",
            reverse("lokus:plan_detail", args=[running.plan_id]),
        ],
        "kaban": [reverse("lokus:detail", args=[running.pk]), reverse("lokus:access_log"), reverse("home")],
    }
    for role, urls in pages.items():
        client = client_for(role)
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, (role, url)
            if url not in (reverse("home"), reverse("lokus:access_log")):
                assert INVALID_DATE in response.content.decode(), (role, url)

    client = client_for("member")
    minutes = client.get(reverse("reports:berita_acara_pdf", args=[record.pk]))
    assert minutes.status_code == 200
    assert INVALID_DATE in pdf_text(minutes.content)
    letter = client.get(reverse("reports:surat_tugas", args=[running.pk]))
    assert letter.status_code == 200
    assert INVALID_DATE in pdf_text(letter.content)
    verified = client_for(None).get(reverse("reports:verify_document", args=[running.verification_code]))
    assert verified.status_code == 200
    assert INVALID_DATE in verified.content.decode()


# 2. Parameters ----------------------------------------------------------------------------


def assert_refused(response, reason: str) -> None:
    assert response.status_code == 400
    page = response.content.decode()
    assert REFUSED_PAGE in page
    assert reason in page


@pytest.mark.parametrize("role", [None, "kasubbid"], ids=["anonymous", "kasubbid"])
def test_a_nul_in_the_path_or_query_answers_400(client_for, cast, role):
    client = client_for(role)
    for response in (
        client.get("/verifikasi/a%00b/"),
        client.get(reverse("lokus:plan_list") + "?q=a%00b"),
        client.get(reverse("lokus:plan_list"), {"q": "a\x00b"}),
        client.get(reverse("lokus:plan_list"), {"a\x00b": "1"}),
        client.get(reverse("lokus:plan_calendar") + "?date=%1b"),
        client.get(reverse("lokus:plan_list") + "?q=tab%09tab"),
        client.get("/lokus/%7f/"),
    ):
        assert_refused(response, "Alamat halaman mengandung karakter yang tidak diizinkan.")


def test_a_nul_in_a_form_answers_400_and_saves_nothing(client_for, cast, running):
    client = client_for("member")
    url = reverse("lokus:note_add", args=[running.pk])

    refused = client.post(url, builders.note_data(body="Massa\x00berkumpul"))

    assert_refused(refused, "Formulir mengandung karakter yang tidak diizinkan.")
    assert not running.assignments.filter(notes__isnull=False).exists()

    # Tabs and line breaks are what text areas hold: accepted.
    accepted = client.post(url, builders.note_data(body="Massa berkumpul.\r\n\tSuasana tertib."))

    assert accepted.status_code == 302
    assert running.assignments.get(member=cast["member"]).notes.get().body == "Massa berkumpul.\r\n\tSuasana tertib."


def test_the_400_page_renders_for_django_refusals_too(client):
    response = client.get("/", HTTP_HOST="bukan host yang sah")
    assert response.status_code == 400
    assert REFUSED_PAGE in response.content.decode()


@pytest.mark.parametrize("value", ["9999-12-31", "9999-12-28", "0001-01-01", "1999-12-31", "2024-02-30", "²"])
def test_the_calendar_shows_this_week_for_a_date_out_of_range(client_for, cast, value):
    response = client_for("kasubbid").get(reverse("lokus:plan_calendar"), {"date": value})

    assert response.status_code == 200
    today = timezone.localdate()
    assert response.context["first"] == today - datetime.timedelta(days=today.weekday())
    day = client_for("kasubbid").get(reverse("lokus:plan_calendar"), {"date": value, "mode": "day"})
    assert day.status_code == 200 and day.context["first"] == today


def test_the_calendar_goes_to_the_edges_of_the_range(client_for, cast):
    client = client_for("kasubbid")
    first = client.get(reverse("lokus:plan_calendar"), {"date": "2000-01-01"})
    assert first.status_code == 200
    assert first.context["first"] == datetime.date(1999, 12, 27)  # the Monday of that week
    assert first.context["previous"] == datetime.date(1999, 12, 20)


@pytest.mark.parametrize("digits", ["²", "١", "𝟙", "1²", " 1", "-1", "9" * 30])
def test_a_number_parameter_that_is_not_ascii_digits_is_ignored(client_for, cast, digits):
    plan = builders.make_plan(cast["partner"], title="Rencana yang selalu tampil")
    client = client_for("kasubbid")

    listed = client.get(reverse("lokus:plan_list"), {"kecamatan": digits})
    options = client.get(reverse("lokus:kelurahan_options"), {"kecamatan": digits})

    assert listed.status_code == 200
    assert [p.pk for p in listed.context["page"].object_list] == [plan.pk]
    assert "kecamatan" not in listed.context["filters"].selected
    assert options.status_code == 200
    assert "<option" not in options.content.decode().replace('<option value="">', "")


def test_the_plan_list_still_filters_by_an_ascii_kecamatan(client_for, cast):
    plan = builders.make_plan(cast["partner"], title="Rencana di Kecamatan Tangerang")
    client = client_for("kasubbid")
    same = client.get(reverse("lokus:plan_list"), {"kecamatan": str(plan.kecamatan_id)})
    other = client.get(reverse("lokus:plan_list"), {"kecamatan": str(plan.kecamatan_id + 1)})
    assert [p.pk for p in same.context["page"].object_list] == [plan.pk]
    assert list(other.context["page"].object_list) == []
    assert same.context["filters"].selected["kecamatan"] == str(plan.kecamatan_id)


@pytest.mark.parametrize("value", ["²", "1²"])
def test_the_plan_form_shows_a_field_error_for_a_kecamatan_that_is_not_a_number(client_for, cast, value):
    """ "²" passes str.isdigit() but int() refuses it. (Decimal digits of other scripts, "١",
    are numbers to int() and so to Django's form fields: they choose that kecamatan.)"""
    response = client_for("partner").post(reverse("lokus:plan_create"), plan_form(kecamatan=value))

    assert response.status_code == 200
    assert "kecamatan" in response.context["form"].errors
    assert not ActivityPlan.objects.exists()


@pytest.mark.parametrize("value", ["²", "١", "99999999999999999999", "0", "-1"])
def test_report_versions_ignore_a_version_that_is_not_a_number(client_for, cast, value):
    report = report_builders.make_report(cast)
    client = client_for("coordinator")
    default = client.get(reverse("reports:versions", args=[report.pk]))

    response = client.get(reverse("reports:versions", args=[report.pk]), {"a": value, "b": value})

    assert response.status_code == 200
    assert (response.context["older"], response.context["newer"]) == (
        default.context["older"],
        default.context["newer"],
    )
    assert response.context["newer"] is not None


def test_int_param_takes_only_ascii_digits_in_range():
    assert int_param({"n": "42"}, "n") == 42
    assert int_param({"n": "0042"}, "n") == 42
    assert int_param({}, "n", 7) == 7
    for bad in ["²", "١", "4²", "", " 4", "4 ", "4\n", "+4", "-4", "4.0", "0", "9" * 19]:
        assert int_param({"n": bad}, "n", 7) == 7, bad
    assert int_param({"n": "5"}, "n", max=4) is None
    assert int_param({"n": "0"}, "n", min=0) == 0
    assert to_int(3) == 3 and to_int(True) is None and to_int(None, 1) == 1


def test_verify_document_answers_404_for_a_code_of_any_shape(client):
    for code in ["a" * 5000, "<script>", "ÄÖÜ", "7KQ4 XM2P"]:
        response = client.get(reverse("reports:verify_document", args=[code]))
        assert response.status_code == 404
        assert response["X-Robots-Tag"] == "noindex"


# Long upload file names --------------------------------------------------------------------

PDF = b"%PDF-1.4\n% surat pemberitahuan\n%%EOF\n"


def _png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (16, 12), "red").save(out, format="PNG")
    return out.getvalue()


def test_a_plan_attachment_with_a_long_name_is_stored_with_a_shortened_name(client_for, cast):
    name = "Surat pemberitahuan " + "sangat panjang " * 20 + ".pdf"  # 320 characters
    upload = SimpleUploadedFile(name, PDF, content_type="application/pdf")

    response = client_for("partner").post(reverse("lokus:plan_create"), {**plan_form(), "attachments": [upload]})

    assert response.status_code == 302
    attachment = PlanAttachment.objects.get()
    assert len(attachment.original_name) == 200
    assert attachment.original_name.startswith("Surat pemberitahuan sangat panjang")
    assert attachment.original_name.endswith(".pdf")
    assert attachment.file.read() == PDF


def multipart(fields: dict, file_field: str, filename: str, content: bytes, content_type: str) -> tuple[bytes, str]:
    """A multipart body as a browser sends it: unlike the test client, which cuts file
    names to 255 characters, it keeps the name as long as it is."""
    boundary = "LokusUjiBatas"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode() for k, v in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; filename="{filename}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n".encode()
        + content
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def test_field_media_with_a_900_character_name_is_stored_with_a_shortened_name(client_for, cast, running):
    body, content_type = multipart(
        {"kind": MediaKind.PHOTO, "caption": "Gerbang"}, "file", "a" * 900 + ".png", _png(), "image/png"
    )

    response = client_for("member").post(reverse("lokus:media_add", args=[running.pk]), body, content_type=content_type)

    assert response.status_code == 302
    media = FieldMedia.objects.get()
    assert media.original_name == "a" * 196 + ".jpg"  # re-encoded photos are JPEG
    assert media.caption == "Gerbang"


def test_a_5000_character_file_name_gets_a_400_page_that_says_what_to_do(client_for, cast, running):
    """Django refuses a multipart part whose headers pass 1 KiB before any view runs (a
    guard against slow parsing); no file system has such names. The page says why."""
    body, content_type = multipart(
        {"kind": MediaKind.PHOTO, "caption": "Gerbang"}, "file", "a" * 5000 + ".png", _png(), "image/png"
    )

    response = client_for("member").post(reverse("lokus:media_add", args=[running.pk]), body, content_type=content_type)

    assert_refused(response, "namanya mungkin terlalu panjang: ganti nama berkas menjadi lebih pendek")
    assert not FieldMedia.objects.exists()


# 3. Polyglot files -------------------------------------------------------------------------

HTML = b"<!DOCTYPE html><html><body><script>document.title='owned'</script></body></html>"
PDF_POLYGLOT = b"%PDF-1.4\n" + HTML + b"\n%%EOF\n"
MP4_POLYGLOT = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + HTML + b"\x00" * 64


def assert_served_inert(response, body: bytes, content_type: str) -> None:
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["X-Content-Type-Options"] == "nosniff"
    policy = [directive.strip() for directive in response["Content-Security-Policy"].split(";")]
    assert "sandbox" in policy
    assert "default-src 'none'" in policy
    assert b"".join(response.streaming_content) == body


def test_a_pdf_that_is_also_html_is_stored_and_served_inert(client_for, cast):
    plan = builders.make_plan(
        cast["partner"],
        attachments=[clean_document(SimpleUploadedFile("surat.pdf", PDF_POLYGLOT, content_type="text/html"))],
    )
    attachment = plan.attachments.get()
    assert attachment.file.read() == PDF_POLYGLOT

    response = client_for("kasubbid").get(reverse("lokus:plan_attachment", args=[attachment.pk]))

    assert_served_inert(response, PDF_POLYGLOT, "application/pdf")
    assert plan.status == PlanStatus.RECEIVED


def test_an_mp4_that_is_also_html_is_stored_and_served_inert(client_for, cast, running):
    client = client_for("member")
    upload = SimpleUploadedFile("rekaman.mp4", MP4_POLYGLOT, content_type="text/html")

    response = client.post(reverse("lokus:media_add", args=[running.pk]), {"kind": MediaKind.VIDEO, "file": upload})

    assert response.status_code == 302
    media = FieldMedia.objects.get()
    assert (media.content_type, media.original_name) == ("video/mp4", "rekaman.mp4")
    assert media.file.read() == MP4_POLYGLOT
    assert_served_inert(client.get(reverse("lokus:media_file", args=[media.pk])), MP4_POLYGLOT, "video/mp4")


@pytest.mark.parametrize("target", ["²", "home", "javascript:alert(1)", "https://evil.example/"])
def test_the_code_page_sends_a_bad_next_home(client_for, cast, target):
    """Found by the fuzz test: ``next=²`` was looked up as a URL name (NoReverseMatch, 500)."""
    response = client_for("kabid").get(reverse("two_factor_verify"), {"next": target})

    assert response.status_code == 302
    assert response["Location"] == reverse("home")


def test_an_id_too_long_for_the_database_is_a_wrong_choice(client_for, cast):
    """Found by the fuzz test: on SQLite an ``__in`` query with a 30-digit id raised
    OverflowError (500) instead of finding nothing."""
    lokus = builders.make_chosen_lokus(cast["kasubbid"], cast["partner"])
    team = client_for("kasubbid").post(
        reverse("lokus:team", args=[lokus.pk]), {"members": ["9" * 30], "coordinator": cast["member"].pk}
    )
    assert team.status_code == 200
    assert "members" in team.context["form"].errors
    assert not lokus.assignments.exists()

    report = report_builders.make_report(cast)
    edit = client_for("coordinator").post(
        reverse("reports:edit", args=[report.pk]), {**report_builders.filled_data(), "media": ["9" * 30]}
    )
    assert edit.status_code == 200
    assert "media" in edit.context["form"].errors


def test_a_username_longer_than_any_account_is_a_field_error(client):
    """Found by the fuzz test on PostgreSQL: a 256-character username reached django-axes,
    whose record of the failure holds 255 characters (DataError, 500)."""
    from axes.models import AccessAttempt

    response = client.post(reverse("login"), {"username": "a" * 256, "password": "salah"})

    assert response.status_code == 200
    assert "username" in response.context["form"].errors
    assert not AccessAttempt.objects.exists()
