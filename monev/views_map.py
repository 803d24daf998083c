"""The monitoring map (``/monev/peta/``): lokus and plans with a position, coloured by risk
level, filtered as the dashboard is (period, sub-division, kecamatan), with a table of the
counts per kecamatan under it that needs neither tiles nor JavaScript.

Who sees what is the dashboard's rule (``monev.permissions``: the leadership everything, a
Kasubbid their own sub-division, nobody else), and each marker shows no more than its viewer
may open: a lokus the viewer may read (``lokus.permissions.lokus_for``) has its title, stage,
classification and a link to its page, and its problem when it is not classified (the
problem of a Terbatas or Rahasia lokus is read on its page, where the view is logged); one
they may not read shows, when it is classified (``core.enums.LOGGED_CLASSIFICATIONS``),
nothing but "restricted lokus" and its place, and is counted apart in the table, not by risk
level; a plan links to its page only for who may see it (``lokus.permissions.plans_for``).
The page holds the table; the markers come apart, as JSON (``/monev/peta/penanda/``, fetched
and drawn by static/js/monev-map.js, compressed on the way), and as a list page by page
(``/monev/peta/daftar/``) for whoever reads without the map. So the page stays small and
quick whatever the number of markers, and a phone on weak data sees the table first.

Lokus count in the period they were chosen, plans in the period they were received (as the
dashboard's intake); a plan chosen as lokus is its lokus's marker. Cost: a fixed number of
queries whatever the data size; at most ``MARKER_LIMIT`` markers (the newest), the table
counts everything."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import BooleanField, Case, Count, Exists, F, OuterRef, Q, QuerySet, Value, When
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.dates import MONTHS_3
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from core.enums import LOGGED_CLASSIFICATIONS, Classification
from core.links import url_for
from core.params import int_param
from lokus import permissions as lokus_permissions
from lokus.enums import LokusState, PlanCategory, PlanStatus, RiskLevel
from lokus.models import ActivityPlan, Kecamatan, Lokus
from monev import permissions
from monev.forms import DashboardFilterForm, sub_divisions_and_kecamatan
from monev.metrics import Selection

# More markers than this make a phone's map unusable; the newest are drawn, the table counts all.
MARKER_LIMIT = 500
# The list of the map's items, page by page.
ITEMS_PER_PAGE = 50
# Where the map opens before it fits the markers: the centre of Kota Tangerang.
CENTRE = (-6.18, 106.64)


def _with_position(rows: QuerySet, latitude, longitude) -> QuerySet:
    """The rows with their position (``lat``, ``lng``) and whether they have one (``placed``)."""
    return rows.annotate(lat=latitude, lng=longitude).annotate(
        placed=Case(
            When(lat__isnull=False, lng__isnull=False, then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        )
    )


def _readable(user) -> Exists:
    """Whether the viewer may read the lokus: the rule of its page and list."""
    return Exists(lokus_permissions.lokus_for(user).filter(pk=OuterRef("pk")))


def _restricted() -> Case:
    """A lokus the viewer may not read and whose content is classified."""
    return Case(
        When(Q(readable=False, classification__in=sorted(LOGGED_CLASSIFICATIONS)), then=Value(True)),
        default=Value(False),
        output_field=BooleanField(),
    )


def map_lokus(user, selection: Selection) -> QuerySet[Lokus]:
    """The lokus of the map: the viewer's scope and the filters, chosen in the period."""
    period = selection.period
    rows = (
        Lokus.objects.filter(selection.lokus_q(), created_at__gte=period.start, created_at__lt=period.end)
        .annotate(readable=_readable(user))
        .annotate(restricted=_restricted())
    )
    # A lokus without a position of its own stands where its plan is (both numbers from one).
    own = Q(latitude__isnull=False, longitude__isnull=False)
    return _with_position(
        rows,
        Case(When(own, then=F("latitude")), default=F("plan__latitude")),
        Case(When(own, then=F("longitude")), default=F("plan__longitude")),
    )


def map_plans(user, selection: Selection) -> QuerySet[ActivityPlan]:
    """The plans of the map that are not a lokus: received in the period, still waiting or
    declined (a chosen plan is its lokus's marker)."""
    period = selection.period
    rows = (
        ActivityPlan.objects.filter(selection.plan_q(), submitted_at__gte=period.start, submitted_at__lt=period.end)
        .exclude(status=PlanStatus.CHOSEN)
        .annotate(viewable=Exists(lokus_permissions.plans_for(user).filter(pk=OuterRef("pk"))))
    )
    return _with_position(rows, F("latitude"), F("longitude"))


class _Labels:
    """The choices' labels in the reader's language, looked up once per page (a model's
    ``get_FOO_display`` hashes every lazy label again for each row)."""

    def __init__(self):
        self.risk = {value: _("Risk: %(risk)s") % {"risk": label} for value, label in RiskLevel.choices}
        self.state = {value: str(label) for value, label in LokusState.choices}
        self.classification = {value: str(label) for value, label in Classification.choices}
        self.status = {value: str(label) for value, label in PlanStatus.choices}
        self.category = {value: str(label) for value, label in PlanCategory.choices}
        self.restricted = _("Restricted lokus")
        # Django's "M" of a date format: the month's three letters, capitalised.
        self.months = {number: str(name).title() for number, name in MONTHS_3.items()}
        self.lokus_url = url_for("lokus:detail")
        self.plan_url = url_for("lokus:plan_detail")

    def when(self, moment) -> str:
        """``moment`` as ``date_format(..., "j M Y H:i")`` writes it in WIB, without parsing
        the format again for each of the hundreds of markers."""
        local = timezone.localtime(moment)
        return f"{local.day} {self.months[local.month]} {local.year:04d} {local.hour:02d}:{local.minute:02d} WIB"


def _lokus_marker(lokus: Lokus, labels: _Labels) -> dict:
    position = {"kind": "lokus", "lat": float(lokus.lat), "lng": float(lokus.lng)}
    if lokus.restricted:
        # Nothing of the lokus but where it is: no title, problem, risk, team or link.
        return {**position, "restricted": True, "risk": "", "title": labels.restricted, "url": "", "lines": []}
    plan = lokus.plan
    lines = [
        labels.risk.get(lokus.risk_level, lokus.risk_level),
        labels.when(lokus.starts_at),
        f"{plan.kecamatan.name} · {lokus.sub_division.short_name}",
    ]
    if lokus.readable:
        lines += [labels.state.get(lokus.state, lokus.state), labels.classification.get(lokus.classification, "")]
        # A classified lokus's problem is read on its page, where the view is logged
        # (core.access.record_access); the map shows it for ordinary (Biasa) lokus only.
        if lokus.problem and lokus.classification not in LOGGED_CLASSIFICATIONS:
            lines.append(Truncator(lokus.problem).chars(160))
    return {
        **position,
        "restricted": False,
        "risk": lokus.risk_level,
        "title": plan.title,
        "url": labels.lokus_url(lokus.pk) if lokus.readable else "",
        "lines": lines,
    }


def _plan_marker(plan: ActivityPlan, labels: _Labels) -> dict:
    return {
        "kind": "plan",
        "lat": float(plan.lat),
        "lng": float(plan.lng),
        "restricted": False,
        "risk": "",
        "title": plan.title,
        "url": labels.plan_url(plan.pk) if plan.viewable else "",
        "lines": [
            labels.status.get(plan.status, plan.status),
            labels.category.get(plan.category, plan.category),
            labels.when(plan.starts_at),
            plan.kecamatan.name,
        ],
    }


@dataclass
class KecamatanRow:
    name: str
    by_risk: dict[str, int] = field(default_factory=dict)
    restricted: int = 0
    plans: int = 0

    @property
    def risk_counts(self) -> list[int]:
        return [self.by_risk.get(level, 0) for level in RiskLevel.values]

    @property
    def total(self) -> int:
        return sum(self.by_risk.values()) + self.restricted + self.plans


@dataclass
class MapPage:
    rows: list[KecamatanRow]
    totals: KecamatanRow
    placed: int  # lokus and plans with a position

    @property
    def unplaced(self) -> int:
        return self.totals.total - self.placed

    @property
    def shown(self) -> int:
        """How many of the placed ones ``map_markers`` draws: the newest, at most the limit."""
        return min(self.placed, MARKER_LIMIT)


def map_markers(user, selection: Selection) -> list[dict]:
    """The markers: the newest placed lokus, then the newest placed plans, at most
    ``MARKER_LIMIT`` in all; two queries whatever the number of lokus and plans."""
    labels = _Labels()
    markers = [
        _lokus_marker(row, labels)
        for row in map_lokus(user, selection)
        .filter(placed=True)
        .select_related("plan__kecamatan", "sub_division")
        .order_by("-created_at", "-pk")[:MARKER_LIMIT]
    ]
    room = MARKER_LIMIT - len(markers)
    if room:
        markers += [
            _plan_marker(row, labels)
            for row in map_plans(user, selection)
            .filter(placed=True)
            .select_related("kecamatan")
            # What a marker shows (and the status, which django-fsm reads on every row).
            .only("title", "status", "category", "starts_at", "kecamatan__name")
            .order_by("-submitted_at", "-pk")[:room]
        ]
    return markers


def marker_items(markers: list[dict]) -> list[dict]:
    """The markers as the list of the map's items shows them: each one's swatch, its link (if
    any) and title, and its lines joined, worked out here once rather than by template logic
    for each of the hundreds of markers."""
    return [
        {
            "swatch": "map-marker-restricted"
            if marker["restricted"]
            else "map-marker-plan"
            if marker["kind"] == "plan"
            else f"map-marker-risk-{marker['risk']}",
            "url": marker["url"],
            "title": marker["title"],
            "summary": " · ".join(marker["lines"]),
        }
        for marker in markers
    ]


def map_page(user, selection: Selection, kecamatan: list[Kecamatan]) -> MapPage:
    """The table: the lokus and the plans counted by kecamatan, two queries whatever their
    number. The markers are not on the page (``map_markers``, fetched by the map's script)."""
    lokus = map_lokus(user, selection)
    plans = map_plans(user, selection)
    rows = {k.pk: KecamatanRow(k.name) for k in kecamatan}
    totals = KecamatanRow(_("Total"))
    placed = 0
    grouped = (
        lokus.order_by().values("plan__kecamatan_id", "risk_level", "restricted", "placed").annotate(n=Count("pk"))
    )
    for row in grouped:
        placed += row["n"] if row["placed"] else 0
        for counts in (rows.setdefault(row["plan__kecamatan_id"], KecamatanRow("?")), totals):
            if row["restricted"]:
                counts.restricted += row["n"]
            else:
                counts.by_risk[row["risk_level"]] = counts.by_risk.get(row["risk_level"], 0) + row["n"]
    for row in plans.order_by().values("kecamatan_id", "placed").annotate(n=Count("pk")):
        placed += row["n"] if row["placed"] else 0
        rows.setdefault(row["kecamatan_id"], KecamatanRow("?")).plans += row["n"]
        totals.plans += row["n"]
    return MapPage(list(rows.values()), totals, placed)


def _selection(request: HttpRequest):
    """The viewer's filters (the dashboard's own, so that a link between the two keeps them)
    and the kecamatan; 403 for who may not see the monitoring pages."""
    if not permissions.may_view_monev(request.user):
        raise PermissionDenied
    sub_divisions, kecamatan = sub_divisions_and_kecamatan()
    filters = DashboardFilterForm(
        request.GET, scope=permissions.monev_scope(request.user), sub_divisions=sub_divisions, kecamatan=kecamatan
    )
    return filters, kecamatan


@login_required
@require_GET
def monev_map(request: HttpRequest) -> HttpResponse:
    filters, kecamatan = _selection(request)
    selection = filters.selection()
    query = urlencode(filters.query())
    suffix = f"?{query}" if query else ""
    return render(
        request,
        "monev/map.html",
        {
            "filters": filters,
            "query": query,
            "selection": selection,
            "page": map_page(request.user, selection, kecamatan),
            "markers_url": reverse("monev:map_markers") + suffix,
            "items_url": reverse("monev:map_items") + suffix,
            "risk_levels": RiskLevel.choices,
            "marker_limit": MARKER_LIMIT,
            "tile_url": settings.MAP_TILE_URL,
            "tile_attribution": settings.MAP_TILE_ATTRIBUTION,
            "centre": f"{CENTRE[0]},{CENTRE[1]}",
        },
    )


@login_required
@require_GET
def monev_map_markers(request: HttpRequest) -> JsonResponse:
    """The map's markers as JSON, fetched by static/js/monev-map.js (compressed on the way by
    core.middleware.TextGZipMiddleware; never cached, as no signed-in response is:
    accounts.security). Written without the spaces after "," and ":" that Django's JSON
    puts by default: about 30 bytes of each of the hundreds of markers."""
    filters, _kecamatan = _selection(request)
    return JsonResponse(
        {"markers": map_markers(request.user, filters.selection())}, json_dumps_params={"separators": (",", ":")}
    )


@login_required
@require_GET
def monev_map_items(request: HttpRequest) -> HttpResponse:
    """The map's markers as a list, page by page: what the map shows, without JavaScript and
    for a screen reader."""
    filters, _kecamatan = _selection(request)
    selection = filters.selection()
    markers = map_markers(request.user, selection)
    query = urlencode(filters.query())
    page = Paginator(marker_items(markers), ITEMS_PER_PAGE).get_page(int_param(request.GET, "page", 1, max=10**6))
    return render(
        request,
        "monev/map_items.html",
        {
            "filters": filters,
            "selection": selection,
            "page": page,
            "map_url": reverse("monev:map") + (f"?{query}" if query else ""),
            "marker_limit": MARKER_LIMIT,
        },
    )
