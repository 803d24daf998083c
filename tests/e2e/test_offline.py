"""Field work without a signal, in a real browser on a phone-sized screen: the service worker
keeps the field pages, the outbox (static/js/outbox.js) keeps what the officer sends until
the network is back, and nothing of one officer's reaches another on the same phone.

The protocol between the outbox and the server: client_uuid, captured_at and the header
X-Lokus-Outbox: 1 on the form's own POST; a JSON answer from a server that speaks it, today's
redirects and pages otherwise."""

import gzip
import io
from datetime import timedelta
from urllib.parse import unquote

import pytest
from django.utils import timezone
from PIL import Image
from playwright.sync_api import expect

from lokus.models import Escalation, FieldMedia, FieldNote
from tests.e2e.conftest import PHONE, assert_no_sideways_scroll, sign_in, sign_out
from tests.lokus import builders

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

BADGE = "[data-testid=outbox-badge]"
ITEMS = "[data-testid=outbox-list] li"
# Sending takes a session check and the post itself, on a 2-core machine shared with others.
SENDING = 15000


def running_lokus(cast):
    team = [cast["member"], cast["coordinator"]]
    lokus = builders.make_dispatched_lokus(cast["kasubbid"], cast["partner"], team, cast["coordinator"])
    return builders.advance_to_running(lokus, team, cast["coordinator"])


def phone(new_page, **kwargs):
    page = new_page(viewport=PHONE, **kwargs)
    page.dialogs = []

    def answer(dialog):
        page.dialogs.append(dialog.message)
        dialog.accept()

    page.on("dialog", answer)
    page.csp_violations = []
    page.on("console", lambda m: "Content Security Policy" in m.text and page.csp_violations.append(m.text))
    return page


def _no_signal(route) -> None:
    route.abort("internetdisconnected")


def go_offline(page) -> None:
    """No network for the page and the service worker. Playwright's offline mode alone may miss
    a worker started again after it was set (workers stop when idle), hence the route too."""
    page.context.set_offline(True)
    page.context.route("**/*", _no_signal)


def go_online(page) -> None:
    page.context.unroute("**/*", _no_signal)
    page.context.set_offline(False)


def wait_for_worker(page) -> None:
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    # A function, not an expression: Playwright would eval() an expression, which the CSP forbids.
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")


def wait_until_kept(page, url: str, user) -> None:
    """Until the worker holds the user's copy of the page."""
    page.wait_for_function(
        """async ([url, user]) => {
            const cache = await caches.open("lokus-pages-u" + user);
            return Boolean(await cache.match(url));
        }""",
        arg=[url, user.pk],
    )


def open_online(page, live_server, lokus, user) -> str:
    """The officer opens their list and the assignment while the signal is good."""
    url = f"{live_server.url}/tugas/{lokus.pk}/"
    page.goto(f"{live_server.url}/tugas/")
    wait_for_worker(page)
    page.goto(url)
    wait_for_worker(page)
    wait_until_kept(page, f"{live_server.url}/tugas/", user)
    wait_until_kept(page, url, user)
    return url


def write_note(page, body: str, situation: str = "waspada") -> None:
    page.fill("#field textarea[name=body]", body)
    page.check(f"#field input[name=situation][value={situation}]")
    page.click("#field button[type=submit]")


def camera_photo(path, size=(3200, 2400)) -> None:
    """A large phone photo taken with the phone turned: EXIF orientation 6 (rotate 90°)."""
    image = Image.new("RGB", size, (40, 120, 200))
    for x in range(0, size[0], 200):
        image.paste((230, 230, 40), (x, 0, x + 100, size[1] // 3))
    exif = Image.Exif()
    exif[0x0112] = 6
    image.save(path, format="JPEG", quality=92, exif=exif)


def test_offline_the_assignment_page_opens_from_the_phone_and_the_outbox_sends_when_back(
    new_page, live_server, cast, tmp_path
):
    lokus, member = running_lokus(cast), cast["member"]
    page = phone(new_page)
    sign_in(page, live_server, "anggota")
    url = open_online(page, live_server, lokus, member)

    go_offline(page)
    page.goto(url)
    banner = page.locator("[data-testid=offline-banner]")
    expect(banner).to_be_visible()
    assert banner.inner_text().startswith("Luring – data per ")
    assert banner.inner_text().endswith(" WIB")
    assert page.locator("h1").inner_text() == lokus.plan.title
    assert_no_sideways_scroll(page)

    # A note: kept on the phone, the form free for the next one.
    body = "Massa bertambah di sisi timur, belum ada gesekan."
    write_note(page, body)
    expect(page.locator(BADGE)).to_have_text("1 menunggu")
    assert page.input_value("#field textarea[name=body]") == ""
    expect(page.locator("#field [data-outbox-note]")).to_contain_text("Tersimpan di ponsel")

    # A photo: made smaller on the phone before it waits.
    photo = tmp_path / "gerbang.jpg"
    camera_photo(photo)
    page.set_input_files("[data-testid=upload-photo] input[name=file]", str(photo))
    page.fill("[data-testid=upload-photo] input[name=caption]", "Gerbang timur")
    page.click("[data-testid=upload-photo] button[type=submit]")
    expect(page.locator(BADGE)).to_have_text("2 menunggu")
    page.click("[data-testid=outbox] summary")
    expect(page.locator(ITEMS)).to_have_count(2)
    expect(page.locator(f"{ITEMS}[data-state=waiting]")).to_have_count(2)
    assert "Catatan lapangan" in page.locator(ITEMS).nth(0).inner_text()
    assert "Gerbang timur" in page.locator(ITEMS).nth(1).inner_text()
    assert_no_sideways_scroll(page)
    assert not FieldNote.objects.exists() and not FieldMedia.objects.exists()

    # The signal returns: both go, in order, once.
    go_online(page)
    expect(page.locator(BADGE)).to_be_hidden(timeout=SENDING)
    expect(page.locator(f"{ITEMS}[data-state=sent]")).to_have_count(2, timeout=SENDING)
    expect(page.locator(ITEMS).nth(0)).to_contain_text("terkirim")
    note = FieldNote.objects.get()
    assert (note.body, note.situation, note.assignment.member) == (body, "waspada", member)
    media = FieldMedia.objects.get()
    assert (media.kind, media.caption, media.content_type) == ("photo", "Gerbang timur", "image/jpeg")
    with media.file.open("rb") as stored:
        # Longest side 1600 px, and still upright: the phone applied the EXIF orientation.
        assert Image.open(io.BytesIO(stored.read())).size == (1200, 1600)
    assert media.created_at >= note.created_at

    # Online again, the page comes from the network: no banner.
    page.goto(url)
    expect(page.locator("[data-testid=offline-banner]")).to_be_hidden()
    assert page.locator("ol.timeline li", has_text="Massa bertambah").count() == 1
    assert page.js_errors == [] and page.csp_violations == []


def test_online_a_note_is_sent_at_once_and_a_refusal_keeps_the_text_in_the_form(new_page, live_server, cast):
    lokus = running_lokus(cast)
    page = phone(new_page)
    sign_in(page, live_server, "anggota")
    page.goto(f"{live_server.url}/tugas/{lokus.pk}/")

    # Without the situation the server refuses: the reasons beside the fields, nothing lost.
    page.fill("#field textarea[name=body]", "Tanpa situasi.")
    with page.expect_response(f"**/tugas/{lokus.pk}/catatan/") as response:
        page.click("#field button[type=submit]")
    assert response.value.request.headers["x-lokus-outbox"] == "1"
    page.wait_for_selector("#field .has-error input[name=situation]")
    assert page.input_value("#field textarea[name=body]") == "Tanpa situasi."
    expect(page.locator(BADGE)).to_be_hidden()
    assert not FieldNote.objects.exists()

    page.check("#field input[name=situation][value=kondusif]")
    page.click("#field button[type=submit]")
    page.wait_for_url(f"**/tugas/{lokus.pk}/#field")
    page.locator("ol.timeline li", has_text="Tanpa situasi.").wait_for()
    # The server's own message, shown as it would be without the outbox.
    expect(page.locator(".messages .msg-success")).to_be_visible()
    assert FieldNote.objects.get().body == "Tanpa situasi."
    assert page.js_errors == []


def test_items_of_one_officer_are_neither_shown_to_nor_sent_by_another_on_the_same_phone(new_page, live_server, cast):
    lokus, member = running_lokus(cast), cast["member"]
    page = phone(new_page)
    sign_in(page, live_server, "anggota")
    url = open_online(page, live_server, lokus, member)

    # The signal is too weak for the note to get through: it waits on the phone.
    page.context.route("**/catatan/", lambda route: route.abort("internetdisconnected"))
    write_note(page, "Catatan anggota pertama.")
    expect(page.locator(BADGE)).to_have_text("1 menunggu")

    # Signing out with an unsent item asks first; the officer's pages leave the phone.
    sign_out(page)
    assert len(page.dialogs) == 1 and page.dialogs[0].startswith("1 item belum terkirim")
    assert not page.evaluate(f"caches.has('lokus-pages-u{member.pk}')")
    page.context.unroute("**/catatan/")

    # Another officer signs in on the same phone, online.
    sign_in(page, live_server, "korlap")
    page.goto(url)
    wait_for_worker(page)
    expect(page.locator("[data-testid=outbox]")).to_be_hidden()
    expect(page.locator(BADGE)).to_be_hidden()
    # Neither the page (back online) nor the worker (Background Sync) sends it for them.
    page.evaluate("window.dispatchEvent(new Event('online'))")
    page.evaluate("navigator.serviceWorker.controller.postMessage({type: 'flush'})")
    page.wait_for_timeout(1500)
    assert not FieldNote.objects.exists()
    # Offline, the phone shows them none of the first officer's pages (the list was the first
    # officer's copy; this one never opened it).
    go_offline(page)
    page.goto(f"{live_server.url}/tugas/")
    expect(page.locator("[data-testid=offline-page]")).to_be_visible()
    go_online(page)

    # The first officer signs in again: their item goes, once, as theirs.
    page.goto(url)
    sign_out(page)
    assert len(page.dialogs) == 1
    sign_in(page, live_server, "anggota")
    page.goto(url)
    expect(page.locator(f"{ITEMS}[data-state=sent]")).to_have_count(1, timeout=SENDING)
    expect(page.locator(BADGE)).to_be_hidden(timeout=SENDING)
    page.reload()
    page.locator("ol.timeline li", has_text="Catatan anggota pertama.").wait_for()
    assert FieldNote.objects.get().assignment.member == member
    assert page.js_errors == []


def test_a_refused_item_shows_the_servers_reason_and_can_be_discarded(new_page, live_server, cast):
    lokus, member = running_lokus(cast), cast["member"]
    page = phone(new_page)
    sign_in(page, live_server, "anggota")
    url = open_online(page, live_server, lokus, member)

    go_offline(page)
    page.goto(url)
    write_note(page, "Dicatat saat luring.")
    expect(page.locator(BADGE)).to_have_text("1 menunggu")
    # Meanwhile the whole team reported: field work is over, the server refuses the note.
    builders.report_all(lokus, [member, cast["coordinator"]])

    go_online(page)
    failed = page.locator(f"{ITEMS}[data-state=failed]")
    expect(failed).to_have_count(1, timeout=SENDING)
    expect(page.locator(BADGE)).to_be_hidden()
    page.click("[data-testid=outbox] summary")
    assert "gagal" in failed.inner_text()
    reason = failed.locator(".error").inner_text()
    assert reason and reason != "Ditolak oleh server."
    assert not FieldNote.objects.exists()

    # Nothing leaves the list without the officer saying so.
    failed.locator("button", has_text="Buang").click()
    expect(page.locator("[data-testid=outbox]")).to_be_hidden()
    assert page.dialogs == ["Buang item ini? Item ini tidak akan dikirim."]
    assert page.js_errors == []


def test_the_escalation_page_offers_calls_and_texts_when_offline(new_page, live_server, cast):
    lokus, member = running_lokus(cast), cast["member"]
    kasubbid, korlap, other = cast["kasubbid"], cast["coordinator"], cast["other_kasubbid"]
    for person, number in ((korlap, "081100001111"), (kasubbid, "081200002222"), (other, "081300003333")):
        person.phone = number
        person.save(update_fields=["phone"])
    page = phone(new_page)
    sign_in(page, live_server, "anggota")
    open_online(page, live_server, lokus, member)
    escalation = f"{live_server.url}/tugas/{lokus.pk}/eskalasi/"
    wait_until_kept(page, escalation, member)  # fetched ahead: the link on the assignment page

    go_offline(page)
    page.goto(escalation)
    expect(page.locator("[data-testid=offline-banner]")).to_be_visible()
    contacts = page.locator("[data-testid=emergency-contacts]")
    expect(contacts.locator(f"a[href='tel:{korlap.phone}']")).to_be_visible()
    expect(contacts.locator(f"a[href='tel:{kasubbid.phone}']")).to_be_visible()
    assert contacts.locator(f"a[href='tel:{other.phone}']").count() == 0  # another sub-division's

    page.locator("input[name=kind]").first.check()
    kind = page.locator("input[name=kind]").first.locator("xpath=ancestor::label").inner_text().strip()
    page.fill("textarea[name=message]", "Massa mulai melempar batu, kami mundur ke titik kumpul.")
    page.click("button[type=submit].btn-danger")
    expect(page.locator(BADGE)).to_have_text("1 menunggu")
    expect(page.locator("form [data-outbox-note]")).to_contain_text("telepon atau kirim SMS")
    sms = contacts.locator("a[data-sms]").first.get_attribute("href")
    assert sms.startswith("sms:")
    text = sms.split("?body=", 1)[1]
    assert lokus.plan.title in unquote(text) and kind in unquote(text)
    assert_no_sideways_scroll(page)

    go_online(page)
    expect(page.locator(f"{ITEMS}[data-state=sent]")).to_have_count(1, timeout=SENDING)
    expect(page.locator(BADGE)).to_be_hidden(timeout=SENDING)
    assert Escalation.objects.filter(lokus=lokus).count() == 1
    assert page.js_errors == [] and page.csp_violations == []


def _kilobytes(responses) -> float:
    total = 0
    for response in responses:
        try:
            body = response.body()
        except Exception:  # a redirect or a 304 has no body to read
            body = b""
        total += len(gzip.compress(body, 6)) + 300  # and about 300 bytes of headers
    return total / 1024


def test_the_assignment_page_fits_the_data_budget_of_a_phone(new_page, live_server, cast):
    """First visit (empty phone, service worker included) at most 100 KB compressed, a
    repeat visit at most 15 KB: on a repeat, only the page itself crosses the network."""
    lokus, member = running_lokus(cast), cast["member"]
    signed_in = phone(new_page)
    sign_in(signed_in, live_server, "anggota")
    state = signed_in.context.storage_state()

    page = phone(new_page, storage_state=state)
    fetched = []
    page.context.on("response", lambda r: None if r.from_service_worker else fetched.append(r))
    url = f"{live_server.url}/tugas/{lokus.pk}/"
    page.goto(url)
    wait_for_worker(page)
    wait_until_kept(page, url, member)
    page.wait_for_function("() => caches.keys().then((k) => k.some((n) => n.startsWith('lokus-shell-')))")
    first = _kilobytes(fetched)

    fetched.clear()
    page.goto(url)
    page.wait_for_load_state("load")
    page.wait_for_timeout(500)
    repeat = _kilobytes(fetched)
    print(f"first visit {first:.1f} KB, repeat {repeat:.1f} KB: {[r.url for r in fetched]}")
    assert first <= 100
    assert repeat <= 15


def test_an_item_whose_answer_was_lost_is_not_created_twice(new_page, live_server, cast):
    lokus, member = running_lokus(cast), cast["member"]
    page = phone(new_page)
    sign_in(page, live_server, "anggota")
    open_online(page, live_server, lokus, member)
    answers = []

    def lose_the_first_answer(route):
        response = route.fetch()  # the server gets it and saves the note...
        answers.append(response.status)
        route.abort("internetdisconnected") if len(answers) == 1 else route.fulfill(response=response)

    page.context.route("**/catatan/", lose_the_first_answer)
    write_note(page, "Jawaban pertama hilang.")
    expect(page.locator("#field [data-outbox-note]")).to_contain_text("Tersimpan di ponsel")
    assert answers[0] == 200  # the phone saw no answer: the item waits (or is already sent again)
    assert FieldNote.objects.count() == 1

    # Sent again (by Background Sync, or by the page as it loads): the server recognises it.
    page.reload()
    expect(page.locator(f"{ITEMS}[data-state=sent]")).to_have_count(1, timeout=SENDING)
    assert answers == [200, 200]
    assert FieldNote.objects.count() == 1  # the repeat was recognised by its client_uuid
    assert page.js_errors == []


def test_the_server_keeps_when_the_officer_recorded_it(new_page, live_server, cast):
    lokus, member = running_lokus(cast), cast["member"]
    page = phone(new_page)
    sign_in(page, live_server, "anggota")
    url = open_online(page, live_server, lokus, member)

    go_offline(page)
    page.goto(url)
    before = timezone.now()
    write_note(page, "Dicatat lebih dulu, dikirim kemudian.")
    expect(page.locator(BADGE)).to_have_text("1 menunggu")
    after = timezone.now()
    page.wait_for_timeout(2000)
    go_online(page)
    expect(page.locator(f"{ITEMS}[data-state=sent]")).to_have_count(1, timeout=SENDING)

    note = FieldNote.objects.get()
    assert before <= note.created_at <= after  # the captured time
    assert note.received_at - note.created_at >= timedelta(seconds=2)
