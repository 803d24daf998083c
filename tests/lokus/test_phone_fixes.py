"""What field officers and the Korlap meet on their phones: the step-6 prompt when field work
completes (the work queue and the notification), light photo thumbnails served with the same
access checks as the photos, the kelurahan refusal that names what was wrong, and the
verification address printed on documents."""

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation
from PIL import Image

from accounts.models import Notification
from core.enums import Classification
from core.images import THUMB_MAX_SIDE
from core.models import AccessLog
from lokus import selectors, services
from lokus.enums import LokusState, MediaKind
from lokus.models import FieldMedia, Lokus
from lokus.uploads import clean_image
from reports import services as report_services
from tests.lokus import builders
from tests.reports import builders as report_builders

pytestmark = pytest.mark.django_db

STEP6 = "Compile and send the team report (step 6)"
COMPILE_PROMPT = "Every member has reported: compile and send the team report (step 6): %(title)s"


def in_indonesian(msgid: str) -> str:
    with translation.override("id"):
        return translation.gettext(msgid)


def home_tasks(client_for, who: str) -> list:
    response = client_for(who).get(reverse("home"))
    assert response.status_code == 200
    return response.context["tasks"]


def tiles_of(tasks, lokus) -> list:
    """The home tiles about this lokus (its title), as (what, url, step)."""
    return [(str(t.what), t.url, t.step) for t in tasks if t.title == lokus.plan.title]


def compile_prompts(user, lokus) -> list[Notification]:
    title = in_indonesian(COMPILE_PROMPT) % {"title": lokus.plan.title}
    return list(Notification.objects.filter(recipient=user, title=title))


# Step 6 waits for the Korlap from the moment field work completes ---------------------------


def test_the_korlap_gets_the_step_6_task_when_the_last_member_report_is_in(client_for, cast):
    lokus = report_builders.make_running_lokus(cast)
    assignment_url = reverse("lokus:assignment", args=[lokus.pk])
    builders.report_all(lokus, [cast["coordinator"]])
    assert (in_indonesian(STEP6), assignment_url, 6) not in tiles_of(home_tasks(client_for, "coordinator"), lokus)

    builders.report_all(lokus, [cast["member"]])

    assert lokus.state == LokusState.FIELD_DONE
    tasks = home_tasks(client_for, "coordinator")
    assert tiles_of(tasks, lokus) == [(in_indonesian(STEP6), assignment_url, 6)]
    [task] = [t for t in tasks if t.title == lokus.plan.title]
    assert task.due_at == lokus.field_done_at + selectors.step_standards()[6].duration
    # Only the Korlap compiles the report: the other member has nothing left to do here.
    assert tiles_of(home_tasks(client_for, "member"), lokus) == []


def test_the_step_6_task_gives_way_to_the_reports_own_task_and_never_comes_back(client_for, cast):
    lokus = report_builders.make_field_done_lokus(cast)
    due = lokus.field_done_at + selectors.step_standards()[6].duration

    report = report_builders.start_report(cast, lokus)

    tasks = [t for t in home_tasks(client_for, "coordinator") if t.title == lokus.plan.title]
    # One tile for the one thing to do: the report's, due when the prompt was due.
    assert [(t.url, t.step, t.due_at) for t in tasks] == [(reverse("reports:detail", args=[report.pk]), 6, due)]

    report_services.report_submit(user=cast["coordinator"], report_id=report.pk)

    assert tiles_of(home_tasks(client_for, "coordinator"), lokus) == []


# The Korlap is told at once, exactly once --------------------------------------------------


@pytest.mark.parametrize("last", ["member", "coordinator"])
def test_the_korlap_is_told_once_to_compile_the_report_when_field_work_completes(cast, last):
    first = "coordinator" if last == "member" else "member"
    lokus = report_builders.make_running_lokus(cast)
    builders.report_all(lokus, [cast[first]])
    assert compile_prompts(cast["coordinator"], lokus) == []
    before = set(Notification.objects.filter(recipient=cast["coordinator"]).values_list("pk", flat=True))

    builders.report_all(lokus, [cast[last]])

    [prompt] = compile_prompts(cast["coordinator"], lokus)
    assert prompt.url == reverse("lokus:assignment", args=[lokus.pk])
    # That one notification is all the Korlap gets for the last report.
    assert list(Notification.objects.filter(recipient=cast["coordinator"]).exclude(pk__in=before)) == [prompt]
    # The Kasubbid learns that the field work is complete; the other member is not prompted.
    done = in_indonesian("Field work completed, every member has reported: %(title)s") % {"title": lokus.plan.title}
    assert Notification.objects.filter(recipient=cast["kasubbid"], title=done).count() == 1
    assert compile_prompts(cast["kasubbid"], lokus) == compile_prompts(cast["member"], lokus) == []


def test_field_work_completed_by_sending_the_report_prompts_nobody_to_compile_it(cast):
    """The other end of step 5: the Korlap sends the report with a member excused. The
    report is compiled and sent by that very step, so nobody is asked to compile it; the
    Kasubbid is asked to receive it."""
    report = report_builders.make_report_with_missing_member(cast)
    lokus, korlap = report.lokus, cast["coordinator"]
    missing = lokus.assignments.get(member=cast["member"])
    report_services.report_excuse(user=korlap, report_id=report.pk, assignment_id=missing.pk, reason="Sakit")

    report_services.report_submit(user=korlap, report_id=report.pk)

    lokus.refresh_from_db()
    assert lokus.state == LokusState.FIELD_DONE
    assert Notification.objects.filter(title__contains=lokus.plan.title, title__icontains="langkah 6").count() == 0
    to_receive = in_indonesian("Activity report to receive: %(title)s") % {"title": lokus.plan.title}
    assert Notification.objects.filter(recipient=cast["kasubbid"], title=to_receive).count() == 1


# Photos: a light thumbnail on the pages, the photo itself on a tap ----------------------------


def camera_jpeg(width: int = 2400, height: int = 1800) -> bytes:
    """A phone-camera-sized photo with detail in it (a flat colour would compress to nothing)."""
    image = Image.effect_noise((width, height), 40).convert("RGB")
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90)
    return out.getvalue()


@pytest.fixture(scope="module")
def big_photo() -> bytes:
    return camera_jpeg()


def add_photo(user, lokus, content: bytes, caption: str = "Gerbang") -> FieldMedia:
    clean = clean_image(SimpleUploadedFile("IMG_0001.jpg", content, content_type="image/jpeg"))
    return services.field_media_add(user=user, lokus_id=lokus.pk, kind=MediaKind.PHOTO, clean=clean, caption=caption)


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def image_sources(html: str) -> list[str]:
    return re.findall(r'<img src="([^"]+)"', html)


def test_an_uploaded_photo_is_stored_with_a_thumbnail_of_at_most_480_px(client_for, cast, running_lokus, big_photo):
    response = client_for("member").post(
        reverse("lokus:media_add", args=[running_lokus.pk]),
        {"kind": MediaKind.PHOTO, "file": SimpleUploadedFile("IMG_0001.jpg", big_photo, "image/jpeg"), "caption": ""},
    )

    assert response.status_code == 302
    media = FieldMedia.objects.get()
    assert media.thumb_file
    with media.thumb_file.open("rb") as fh, Image.open(fh) as thumb:
        assert (thumb.format, thumb.size) == ("JPEG", (THUMB_MAX_SIDE, 360))
        assert not thumb.getexif()
    assert (media.thumb_width, media.thumb_height) == (480, 360)
    assert media.thumb_file.size < media.size / 10
    assert media.thumb_file.name != media.file.name != media.print_file.name


def test_the_pages_show_the_thumbnail_and_open_the_photo_on_a_tap(client_for, cast, big_photo):
    lokus = report_builders.make_running_lokus(cast)
    media = add_photo(cast["member"], lokus, big_photo)
    full, thumb = reverse("lokus:media_file", args=[media.pk]), reverse("lokus:media_thumbnail", args=[media.pk])
    shown = f'<a href="{full}"><img src="{thumb}" width="480" height="360" alt="Gerbang" loading="lazy"></a>'
    pages = {"assignment": ("member", reverse("lokus:assignment", args=[lokus.pk]))}
    pages["lokus"] = ("kasubbid", reverse("lokus:detail", args=[lokus.pk]))
    builders.report_all(lokus, report_builders.team(cast))
    report = report_builders.start_report(cast, lokus)
    pages["report"] = ("coordinator", reverse("reports:detail", args=[report.pk]))

    for page, (who, url) in pages.items():
        html = client_for(who).get(url).content.decode()
        assert shown in html, page
        assert image_sources(html) == [thumb], page  # never the full photo in the page itself


def test_a_photo_stored_before_thumbnails_shows_itself_until_one_is_made(client_for, cast, running_lokus):
    media = add_photo(cast["member"], running_lokus, camera_jpeg(64, 48))
    media.thumb_file.delete(save=False)
    FieldMedia.objects.filter(pk=media.pk).update(thumb_file="", thumb_width=None, thumb_height=None)

    html = client_for("member").get(reverse("lokus:assignment", args=[running_lokus.pk])).content.decode()

    assert image_sources(html) == [reverse("lokus:media_file", args=[media.pk])]
    assert client_for("member").get(reverse("lokus:media_thumbnail", args=[media.pk])).status_code == 404


def test_the_thumbnail_is_checked_and_logged_like_the_photo(client_for, cast, running_lokus):
    media = add_photo(cast["member"], running_lokus, camera_jpeg(640, 480))
    full, thumb = reverse("lokus:media_file", args=[media.pk]), reverse("lokus:media_thumbnail", args=[media.pk])
    assert running_lokus.classification == Classification.TERBATAS

    for outsider in ("other_member", "other_kasubbid", "partner", "norole"):
        for url in (full, thumb):
            assert client_for(outsider).get(url).status_code == 404, (outsider, url)
    assert not AccessLog.objects.exists()

    client = client_for("kasubbid")
    photo, small = client.get(full), client.get(thumb)

    assert (photo.status_code, small.status_code) == (200, 200)
    assert small["Content-Type"] == "image/jpeg"
    for header in ("Cache-Control", "X-Content-Type-Options", "Content-Security-Policy"):
        assert small[header] == photo[header]
    assert Image.open(io.BytesIO(body(small))).size == (480, 360)
    rows = [(r.user, r.kind, r.lokus_id, r.object_id, r.classification) for r in AccessLog.objects.order_by("pk")]
    seen = (cast["kasubbid"], AccessLog.Kind.FILE, running_lokus.pk, media.pk, Classification.TERBATAS)
    assert rows == [seen, seen]
    # A Biasa lokus's photos are not logged, whichever copy is opened.
    Lokus.objects.filter(pk=running_lokus.pk).update(classification=Classification.BIASA)
    client.get(full), client.get(thumb)
    assert AccessLog.objects.count() == 2


def test_a_page_of_12_photos_transfers_far_fewer_image_bytes(client_for, cast, running_lokus, big_photo):
    media = [add_photo(cast["member"], running_lokus, big_photo, caption=f"Foto {i}") for i in range(12)]
    client = client_for("kasubbid")

    html = client.get(reverse("lokus:detail", args=[running_lokus.pk])).content.decode()

    sources = image_sources(html)
    assert len(sources) == 12
    shown = sum(len(body(client.get(src))) for src in sources)
    originals = sum(len(body(client.get(reverse("lokus:media_file", args=[m.pk])))) for m in media)
    assert shown * 10 < originals, f"the page's photos weigh {shown} bytes against {originals}"


def test_make_renditions_gives_old_photos_their_thumbnails_once(cast, running_lokus):
    from django.core.files.base import ContentFile
    from django.core.management import call_command

    exif = Image.Exif()
    exif[0x0112] = 6  # taken sideways: viewed upright, it is portrait
    sideways = io.BytesIO()
    Image.new("RGB", (2400, 1600), "green").save(sideways, format="JPEG", exif=exif.tobytes())
    old = add_photo(cast["member"], running_lokus, camera_jpeg(64, 48))
    old.file.save("old.jpg", ContentFile(sideways.getvalue()), save=False)
    old.thumb_file.delete(save=False)
    FieldMedia.objects.filter(pk=old.pk).update(file=old.file.name, thumb_file="", thumb_width=None, thumb_height=None)
    fresh = add_photo(cast["member"], running_lokus, camera_jpeg(64, 48))
    out = io.StringIO()

    call_command("make_renditions", stdout=out, stderr=io.StringIO())

    assert out.getvalue().splitlines() == ["Made 0 print rendition(s).", "Made 1 thumbnail(s)."]
    old.refresh_from_db()
    with old.thumb_file.open("rb") as fh, Image.open(fh) as thumb:
        assert (thumb.format, thumb.size) == ("JPEG", (320, 480))
    assert (old.thumb_width, old.thumb_height) == (320, 480)
    assert FieldMedia.objects.get(pk=fresh.pk).thumb_file.name == fresh.thumb_file.name
    out = io.StringIO()
    call_command("make_renditions", stdout=out, stderr=io.StringIO())
    assert out.getvalue().splitlines() == ["Made 0 print rendition(s).", "Made 0 thumbnail(s)."]


# The plan form: the kelurahan list follows the kecamatan in the page itself -----------------


def test_the_plan_form_page_holds_every_kelurahan_with_its_kecamatan(client_for, cast):
    from lokus.models import Kelurahan

    html = client_for("partner").get(reverse("lokus:plan_create")).content.decode()

    select = re.search(r"<select [^>]*name=\"kelurahan\"[^>]*>", html).group(0)
    assert 'data-filter-by="kecamatan"' in select
    assert f'data-cleared="{in_indonesian("Choose the kelurahan again: it is not in this kecamatan.")}"' in select
    assert "hx-get" not in html  # no list fetched after the choice, to drop what was picked meanwhile
    offered = re.findall(r'<option value="(\d+)"[^>]* data-kecamatan="(\d+)"', html)
    assert len(offered) == Kelurahan.objects.count() == 104
    assert {(int(k), int(c)) for k, c in offered} == set(Kelurahan.objects.values_list("pk", "kecamatan_id"))


def test_a_kelurahan_outside_the_kecamatan_is_refused_by_name(client_for, cast):
    from lokus.models import Kecamatan, Kelurahan
    from tests.lokus.test_views import plan_form

    tangerang = Kecamatan.objects.get(code=builders.KECAMATAN_CODE)
    elsewhere = Kelurahan.objects.exclude(kecamatan=tangerang).select_related("kecamatan").first()

    response = client_for("partner").post(reverse("lokus:plan_create"), plan_form(kelurahan=elsewhere.pk))

    shown = f"Kelurahan: {elsewhere.name} tidak berada di kecamatan yang dipilih ({tangerang.name})."
    assert f'<p class="error" id="id_kelurahan_error">{shown}</p>' in response.content.decode()


# Documents print the address the product really runs at ------------------------------------


def pdf_text(response) -> str:
    from pypdf import PdfReader

    assert response["Content-Type"] == "application/pdf"
    return " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(response.content)).pages)


@pytest.mark.parametrize("secure", [False, True])
def test_without_site_url_a_pdf_carries_the_address_it_was_downloaded_from(client_for, cast, settings, secure):
    settings.SITE_URL = ""
    settings.ALLOWED_HOSTS = ["lokus.example"]
    lokus = builders.make_dispatched_lokus(cast["kasubbid"], cast["partner"], [cast["member"]], cast["member"])
    path = reverse("reports:verify_document", args=[lokus.verification_code])

    response = client_for("kasubbid").get(
        reverse("reports:surat_tugas", args=[lokus.pk]), HTTP_HOST="lokus.example", secure=secure
    )

    assert response.status_code == 200
    text = pdf_text(response)
    scheme = "https" if secure else "http"
    assert f"{scheme}://lokus.example{path}" in text
    assert "127.0.0.1" not in text


def test_site_url_when_set_is_the_address_every_pdf_carries(client_for, cast, settings):
    settings.SITE_URL = "https://lokus.tangerangkota.go.id/"
    settings.ALLOWED_HOSTS = ["lokus.example"]
    report = report_builders.walk(report_builders.make_report(cast), "approved", cast)
    path = reverse("reports:verify_document", args=[report.verification_code])

    response = client_for("kaban").get(reverse("reports:report_pdf", args=[report.pk]), HTTP_HOST="lokus.example")

    assert response.status_code == 200
    assert f"https://lokus.tangerangkota.go.id{path}" in pdf_text(response)
