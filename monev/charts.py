"""Charts drawn on the server as inline SVG, for the dashboard and the monthly PDF.

No script and no style attribute (the Content-Security-Policy allows neither): shapes carry
presentation attributes (``fill``, ``stroke``), which the policy does not govern, and the
picture scales with its ``viewBox``, so it works on a phone and prints as drawn. Each chart
has a title and a description for screen readers (``role="img"``, ``aria-labelledby``), each
bar or cell a ``<title>`` with its number, and ``Chart.table`` holds the same numbers, which
the templates show as a table below the picture."""

from __future__ import annotations

import datetime
import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.utils import formats
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from lokus.enums import PlanCategory
from monev import metrics
from monev.metrics import CHAIN

WIDTH, HEIGHT = 640, 250
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 16, 34
TICKS = 5  # a round top (1, 2 or 5 times a power of ten) divides into five round steps
LINE = 14  # the height of a line of labels
CHAR = 6.2  # the approximate width of a character at 11 px, for laying out the legend
PALETTE = ["#0b4f8a", "#e07a1f", "#2e8b57", "#8e44ad", "#c0392b", "#7f8c8d", "#16a085", "#b7950b"]
REFERENCE = "#c0392b"
GRID = "#d0d7de"
TEXT = "#24292f"

_ids = itertools.count(1)


def _svg(template: str, **values) -> SafeString:
    """``format_html`` with coordinates: floats written with one decimal."""
    return format_html(template, **{k: f"{v:.1f}" if isinstance(v, float) else v for k, v in values.items()})


@dataclass
class Series:
    label: str
    values: Sequence[float | None]


@dataclass
class Chart:
    """An SVG picture and the same numbers as a table (a header row and data rows)."""

    title: str
    svg: SafeString
    header: list[str]
    rows: list[list[str]]

    @property
    def table(self) -> list[tuple[str, list[tuple[str, str]]]]:
        """The rows for the page's table: each row's heading, and its cells each with its
        column's name (the phone layout's label), paired once here rather than looked up
        per cell in the template."""
        return [(row[0], list(zip(self.header[1:], row[1:], strict=False))) for row in self.rows]


def _nice_max(value: float) -> float:
    """A round top for the axis: 1, 2 or 5 times a power of ten, at least ``value``."""
    if value <= 0:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power


def _fmt(value: float | None, number: Callable[[float], str]) -> str:
    return "—" if value is None else number(value)


def _frame(chart_id: str, title: str, description: str, body: str, *, height: int = HEIGHT, size: int = 11):
    return _svg(
        '<svg class="chart" role="img" aria-labelledby="{id}-t {id}-d" viewBox="0 0 {w} {h}" width="100%"'
        ' preserveAspectRatio="xMidYMid meet" xmlns="http://www.w3.org/2000/svg"'
        ' font-family="sans-serif" font-size="{size}">'
        '<title id="{id}-t">{title}</title><desc id="{id}-d">{desc}</desc>{body}</svg>',
        id=chart_id,
        w=WIDTH,
        h=height,
        size=size,
        title=title,
        desc=description,
        body=body,
    )


def bar_chart(
    title: str,
    description: str,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    number: Callable[[float], str] = lambda v: f"{v:g}",
    stacked: bool = False,
    reference: tuple[str, float] | None = None,
) -> Chart:
    """Bars per label, one per series side by side (or ``stacked``), with an optional
    horizontal reference line (a standard), and its table: a row per label."""
    chart_id = f"chart{next(_ids)}"
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    totals = [
        sum(s.values[i] or 0 for s in series) if stacked else max([s.values[i] or 0 for s in series] or [0])
        for i in range(len(labels))
    ]
    top = _nice_max(max([*totals, reference[1] if reference else 0, 0]))
    parts: list[str] = []
    for k in range(TICKS + 1):
        value = top * k / TICKS
        y = TOP + plot_h - plot_h * k / TICKS
        parts.append(
            _svg(
                '<line x1="{x1}" y1="{y}" x2="{x2}" y2="{y}" stroke="{c}" stroke-width="1"/>'
                '<text x="{tx}" y="{ty}" text-anchor="end" fill="{t}">{label}</text>',
                x1=LEFT,
                x2=WIDTH - RIGHT,
                y=y,
                c=GRID,
                tx=LEFT - 4,
                ty=y + 4,
                t=TEXT,
                label=number(value),
            )
        )
    slot = plot_w / max(len(labels), 1)
    bar_w = slot * 0.8 / (1 if stacked else max(len(series), 1))
    for i, label in enumerate(labels):
        x0 = LEFT + slot * i + slot * 0.1
        base = 0.0
        for j, s in enumerate(series):
            value = s.values[i]
            if value is None or value <= 0:
                continue
            h = plot_h * value / top
            x = x0 if stacked else x0 + bar_w * j
            y = TOP + plot_h - h - (plot_h * base / top if stacked else 0)
            parts.append(
                _svg(
                    '<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="{fill}">'
                    "<title>{label}: {name} {value}</title></rect>",
                    x=x,
                    y=y,
                    w=max(bar_w - 1, 1),
                    h=h,
                    fill=PALETTE[j % len(PALETTE)],
                    label=label,
                    name=s.label,
                    value=number(value),
                )
            )
            if stacked:
                base += value
        parts.append(_label(LEFT + slot * i + slot / 2, HEIGHT - BOTTOM + LINE, label))
    if reference:
        y = TOP + plot_h - plot_h * reference[1] / top
        parts.append(
            _svg(
                '<line x1="{x1}" y1="{y}" x2="{x2}" y2="{y}" stroke="{c}" stroke-width="2"'
                ' stroke-dasharray="6 4"/>'
                '<text x="{x2}" y="{ty}" text-anchor="end" fill="{c}">{label}</text>',
                x1=LEFT,
                x2=WIDTH - RIGHT,
                y=y,
                ty=y - 4,
                c=REFERENCE,
                label=reference[0],
            )
        )
    legend, rows_of_legend = _legend(series, HEIGHT + 6)
    parts.append(legend)
    body = mark_safe("".join(parts))  # noqa: S308 - every part is format_html
    svg = _frame(chart_id, title, description, body, height=HEIGHT + 14 + LINE * rows_of_legend)
    header = ["", *(s.label for s in series)]
    rows = [[label, *(_fmt(s.values[i], number) for s in series)] for i, label in enumerate(labels)]
    return Chart(title, svg, header, rows)


def _label(x: float, y: float, label: str, size: int = 11) -> SafeString:
    """A label under a column: "Agu 2026" on two lines, so that twelve months fit."""
    first, _space, second = str(label).partition(" ")
    return _svg(
        '<text x="{x}" y="{y}" text-anchor="middle" fill="{t}"><tspan x="{x}">{first}</tspan>'
        '<tspan x="{x}" dy="{dy}">{second}</tspan></text>',
        x=x,
        y=y,
        t=TEXT,
        first=first,
        second=second,
        dy=size + 1,
    )


def _legend(series: Sequence[Series], top: float) -> tuple[SafeString, int]:
    """The series' colours and names, in as many rows as the width needs; and the rows."""
    items, x, y, rows = [], LEFT, top + LINE, 1
    for j, s in enumerate(series):
        width = 24 + CHAR * len(s.label)
        if x > LEFT and x + width > WIDTH - RIGHT:
            x, y, rows = LEFT, y + LINE, rows + 1
        items.append(
            _svg(
                '<rect x="{x}" y="{y}" width="10" height="10" fill="{fill}"/>'
                '<text x="{tx}" y="{ty}" fill="{t}">{label}</text>',
                x=x,
                y=y - 9,
                fill=PALETTE[j % len(PALETTE)],
                tx=x + 14,
                ty=y,
                t=TEXT,
                label=s.label,
            )
        )
        x += width
    return mark_safe("".join(items)), rows  # noqa: S308 - every item is format_html


def _share_colour(share: float | None) -> str:
    if share is None:
        return "#eef1f4"
    if share >= 95:
        return "#2e8b57"
    if share >= 80:
        return "#8fc79f"
    if share >= 50:
        return "#f3c26b"
    return "#e07a6b"


def heatmap(
    title: str,
    description: str,
    row_labels: Sequence[str],
    column_labels: Sequence[str],
    values: Sequence[Sequence[float | None]],
    *,
    number: Callable[[float], str] = lambda v: f"{v:.0f}%",
    links: Sequence[Sequence[str]] | None = None,
) -> Chart:
    """A grid of shares (0-100): a row per step, a column per month, each cell coloured by
    its share and labelled with it; an empty cell had no occurrences. ``links``: where each
    cell leads (a row of addresses per row)."""
    chart_id = f"chart{next(_ids)}"
    left, top = 44, 30
    # Whole units: every coordinate of a couple of hundred cells is written without decimals.
    cell_w = (WIDTH - left - RIGHT) // max(len(column_labels), 1)
    height = top + 18 * len(row_labels) + 8
    parts = [_label(left + cell_w * j + cell_w // 2, 11, label, size=10) for j, label in enumerate(column_labels)]
    for i, row_label in enumerate(row_labels):
        y = top + 18 * i
        parts.append(
            _svg(
                '<text x="{x}" y="{y}" text-anchor="end" fill="{t}">{label}</text>',
                x=left - 4,
                y=y + 13,
                t=TEXT,
                label=row_label,
            )
        )
        # The row's cells in a group that gives their labels' anchor and colour once.
        parts.append(_svg('<g text-anchor="middle" fill="{t}">', t=TEXT))
        for j, value in enumerate(values[i]):
            # One format_html per cell (its link around it when it has one): a year's grid
            # has a couple of hundred cells, hence no per-cell tooltip (the table under the
            # chart has the same numbers, by row and month).
            cell = _svg(
                ('<a href="{url}">' if links else "") + '<rect x="{x}" y="{y}" width="{w}" height="16" fill="{fill}"/>'
                '<text x="{tx}" y="{ty}">{value}</text>' + ("</a>" if links else ""),
                url=links[i][j] if links else "",
                x=left + cell_w * j + 1,
                y=y,
                w=cell_w - 2,
                fill=_share_colour(value),
                value=_fmt(value, number),
                tx=left + cell_w * j + cell_w // 2,
                ty=y + 12,
            )
            parts.append(cell)
        parts.append(mark_safe("</g>"))
    body = mark_safe("".join(parts))  # noqa: S308 - every part is format_html
    svg = _frame(chart_id, title, description, body, height=height, size=10)
    header = ["", *column_labels]
    rows = [[label, *(_fmt(v, number) for v in values[i])] for i, label in enumerate(row_labels)]
    return Chart(title, svg, header, rows)


# The dashboard's charts ------------------------------------------------------------------------


def month_label(month: tuple[int, int]) -> str:
    return formats.date_format(datetime.date(month[0], month[1], 1), "M Y")


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 1)


def for_trend(
    trend_months: list[tuple[int, int]],
    trend: dict[int, list[metrics.TrendCell]],
    trend_links: dict[int, list[str]] | None = None,
) -> dict[str, Chart]:
    """The trend's two charts (its page and the PDF), with the same numbers as their tables;
    ``trend_links``: per step (CHAIN: the chain), where each month's cell leads."""
    months = [month_label(m) for m in trend_months]
    chain_cells = trend[CHAIN]
    chain = bar_chart(
        _("Whole chain per month: plan received to final approval (hours)"),
        _(
            "Median and 90th percentile, in hours, of the time from receiving the plan to the final "
            "approval of the report, for the reports approved in each of the last %(n)s months; "
            "the dashed line is the SOP's 20 hours."
        )
        % {"n": len(months)},
        months,
        [
            Series(_("median"), [_hours(c.figures.median) for c in chain_cells]),
            Series(_("90th percentile"), [_hours(c.figures.p90) for c in chain_cells]),
        ],
        number=lambda v: formats.number_format(v, 1),
        reference=(_("standard 20 h"), 20),
    )
    rows = [CHAIN, *metrics.STEPS]
    compliance = heatmap(
        _("Share done within the standard, per step and month"),
        _(
            "For each step of the SOP (rows) and each of the last %(n)s months (columns), the share "
            "of the step's completions in that month that took no longer than the Mutu Baku. "
            "An empty cell: the step had no completions that month."
        )
        % {"n": len(months)},
        [_("chain") if n == CHAIN else str(n) for n in rows],
        months,
        [[cell.figures.share for cell in trend[n]] for n in rows],
        number=lambda v: f"{formats.number_format(v, 0)}%",
        links=[trend_links[n] for n in rows] if trend_links else None,
    )
    return {"chain": chain, "compliance": compliance}


def plans_chart(intake: metrics.Intake) -> Chart:
    """The plans received per month of the period, by category (the dashboard and the PDF)."""
    plan_months = [month_label(m) for m in intake.months]
    return bar_chart(
        _("Plans received per month, by category"),
        _("The number of activity plans received in each month of the period, stacked by category."),
        plan_months,
        [
            Series(str(label), [intake.plans_by_month.get(m, {}).get(value, 0) for m in intake.months])
            for value, label in PlanCategory.choices
        ],
        number=lambda v: formats.number_format(v, 0),
        stacked=True,
    )


def for_pdf(data: metrics.Dashboard) -> dict[str, Chart]:
    """The monthly PDF's three charts: the trend's two and the plans received."""
    return {**for_trend(data.trend_months, data.trend), "plans": plans_chart(data.intake)}
