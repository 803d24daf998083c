"""The dashboard's exports: a workbook (XLSX) and the monthly PDF "Laporan Monev Pelaksanaan
Lokasi Khusus". Both name the period, the filters, who exported them and when; both are
recorded in the download log (``reports.models.DocumentDownload``), and the PDF carries the
letterhead, the classification marks and the download stamp of every official document
(``reports.documents``).

Times in the workbook are real date cells in WIB: naive datetimes (a spreadsheet has no time
zones) with a date-and-time number format. The workbook is written in openpyxl's write-only
mode, row after row, so that a year of plans does not build a whole sheet in memory."""

from __future__ import annotations

import datetime
import io
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from core.enums import Classification
from core.pdf import render_pdf
from lokus.enums import LokusState, PlanCategory, PlanStatus, RiskLevel
from lokus.models import ActivityPlan, Lokus
from monev import charts, metrics
from monev.metrics import CHAIN
from monev.occurrences import CHAIN_MINUTES
from reports import documents
from reports.enums import ReportState
from reports.models import ActivityReport, DocumentKind, ReportLog

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DATE_TIME = "DD-MM-YYYY HH:MM"
# The figures name lokus (titles of Terbatas and Rahasia ones among them) and people: the
# exports are internal documents, marked and stamped as Terbatas.
CLASSIFICATION = Classification.TERBATAS
# The breaches shown in the PDF, and at most in the workbook (the worst first; the dashboard
# lists them all, page by page).
PDF_BREACHES = 30
XLSX_BREACHES = 10_000


@dataclass(frozen=True)
class Described:
    """What an export is about: the period and each filter in force, put in words when
    read (so in the language of the document being made)."""

    period: metrics.Period
    sub_divisions: list[str] | None  # None: all
    kecamatan: str | None  # None: all

    @property
    def number(self) -> str:
        """The download log's "number" of the export: the period's days and the filters."""
        parts = [f"{self.period.first:%Y-%m-%d}..{self.period.last:%Y-%m-%d}"]
        if self.sub_divisions is not None:
            parts.append(", ".join(self.sub_divisions))
        if self.kecamatan:
            parts.append(self.kecamatan)
        return " · ".join(parts)[:120]

    @property
    def lines(self) -> list[tuple[str, str]]:
        period = self.period
        return [
            (_("Period"), f"{period.label} ({dict(metrics.PeriodKind.CHOICES)[period.kind]})"),
            (_("Sub-division"), ", ".join(self.sub_divisions) if self.sub_divisions is not None else _("all")),
            (_("Kecamatan"), self.kecamatan or _("all")),
        ]


def describe(selection: metrics.Selection, sub_divisions, kecamatan) -> Described:
    names = {s.pk: s.name for s in sub_divisions}
    subs = None if selection.scope is None else [names[pk] for pk in sorted(selection.scope) if pk in names]
    return Described(selection.period, subs, next((k.name for k in kecamatan if k.pk == selection.kecamatan_id), None))


def _wib(value: datetime.datetime | None) -> datetime.datetime | None:
    """A cell value: the time in WIB, without a time zone (a spreadsheet has none)."""
    return None if value is None else timezone.localtime(value).replace(tzinfo=None)


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 2)


def _share(figures: metrics.Figures) -> float | None:
    return None if figures.share is None else round(figures.share, 1)


class _Sheet:
    """A write-only sheet: the export's header, then a table."""

    def __init__(self, book, title: str, heading: str, header_lines: list[tuple[str, object]]):
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Font

        self.sheet = book.create_sheet(title)
        self._cell_class, self._bold = WriteOnlyCell, Font(bold=True)
        self.sheet.append([self._cell(heading, bold=True)])
        for label, value in header_lines:
            self.sheet.append([self._cell(label, bold=True), self._cell(value)])
        self.sheet.append([])

    def _cell(self, value, *, bold: bool = False):
        if isinstance(value, Promise):  # a translated label
            value = str(value)
        cell = self._cell_class(self.sheet, value=value)
        if isinstance(value, datetime.datetime):
            cell.number_format = DATE_TIME
        if bold:
            cell.font = self._bold
        return cell

    def header(self, names: list[str]) -> None:
        self.sheet.append([self._cell(name, bold=True) for name in names])

    def row(self, values: list) -> None:
        # Plain values are written as they are (much faster than a cell object each); a
        # datetime gets its cell, for the date format.
        self.sheet.append(
            [
                self._cell(value)
                if isinstance(value, datetime.datetime)
                else str(value)
                if isinstance(value, Promise)
                else value
                for value in values
            ]
        )


def workbook(user, data: metrics.Dashboard, standards, described: Described, *, now: datetime.datetime) -> bytes:
    """The workbook: the per-step table with the whole chain, the breaches, and the plans,
    lokus and reports of the period (within the user's scope and the filters). Recorded in
    the download log."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    header = [
        *described.lines,
        (_("Exported by"), f"{user.full_name or user.username}{f' (NIP {user.nip})' if user.nip else ''}"),
        (_("Exported at (WIB)"), _wib(now)),
        (_("Classification"), CLASSIFICATION.label),
    ]
    _steps_sheet(book, data, header)
    _breaches_sheet(book, data, standards, header)
    _plans_sheet(book, data.selection, header)
    _lokus_sheet(book, data.selection, header)
    _reports_sheet(book, data.selection, header)
    out = io.BytesIO()
    book.save(out)
    documents.record_download(user, DocumentKind.MONEV_XLSX, classification=CLASSIFICATION, number=described.number)
    return out.getvalue()


def _steps_sheet(book, data: metrics.Dashboard, header) -> None:
    sheet = _Sheet(book, _("Per step"), _("SOP compliance per step"), header)
    sheet.header(
        [
            _("Step"),
            _("Activity"),
            _("Actor"),
            _("Standard (minutes)"),
            _("Completed"),
            _("Median (hours)"),
            _("90th percentile (hours)"),
            _("Within the standard"),
            _("Share within the standard (%)"),
            _("Open now"),
            _("Overdue now"),
            _("Returned for revision"),
        ]
    )
    for row in [*data.steps, data.chain]:
        f = row.figures
        minutes = CHAIN_MINUTES if row.number == CHAIN else row.minutes
        sheet.row(
            [
                _("chain") if row.number == CHAIN else row.number,
                row.activity,
                row.actor,
                _("the plan's schedule") if row.number == 5 else minutes,
                f.done,
                _hours(f.median),
                _hours(f.p90),
                f.on_time,
                _share(f),
                f.open,
                f.overdue,
                f.returned,
            ]
        )
    sheet.row([])
    sheet.header([_("Approved reports by revision rounds"), _("Reports")])
    for rounds, n in data.rounds.items():
        sheet.row([rounds, n])


def _breaches_sheet(book, data: metrics.Dashboard, standards, header) -> None:
    total = data.breaches_total
    shown = min(total, XLSX_BREACHES)
    counted = _("%(shown)s of %(total)s") % {"shown": shown, "total": total}
    sheet = _Sheet(
        book, _("Breaches"), _("Step occurrences over their standard, worst first"), [*header, (_("Breaches"), counted)]
    )
    sheet.header(
        [
            _("Step"),
            _("Activity"),
            _("Sub-division"),
            _("Holder"),
            _("Started (WIB)"),
            _("Due (WIB)"),
            _("Done (WIB)"),
            _("Time taken (hours)"),
            _("Late by (hours)"),
            _("Status"),
        ]
    )
    for o in data.breaches[0:shown]:
        sheet.row(
            [
                o.step,
                o.title,
                o.sub_division,
                o.holder,
                _wib(o.started),
                _wib(o.due),
                _wib(o.ended),
                _hours(o.seconds),
                _hours(o.late),
                _("open") if o.is_open else _("completed late"),
            ]
        )


def _period_q(field_name: str, period: metrics.Period) -> Q:
    return Q(**{f"{field_name}__gte": period.start, f"{field_name}__lt": period.end})


def _plans_sheet(book, selection: metrics.Selection, header) -> None:
    sheet = _Sheet(book, _("Plans"), _("Activity plans received in the period"), header)
    sheet.header(
        [
            _("Title"),
            _("Category"),
            _("Kecamatan"),
            _("Organiser"),
            _("Starts (WIB)"),
            _("Received (WIB)"),
            _("Status"),
            _("Decided (WIB)"),
            _("Decided by"),
            _("Reason"),
        ]
    )
    categories, statuses = dict(PlanCategory.choices), dict(PlanStatus.choices)
    rows = (
        ActivityPlan.objects.filter(selection.plan_q(), _period_q("submitted_at", selection.period))
        .order_by("submitted_at", "pk")
        .values_list(
            "title",
            "category",
            "kecamatan__name",
            "organiser",
            "starts_at",
            "submitted_at",
            "status",
            "decided_at",
            "decided_by__full_name",
            "decision_reason",
        )
    )
    for title, category, kecamatan, organiser, starts, received, status, decided, by, reason in rows.iterator(2000):
        sheet.row(
            [
                title,
                str(categories.get(category, category)),
                kecamatan,
                organiser,
                _wib(starts),
                _wib(received),
                str(statuses.get(status, status)),
                _wib(decided),
                by or "",
                reason,
            ]
        )


def _lokus_sheet(book, selection: metrics.Selection, header) -> None:
    sheet = _Sheet(book, _("Lokus"), _("Lokus chosen in the period"), header)
    sheet.header(
        [
            _("Title"),
            _("Sub-division"),
            _("Kecamatan"),
            _("Risk level"),
            _("Classification"),
            _("Stage"),
            _("Chosen (WIB)"),
            _("Dispatched (WIB)"),
            _("Field work started (WIB)"),
            _("Field work done (WIB)"),
            _("Schedule start (WIB)"),
            _("Schedule end (WIB)"),
        ]
    )
    risks, marks, states = dict(RiskLevel.choices), dict(Classification.choices), dict(LokusState.choices)
    rows = (
        Lokus.objects.filter(selection.lokus_q(), _period_q("created_at", selection.period))
        .order_by("created_at", "pk")
        .values_list(
            "plan__title",
            "sub_division__short_name",
            "plan__kecamatan__name",
            "risk_level",
            "classification",
            "state",
            "created_at",
            "dispatched_at",
            "field_started_at",
            "field_done_at",
            "starts_at",
            "ends_at",
        )
    )
    for title, sub, kecamatan, risk, mark, state, *times in rows.iterator(2000):
        sheet.row(
            [
                title,
                sub,
                kecamatan,
                str(risks.get(risk, risk)),
                str(marks.get(mark, mark)),
                str(states.get(state, state)),
                *(_wib(t) for t in times),
            ]
        )


def _reports_sheet(book, selection: metrics.Selection, header) -> None:
    sheet = _Sheet(book, _("Reports"), _("Activity reports that moved in the period"), header)
    sheet.header(
        [
            _("Lokus"),
            _("Sub-division"),
            _("Kecamatan"),
            _("Stage"),
            _("Version"),
            _("Revision rounds"),
            _("Plan received (WIB)"),
            _("Report started (WIB)"),
            _("Approved (WIB)"),
            _("Whole chain (hours)"),
        ]
    )
    states = dict(ReportState.choices)
    period = selection.period
    moved = ReportLog.objects.filter(report=OuterRef("pk"), created_at__gte=period.start, created_at__lt=period.end)
    rows = (
        ActivityReport.objects.filter(selection.lokus_q("lokus__"))
        .filter(Exists(moved))
        .order_by("created_at", "pk")
        .values_list(
            "lokus__plan__title",
            "lokus__sub_division__short_name",
            "lokus__plan__kecamatan__name",
            "state",
            "version",
            "revision_round",
            "lokus__plan__submitted_at",
            "created_at",
            "approved_at",
        )
    )
    for title, sub, kecamatan, state, version, rounds, received, started, approved in rows.iterator(2000):
        chain = (approved - received).total_seconds() if approved else None
        sheet.row(
            [
                title,
                sub,
                kecamatan,
                str(states.get(state, state)),
                version,
                rounds,
                _wib(received),
                _wib(started),
                _wib(approved),
                _hours(chain),
            ]
        )


# The monthly PDF -------------------------------------------------------------------------------


@documents.in_document_language
def monthly_report(user, data: metrics.Dashboard, standards, described: Described) -> documents.Document:
    """The "Laporan Monev Pelaksanaan Lokasi Khusus" of the period (a month, as the Kepala
    Badan sends it up; any period the dashboard shows), in Indonesian, with the charts."""
    now = timezone.now()
    context = {
        **documents.letterhead_context(),
        "data": data,
        "described": described,
        "charts": charts.for_pdf(data),
        "breaches": data.breaches[0:PDF_BREACHES],
        "breaches_total": data.breaches_total,
        "made_at": now,
        "made_by": user,
        "classification": CLASSIFICATION,
        "classification_label": CLASSIFICATION.label,
        "stamp": documents.download_stamp(user, CLASSIFICATION),
    }
    pdf, blocked = render_pdf("monev/pdf_monthly.html", context)
    documents.record_download(user, DocumentKind.MONEV_PDF, classification=CLASSIFICATION, number=described.number)
    first, last = described.period.first, described.period.last
    return documents.Document(pdf, f"laporan-monev-{first:%Y%m%d}-{last:%Y%m%d}.pdf", blocked)
