"""Accessibility of the pages a field officer (and the Korlap) uses on a 360 px phone, checked
by axe-core in a real browser: no violation of impact "serious" or "critical" on any of them;
the moderate and minor ones are printed (run pytest with -s to read them).

axe-core is vendored for the tests only (tests/e2e/vendor/axe-core, never served to users).
The site's Content-Security-Policy allows no inline script, and Playwright injects a script
file as an inline <script>, so these pages are opened in a context of their own that bypasses
the CSP; nothing else in the suite runs that way."""

import datetime
import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from lokus import services
from lokus.enums import MediaKind
from lokus.uploads import clean_image
from tests.e2e.conftest import PHONE, sign_in
from tests.lokus import builders
from tests.reports import builders as report_builders

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")

RUN_AXE = """async () => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.map((n) => n.target.join(" ") + ": " + n.failureSummary.replace(/\\s+/g, " ")),
  }));
}"""


def phone(new_page):
    """A phone page into which the test may inject axe-core (see the module docstring)."""
    return new_page(viewport=PHONE, bypass_csp=True)


class Audit:
    """Runs axe on each page visited and keeps the blocking violations for one assertion at
    the end, so that one run names every page that needs a fix."""

    def __init__(self):
        self.blocking: list[str] = []

    def check(self, page, label: str) -> None:
        page.wait_for_load_state("load")
        page.add_script_tag(path=str(AXE))
        for violation in page.evaluate(RUN_AXE):
            lines = [f"{label} ({page.url}): [{violation['impact']}] {violation['id']}: {violation['help']}"]
            lines += [f"    {node}" for node in violation["nodes"][:5]]
            if violation["impact"] in BLOCKING:
                self.blocking.append("\n".join(lines))
            else:
                print("\n".join(lines))

    def assert_clean(self) -> None:
        assert not self.blocking, "serious or critical accessibility violations:\n" + "\n".join(self.blocking)


def days_ahead(days: int) -> datetime.datetime:
    return builders.future_wib(days=days)


def small_photo(caption: str):
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (90, 120, 160)).save(out, format="JPEG")
    return clean_image(SimpleUploadedFile(f"{caption}.jpg", out.getvalue(), content_type="image/jpeg"))


def test_sign_in_page_and_plan_form(new_page, live_server, cast):
    audit = Audit()
    page = phone(new_page)
    page.goto(f"{live_server.url}/masuk/")
    audit.check(page, "sign-in")

    sign_in(page, live_server, "mitra")
    audit.check(page, "home (partner)")
    page.goto(f"{live_server.url}/rencana/baru/")
    audit.check(page, "plan form")
    audit.assert_clean()


def test_member_pages_in_each_stage(new_page, live_server, cast):
    member, coordinator = cast["member"], cast["coordinator"]
    team = [member, coordinator]
    args = (cast["kasubbid"], cast["partner"], team, coordinator)
    assigned = builders.make_dispatched_lokus(*args, title="Lokus ditugaskan", starts_at=days_ahead(20))
    confirmed = builders.make_dispatched_lokus(*args, title="Lokus dikonfirmasi", starts_at=days_ahead(22))
    builders.confirm_all(confirmed, team)
    running = builders.make_dispatched_lokus(*args, title="Lokus berjalan", starts_at=days_ahead(24))
    builders.advance_to_running(running, team, coordinator)
    services.field_note_add(user=member, lokus_id=running.pk, data=builders.note_data())
    services.field_media_add(
        user=member, lokus_id=running.pk, kind=MediaKind.PHOTO, clean=small_photo("massa"), caption="Massa"
    )

    audit = Audit()
    page = phone(new_page)
    sign_in(page, live_server, "anggota")
    audit.check(page, "home (member)")
    page.goto(f"{live_server.url}/tugas/")
    audit.check(page, "my assignments")
    for lokus, stage in ((assigned, "assigned"), (confirmed, "confirmed"), (running, "checked in")):
        page.goto(f"{live_server.url}/tugas/{lokus.pk}/")
        audit.check(page, f"assignment ({stage})")

    for path, label in (("laporan", "member report form"), ("eskalasi", "escalation form")):
        page.goto(f"{live_server.url}/tugas/{running.pk}/{path}/")
        audit.check(page, label)
    page.goto(f"{live_server.url}/tugas/{running.pk}/berita-acara/")
    audit.check(page, "Berita Acara form")

    # The note's form page is shown only when a note is refused: send an empty one the way a
    # browser without the outbox does (form.submit() fires no submit handler).
    page.goto(f"{live_server.url}/tugas/{running.pk}/")
    with page.expect_navigation():
        page.eval_on_selector(f"form[action='/tugas/{running.pk}/catatan/']", "(form) => form.submit()")
    assert page.locator("main form textarea[name=body]").count() == 1
    audit.check(page, "field note form, refused")
    audit.assert_clean()


def test_korlap_pages(new_page, live_server, cast):
    member, coordinator = cast["member"], cast["coordinator"]
    team = [member, coordinator]
    dispatched = builders.make_dispatched_lokus(
        cast["kasubbid"], cast["partner"], team, coordinator, title="Lokus Korlap", starts_at=days_ahead(26)
    )
    builders.confirm_all(dispatched, team)
    report = report_builders.make_report(cast, starts_at=days_ahead(28))

    audit = Audit()
    page = phone(new_page)
    sign_in(page, live_server, "korlap")
    page.goto(f"{live_server.url}/tugas/{dispatched.pk}/")
    audit.check(page, "assignment (Korlap, confirmed)")
    page.goto(f"{live_server.url}/tugas/{dispatched.pk}/risiko/")
    audit.check(page, "risk mapping form")
    page.goto(f"{live_server.url}/tugas/{report.lokus_id}/")
    audit.check(page, "assignment (Korlap, reported, team report panel)")
    page.goto(f"{live_server.url}/laporan/{report.pk}/")
    audit.check(page, "team report")
    page.goto(f"{live_server.url}/laporan/{report.pk}/versi/")
    assert page.locator("main").inner_text()  # two versions compared: the start and the filled one
    audit.check(page, "report versions compared")
    audit.assert_clean()
