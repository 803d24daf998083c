"""Official documents as PDF: what the Surat Tugas, the Berita Acara and the Laporan Hasil
Kegiatan say (read back from the PDF itself), who may download them (and that each download
is recorded and stamped), the public verification page, the locked-down URL fetcher against
text that tries to fetch, the Berita Acara form, and the configurable letterhead.

The documents are always Indonesian, so the expected text here is Indonesian too."""

import io
import itertools
import re
import socket
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.shortcuts import resolve_url
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import dateformat, timezone, translation
from pypdf import PdfReader

from core.enums import Classification
from core.pdf import render_pdf
from lokus import services as lokus_services
from lokus.enums import AuditAction
from lokus.models import AuditEntry, BeritaAcara
from reports import documents, services
from reports.enums import ReportState
from reports.models import DocumentDownload, DocumentKind, Letterhead
from tests.helpers import ROLES
from tests.lokus import builders as lokus_builders
from tests.reports import builders

pytestmark = pytest.mark.django_db

S = ReportState

# Names, NIPs and positions as they must appear on the documents.
OFFICIALS = {
    "kasubbid": ("Drs. Hendra Gunawan", "197805122005011003", "Kasubbid Kewaspadaan Dini"),
    "member": ("Rina Marlina", "199003152015032002", "Analis Kebijakan"),
    "coordinator": ("Agus Salim", "198811202012121001", "Pengelola Data"),
    "kabid": ("Yusuf Maulana", "197501012000031004", "Kabid Kesbang"),
    "kaban": ("Bambang Sutrisno", "196912251995031005", "Kepala Badan Kesbangpol"),
}
LETTERHEAD = [
    "PEMERINTAH KOTA TANGERANG",
    "BADAN KESATUAN BANGSA DAN POLITIK",
    "Jl. Satria Sudirman No. 1, Gedung Pusat Pemerintahan Kota Tangerang",
]
SECTIONS = [
    "I. Dasar",
    "II. Waktu dan tempat",
    "III. Pokok masalah",
    "IV. Fakta dan kronologi",
    "V. Hasil dialog atau mediasi",
    "VI. Analisis",
    "VII. Perkiraan perkembangan",
    "VIII. Rekomendasi dan tindak lanjut",
    "IX. Status situasi",
]
MARKS = {Classification.BIASA: "BIASA", Classification.TERBATAS: "TERBATAS", Classification.RAHASIA: "RAHASIA"}
# Each lokus made here gets its own day, after those of tests/reports/builders.py.
_days = itertools.count(200)
RETURN_NOTE = "Sebutkan jam bubar dan jumlah massa."
REVISED_FACTS = "09.00 massa berkumpul. 10.30 perwakilan diterima. 12.45 massa bubar tertib; 280 orang."
# Text that would fetch something if it ever reached the HTML unescaped.
PAYLOADS = [
    '<img src="http://127.0.0.1:9/x.png">',
    '<link rel=stylesheet href="file:///etc/passwd">',
    "url(file:///etc/passwd)",
    "<script>alert(1)</script>",
]


@pytest.fixture(autouse=True)
def officials(cast):
    for key, (name, nip, position) in OFFICIALS.items():
        user = cast[key]
        user.full_name, user.nip, user.position = name, nip, position
        user.save(update_fields=["full_name", "nip", "position"])


# Helpers -----------------------------------------------------------------------------------


def pages(pdf: bytes) -> list[str]:
    """The text of each page, whitespace collapsed (table cells and justified lines wrap)."""
    assert pdf.startswith(b"%PDF-")
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages]


def squeezed(text: str) -> str:
    """Without any whitespace: the classification mark is letter-spaced ("T E R B A T A S")."""
    return "".join(text.split())


def drawn_fragments(pdf: bytes) -> list[tuple[int, str, tuple]]:
    """(page, text, fill colour) of every text fragment drawn, read from the content stream."""
    drawn = []
    for number, page in enumerate(PdfReader(io.BytesIO(pdf)).pages):
        colour = {"rgb": (0.0, 0.0, 0.0)}

        def before(operator, args, cm, tm, colour=colour):
            if operator == b"rg":
                colour["rgb"] = tuple(float(a) for a in args)

        def text(fragment, cm, tm, font, size, number=number, colour=colour):
            if fragment.strip():
                drawn.append((number, squeezed(fragment), colour["rgb"]))

        page.extract_text(visitor_operand_before=before, visitor_text=text)
    return drawn


def assert_marked_on_every_page(texts: list[str], classification: str) -> None:
    for number, text in enumerate(texts, 1):
        page = squeezed(text)
        assert page.count(MARKS[classification]) >= 2, f"page {number}: mark missing top or bottom"
        for other in set(MARKS.values()) - {MARKS[classification]}:
            assert other not in page, f"page {number} carries the wrong mark {other}"


def assert_stamped_on_every_page(texts: list[str], user) -> None:
    """'Diunduh oleh <name>, NIP <nip> pada <now> WIB' on each page."""
    now = timezone.localtime()
    pattern = rf"Diunduh oleh {re.escape(user.full_name)}, NIP {user.nip} pada (\d\d-\d\d-\d{{4}} \d\d:\d\d:\d\d) WIB"
    for number, text in enumerate(texts, 1):
        match = re.search(pattern, text)
        assert match, f"page {number} has no stamp naming {user.full_name}"
        stamped_at = timezone.make_aware(timezone.datetime.strptime(match.group(1), "%d-%m-%Y %H:%M:%S"))
        assert abs(now - stamped_at) < timedelta(minutes=2)


def in_indonesian(value) -> str:
    with translation.override("id"):
        return str(value() if callable(value) else value)


def wib_text(moment, fmt: str) -> str:
    with translation.override("id"):
        return dateformat.format(timezone.localtime(moment), fmt)


def make_dispatched(cast, classification: str = Classification.TERBATAS, **plan_overrides):
    """A Wasdin lokus of the given classification, dispatched to the cast's member and Korlap."""
    plan_overrides.setdefault("starts_at", lokus_builders.future_wib(days=next(_days)))
    lokus = lokus_builders.make_chosen_lokus(cast["kasubbid"], cast["partner"], **plan_overrides)
    data = lokus_builders.ready_data(lokus, classification=classification)
    lokus_services.lokus_update(user=cast["kasubbid"], lokus_id=lokus.pk, data=data)
    members = [cast["member"], cast["coordinator"]]
    lokus_services.lokus_set_team(user=cast["kasubbid"], lokus_id=lokus.pk, members=members, coordinator=members[1])
    return lokus_services.lokus_dispatch(user=cast["kasubbid"], lokus_id=lokus.pk)


def ba_data(lokus, **overrides) -> dict:
    data = {
        "title": "Dialog dengan koordinator aksi",
        "place": "Ruang rapat Pusat Pemerintahan",
        "held_at": timezone.now(),  # minutes of what was just seen (never dated ahead)
        "parties": [
            {"name": "Budi Santoso", "position": "Koordinator aksi"},
            {"name": "AKP Rahmat Hidayat", "position": "Kapolsek Tangerang"},
        ],
        "discussion": "Tuntutan kenaikan upah minimum kota disampaikan.",
        "agreements": "Massa membubarkan diri pukul 12.30 WIB.",
        "events": "",
        "copies": 3,
    }
    data.update(overrides)
    return data


def record_ba(cast, lokus, **overrides) -> BeritaAcara:
    return lokus_services.berita_acara_add(user=cast["member"], lokus_id=lokus.pk, data=ba_data(lokus, **overrides))


def approved_after_a_return(cast):
    """A report returned once by the Kasubbid with a note, revised (version 3), approved."""
    report = builders.make_report(cast)
    builders.walk(report, S.KASUBBID_VERIFIED, cast)
    builders.act(report, cast, "return", "kasubbid", note=RETURN_NOTE)
    services.report_save(user=cast["coordinator"], report_id=report.pk, data={"facts": REVISED_FACTS})
    return builders.walk(report, S.APPROVED, cast)


# What the documents say --------------------------------------------------------------------


def test_surat_tugas_names_the_team_the_signer_and_its_verification_code(cast):
    lokus = make_dispatched(cast)

    document = documents.surat_tugas(lokus, cast["kaban"])

    texts = pages(document.pdf)
    text = " ".join(texts)
    for line in LETTERHEAD:
        assert line in texts[0]
    assert "SURAT TUGAS" in texts[0]
    assert f"Nomor: {lokus.surat_tugas_number}" in texts[0]
    assert "MEMBERI TUGAS" in text
    korlap, member = OFFICIALS["coordinator"], OFFICIALS["member"]
    assert f"1 {korlap[0]} {korlap[1]} {korlap[2]} Koordinator lapangan" in text
    assert f"2 {member[0]} {member[1]} {member[2]} Anggota tim mitigasi" in text
    assert lokus.problem in text
    # Signed by the Kasubbid who dispatched the team, on the day of dispatch.
    name, nip, position = OFFICIALS["kasubbid"]
    signed = wib_text(lokus.dispatched_at, "j F Y")
    assert f"Tangerang, {signed} {position} {name} NIP. {nip}" in text
    assert lokus.verification_code
    assert f"Kode verifikasi: {lokus.verification_code}" in text
    assert reverse("reports:verify_document", args=[lokus.verification_code]) in text
    assert_marked_on_every_page(texts, Classification.TERBATAS)
    assert_stamped_on_every_page(texts, cast["kaban"])
    assert document.blocked_urls == []
    assert document.filename.startswith("surat-tugas-") and document.filename.endswith(".pdf")


def test_a_draft_report_has_every_section_the_draft_mark_and_no_verification_code(cast, report):
    document = documents.laporan(report, cast["kasubbid"])

    texts = pages(document.pdf)
    text = " ".join(texts)
    for line in LETTERHEAD:
        assert line in texts[0]
    assert "LAPORAN HASIL KEGIATAN" in texts[0]
    assert f"Surat Tugas Nomor: {report.lokus.surat_tugas_number}" in texts[0]
    positions = [text.index(section) for section in SECTIONS]
    assert positions == sorted(positions), "sections out of order"
    filled = builders.filled_data()
    for field in ("basis", "main_problem", "facts", "analysis", "recommendations"):
        assert filled[field] in text
    korlap, member = OFFICIALS["coordinator"], OFFICIALS["member"]
    assert f"1 {korlap[0]} {korlap[1]} Koordinator lapangan" in text
    assert f"2 {member[0]} {member[1]} Anggota tim mitigasi" in text
    for number, page in enumerate(texts, 1):
        assert "DRAF" in page, f"page {number} of a draft is not marked DRAF"
    assert "Versi 2, putaran revisi 1" in text
    assert "Versi dokumen: 2." in text
    assert report.verification_code == ""
    assert "Kode verifikasi" not in text
    assert "FINAL" not in text
    assert_marked_on_every_page(texts, Classification.TERBATAS)
    assert_stamped_on_every_page(texts, cast["kasubbid"])


def test_an_approved_report_shows_the_approval_chain_and_its_code_and_no_draft_mark(cast):
    report = approved_after_a_return(cast)

    document = documents.laporan(report, cast["kabid"])

    texts = pages(document.pdf)
    text = " ".join(texts)
    assert "DRAF" not in text
    assert f"FINAL, disetujui {wib_text(report.approved_at, 'j F Y H:i')} WIB" in text
    assert REVISED_FACTS in text
    chain = text[text.index("Riwayat persetujuan") :]
    for key in ("coordinator", "kasubbid", "kabid", "kaban"):
        assert OFFICIALS[key][0] in chain
    assert RETURN_NOTE in chain
    assert "Dikembalikan untuk revisi" in chain
    assert "Versi 3, putaran revisi 2" in text
    assert "Versi dokumen: 3." in text
    name, nip, position = OFFICIALS["kaban"]
    assert f"Disetujui secara elektronik oleh {position} {name} NIP. {nip}" in text
    assert report.verification_code
    assert f"Kode verifikasi: {report.verification_code}" in text
    assert_marked_on_every_page(texts, Classification.TERBATAS)
    assert_stamped_on_every_page(texts, cast["kabid"])


def test_biasa_documents_are_marked_biasa_and_not_stamped(cast):
    lokus = make_dispatched(cast, Classification.BIASA)
    record = record_ba(cast, lokus)

    letter = documents.surat_tugas(lokus, cast["member"])
    minutes = documents.berita_acara(record, cast["member"])

    for document in (letter, minutes):
        texts = pages(document.pdf)
        assert_marked_on_every_page(texts, Classification.BIASA)
        assert "Diunduh oleh" not in " ".join(texts)
    rows = DocumentDownload.objects.filter(user=cast["member"]).order_by("pk")
    assert [(d.kind, d.classification, d.watermarked) for d in rows] == [
        (DocumentKind.SURAT_TUGAS, Classification.BIASA, False),
        (DocumentKind.BERITA_ACARA, Classification.BIASA, False),
    ]


def test_a_rahasia_report_is_marked_in_red_and_stamped_on_every_page(cast, report):
    services.report_save(user=cast["coordinator"], report_id=report.pk, data={"classification": "rahasia"})
    report.refresh_from_db()

    document = documents.laporan(report, cast["kaban"])

    texts = pages(document.pdf)
    assert_marked_on_every_page(texts, Classification.RAHASIA)
    assert_stamped_on_every_page(texts, cast["kaban"])
    marks = [(page, colour) for page, fragment, colour in drawn_fragments(document.pdf) if fragment == "RAHASIA"]
    assert {page for page, _colour in marks} == set(range(len(texts)))
    for _page, (red, green, blue) in marks:
        assert red > 0.6 and green < 0.2 and blue < 0.2, "the RAHASIA mark is not drawn in red"
    assert DocumentDownload.objects.get(user=cast["kaban"]).watermarked is True


def test_the_rahasia_mark_has_the_red_class_in_the_html_and_the_stylesheet_makes_it_red(cast):
    lokus = make_dispatched(cast, Classification.RAHASIA)
    with translation.override("id"):
        html = render_to_string(
            "documents/surat_tugas.html",
            {
                "letterhead": Letterhead.current(),
                "lokus": lokus,
                "plan": lokus.plan,
                "team": [],
                "signer": lokus.dispatched_by,
                "signed_at": lokus.dispatched_at,
                "classification": lokus.classification,
                "classification_label": lokus.get_classification_display(),
            },
        )

    marks = re.findall(r'<div class="([^"]*)"[^>]*>\s*RAHASIA\s*</div>', html)
    assert len(marks) == 2 and all("mark-rahasia" in classes.split() for classes in marks)
    css = (Path(django_settings.BASE_DIR) / "static" / "pdf" / "document.css").read_text()
    rule = re.search(r"\.mark-rahasia\s*\{([^}]*)\}", css)
    assert rule, "no .mark-rahasia rule"
    colour = re.search(r"(?<![-\w])color:\s*#([0-9a-fA-F]{6})", rule.group(1))
    assert colour, "the .mark-rahasia rule sets no colour"
    red, green, blue = (int(colour.group(1)[i : i + 2], 16) for i in (0, 2, 4))
    assert red >= 0x99 and green <= 0x40 and blue <= 0x40


def test_documents_stay_indonesian_when_the_reader_uses_english(cast, client_for):
    lokus = make_dispatched(cast)
    client = client_for("member")
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"

    response = client.get(reverse("reports:surat_tugas", args=[lokus.pk]))

    assert response["Content-Language"] == "en"
    text = " ".join(pages(response.content))
    assert "Koordinator lapangan" in text and "Diunduh oleh Rina Marlina" in text
    assert "Field coordinator" not in text and "Downloaded by" not in text


# Who may download, and the record of each download ----------------------------------------

TEAM_AND_LEADERS = {"member", "coordinator", "kasubbid", "kabid", "kaban"}
REPORT_READERS = {"coordinator", "kasubbid", "kabid", "kaban"}
URLS = ["surat_tugas", "berita_acara_pdf", "report_pdf", "downloads"]


def expected_status(url: str, role: str | None) -> int:
    if role is None:
        return 302
    if url == "downloads":
        return 200 if role == "kaban" else 403
    return 200 if role in (REPORT_READERS if url == "report_pdf" else TEAM_AND_LEADERS) else 404


def target(cast, url: str):
    """The URL and the download row a successful request must record (kind, lokus, object, number, version)."""
    if url == "downloads":
        return reverse("reports:downloads"), None
    if url == "report_pdf":
        report = builders.make_report(cast)
        lokus = report.lokus
        row = (DocumentKind.LAPORAN, lokus.pk, report.pk, lokus.surat_tugas_number, report.version)
        return reverse("reports:report_pdf", args=[report.pk]), row
    lokus = make_dispatched(cast)
    if url == "surat_tugas":
        row = (DocumentKind.SURAT_TUGAS, lokus.pk, lokus.pk, lokus.surat_tugas_number, 0)
        return reverse("reports:surat_tugas", args=[lokus.pk]), row
    record = record_ba(cast, lokus)
    row = (DocumentKind.BERITA_ACARA, lokus.pk, record.pk, record.title, 0)
    return reverse("reports:berita_acara_pdf", args=[record.pk]), row


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize("role", ROLES, ids=lambda r: r or "anonymous")
def test_document_permission_grid(cast, client_for, role, url):
    path, row = target(cast, url)

    response = client_for(role).get(path)

    expected = expected_status(url, role)
    assert response.status_code == expected
    if expected == 302:
        assert response["Location"].startswith(resolve_url(django_settings.LOGIN_URL))
    if expected != 200 or row is None:
        assert not DocumentDownload.objects.exists()
        return
    assert response["Content-Type"] == "application/pdf"
    assert "no-store" in response["Cache-Control"]
    kind, lokus_id, object_id, number, version = row
    assert number in " ".join(pages(response.content))
    download = DocumentDownload.objects.get()
    assert (download.user, download.kind, download.lokus_id, download.object_id) == (
        cast[role],
        kind,
        lokus_id,
        object_id,
    )
    assert (download.number, download.version, download.classification, download.watermarked) == (
        number,
        version,
        Classification.TERBATAS,
        True,
    )


def test_no_surat_tugas_before_the_team_is_dispatched(cast, client_for):
    lokus = lokus_builders.make_ready_lokus(
        cast["kasubbid"], cast["partner"], [cast["member"], cast["coordinator"]], cast["coordinator"]
    )

    for role in ("kasubbid", "kaban"):
        assert client_for(role).get(reverse("reports:surat_tugas", args=[lokus.pk])).status_code == 404
    assert not DocumentDownload.objects.exists()


def test_the_download_log_lists_who_downloaded_what(cast, client_for):
    report = builders.make_report(cast)
    lokus = report.lokus
    client_for("member").get(reverse("reports:surat_tugas", args=[lokus.pk]))
    client_for("coordinator").get(reverse("reports:report_pdf", args=[report.pk]))

    client = client_for("kaban")
    response = client.get(reverse("reports:downloads"))

    assert response.status_code == 200
    rows = [(d.user.username, d.kind) for d in response.context["page"].object_list]
    assert rows == [("korlap", DocumentKind.LAPORAN), ("anggota", DocumentKind.SURAT_TUGAS)]
    html = response.content.decode()
    member, korlap = OFFICIALS["member"], OFFICIALS["coordinator"]
    assert f"{member[0]} · {member[1]}" in html
    assert f"{korlap[0]} · {korlap[1]}" in html
    assert f"Surat Tugas {lokus.surat_tugas_number}" in html
    assert f"{in_indonesian(DocumentKind.LAPORAN.label)} {lokus.surat_tugas_number}" in html
    assert f"v{report.version}" in html
    assert lokus.plan.title in html

    only_letters = client.get(reverse("reports:downloads"), {"kind": DocumentKind.SURAT_TUGAS})
    assert [d.user.username for d in only_letters.context["page"].object_list] == ["anggota"]
    # Reading the log is not a download.
    assert DocumentDownload.objects.count() == 2


# The public verification page --------------------------------------------------------------


def verify(client, code: str):
    client.logout()
    return client.get(reverse("reports:verify_document", args=[code]))


def assert_shows_no_content(html: str, lokus) -> None:
    for secret in (
        lokus.problem,
        lokus.plan.title,
        lokus.location,
        *(name for name, _nip, _position in OFFICIALS.values()),
    ):
        assert secret not in html


def test_the_surat_tugas_code_confirms_number_date_and_status_without_content(cast, client):
    lokus = make_dispatched(cast)

    response = verify(client, lokus.verification_code)

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    assert "Dokumen ini diterbitkan oleh Kesbangpol Kota Tangerang." in html
    assert lokus.surat_tugas_number in html
    assert wib_text(lokus.dispatched_at, "j F Y H:i") in html
    assert in_indonesian(lokus.get_state_display) in html
    assert_shows_no_content(html, lokus)
    # The code is read as typed from paper: case does not matter.
    assert verify(client, lokus.verification_code.lower()).status_code == 200


def test_an_approved_report_code_confirms_it_without_content_and_a_draft_has_no_code(cast, client):
    report = approved_after_a_return(cast)
    draft = builders.make_report(cast)

    response = verify(client, report.verification_code)

    assert response.status_code == 200
    html = response.content.decode()
    assert report.lokus.surat_tugas_number in html
    assert wib_text(report.approved_at, "j F Y H:i") in html
    assert in_indonesian(report.get_state_display) in html
    assert f"v{report.version}" in html
    for content in (REVISED_FACTS, report.analysis, report.recommendations, RETURN_NOTE):
        assert content not in html
    assert_shows_no_content(html, report.lokus)
    assert draft.verification_code == ""


def test_an_unknown_code_is_not_genuine(cast, client):
    response = verify(client, "XXXX-0000-ZZ")

    assert response.status_code == 404
    assert "tidak asli" in response.content.decode()


# Text that tries to fetch ------------------------------------------------------------------


def test_text_that_looks_like_html_is_printed_literally_and_fetches_nothing(cast, report):
    hostile = " ".join(PAYLOADS)
    services.report_save(
        user=cast["coordinator"],
        report_id=report.pk,
        data={"facts": hostile, "analysis": PAYLOADS[0], "dialogue": PAYLOADS[1], "outlook": PAYLOADS[3]},
    )
    report.refresh_from_db()
    record = record_ba(
        cast,
        report.lokus,
        title=PAYLOADS[3],
        place=PAYLOADS[2],
        parties=[{"name": PAYLOADS[0], "position": PAYLOADS[1]}],
        discussion=hostile,
        agreements=PAYLOADS[2],
        events=PAYLOADS[3],
    )

    for document in (documents.laporan(report, cast["kaban"]), documents.berita_acara(record, cast["kaban"])):
        # Squeezed: a long line may wrap after a slash ("file:///etc/ passwd").
        text = squeezed(" ".join(pages(document.pdf)))
        for payload in [*PAYLOADS, hostile]:
            assert squeezed(payload) in text
        assert document.blocked_urls == []


FETCHING_TEMPLATE = """<!DOCTYPE html><html><head>
<link rel="stylesheet" href="file:///etc/passwd">
<link rel="stylesheet" href="lokus-static:../../config/settings.py">
<link rel="stylesheet" href="lokus-static:pdf/document.css">
</head><body><p>{{ word }}</p>
<img src="http://127.0.0.1:9/x.png" alt=""><img src="{{ listener }}" alt="">
</body></html>"""


def test_the_fetcher_refuses_every_url_but_project_static_files(settings):
    # A real listener: if the fetcher let anything through, it would knock here.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.setblocking(False)
        listener_url = f"http://127.0.0.1:{listener.getsockname()[1]}/y.png"
        settings.TEMPLATES = [
            {
                "BACKEND": "django.template.backends.django.DjangoTemplates",
                "APP_DIRS": False,
                "OPTIONS": {"loaders": [("django.template.loaders.locmem.Loader", {"t.html": FETCHING_TEMPLATE})]},
            }
        ]

        pdf, blocked = render_pdf("t.html", {"word": "Halo dunia", "listener": listener_url})

        with pytest.raises(BlockingIOError):
            listener.accept()
    assert sorted(blocked) == sorted(
        ["file:///etc/passwd", "lokus-static:../../config/settings.py", "http://127.0.0.1:9/x.png", listener_url]
    )
    assert "lokus-static:pdf/document.css" not in blocked
    (text,) = pages(pdf)
    assert "Halo dunia" in text
    # The page counter comes from document.css: the allowed stylesheet was really loaded.
    assert "1 / 1" in text


# The Berita Acara form ---------------------------------------------------------------------


@pytest.fixture
def running(cast):
    return builders.make_running_lokus(cast)


def ba_form(lokus, **overrides) -> dict:
    data = {
        "title": "Kesepakatan pembubaran massa",
        "place": "Depan gerbang Pusat Pemerintahan",
        "held_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "parties": " Budi Santoso ; Koordinator aksi \nAKP Rahmat Hidayat; Kapolsek Tangerang\n\nIbu Sari\n",
        "discussion": "Batas waktu aksi dan jalur pembubaran.",
        "agreements": "Massa bubar pukul 12.30 WIB lewat Jl. KS Tubun.",
        "events": "",
        "copies": "4",
    }
    data.update(overrides)
    return data


def test_a_team_member_records_a_berita_acara_and_downloads_it(cast, client_for, running):
    client = client_for("member")
    url = reverse("lokus:berita_acara_add", args=[running.pk])

    response = client.post(url, ba_form(running))

    assert response.status_code == 302
    assert response["Location"] == reverse("lokus:assignment", args=[running.pk]) + "#documents"
    record = BeritaAcara.objects.get(lokus=running)
    assert (record.author, record.title, record.copies) == (cast["member"], "Kesepakatan pembubaran massa", 4)
    assert record.parties == [
        {"name": "Budi Santoso", "position": "Koordinator aksi"},
        {"name": "AKP Rahmat Hidayat", "position": "Kapolsek Tangerang"},
        {"name": "Ibu Sari", "position": ""},
    ]
    entry = AuditEntry.objects.filter(lokus=running, action=AuditAction.BERITA_ACARA).get()
    assert (entry.actor, entry.note) == (cast["member"], record.title)

    pdf = client.get(reverse("reports:berita_acara_pdf", args=[record.pk]))

    texts = pages(pdf.content)
    text = " ".join(texts)
    for line in LETTERHEAD:
        assert line in texts[0]
    assert "BERITA ACARA" in text and record.title in text
    assert running.surat_tugas_number in text
    assert "1 Budi Santoso Koordinator aksi" in text
    assert "2 AKP Rahmat Hidayat Kapolsek Tangerang" in text
    assert "3 Ibu Sari -" in text
    assert "Batas waktu aksi dan jalur pembubaran." in text
    assert "rangkap 4" in text
    assert f"Dicatat oleh {OFFICIALS['member'][0]}." in text
    assert_stamped_on_every_page(texts, cast["member"])


@pytest.mark.parametrize(
    ("field", "value"),
    [("parties", " \n ; Ketua\n"), ("discussion", "")],
    ids=["no-parties", "no-discussion"],
)
def test_bad_berita_acara_input_is_shown_again_and_saves_nothing(cast, client_for, running, field, value):
    audit_before = AuditEntry.objects.count()

    response = client_for("member").post(
        reverse("lokus:berita_acara_add", args=[running.pk]), ba_form(running, **{field: value})
    )

    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not BeritaAcara.objects.exists()
    assert AuditEntry.objects.count() == audit_before


def test_a_kasubbid_off_the_team_cannot_open_the_berita_acara_form(cast, client_for, running):
    client = client_for("kasubbid")
    url = reverse("lokus:berita_acara_add", args=[running.pk])

    assert client.get(url).status_code == 404
    assert client.post(url, ba_form(running)).status_code == 404
    assert not BeritaAcara.objects.exists()


# The letterhead ----------------------------------------------------------------------------


def test_the_letterhead_is_configurable_and_the_next_pdf_shows_it(cast):
    lokus = make_dispatched(cast)
    letterhead = Letterhead.current()
    letterhead.government = "PEMERINTAH KOTA CONTOH"
    letterhead.agency = "BADAN KESBANGPOL KOTA CONTOH"
    letterhead.address = "Jl. Merdeka No. 45, Kota Contoh"
    letterhead.city = "Kota Contoh"
    letterhead.save()

    text = " ".join(pages(documents.surat_tugas(lokus, cast["kasubbid"]).pdf))

    assert "PEMERINTAH KOTA CONTOH" in text
    assert "BADAN KESBANGPOL KOTA CONTOH" in text
    assert "Jl. Merdeka No. 45, Kota Contoh" in text
    assert f"Kota Contoh, {wib_text(lokus.dispatched_at, 'j F Y')}" in text
    for old in LETTERHEAD:
        assert old not in text


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r or "anonymous")
def test_only_the_administrator_opens_the_letterhead_in_the_admin(cast, client_for, role):
    url = reverse("admin:reports_letterhead_change", args=[Letterhead.current().pk])

    response = client_for(role).get(url)

    if role == "admin":
        assert response.status_code == 200
        assert "PEMERINTAH KOTA TANGERANG" in response.content.decode()
    else:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))
