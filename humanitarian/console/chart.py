"""The needs-vs-pledged-vs-delivered chart, drawn on the server as SVG.

One row per item (quantities are only comparable within an item: each has one unit),
grouped by sector, with three bars scaled to the row's largest figure. Plain SVG with a
``<title>`` and text labels, so it reads without colour and in a screen reader.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

SERIES = (
    ("requested", "Requested", "#57606a"),
    ("pledged", "Pledged", "#0b5cad"),
    ("delivered", "Delivered", "#1a7f37"),
)
WIDTH = 620
LABEL_W = 230
BAR_W = WIDTH - LABEL_W - 70
BAR_H = 12
ROW_GAP = 6
SECTOR_H = 22


@dataclass(frozen=True)
class ChartRow:
    sector: str
    label: str
    unit: str
    values: dict[str, int]


def rows_from_gaps(figures: dict) -> list[ChartRow]:
    """Rows from ``humanitarian.services.gaps.gap_figures`` output."""
    return [
        ChartRow(
            sector=sector["label"],
            label=item["label"],
            unit=item["unit"],
            values={key: int(item.get(key, 0) or 0) for key, _, _ in SERIES},
        )
        for sector in figures.get("sectors", [])
        for item in sector["items"]
    ]


def gap_chart_svg(rows: list[ChartRow], *, title: str) -> SafeString:
    if not rows:
        return mark_safe('<p class="muted">No requests yet: nothing to chart.</p>')
    parts = []
    y = 28
    current_sector = None
    for row in rows:
        if row.sector != current_sector:
            current_sector = row.sector
            y += 6
            parts.append(
                f'<text x="0" y="{y + 12}" font-weight="700" font-size="13">'
                f"{escape(row.sector)}</text>"
            )
            y += SECTOR_H
        top = max(row.values.values()) or 1
        label = f"{row.label} ({row.unit})"
        parts.append(f'<text x="8" y="{y + BAR_H * 2}" font-size="12">{escape(label)}</text>')
        for key, name, colour in SERIES:
            value = row.values[key]
            width = round(BAR_W * value / top, 1)
            parts.append(
                f'<g class="bar bar-{key}" data-series="{key}" data-item="{escape(row.label)}" '
                f'data-value="{value}"><title>{name}: {value} {escape(row.unit)}</title>'
                f'<rect x="{LABEL_W}" y="{y}" width="{width}" height="{BAR_H}" fill="{colour}"/>'
                f'<text x="{LABEL_W + width + 4}" y="{y + BAR_H - 2}" font-size="11">'
                f"{value}</text></g>"
            )
            y += BAR_H + 2
        y += ROW_GAP
    legend = "".join(
        f'<rect x="{LABEL_W + i * 110}" y="4" width="12" height="12" fill="{colour}"/>'
        f'<text x="{LABEL_W + i * 110 + 16}" y="14" font-size="12">{name}</text>'
        for i, (_key, name, colour) in enumerate(SERIES)
    )
    height = y + 8
    return mark_safe(
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="gap-chart" '
        f'viewBox="0 0 {WIDTH} {height}" width="100%" style="max-width:{WIDTH}px" '
        f'aria-labelledby="gap-chart-title"><title id="gap-chart-title">{escape(title)}</title>'
        f"{legend}{''.join(parts)}</svg>"
    )
