"""Official documents (tata naskah dinas) rendered to PDF: Surat Tugas, Berita Acara and
Laporan Hasil Kegiatan. Each download is recorded; Terbatas and Rahasia documents are
stamped on every page with who downloaded them and when, so that a leaked copy names its
source."""

import functools
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.enums import LOGGED_CLASSIFICATIONS
from core.pdf import image_data_uri, photo_data_uri, qr_data_uri, render_pdf
from lokus.enums import MediaKind
from lokus.models import BeritaAcara, Lokus
from reports.enums import ReportAction
from reports.models import ActivityReport, DocumentDownload, DocumentKind, Letterhead

# Terbatas and Rahasia documents carry the downloader's name on every page.
STAMPED = LOGGED_CLASSIFICATIONS
# Official documents are Indonesian whatever language the reader's screen uses.
DOCUMENT_LANGUAGE = "id"


@dataclass
class Document:
    pdf: bytes
    filename: str
    blocked_urls: list[str]


def _letterhead() -> dict:
    letterhead = Letterhead.current()
    return {
        "letterhead": letterhead,
        "logo": image_data_uri(letterhead.logo, 400) if letterhead.logo else None,
    }


def _stamp(user, classification: str) -> str:
    if classification not in STAMPED:
        return ""
    when = timezone.localtime().strftime("%d-%m-%Y %H:%M:%S")
    nip = f", NIP {user.nip}" if user.nip else ""
    return _("Downloaded by %(name)s%(nip)s on %(when)s WIB") % {
        "name": user.full_name or user.username,
        "nip": nip,
        "when": when,
    }


def _absolute(path: str, request: HttpRequest | None) -> str:
    """The full address of a page of the product, as a document prints it: under SITE_URL
    (always set in production); in development without it, under the address the request
    came to; outside any request (bench/pdf_report.py), the path alone."""
    if settings.SITE_URL:
        return settings.SITE_URL.rstrip("/") + path
    return request.build_absolute_uri(path) if request is not None else path


def _verification(code: str, request: HttpRequest | None) -> dict:
    if not code:
        return {}
    url = _absolute(reverse("reports:verify_document", args=[code]), request)
    return {"verification_code": code, "verification_url": url, "qr": qr_data_uri(url)}


def _record(user, kind, lokus, object_id, number, version, classification) -> None:
    DocumentDownload.objects.create(
        user=user,
        kind=kind,
        lokus=lokus,
        object_id=object_id,
        number=number,
        version=version,
        classification=classification,
        watermarked=classification in STAMPED,
        downloaded_at=timezone.now(),
    )


def letterhead_context() -> dict:
    """The letterhead (kop surat) of every official document, for documents made elsewhere
    (the monitoring report, ``monev.exports``)."""
    return _letterhead()


def download_stamp(user, classification: str) -> str:
    """The "downloaded by" line a Terbatas or Rahasia document carries on every page."""
    return _stamp(user, classification)


def record_download(user, kind: str, *, classification: str, number: str = "", lokus=None, object_id: int = 0) -> None:
    """Record a download in the log, for documents that belong to no one lokus (the
    monitoring exports: ``lokus`` None)."""
    _record(user, kind, lokus, object_id, number, 0, classification)


def _render(template, context) -> tuple[bytes, list[str]]:
    return render_pdf(template, context)


def in_document_language(builder):
    @functools.wraps(builder)
    def wrapper(*args, **kwargs):
        with translation.override(DOCUMENT_LANGUAGE):
            return builder(*args, **kwargs)

    return wrapper


def _safe_name(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text).strip("-")[:60] or "dokumen"


@in_document_language
def surat_tugas(lokus: Lokus, user, *, request: HttpRequest | None = None) -> Document:
    """The assignment letter of a dispatched lokus (``request``: the download's, for the
    verification link's address)."""
    team = list(lokus.assignments.select_related("member").order_by("-is_coordinator", "member__full_name"))
    context = {
        **_letterhead(),
        **_verification(lokus.verification_code, request),
        "lokus": lokus,
        "plan": lokus.plan,
        "team": team,
        "signer": lokus.dispatched_by,
        "signed_at": lokus.dispatched_at,
        "classification": lokus.classification,
        "classification_label": lokus.get_classification_display(),
        "stamp": _stamp(user, lokus.classification),
    }
    pdf, blocked = _render("documents/surat_tugas.html", context)
    _record(user, DocumentKind.SURAT_TUGAS, lokus, lokus.pk, lokus.surat_tugas_number, 0, lokus.classification)
    return Document(pdf, f"surat-tugas-{_safe_name(lokus.surat_tugas_number)}.pdf", blocked)


@in_document_language
def berita_acara(record: BeritaAcara, user) -> Document:
    lokus = record.lokus
    context = {
        **_letterhead(),
        "record": record,
        "lokus": lokus,
        "plan": lokus.plan,
        "classification": lokus.classification,
        "classification_label": lokus.get_classification_display(),
        "stamp": _stamp(user, lokus.classification),
    }
    pdf, blocked = _render("documents/berita_acara.html", context)
    _record(user, DocumentKind.BERITA_ACARA, lokus, record.pk, record.title, 0, lokus.classification)
    return Document(pdf, f"berita-acara-{record.pk}.pdf", blocked)


@in_document_language
def laporan(report: ActivityReport, user, *, request: HttpRequest | None = None) -> Document:
    """The Laporan Hasil Kegiatan at its current version: marked DRAF until approved
    (``request``: the download's, for the verification link's address)."""
    lokus = report.lokus
    log = list(report.log.select_related("actor"))
    media = list(report.included_media.select_related("assignment__member").order_by("created_at", "pk"))
    photos = [{"media": m, "src": photo_data_uri(m)} for m in media if m.kind == MediaKind.PHOTO]
    context = {
        **_letterhead(),
        **(_verification(report.verification_code, request) if report.approved_at else {}),
        "report": report,
        "lokus": lokus,
        "plan": lokus.plan,
        "team": list(lokus.assignments.select_related("member").order_by("-is_coordinator", "member__full_name")),
        "photos": [p for p in photos if p["src"]],
        "attachments": [m for m in media if m.kind != MediaKind.PHOTO],
        "berita_acara": list(lokus.berita_acara.select_related("author")),
        "log": log,
        "approver": next((e.actor for e in reversed(log) if e.action == ReportAction.APPROVED), None),
        "is_draft": report.approved_at is None,
        "classification": report.classification,
        "classification_label": report.get_classification_display(),
        "stamp": _stamp(user, report.classification),
    }
    pdf, blocked = _render("documents/laporan.html", context)
    _record(
        user, DocumentKind.LAPORAN, lokus, report.pk, lokus.surat_tugas_number, report.version, report.classification
    )
    return Document(pdf, f"laporan-{_safe_name(lokus.plan.title)}-v{report.version}.pdf", blocked)
