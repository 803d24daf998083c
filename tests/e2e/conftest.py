"""Real-browser tests: Playwright driving Debian's Chromium against Django's live server.

Playwright cannot download browsers here, so it launches the system Chromium
(CHROMIUM_PATH, default /usr/bin/chromium). A missing browser is a failure, not a skip:
the README names the package to install."""

import os
from pathlib import Path

import pytest

from tests.factories import TEST_PASSWORD

# Playwright's sync API runs an event loop in this thread; Django's ORM calls made by the
# test itself (fixtures, assertions) are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PHONE = {"width": 360, "height": 640}
LAPTOP = {"width": 1280, "height": 800}


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's 'chromium' package (see README).")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-quic",
                "--no-first-run",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser, request):
    """Open a fresh browser context (own cookies) with the given viewport."""
    contexts = []

    def _new_page(viewport=LAPTOP, **kwargs):
        context = browser.new_context(viewport=viewport, locale="en-US", timezone_id="Asia/Jakarta", **kwargs)
        context.set_default_timeout(15000)
        contexts.append(context)
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.js_errors = errors
        return page

    yield _new_page
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    for i, context in enumerate(contexts):
        if failed:
            ARTIFACTS.mkdir(exist_ok=True)
            for j, page in enumerate(context.pages):
                page.screenshot(path=str(ARTIFACTS / f"{request.node.name}-{i}-{j}.png"), full_page=True)
        context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


def sign_in(page, live_server, username, password=TEST_PASSWORD):
    page.goto(f"{live_server.url}/masuk/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("main form button[type=submit]")
    page.wait_for_url(lambda url: url.rstrip("/").split("?")[0] != f"{live_server.url}/masuk")
    if "/akun/dua-faktor/" in page.url:
        # The role requires two-factor sign-in and no authenticator is set up yet: enrol
        # with the key the page shows, as a person types it into an authenticator app.
        page.fill("input[name=token]", totp_now(page.inner_text("[data-testid=secret]")))
        page.click("main form button[type=submit]")
        page.wait_for_selector("[data-testid=backup-codes]")
        page.check("[data-testid=codes-saved]")
        page.click("[data-testid=codes-continue]")
    elif "/masuk/kode/" in page.url:
        page.fill("input[name=token]", backup_code(username))
        page.click("main form button[type=submit]")
    page.wait_for_url(lambda url: "/masuk/" not in url and "/dua-faktor/" not in url)


def sign_out(page):
    page.click("summary")
    page.click("text=Keluar")
    page.wait_for_selector("input[name=username]")


def assert_no_sideways_scroll(page):
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"page scrolls sideways by {overflow}px"


def totp_now(spaced_key: str) -> str:
    from base64 import b32decode

    from django_otp.oath import totp

    key = spaced_key.replace(" ", "")
    key += "=" * (-len(key) % 8)
    return f"{totp(b32decode(key)):06d}"


def backup_code(username: str) -> str:
    """A fresh backup code for the user, as if read from their printed list (TOTP codes
    cannot be reused within their 30 seconds, and a test signs in more often than that)."""
    import secrets

    from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

    from accounts.models import User

    device, _ = StaticDevice.objects.get_or_create(user=User.objects.get(username=username), name="backup")
    code = secrets.token_hex(4)
    StaticToken.objects.create(device=device, token=code)
    return code
