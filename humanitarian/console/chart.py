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
        return mark_safe('<p class="muted">No requests yet: nothing to chart.</p>')  # nosec B308  # a constant
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
    return mark_safe(  # nosec B308, B703  # every text interpolated is escape()d; the rest are numbers and constants
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="gap-chart" '
        f'viewBox="0 0 {WIDTH} {height}" width="100%" style="max-width:{WIDTH}px" '
        f'aria-labelledby="gap-chart-title"><title id="gap-chart-title">{escape(title)}</title>'
        f"{legend}{''.join(parts)}</svg>"
    )


def occupancy_sparkline(readings, *, width: int = 140, height: int = 28) -> SafeString:
    """Occupancy (population / capacity) over time as a small line, full at the top.

    ``readings`` are ShelterOccupancy rows oldest first; fewer than two draws nothing.
    """
    readings = list(readings)
    if len(readings) < 2:
        return mark_safe("")  # nosec B308  # a constant
    start = readings[0].recorded_at.timestamp()
    span = (readings[-1].recorded_at.timestamp() - start) or 1
    points = []
    for r in readings:
        ratio = min(r.population / r.capacity, 1.2) if r.capacity else 0
        x = round(2 + (width - 4) * (r.recorded_at.timestamp() - start) / span, 1)
        y = round(height - 2 - (height - 4) * ratio / 1.2, 1)
        points.append(f"{x},{y}")
    full_y = round(height - 2 - (height - 4) / 1.2, 1)
    first, last = readings[0], readings[-1]
    label = (
        f"Occupancy over time: {first.population}/{first.capacity} on "
        f"{first.recorded_at:%Y-%m-%d %H:%M} UTC to {last.population}/{last.capacity} on "
        f"{last.recorded_at:%Y-%m-%d %H:%M} UTC ({len(readings)} readings)"
    )
    return mark_safe(  # nosec B308, B703  # every text interpolated is escape()d; the rest are numbers and constants
        f'<svg xmlns="http://www.w3.org/2000/svg" class="sparkline" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'data-readings="{len(readings)}"><title>{escape(label)}</title>'
        f'<line x1="0" x2="{width}" y1="{full_y}" y2="{full_y}" stroke="#f4b4ae" '
        f'stroke-dasharray="3 2"/><polyline fill="none" stroke="#0b5cad" stroke-width="2" '
        f'points="{" ".join(points)}"/></svg>'
    )
