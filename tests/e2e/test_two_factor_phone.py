"""On a 360 px phone, in a real browser: a Kabid (whose role requires two-factor sign-in)
signs in for the first time. The enrolment pages offer sign-out only, since every menu link
would lead back to them; the backup codes can be downloaded and printed, and the way on
waits until the Kabid confirms having saved them, with JavaScript and without."""

import pytest
from django_otp.plugins.otp_static.models import StaticToken

from tests.e2e.conftest import PHONE, assert_no_sideways_scroll, totp_now
from tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def first_sign_in(page, live_server, username):
    page.goto(f"{live_server.url}/masuk/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/akun/dua-faktor/")


def header_links(page) -> list[str]:
    """The links in the header a person can see (the phone's outbox is hidden while empty)."""
    return page.eval_on_selector_all(
        "header.topbar a", "(links) => links.filter((a) => a.offsetParent !== null).map((a) => a.getAttribute('href'))"
    )


def assert_sign_out_only(page):
    assert page.locator("header details.menu").count() == 0
    assert header_links(page) == ["/"], "the brand only"
    assert page.locator("header [data-testid=header-sign-out] button").is_visible()
    assert page.locator("header .lang button[value=en]").is_visible()
    assert_no_sideways_scroll(page)


def enrol(page):
    page.fill("input[name=token]", totp_now(page.inner_text("[data-testid=secret]")))
    page.click("main form button[type=submit]")
    page.wait_for_selector("[data-testid=backup-codes]")


def shown_codes(page) -> list[str]:
    return page.locator("[data-testid=backup-codes] code").all_inner_texts()


def test_a_kabid_enrols_on_a_phone_and_keeps_the_backup_codes(new_page, live_server, cast):
    page = new_page(viewport=PHONE)
    console = []
    page.on("console", lambda message: console.append(message.text) if message.type == "error" else None)
    first_sign_in(page, live_server, "kabid")

    assert_sign_out_only(page)

    enrol(page)

    codes = shown_codes(page)
    assert sorted(codes) == sorted(
        StaticToken.objects.filter(device__user=cast["kabid"]).values_list("token", flat=True)
    )
    assert len(codes) == 10
    assert_sign_out_only(page)

    # Download: a text file holding the 10 codes, under the account's name.
    with page.expect_download() as download_info:
        page.click("[data-testid=codes-download]")
    download = download_info.value
    assert download.suggested_filename == "lokus-kode-cadangan.txt"
    lines = download.path().read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("Kode cadangan Lokus untuk kabid, dibuat ")
    assert [line for line in lines if line in codes] == codes
    assert page.url == f"{live_server.url}/akun/dua-faktor/", "the page stays"

    # Print: the button calls the browser's print; the printed page holds the codes only.
    page.evaluate("() => { window.print = () => { window.printed = (window.printed || 0) + 1; }; }")
    page.click("[data-testid=codes-print]")
    assert page.evaluate("window.printed") == 1
    page.emulate_media(media="print")
    assert page.locator("[data-testid=backup-codes]").is_visible()
    assert page.locator(".print-area .print-only").inner_text().startswith("Kode cadangan Lokus untuk kabid")
    for elsewhere in (
        "header.topbar",
        "footer",
        "main h1",
        "[data-testid=codes-download]",
        "[data-testid=codes-continue]",
    ):
        assert page.locator(elsewhere).is_hidden(), elsewhere
    page.emulate_media(media="screen")
    assert page.locator("header.topbar").is_visible()

    # The way on waits for the tick.
    go_on = page.locator("[data-testid=codes-continue]")
    assert go_on.is_disabled()
    page.check("[data-testid=codes-saved]")
    assert go_on.is_enabled()
    page.uncheck("[data-testid=codes-saved]")
    assert go_on.is_disabled()
    page.check("[data-testid=codes-saved]")
    go_on.click()

    page.wait_for_url(lambda url: url.split("?")[0] == f"{live_server.url}/")
    assert page.locator("h1").inner_text().startswith("Selamat datang")
    assert page.locator("header details.menu").count() == 1
    assert page.js_errors == []
    assert not [text for text in console if "Content Security Policy" in text], console


def test_without_javascript_the_box_still_holds_the_way_on(new_page, live_server, cast):
    page = new_page(viewport=PHONE, java_script_enabled=False)
    first_sign_in(page, live_server, "kaban")
    assert_sign_out_only(page)
    enrol(page)
    codes = shown_codes(page)

    # No print button without JavaScript (the browser's own print still prints the codes).
    assert page.locator("[data-testid=codes-print]").is_hidden()
    with page.expect_download() as download_info:
        page.click("[data-testid=codes-download]")
    assert [line for line in download_info.value.path().read_text().splitlines() if line in codes] == codes

    # The browser refuses the form until the box is ticked.
    page.click("[data-testid=codes-continue]")
    assert page.url == f"{live_server.url}/akun/dua-faktor/"
    assert page.locator("[data-testid=backup-codes]").is_visible()
    page.check("[data-testid=codes-saved]")
    page.click("[data-testid=codes-continue]")
    page.wait_for_url(lambda url: url.split("?")[0] == f"{live_server.url}/")
    assert page.locator("h1").inner_text().startswith("Selamat datang")
