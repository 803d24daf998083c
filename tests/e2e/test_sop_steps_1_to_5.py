"""SOP steps 1-5 in a real browser, with real users: a partner submits a plan on a laptop, the
Kasubbid chooses it and dispatches a team, and two field officers confirm, map the risk,
start, record (a note and a photo) and report on phone-sized screens."""

import datetime
import io
import re

import pytest
from django.utils import timezone
from PIL import Image

from lokus.enums import AssignmentState, AuditAction, LokusState, PlanStatus
from lokus.models import ActivityPlan, Assignment, AuditEntry, FieldMedia, FieldNote, Kelurahan, MemberReport
from tests.e2e.conftest import LAPTOP, PHONE, assert_no_sideways_scroll, sign_in
from tests.lokus import builders

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PDF = b"%PDF-1.4\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n"
GPS_IFD = 0x8825


def local(moment: datetime.datetime) -> str:
    """The value a datetime-local input takes, in WIB."""
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def jpeg_with_gps(path) -> None:
    """A real camera-like JPEG whose EXIF carries a GPS position (which the product must strip)."""
    image = Image.new("RGB", (320, 240), (200, 60, 40))
    exif = Image.Exif()
    exif[0x010F] = "Uji Kamera"  # Make
    exif.get_ifd(GPS_IFD).update({1: "S", 2: (6.0, 10.0, 12.0), 3: "E", 4: (106.0, 37.0, 48.0)})
    image.save(path, format="JPEG", exif=exif)
    assert GPS_IFD in Image.open(path).getexif()


def open_page(new_page, viewport):
    page = new_page(viewport=viewport)
    page.on("dialog", lambda dialog: dialog.accept())
    return page


def wait_image_loaded(page, selector: str) -> None:
    image = page.locator(selector).first
    image.wait_for()
    image.scroll_into_view_if_needed()  # the image loads lazily
    page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=image.element_handle(), timeout=15000)


def test_partner_to_field_reports_in_the_browser(new_page, live_server, cast, tmp_path):
    url = live_server.url
    kelurahan = Kelurahan.objects.select_related("kecamatan").order_by("kecamatan__name", "name").first()
    starts = (timezone.now() + datetime.timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    ends = starts + datetime.timedelta(hours=4)
    title = "Aksi damai buruh pabrik uji"

    # Step 1: the partner reports a planned activity, on a laptop.
    partner = open_page(new_page, LAPTOP)
    sign_in(partner, live_server, "mitra")
    partner.goto(f"{url}/rencana/baru/")
    partner.fill("input[name=title]", title)
    partner.select_option("select[name=category]", "demonstration")
    partner.fill("textarea[name=description]", "Unjuk rasa menuntut kenaikan upah.")
    partner.fill("input[name=organiser]", "Serikat Buruh Uji")
    partner.fill("input[name=expected_participants]", "250")
    partner.fill("input[name=starts_at]", local(starts))
    partner.fill("input[name=ends_at]", local(ends))
    partner.fill("input[name=address]", "Jl. Daan Mogot No. 1")
    partner.select_option("select[name=kecamatan]", str(kelurahan.kecamatan_id))
    partner.wait_for_selector(f"select[name=kelurahan] option[value='{kelurahan.pk}']", state="attached")
    partner.select_option("select[name=kelurahan]", str(kelurahan.pk))
    partner.set_input_files(
        "input[name=attachments]", files=[{"name": "surat.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    partner.click("form[data-draft=plan-new] button[type=submit]")
    partner.wait_for_url(re.compile(r"/rencana/\d+/$"))
    plan = ActivityPlan.objects.get(title=title)
    assert partner.url.endswith(f"/rencana/{plan.pk}/")
    assert partner.locator("[data-testid=plan-status]").is_visible()
    assert plan.status == PlanStatus.RECEIVED
    assert (plan.kecamatan_id, plan.kelurahan_id) == (kelurahan.kecamatan_id, kelurahan.pk)
    assert timezone.localtime(plan.starts_at) == timezone.localtime(starts)
    assert [(a.original_name, a.content_type) for a in plan.attachments.all()] == [("surat.pdf", "application/pdf")]
    assert partner.locator(f"a[href='/rencana/lampiran/{plan.attachments.get().pk}/']").is_visible()

    # Step 2: the Kasubbid finds it in the queue and chooses it as a lokus.
    office = open_page(new_page, LAPTOP)
    sign_in(office, live_server, "kasubbid")
    office.click(f"[data-testid=queue] a[href='/rencana/{plan.pk}/']")
    office.wait_for_url(f"**/rencana/{plan.pk}/")
    office.click("[data-testid=decision] form >> nth=0 >> button[type=submit]")
    office.wait_for_url(re.compile(r"/lokus/\d+/$"))
    plan.refresh_from_db()
    lokus = plan.lokus
    assert plan.status == PlanStatus.CHOSEN
    assert office.url.endswith(f"/lokus/{lokus.pk}/")
    composing_label = office.locator("[data-testid=lokus-state]").inner_text()

    # Step 3: details, team, dispatch.
    office.click("[data-testid=manage] a[href$='/ubah/']")
    office.wait_for_url(f"**/lokus/{lokus.pk}/ubah/")
    assert office.input_value("input[name=surat_tugas_number]").strip() != ""
    office.fill("textarea[name=problem]", "Potensi bentrok antara massa buruh dan pengguna jalan.")
    office.fill("input[name=assembly_point]", "Halaman Kantor Kecamatan")
    office.fill("input[name=assembly_at]", local(starts - datetime.timedelta(hours=1)))
    office.click("main form button[type=submit]")
    office.wait_for_url(f"**/lokus/{lokus.pk}/")
    lokus.refresh_from_db()
    assert lokus.assembly_point == "Halaman Kantor Kecamatan"
    assert lokus.surat_tugas_number

    member, coordinator = cast["member"], cast["coordinator"]
    office.click("[data-testid=manage] a[href$='/tim/']")
    office.wait_for_url(f"**/lokus/{lokus.pk}/tim/")
    office.check(f"input[name=members][value='{member.pk}']")
    office.check(f"input[name=members][value='{coordinator.pk}']")
    office.check(f"input[name=coordinator][value='{coordinator.pk}']")
    office.click("main form button[type=submit]")
    office.wait_for_url(f"**/lokus/{lokus.pk}/")
    assert office.locator("[data-testid=team] tbody tr").count() == 2

    office.click("[data-testid=manage] form button[type=submit]")
    office.wait_for_selector("[data-testid=manage]", state="detached")
    assert office.locator("[data-testid=lokus-state]").inner_text() != composing_label
    lokus.refresh_from_db()
    assert lokus.state == LokusState.DISPATCHED

    # Step 4: each officer, on a phone, opens the assignment and confirms "Siap".
    anggota = open_page(new_page, PHONE)
    sign_in(anggota, live_server, "anggota")
    assert_no_sideways_scroll(anggota)
    anggota.click(f"[data-testid=queue] a[href='/tugas/{lokus.pk}/']")
    anggota.wait_for_url(f"**/tugas/{lokus.pk}/")
    assert_no_sideways_scroll(anggota)
    equipment = anggota.locator("[data-testid=equipment] input[name=equipment]")
    for i in range(equipment.count()):
        equipment.nth(i).check()
    anggota.click(f"form[action='/tugas/{lokus.pk}/siap/'] button[type=submit]")
    anggota.wait_for_selector(f"form[action='/tugas/{lokus.pk}/siap/']", state="detached")
    assert_no_sideways_scroll(anggota)

    korlap = open_page(new_page, PHONE)
    sign_in(korlap, live_server, "korlap")
    assert_no_sideways_scroll(korlap)
    korlap.goto(f"{url}/tugas/")
    assert_no_sideways_scroll(korlap)
    korlap.click(f"[data-testid=assignments] a[href='/tugas/{lokus.pk}/']")
    korlap.wait_for_url(f"**/tugas/{lokus.pk}/")
    assert_no_sideways_scroll(korlap)
    korlap.check("[data-testid=equipment] input[value=smartphone]")
    korlap.check("[data-testid=equipment] input[value=ht]")
    korlap.click(f"form[action='/tugas/{lokus.pk}/siap/'] button[type=submit]")
    korlap.wait_for_selector(f"form[action='/tugas/{lokus.pk}/siap/']", state="detached")
    assert sorted(Assignment.objects.filter(lokus=lokus).values_list("state", flat=True)) == [
        AssignmentState.CONFIRMED,
        AssignmentState.CONFIRMED,
    ]
    assert len(Assignment.objects.get(lokus=lokus, member=member).equipment) == 7

    # Step 5: the Korlap maps the risk and decides "go"; until then nobody can start.
    assert korlap.locator(f"form[action='/tugas/{lokus.pk}/mulai/'] button[type=submit]").is_disabled()
    korlap.click(f"a[href='/tugas/{lokus.pk}/risiko/']")
    korlap.wait_for_url(f"**/tugas/{lokus.pk}/risiko/")
    assert_no_sideways_scroll(korlap)
    korlap.fill("textarea[name=threats]", "Provokator dari luar kelompok.")
    korlap.fill("textarea[name=access_routes]", "Dari Jl. Daan Mogot sisi timur.")
    korlap.fill("textarea[name=exit_routes]", "Gang samping kantor kecamatan.")
    korlap.fill("input[name=security_contact]", "Kapolsek Uji 0812-0000-0000")
    korlap.check("input[name=go][value=go]")
    korlap.click("main form button[type=submit]")
    korlap.wait_for_url(f"**/tugas/{lokus.pk}/#status")
    assert korlap.locator("[data-testid=risk-decision]").is_visible()
    assert_no_sideways_scroll(korlap)

    for page in (anggota, korlap):
        page.goto(f"{url}/tugas/{lokus.pk}/")
        start = page.locator(f"form[action='/tugas/{lokus.pk}/mulai/'] button[type=submit]")
        assert start.is_enabled()
        start.click()
        page.wait_for_selector(f"form[action='/tugas/{lokus.pk}/catatan/']")
        assert_no_sideways_scroll(page)
    lokus.refresh_from_db()
    assert lokus.state == LokusState.RUNNING

    # A field note from the member.
    note_body = "Massa berkumpul tertib, sekitar tiga ratus orang."
    anggota.fill("#field textarea[name=body]", note_body)
    anggota.fill("#field input[name=crowd_estimate]", "300")
    anggota.check("#field input[name=situation][value=kondusif]")
    anggota.click("#field button[type=submit]")
    anggota.locator("ol.timeline li", has_text=note_body).wait_for()
    assert_no_sideways_scroll(anggota)
    assert FieldNote.objects.get(assignment__member=member).body == note_body
    assert anggota.input_value("#field textarea[name=body]") == "", "the saved note's text came back as a draft"

    # A photo from the Korlap: shown on the page, and stored without its GPS position.
    photo = tmp_path / "massa.jpg"
    jpeg_with_gps(photo)
    korlap.set_input_files("[data-testid=upload-photo] input[name=file]", str(photo))
    korlap.fill("[data-testid=upload-photo] input[name=caption]", "Massa di depan gerbang")
    korlap.click("[data-testid=upload-photo] button[type=submit]")
    wait_image_loaded(korlap, ".media-grid img")
    assert_no_sideways_scroll(korlap)
    media = FieldMedia.objects.get(assignment__member=coordinator)
    assert (media.kind, media.content_type, media.caption) == ("photo", "image/jpeg", "Massa di depan gerbang")
    with media.file.open("rb") as stored:
        stored_image = Image.open(io.BytesIO(stored.read()))
        assert stored_image.size == (320, 240)
        assert GPS_IFD not in stored_image.getexif()

    # Each submits the member report (with a confirmation dialog).
    summaries = {anggota: "Aksi berjalan tertib sampai selesai.", korlap: "Tidak ada insiden."}
    for page, summary in summaries.items():
        page.click(f"a[href='/tugas/{lokus.pk}/laporan/']")
        page.wait_for_url(f"**/tugas/{lokus.pk}/laporan/")
        assert_no_sideways_scroll(page)
        page.fill("textarea[name=summary]", summary)
        page.check("input[name=situation][value=kondusif]")
        page.fill("input[name=crowd_estimate]", "300")
        page.click("main form button[type=submit]")
        page.wait_for_url(re.compile(rf"/tugas/{lokus.pk}/#field$"))
        assert page.locator(f"a[href='/tugas/{lokus.pk}/laporan/']").count() == 0
        assert_no_sideways_scroll(page)

    # The office sees field work done, both reports, the photo and the whole timeline.
    lokus.refresh_from_db()
    assert lokus.state == LokusState.FIELD_DONE
    assert set(Assignment.objects.filter(lokus=lokus).values_list("state", flat=True)) == {AssignmentState.REPORTED}
    assert MemberReport.objects.filter(assignment__lokus=lokus).count() == 2

    office.goto(f"{url}/lokus/{lokus.pk}/")
    assert office.locator("[data-testid=lokus-state]").inner_text() not in ("", composing_label)
    wait_image_loaded(office, ".media-grid img")
    for summary in summaries.values():
        assert office.locator("article", has_text=summary).is_visible()
    assert office.locator("ol.timeline:not([data-testid]) li", has_text=note_body).is_visible()
    actions = list(AuditEntry.objects.filter(plan=plan).values_list("action", flat=True))
    for step in (
        AuditAction.PLAN_SUBMITTED,
        AuditAction.PLAN_CHOSEN,
        AuditAction.LOKUS_UPDATED,
        AuditAction.TEAM_SET,
        AuditAction.DISPATCHED,
        AuditAction.CONFIRMED,
        AuditAction.RISK_RECORDED,
        AuditAction.CHECKED_IN,
        AuditAction.FIELD_STARTED,
        AuditAction.NOTE_ADDED,
        AuditAction.MEDIA_UPLOADED,
        AuditAction.MEMBER_REPORTED,
        AuditAction.FIELD_DONE,
    ):
        assert step in actions, step
    assert office.locator("[data-testid=timeline] li").count() == len(actions)
    assert office.locator("[data-testid=timeline] time").count() == len(actions)

    for page in (partner, office, anggota, korlap):
        assert page.js_errors == []


def test_field_forms_on_a_phone_keep_what_was_typed(new_page, live_server, cast):
    member, coordinator = cast["member"], cast["coordinator"]
    lokus = builders.make_dispatched_lokus(cast["kasubbid"], cast["partner"], [member, coordinator], coordinator)
    lokus = builders.advance_to_running(lokus, [member, coordinator], coordinator)
    page = open_page(new_page, PHONE)
    sign_in(page, live_server, "anggota")
    page.goto(f"{live_server.url}/tugas/{lokus.pk}/")
    assert_no_sideways_scroll(page)

    # A note sent without its required situation comes back with the text still there.
    body = "Massa mulai memadati jalan,\nlalu lintas dialihkan."
    page.fill("#field textarea[name=body]", body)
    page.fill("#field input[name=crowd_estimate]", "120")
    with page.expect_response(f"**/tugas/{lokus.pk}/catatan/") as response:
        page.click("#field button[type=submit]")
    assert response.value.status == 400
    page.wait_for_selector("main form .has-error input[name=situation]")
    assert page.url.endswith(f"/tugas/{lokus.pk}/")  # the outbox shows the reasons on the page itself
    assert page.input_value("main form textarea[name=body]") == body
    assert page.input_value("main form input[name=crowd_estimate]") == "120"
    assert not FieldNote.objects.exists()
    assert_no_sideways_scroll(page)

    # Choosing the situation and sending again saves it, and the next note starts empty.
    page.check("main form input[name=situation][value=waspada]")
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(rf"/tugas/{lokus.pk}/#field$"))
    note = FieldNote.objects.get()
    assert (note.body, note.crowd_estimate, note.situation) == (body.replace("\n", "\r\n"), 120, "waspada")
    page.locator("ol.timeline li", has_text="lalu lintas dialihkan").wait_for()
    assert page.input_value("#field textarea[name=body]") == ""
    assert page.locator("#field input[name=situation]:checked").count() == 0

    # A report being written survives a reload (a dropped connection), with the chosen situation.
    page.click(f"a[href='/tugas/{lokus.pk}/laporan/']")
    page.wait_for_url(f"**/tugas/{lokus.pk}/laporan/")
    page.fill("textarea[name=summary]", "Aksi selesai tertib.")
    page.check("input[name=situation][value=kondusif]")
    page.reload()
    assert page.input_value("textarea[name=summary]") == "Aksi selesai tertib."
    assert page.locator("input[name=situation]:checked").get_attribute("value") == "kondusif"
    assert_no_sideways_scroll(page)
    assert page.js_errors == []
