"""The monitoring and evaluation dashboard, the list behind each of its figures, and its
exports (XLSX, the monthly PDF). Every view answers 403 to whoever may not see monev
(``monev.permissions``); every figure is limited to the viewer's sub-divisions.

The exports are GET downloads: they write only the download log, whose purpose is to record
reads (ARCHITECTURE.md, "GET never writes")."""

import datetime
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from core.enums import Classification
from core.params import int_param
from lokus.enums import EscalationKind, PlanCategory, PlanStatus, RiskLevel
from lokus.selectors import step_standards
from monev import charts, exports, metrics
from monev.forms import DashboardFilterForm, OccurrenceFilterForm, sub_divisions_and_kecamatan
from monev.metrics import CHAIN, OccurrenceRows, Status
from monev.permissions import may_view_monev, monev_scope

# The dashboard shows the worst breaches first, a page of ten; "All breaches" lists them all.
BREACHES_PER_PAGE = 10
# The officers' rows per page of the dashboard ("officers" parameter): at scale there are
# hundreds of officer and step pairs.
OFFICERS_PER_PAGE = 20
OCCURRENCES_PER_PAGE = 50


def _filters(request: HttpRequest, form_class=DashboardFilterForm):
    """The viewer's scope (403 for whoever may see no figures) and the dashboard's filters."""
    if not may_view_monev(request.user):
        raise PermissionDenied
    sub_divisions, kecamatan = sub_divisions_and_kecamatan()
    filters = form_class(request.GET, scope=monev_scope(request.user), sub_divisions=sub_divisions, kecamatan=kecamatan)
    return filters, sub_divisions, kecamatan


class Links:
    """Where each figure leads: the occurrences behind a step figure (``monev:occurrences``),
    the plan and lokus lists (filtered to the period, the sub-division and the kecamatan) for
    the intake."""

    def __init__(self, filters: DashboardFilterForm, selection: metrics.Selection):
        self.base = filters.query()
        self.selection = selection
        self._paths: dict[str, str] = {}
        scope = selection.scope
        self.sub = {"sub_division": next(iter(scope))} if scope is not None and len(scope) == 1 else {}
        self.kecamatan = {"kecamatan": selection.kecamatan_id} if selection.kecamatan_id else {}

    def _url(self, name: str, params: dict) -> str:
        # A dashboard links hundreds of figures to a few lists: each reversed once.
        if name not in self._paths:
            self._paths[name] = reverse(name)
        return f"{self._paths[name]}?{urlencode({k: v for k, v in params.items() if v is not None})}"

    def occurrences(self, **params) -> str:
        return self._url("monev:occurrences", {**self.base, **params})

    def step(self, number: int, **params) -> dict[str, str]:
        return {
            status: self.occurrences(step=number, status=status, **params)
            for status in (Status.DONE, Status.LATE, Status.OPEN, Status.OVERDUE, Status.RETURNED)
        }

    def plans(self, first: datetime.date | None = None, last: datetime.date | None = None, **params) -> str:
        period = self.selection.period
        return self._url(
            "lokus:plan_list",
            {
                "when": "all",
                "received_since": (first or period.first).isoformat(),
                "received_until": (last or period.last).isoformat(),
                **self.sub,
                **self.kecamatan,
                **params,
            },
        )

    def lokus(self, **params) -> str:
        period = self.selection.period
        return self._url(
            "lokus:list",
            {
                "chosen_since": period.first.isoformat(),
                "chosen_until": period.last.isoformat(),
                **self.sub,
                **self.kecamatan,
                **params,
            },
        )

    def escalations(self, kind: str, month: tuple[int, int]) -> str:
        first, last = self.month_in_period(month)
        return self._url(
            "lokus:list",
            {
                "escalation": kind,
                "escalated_since": first.isoformat(),
                "escalated_until": last.isoformat(),
                **self.sub,
                **self.kecamatan,
            },
        )

    def month_in_period(self, month: tuple[int, int]) -> tuple[datetime.date, datetime.date]:
        """A calendar month of the period, cut to the period's days."""
        period = self.selection.period
        first = datetime.date(month[0], month[1], 1)
        year, next_month = (month[0] + 1, 1) if month[1] == 12 else (month[0], month[1] + 1)
        last = datetime.date(year, next_month, 1) - datetime.timedelta(days=1)
        return max(first, period.first), min(last, period.last)


def _step_rows(data: metrics.Dashboard, links: Links) -> list[dict]:
    return [{"row": row, "links": links.step(row.number)} for row in data.steps]


def _intake_rows(data: metrics.Dashboard, links: Links, kecamatan) -> dict:
    intake = data.intake
    period = data.selection.period
    # Each cell carries its column's name (the phone layout's label), translated once here.
    categories = [(value, str(label)) for value, label in PlanCategory.choices]
    classifications = [(value, str(label)) for value, label in Classification.choices]
    kinds = [(value, str(label)) for value, label in EscalationKind.choices]
    months = [
        {
            "label": charts.month_label(month),
            "cells": [
                {
                    "label": label,
                    "n": intake.plans_by_month.get(month, {}).get(value, 0),
                    "url": links.plans(*links.month_in_period(month), category=value),
                }
                for value, label in categories
            ],
            "total": sum(intake.plans_by_month.get(month, {}).values()),
            "url": links.plans(*links.month_in_period(month)),
        }
        for month in intake.months
    ]
    names = {k.pk: k.name for k in kecamatan}
    by_kecamatan = sorted(
        (
            {"name": names.get(pk, str(pk)), "n": n, "url": links.plans(kecamatan=pk)}
            for pk, n in intake.plans_by_kecamatan.items()
        ),
        key=lambda row: (-row["n"], row["name"]),
    )
    statuses = [
        {"label": label, "n": intake.plans_by_status.get(value, 0), "url": links.plans(status=value)}
        for value, label in PlanStatus.choices
    ]
    reasons = [
        {"reason": reason, "n": n, "url": links.plans(status=PlanStatus.NOT_CHOSEN, reason=reason)}
        for reason, n in intake.reasons
    ]
    risk = [
        {
            "label": risk_label,
            "cells": [
                {
                    "label": label,
                    "n": intake.lokus_by_risk.get((risk_value, value), 0),
                    "url": links.lokus(risk_level=risk_value, classification=value),
                }
                for value, label in classifications
            ],
            "url": links.lokus(risk_level=risk_value),
            "total": sum(intake.lokus_by_risk.get((risk_value, value), 0) for value in Classification.values),
        }
        for risk_value, risk_label in RiskLevel.choices
    ]
    escalations = [
        {
            "label": charts.month_label(month),
            "cells": [
                {
                    "label": label,
                    "n": intake.escalations.get(month, {}).get(kind, 0),
                    "url": links.escalations(kind, month),
                }
                for kind, label in kinds
            ],
        }
        for month in period.months()
    ]
    return {
        "months": months,
        "categories": [label for _value, label in categories],
        "plans_url": links.plans(),
        "by_kecamatan": by_kecamatan,
        "statuses": statuses,
        "reasons": reasons,
        "other_reasons": intake.other_reasons,
        "risk": risk,
        "classifications": [label for _value, label in classifications],
        "lokus_url": links.lokus(),
        "escalations": escalations,
        "escalation_kinds": [label for _value, label in kinds],
    }


def _who(data: metrics.Dashboard, links: Links, request: HttpRequest) -> dict:
    done = [row for row in data.officers if row.figures.done]
    page = Paginator(done, OFFICERS_PER_PAGE).get_page(int_param(request.GET, "officers", 1, max=10**6))

    def page_url(number: int) -> str:
        query = request.GET.copy()
        query["officers"] = str(number)
        return f"?{query.urlencode()}#who"

    return {
        "sub_divisions": [
            {
                "row": row,
                "chain_url": links.occurrences(step=CHAIN, status=Status.DONE, sub=row.sub_division.pk),
                "late_url": links.occurrences(status=Status.LATE, sub=row.sub_division.pk),
            }
            for row in data.sub_divisions
            if row.sub_division is not None
        ],
        "officers": [
            {
                "row": row,
                "activity": data.standards[row.step].activity if row.step in data.standards else "",
                "url": links.occurrences(step=row.step, status=Status.DONE, officer=row.user_id),
                "late_url": links.occurrences(step=row.step, status=Status.LATE, officer=row.user_id),
            }
            for row in page.object_list
        ],
        "officers_page": page,
        "officers_previous": page_url(page.previous_page_number()) if page.has_previous() else "",
        "officers_next": page_url(page.next_page_number()) if page.has_next() else "",
    }


def _chain(data: metrics.Dashboard, links: Links) -> dict:
    levels = {9: _("Kasubbid"), 12: _("Kabid Kesbang"), 15: _("Kepala Badan")}
    return {
        "row": data.chain,
        "links": links.step(CHAIN),
        "returns": [
            {
                "level": levels.get(number, str(number)),
                "figures": figures,
                "url": links.occurrences(step=number, status=Status.RETURNED),
            }
            for number, figures in data.returns.items()
        ],
        "rounds": [
            {"rounds": rounds, "n": n, "url": links.occurrences(step=CHAIN, status=Status.DONE, rounds=rounds)}
            for rounds, n in data.rounds.items()
        ],
    }


def dashboard_context(request: HttpRequest) -> dict:
    filters, sub_divisions, kecamatan = _filters(request)
    selection = filters.selection()
    standards = step_standards()
    number = int_param(request.GET, "page", 1, max=10**6)
    offset = (number - 1) * BREACHES_PER_PAGE
    officers = int_param(request.GET, "officers", 1, max=10**6)
    data = metrics.dashboard(
        selection,
        standards,
        sub_divisions,
        breaches=(offset, BREACHES_PER_PAGE),
        officers=(officers, OFFICERS_PER_PAGE),
        trend=False,
    )
    links = Links(filters, selection)
    return {
        "filters": filters,
        "problem": filters.problem,
        "period": selection.period,
        "data": data,
        "steps": _step_rows(data, links),
        "chain": _chain(data, links),
        "who": _who(data, links, request),
        "intake": _intake_rows(data, links, kecamatan),
        "plans_chart": charts.plans_chart(data.intake),
        "trend_url": f"{reverse('monev:trend')}?{urlencode(filters.query())}",
        "breaches": Paginator(data.breaches, BREACHES_PER_PAGE).get_page(number),
        "breaches_url": links.occurrences(status=Status.BREACH),
        "export_query": urlencode(filters.query()),
    }


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    return render(request, "monev/dashboard.html", dashboard_context(request))


def trend_context(request: HttpRequest) -> dict:
    filters, _sub_divisions, _kecamatan = _filters(request)
    selection = filters.selection()
    trend = metrics.trend_figures(selection, step_standards())
    links = Links(filters, selection)
    trend_links = {
        number: [links.occurrences(step=number, month=m[0] * 100 + m[1]) for m in trend.months]
        for number in [CHAIN, *metrics.STEPS]
    }
    return {
        "filters": filters,
        "problem": filters.problem,
        "period": selection.period,
        "trend_period": selection.period.trend(),
        "trend": trend,
        "trend_links": trend_links,
        "charts": charts.for_trend(trend.months, trend.cells, trend_links),
        "back": f"{reverse('monev:dashboard')}?{urlencode(filters.query())}",
    }


@login_required
@require_GET
def trend(request: HttpRequest) -> HttpResponse:
    """The twelve months' trend that ends with the dashboard's period: the whole chain's
    times per month and each step's share within the standard per month (its own page: the
    grid of a couple of hundred linked cells would double the dashboard's size)."""
    return render(request, "monev/trend.html", trend_context(request))


@login_required
@require_GET
def occurrences(request: HttpRequest) -> HttpResponse:
    """The occurrences behind one figure of the dashboard, worst first, page by page."""
    filters, _sub_divisions, _kecamatan = _filters(request, OccurrenceFilterForm)
    selection = filters.selection()
    standards = step_standards()
    flt = filters.occurrence_filter()
    number = int_param(request.GET, "page", 1, max=10**6)
    offset = (number - 1) * OCCURRENCES_PER_PAGE
    rows = OccurrenceRows(selection, standards, flt, page=(offset, OCCURRENCES_PER_PAGE))
    step = flt.step
    return render(
        request,
        "monev/dashboard_occurrences.html",
        {
            "filters": filters,
            "problem": filters.problem,
            "period": selection.period,
            "page": Paginator(rows, OCCURRENCES_PER_PAGE).get_page(number),
            "status_label": dict(Status.CHOICES).get(flt.status if flt.month is None else Status.DONE),
            "step": step,
            "standard": standards.get(step) if step else None,
            "month": flt.month and charts.month_label(divmod(flt.month, 100)),
            "back": f"{reverse('monev:dashboard')}?{urlencode(filters.query(dashboard_only=True))}",
        },
    )


def _download(content: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _export_selection(request: HttpRequest):
    filters, sub_divisions, kecamatan = _filters(request)
    selection = filters.selection()
    standards = step_standards()
    data = metrics.dashboard(selection, standards, sub_divisions)
    described = exports.describe(selection, sub_divisions, kecamatan)
    return selection, standards, data, described


@login_required
@require_GET
def export_xlsx(request: HttpRequest) -> HttpResponse:
    selection, standards, data, described = _export_selection(request)
    content = exports.workbook(request.user, data, standards, described, now=timezone.now())
    name = f"monev-{selection.period.first:%Y%m%d}-{selection.period.last:%Y%m%d}.xlsx"
    return _download(content, exports.XLSX, name)


@login_required
@require_GET
def export_pdf(request: HttpRequest) -> HttpResponse:
    selection, standards, data, described = _export_selection(request)
    document = exports.monthly_report(request.user, data, standards, described)
    response = _download(document.pdf, "application/pdf", document.filename)
    response["Content-Disposition"] = f'inline; filename="{document.filename}"'
    return response
