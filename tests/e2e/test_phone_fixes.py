"""On a 360 px phone, in a real browser: the kelurahan list follows the kecamatan at once and
never keeps a kelurahan of another kecamatan, the photo pages load light thumbnails that
open the photo on a tap, and the Korlap finds step 6 waiting the moment field work is done."""

import datetime
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone, translation
from PIL import Image

from core.enums import Classification
from lokus import services
from lokus.enums import MediaKind
from lokus.models import ActivityPlan, FieldMedia, Kecamatan, Kelurahan, Lokus
from lokus.uploads import clean_image
from reports.models import ActivityReport
from tests.e2e.conftest import PHONE, assert_no_sideways_scroll, sign_in
from tests.lokus import builders
from tests.reports import builders as report_builders

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def in_indonesian(msgid: str) -> str:
    with translation.override("id"):
        return translation.gettext(msgid)


def local(moment: datetime.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def offered(page) -> set[int]:
    """The kelurahan a person can pick now (the empty choice left out)."""
    values = page.eval_on_selector_all(
        "select[name=kelurahan] option", "(options) => options.filter((o) => !o.disabled).map((o) => o.value)"
    )
    return {int(value) for value in values if value}


def test_the_kelurahan_list_follows_the_kecamatan_and_never_keeps_a_stale_choice(new_page, live_server, cast):
    first, second = Kecamatan.objects.order_by("name")[:2]
    first_kelurahan = set(Kelurahan.objects.filter(kecamatan=first).values_list("pk", flat=True))
    second_kelurahan = set(Kelurahan.objects.filter(kecamatan=second).values_list("pk", flat=True))
    picked = Kelurahan.objects.filter(kecamatan=first).order_by("name").first()
    page = new_page(viewport=PHONE)
    sign_in(page, live_server, "mitra")
    page.goto(f"{live_server.url}/rencana/baru/")
    kelurahan = page.locator("select[name=kelurahan]")
    note = page.locator("[data-filter-note]")

    # Nothing to pick before a kecamatan is chosen, and it says why.
    assert kelurahan.is_disabled()
    assert offered(page) == set()
    assert kelurahan.locator("option").first.inner_text() == in_indonesian("Choose the kecamatan first")
    assert_no_sideways_scroll(page)

    # A kecamatan: at once exactly its kelurahan, nothing fetched.
    page.select_option("select[name=kecamatan]", str(first.pk))
    assert kelurahan.is_enabled()
    assert offered(page) == first_kelurahan
    page.select_option("select[name=kelurahan]", str(picked.pk))
    assert kelurahan.input_value() == str(picked.pk)

    # Another kecamatan: the kelurahan picked is cleared where it can be seen.
    page.select_option("select[name=kecamatan]", str(second.pk))
    assert kelurahan.input_value() == ""
    assert offered(page) == second_kelurahan
    assert note.is_visible()
    assert note.inner_text() == in_indonesian("Choose the kelurahan again: it is not in this kecamatan.")
    assert_no_sideways_scroll(page)

    # Sent like that, it is refused for the missing kelurahan: never saved with the old one.
    starts = (timezone.now() + datetime.timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    page.fill("input[name=title]", "Pawai budaya uji")
    page.select_option("select[name=category]", "demonstration")
    page.fill("textarea[name=description]", "Pawai budaya keliling kecamatan.")
    page.fill("input[name=organiser]", "Sanggar Uji")
    page.fill("input[name=expected_participants]", "120")
    page.fill("input[name=starts_at]", local(starts))
    page.fill("input[name=ends_at]", local(starts + datetime.timedelta(hours=3)))
    page.fill("input[name=address]", "Jl. Uji No. 1")
    page.click("form[data-draft=plan-new] button[type=submit]")
    page.wait_for_selector("#id_kelurahan_error")
    assert not ActivityPlan.objects.exists()
    assert page.locator("select[name=kecamatan]").input_value() == str(second.pk)
    assert offered(page) == second_kelurahan
    assert_no_sideways_scroll(page)

    chosen = Kelurahan.objects.filter(kecamatan=second).order_by("name").last()
    page.select_option("select[name=kelurahan]", str(chosen.pk))
    assert note.inner_text() == ""
    page.click("form[data-draft=plan-new] button[type=submit]")
    page.wait_for_url(re.compile(r"/rencana/\d+/$"))
    plan = ActivityPlan.objects.get()
    assert (plan.kecamatan_id, plan.kelurahan_id) == (second.pk, chosen.pk)
    assert page.js_errors == []


def camera_jpeg(width: int = 2400, height: int = 1800) -> bytes:
    out = io.BytesIO()
    Image.effect_noise((width, height), 40).convert("RGB").save(out, format="JPEG", quality=90)
    return out.getvalue()


def test_the_assignment_page_loads_light_thumbnails_that_open_the_photo(new_page, live_server, cast):
    lokus = report_builders.make_running_lokus(cast)
    # Biasa: the browser fetches the thumbnails side by side, and each view of a Terbatas
    # lokus's photo writes an access-log row, which the live server's shared in-memory SQLite
    # refuses to do in parallel ("table is locked"). That rule is tested in
    # tests/lokus/test_phone_fixes.py.
    Lokus.objects.filter(pk=lokus.pk).update(classification=Classification.BIASA)
    content = camera_jpeg()
    media = [
        services.field_media_add(
            user=cast["member"],
            lokus_id=lokus.pk,
            kind=MediaKind.PHOTO,
            clean=clean_image(SimpleUploadedFile(f"IMG_{i:04d}.jpg", content, content_type="image/jpeg")),
            caption=f"Foto {i}",
        )
        for i in range(12)
    ]
    page = new_page(viewport=PHONE)
    sign_in(page, live_server, "anggota")
    loaded = {}

    def on_response(response):
        if "/berkas/" in response.url and response.request.resource_type == "image":
            loaded[response.url] = len(response.body())

    page.on("response", on_response)
    page.goto(f"{live_server.url}/tugas/{lokus.pk}/")
    images = page.locator(".media-grid img")
    assert images.count() == 12
    for i in range(12):  # the photos load lazily, as they come into view
        image = images.nth(i)
        image.scroll_into_view_if_needed()
        page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    assert_no_sideways_scroll(page)

    for i, m in enumerate(media):
        image = images.nth(i)
        assert image.get_attribute("src") == f"/berkas/{m.pk}/kecil/"
        assert (image.get_attribute("width"), image.get_attribute("height")) == ("480", "360")
        assert image.get_attribute("loading") == "lazy"
        assert image.evaluate("(img) => [img.naturalWidth, img.naturalHeight]") == [480, 360]
        assert image.bounding_box()["width"] <= PHONE["width"]
    assert sorted(loaded) == sorted(f"{live_server.url}/berkas/{m.pk}/kecil/" for m in media)
    full = sum(FieldMedia.objects.get(pk=m.pk).size for m in media)
    assert sum(loaded.values()) * 10 < full, f"{sum(loaded.values())} bytes of thumbnails for {full} of photos"

    # A tap opens the photo itself.
    images.first.click()
    page.wait_for_url(f"**/berkas/{media[0].pk}/")
    assert page.evaluate("() => [document.images[0].naturalWidth, document.images[0].naturalHeight]") == [2400, 1800]
    assert page.js_errors == []


def test_the_korlap_finds_step_6_waiting_when_the_last_member_report_is_in(new_page, live_server, cast):
    lokus = report_builders.make_running_lokus(cast)
    builders.report_all(lokus, report_builders.team(cast))
    page = new_page(viewport=PHONE)
    sign_in(page, live_server, "korlap")
    page.goto(f"{live_server.url}/")

    tile = page.locator(f"[data-testid=queue] a[href='/tugas/{lokus.pk}/']")
    assert tile.count() == 1
    assert in_indonesian("Compile and send the team report (step 6)") in tile.inner_text()
    assert_no_sideways_scroll(page)

    tile.click()
    page.wait_for_url(f"**/tugas/{lokus.pk}/")
    page.click("[data-testid=report-link] button[type=submit]")
    page.wait_for_url(re.compile(r"/laporan/\d+/"))
    report = ActivityReport.objects.get(lokus=lokus)

    # Home again: one tile for the one thing to do, the report's own.
    page.goto(f"{live_server.url}/")
    tiles = page.locator("[data-testid=queue] a", has_text=lokus.plan.title)
    assert tiles.count() == 1
    assert tiles.first.get_attribute("href") == f"/laporan/{report.pk}/"
    assert page.js_errors == []
