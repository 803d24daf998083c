"""SOP steps 6-15 in a real browser, with real users: the Korlap compiles and sends the team
report on a phone; the Kasubbid, the Kabid Kesbang and the Kepala Badan each receive, verify
and forward it on laptops. The Kabid returns it once (the Kasubbid revises it himself) and the
Kepala Badan returns it once (the Kabid revises it), then approves: the report is final and
read-only for everyone.

Steps 1-5 are built through the services (tests/lokus/builders.py); each user works in their
own browser context."""

import re

import pytest
from django.utils import translation

from lokus import services as lokus_services
from reports.enums import ReportAction, ReportState
from reports.models import ActivityReport, ReportLog, ReportVerification, ReportVersion
from tests.e2e.conftest import LAPTOP, PHONE, assert_no_sideways_scroll, sign_in
from tests.lokus import builders

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

A = ReportAction
ACTIONS = "[data-testid=report-actions]"
EDIT_LINK = f"{ACTIONS} a[href$='/ubah/']"

KORLAP_TEXT = {
    "dialogue": "Dialog dengan koordinator aksi: massa sepakat membubarkan diri pukul 12.30 WIB.",
    "analysis": "Tuntutan upah berpotensi memicu aksi lanjutan bila tidak ada tanggapan.",
    "outlook": "Aksi serupa diperkirakan terjadi pada bulan depan dengan massa lebih besar.",
    "recommendations": "Fasilitasi audiensi serikat pekerja dengan Dinas Ketenagakerjaan.",
}
KABID_NOTE = "Rekomendasi terlalu umum: sebutkan instansi dan tenggat tindak lanjut."
KASUBBID_RECOMMENDATIONS = (
    "Fasilitasi audiensi serikat pekerja dengan Dinas Ketenagakerjaan paling lambat 14 hari; "
    "koordinasi pengamanan dengan Polres Metro Tangerang Kota."
)
KABAN_NOTE = "Analisis belum memuat dampak terhadap lalu lintas dan layanan publik."
KABID_ANALYSIS = (
    "Tuntutan upah berpotensi memicu aksi lanjutan bila tidak ada tanggapan; "
    "penutupan Jl. Satria Sudirman selama aksi mengganggu layanan publik di Pusat Pemerintahan."
)

EXPECTED_LOG = [
    ("korlap", A.CREATED),
    ("korlap", A.SAVED),
    ("korlap", A.SUBMITTED),
    ("kasubbid", A.RECEIVED),
    ("kasubbid", A.VERIFIED),
    ("kasubbid", A.FORWARDED),
    ("kabid", A.RECEIVED),
    ("kabid", A.VERIFIED),
    ("kabid", A.RETURNED),
    ("kasubbid", A.SAVED),
    ("kasubbid", A.FORWARDED),
    ("kabid", A.RECEIVED),
    ("kabid", A.VERIFIED),
    ("kabid", A.FORWARDED),
    ("kaban", A.RECEIVED),
    ("kaban", A.VERIFIED),
    ("kaban", A.RETURNED),
    ("kabid", A.SAVED),
    ("kabid", A.FORWARDED),
    ("kaban", A.RECEIVED),
    ("kaban", A.VERIFIED),
    ("kaban", A.APPROVED),
]


def open_page(new_page, viewport):
    """A page in its own context that accepts (and records) every confirm dialog."""
    page = new_page(viewport=viewport)
    page.dialogs = []

    def accept(dialog):
        page.dialogs.append(dialog.type)
        dialog.accept()

    page.on("dialog", accept)
    return page


def report_state() -> str:
    return ActivityReport.objects.get().state


def assert_state_badge(page, state: ReportState) -> None:
    """The state badge shows the state's label in the page's language."""
    with translation.override(page.get_attribute("html", "lang")):
        expected = str(state.label)
    assert page.inner_text("[data-testid=report-state]").strip() == expected


def available_actions(page) -> set[str]:
    return set(page.eval_on_selector_all(f"{ACTIONS} [data-action]", "els => els.map(e => e.dataset.action)"))


def act(page, action: str) -> None:
    """Press a POST action button on the report page and wait for the page it leads to."""
    with page.expect_navigation():
        page.click(f"{ACTIONS} [data-action={action}]")
    page.wait_for_selector("[data-testid=report-state]")


def receive_and_verify(page, report_url: str, level: str, notes: str) -> None:
    """Steps 7-8, 10-11, 13-14: receive (terima), then the verification form, all checks ticked."""
    page.goto(report_url)
    assert available_actions(page) == {"receive"}
    assert page.locator(EDIT_LINK).count() == 0
    act(page, "receive")
    assert available_actions(page) == {"verify"}
    page.click(f"{ACTIONS} [data-action=verify]")
    page.wait_for_url(f"{report_url}verifikasi/")
    for check in ("complete", "facts_separate", "attachments_present", "classification_right"):
        page.check(f"input[name={check}]")
    page.fill("textarea[name=notes]", notes)
    page.click("main form button[type=submit]")
    page.wait_for_url(report_url)
    verification = ReportVerification.objects.order_by("-pk").first()
    assert (verification.level, verification.all_passed, verification.notes) == (level, True, notes)


def return_for_revision(page, report_url: str, note: str) -> None:
    """Steps 12 and 14-15: send the verified report one level down with a note."""
    page.click(f"{ACTIONS} [data-action=return_for_revision]")
    page.wait_for_url(f"{report_url}kembalikan/")
    page.fill("textarea[name=note]", note)
    page.click("main form button[type=submit]")
    page.wait_for_url(report_url)


def revise(page, report_url: str, field: str, text: str) -> None:
    """Whoever got the report back corrects one section (a new version)."""
    page.click(EDIT_LINK)
    page.wait_for_url(f"{report_url}ubah/")
    page.fill(f"textarea[name={field}]", text)
    page.click("main form button[type=submit]")
    page.wait_for_url(report_url)


def test_report_through_the_chain_with_two_returns_then_approved(new_page, live_server, cast):
    url = live_server.url
    kasubbid_user, korlap_user, member_user = cast["kasubbid"], cast["coordinator"], cast["member"]
    team = [member_user, korlap_user]

    # Steps 1-5 through the services: dispatched, in the field, a note, both member reports in.
    lokus = builders.make_dispatched_lokus(kasubbid_user, cast["partner"], team, korlap_user)
    builders.advance_to_running(lokus, team, korlap_user)
    lokus_services.field_note_add(user=korlap_user, lokus_id=lokus.pk, data=builders.note_data())
    builders.report_all(lokus, team)

    # Step 6: the Korlap starts the team report from the assignment page, on a phone.
    korlap = open_page(new_page, PHONE)
    sign_in(korlap, live_server, "korlap")
    korlap.goto(f"{url}/tugas/{lokus.pk}/")
    assert_no_sideways_scroll(korlap)
    korlap.click(f"[data-testid=report-link] form[action$='/lokus/{lokus.pk}/laporan/mulai/'] button[type=submit]")
    korlap.wait_for_url(re.compile(r"/laporan/\d+/ubah/$"))
    report = ActivityReport.objects.get(lokus=lokus)
    report_url = f"{url}/laporan/{report.pk}/"
    assert korlap.url == f"{report_url}ubah/"
    assert_no_sideways_scroll(korlap)

    prefilled = {field: getattr(report, field) for field in ("basis", "time_place", "main_problem", "facts")}
    assert all(prefilled.values()), prefilled
    for field, value in prefilled.items():
        assert korlap.input_value(f"textarea[name={field}]") == value
    for field, text in KORLAP_TEXT.items():
        assert korlap.input_value(f"textarea[name={field}]") == ""
        korlap.fill(f"textarea[name={field}]", text)
    korlap.select_option("select[name=situation]", "waspada")
    korlap.fill("input[name=crowd_estimate]", "280")
    korlap.click("main form button[type=submit]")
    korlap.wait_for_url(report_url)
    assert_no_sideways_scroll(korlap)
    report.refresh_from_db()
    assert {field: getattr(report, field) for field in prefilled} == prefilled
    assert {field: getattr(report, field) for field in KORLAP_TEXT} == KORLAP_TEXT
    assert (report.situation, report.crowd_estimate, report.version) == ("waspada", 280, 2)
    assert korlap.locator("[data-testid=missing]").count() == 0

    assert available_actions(korlap) == {"submit"}
    act(korlap, "submit")
    assert korlap.dialogs == ["confirm"]
    assert report_state() == ReportState.AT_KASUBBID
    assert_state_badge(korlap, ReportState.AT_KASUBBID)
    assert korlap.locator(ACTIONS).count() == 0
    assert_no_sideways_scroll(korlap)

    # Steps 7-9: the Kasubbid receives, verifies and forwards.
    kasubbid = open_page(new_page, LAPTOP)
    sign_in(kasubbid, live_server, "kasubbid")
    receive_and_verify(kasubbid, report_url, "kasubbid", "Lengkap, fakta terpisah dari analisis.")
    assert available_actions(kasubbid) == {"forward", "return_for_revision"}
    act(kasubbid, "forward")
    assert report_state() == ReportState.AT_KABID

    # Steps 10-12: the Kabid receives, verifies and returns it to the Kasubbid with a note.
    kabid = open_page(new_page, LAPTOP)
    sign_in(kabid, live_server, "kabid")
    receive_and_verify(kabid, report_url, "kabid", "Format sesuai.")
    assert available_actions(kabid) == {"forward", "return_for_revision"}
    return_for_revision(kabid, report_url, KABID_NOTE)
    assert report_state() == ReportState.RETURNED_TO_KASUBBID
    assert kabid.locator(ACTIONS).count() == 0

    # The Kasubbid gets it back, revises the recommendations himself and forwards it again.
    kasubbid.goto(report_url)
    assert_state_badge(kasubbid, ReportState.RETURNED_TO_KASUBBID)
    assert KABID_NOTE in kasubbid.inner_text("[data-testid=timeline]")
    assert available_actions(kasubbid) == {"forward", "pass_down"}
    revise(kasubbid, report_url, "recommendations", KASUBBID_RECOMMENDATIONS)
    assert KASUBBID_RECOMMENDATIONS in kasubbid.inner_text("[data-testid=report-content]")
    act(kasubbid, "forward")
    assert kasubbid.dialogs == ["confirm", "confirm"]
    assert report_state() == ReportState.AT_KABID

    # The Kabid receives and verifies the revision, and forwards it.
    receive_and_verify(kabid, report_url, "kabid", "Rekomendasi sudah spesifik.")
    act(kabid, "forward")
    assert report_state() == ReportState.AT_KABAN

    # Steps 13-14: the Kepala Badan receives, verifies and returns it to the Kabid.
    kaban = open_page(new_page, LAPTOP)
    sign_in(kaban, live_server, "kaban")
    receive_and_verify(kaban, report_url, "kaban", "Perlu pendalaman analisis.")
    assert available_actions(kaban) == {"return_for_revision", "approve"}
    return_for_revision(kaban, report_url, KABAN_NOTE)
    assert report_state() == ReportState.RETURNED_TO_KABID

    # The Kabid revises the analysis and forwards it.
    kabid.goto(report_url)
    assert_state_badge(kabid, ReportState.RETURNED_TO_KABID)
    assert KABAN_NOTE in kabid.inner_text("[data-testid=timeline]")
    assert available_actions(kabid) == {"forward", "pass_down"}
    # He looks at passing it further down: the note form is empty, not his earlier return note.
    kabid.click(f"{ACTIONS} [data-action=pass_down]")
    kabid.wait_for_url(f"{report_url}turunkan/")
    kabid.wait_for_load_state()  # lokus.js restores unsent drafts on DOMContentLoaded
    assert kabid.input_value("textarea[name=note]") == ""
    kabid.click(f"main form a[href='/laporan/{report.pk}/']")
    kabid.wait_for_url(report_url)
    revise(kabid, report_url, "analysis", KABID_ANALYSIS)
    act(kabid, "forward")
    assert report_state() == ReportState.AT_KABAN

    # Steps 13-15: the Kepala Badan receives, verifies and approves.
    receive_and_verify(kaban, report_url, "kaban", "Analisis sudah lengkap.")
    act(kaban, "approve")
    assert kaban.dialogs == ["confirm"]
    report.refresh_from_db()
    assert report.state == ReportState.APPROVED
    assert report.approved_at is not None
    assert (report.version, report.revision_round) == (4, 3)
    assert_state_badge(kaban, ReportState.APPROVED)
    final = report.content()
    assert final["recommendations"] == KASUBBID_RECOMMENDATIONS
    assert final["analysis"] == KABID_ANALYSIS
    assert final["dialogue"] == KORLAP_TEXT["dialogue"]

    # Final and read-only: no action buttons, no edit link; the edit page sends them back.
    for page in (kaban, korlap):
        page.goto(report_url)
        assert_state_badge(page, ReportState.APPROVED)
        assert page.locator(ACTIONS).count() == 0
        assert page.locator("a[href$='/ubah/']").count() == 0
        page.goto(f"{report_url}ubah/")
        page.wait_for_url(report_url)
        assert page.locator("ul.messages .msg-error").count() == 1
        assert page.locator("form[data-draft^=report-edit]").count() == 0
        assert KABID_ANALYSIS in page.inner_text("[data-testid=report-content]")
    assert_no_sideways_scroll(korlap)
    report.refresh_from_db()
    assert report.content() == final
    assert ReportVersion.objects.filter(report=report).count() == 4

    # The versions page: by default the last revision, with the note that asked for it.
    kaban.goto(f"{report_url}versi/")
    notes = kaban.inner_text("[data-testid=return-notes]")
    assert KABAN_NOTE in notes and KABID_NOTE not in notes
    changed = kaban.locator("[data-testid=diff] tr[data-changed]")
    assert changed.count() == 1
    assert "Jl. Satria Sudirman" in changed.inner_text()
    # From the Korlap's version to the final one: both returns and both revised sections.
    kaban.select_option("select[name=a]", "2")
    kaban.select_option("select[name=b]", "4")
    with kaban.expect_navigation():
        kaban.click("form.filters button[type=submit]")
    assert kaban.url.endswith("/versi/?a=2&b=4")
    notes = kaban.inner_text("[data-testid=return-notes]")
    assert KABID_NOTE in notes and KABAN_NOTE in notes
    assert kaban.locator("[data-testid=diff] tr[data-changed]").count() == 2

    # The timeline lists both returns with their notes.
    kaban.goto(report_url)
    timeline = kaban.inner_text("[data-testid=timeline]")
    assert KABID_NOTE in timeline and KABAN_NOTE in timeline

    # The log holds exactly the chain as it happened.
    users = {cast[name].pk: name for name in ("coordinator", "kasubbid", "kabid", "kaban")}
    users[korlap_user.pk] = "korlap"
    log = [(users[entry.actor_id], entry.action) for entry in ReportLog.objects.filter(report=report)]
    assert log == EXPECTED_LOG
    returns = ReportLog.objects.filter(report=report, action=A.RETURNED).order_by("pk")
    assert [(r.from_state, r.to_state, r.note) for r in returns] == [
        (ReportState.KABID_VERIFIED, ReportState.RETURNED_TO_KASUBBID, KABID_NOTE),
        (ReportState.KABAN_VERIFIED, ReportState.RETURNED_TO_KABID, KABAN_NOTE),
    ]

    for page in (korlap, kasubbid, kabid, kaban):
        assert page.js_errors == []
