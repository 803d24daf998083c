import pytest

from tests.e2e.conftest import PHONE, assert_no_sideways_scroll, sign_in, sign_out

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_sign_in_on_a_phone_see_roles_switch_language_sign_out(new_page, live_server, cast):
    page = new_page(viewport=PHONE)
    sign_in(page, live_server, "kasubbid")
    assert page.locator("h1").inner_text().startswith("Selamat datang")
    assert "Kasubbid" in page.locator("[data-testid=roles]").inner_text()
    assert "Kewaspadaan Dini" in page.locator("[data-testid=sub-division]").inner_text()
    assert_no_sideways_scroll(page)

    page.click("button[value=en]")
    page.wait_for_selector("text=Welcome,")
    page.click("button[value=id]")
    page.wait_for_selector("text=Selamat datang")

    sign_out(page)
    page.goto(live_server.url + "/")
    assert "/masuk/" in page.url
    assert page.js_errors == []


def test_administrator_opens_admin_from_home(new_page, live_server, cast):
    page = new_page()
    sign_in(page, live_server, "admin")
    page.click("[data-testid=parts] >> text=Administrasi")
    page.wait_for_selector("text=Administrasi Lokus")
    page.click("#content-main a[href$='/admin/accounts/user/']")
    assert "kasubbid.lain" in page.wait_for_selector("#result_list").inner_text()
