"""Performance charts drawn on the server as SVG: no script, nothing inline to run (CSP).

Each chart is plain SVG with a ``<title>`` (its name for screen readers), a text label
and value beside every bar or point, so it reads without colour. Durations are shown as
people say them ("10 min"), through ``review.performance.duration_text``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from review.performance import duration_text

WIDTH = 620
LABEL_W = 150
BAR_H = 16
GAP = 8
COLOURS = {"value": "#0b5cad", "limit": "#b35900", "late": "#b42318", "ok": "#1a7f37"}


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None
    colour: str = COLOURS["value"]
    note: str = ""  # extra words after the value (e.g. "3 acks")


def _empty(text: str) -> SafeString:
    return mark_safe(f'<p class="muted">{escape(text)}</p>')  # nosec B308, B703  # escaped


def bar_chart(
    bars: list[Bar],
    *,
    title: str,
    fmt: Callable[[float], str] = duration_text,
    limit: float | None = None,
    limit_label: str = "",
    css: str = "perf-chart",
) -> SafeString:
    """Horizontal bars, one per row, scaled to the largest value (or ``limit``, drawn as a
    dashed line: a deadline, say)."""
    shown = [b for b in bars if b.value is not None]
    if not shown:
        return _empty(_("Nothing to chart yet."))
    top = max([b.value for b in shown] + [limit or 0]) or 1
    span = WIDTH - LABEL_W - 110
    rows = []
    y = 24 if limit else 6
    for bar in bars:
        value_text = fmt(bar.value) if bar.value is not None else "—"
        width = round(span * (bar.value or 0) / top, 1)
        words = f"{value_text} {bar.note}".strip()
        data_value = bar.value if bar.value is not None else ""
        rows.append(
            f'<g class="bar" data-label="{escape(bar.label)}" data-value="{data_value}">'
            f"<title>{escape(bar.label)}: {escape(words)}</title>"
            f'<text x="0" y="{y + BAR_H - 4}" font-size="12">{escape(bar.label)}</text>'
            f'<rect x="{LABEL_W}" y="{y}" width="{width}" height="{BAR_H}" fill="{bar.colour}"/>'
            f'<text x="{LABEL_W + width + 4}" y="{y + BAR_H - 4}" font-size="11">'
            f"{escape(words)}</text></g>"
        )
        y += BAR_H + GAP
    marker = ""
    if limit:
        x = round(LABEL_W + span * limit / top, 1)
        marker = (
            f'<line x1="{x}" x2="{x}" y1="16" y2="{y}" stroke="{COLOURS["limit"]}" '
            f'stroke-dasharray="4 3"/><text x="{x}" y="12" font-size="11" text-anchor="middle">'
            f"{escape(limit_label)} {escape(fmt(limit))}</text>"
        )
    height = y + 4
    return mark_safe(  # nosec B308, B703  # every text interpolated is escape()d; the rest are numbers
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="{css}" '
        f'viewBox="0 0 {WIDTH} {height}" width="100%" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>{marker}{''.join(rows)}</svg>"
    )


def line_chart(
    points: list[tuple[str, float | None]],
    *,
    title: str,
    fmt: Callable[[float], str] = duration_text,
    css: str = "perf-line",
) -> SafeString:
    """A line through the periods' values (left to right, oldest first); a period with no
    value breaks the line and is labelled "—"."""
    values = [v for _, v in points if v is not None]
    if not values:
        return _empty(_("No acknowledgements in these periods: nothing to chart."))
    height, left, bottom, top_pad = 200, 60, 30, 20
    plot_w, plot_h = WIDTH - left - 20, height - bottom - top_pad
    top = max(values) or 1
    step = plot_w / max(len(points) - 1, 1)
    segments: list[list[str]] = [[]]
    marks = []
    for i, (label, value) in enumerate(points):
        x = round(left + i * step, 1)
        marks.append(
            f'<text x="{x}" y="{height - 8}" font-size="11" text-anchor="middle">'
            f"{escape(label)}</text>"
        )
        if value is None:
            segments.append([])
            marks.append(
                f'<text x="{x}" y="{top_pad + plot_h}" font-size="11" text-anchor="middle">—</text>'
            )
            continue
        y = round(top_pad + plot_h - plot_h * value / top, 1)
        segments[-1].append(f"{x},{y}")
        marks.append(
            f'<g class="point" data-period="{escape(label)}" data-value="{value}">'
            f"<title>{escape(label)}: {escape(fmt(value))}</title>"
            f'<circle cx="{x}" cy="{y}" r="4" fill="{COLOURS["value"]}"/>'
            f'<text x="{x}" y="{y - 8}" font-size="11" text-anchor="middle">'
            f"{escape(fmt(value))}</text></g>"
        )
    lines = "".join(
        f'<polyline fill="none" stroke="{COLOURS["value"]}" stroke-width="2" '
        f'points="{" ".join(seg)}"/>'
        for seg in segments
        if len(seg) > 1
    )
    axis = (
        f'<line x1="{left}" x2="{left + plot_w}" y1="{top_pad + plot_h}" '
        f'y2="{top_pad + plot_h}" stroke="#57606a"/>'
    )
    return mark_safe(  # nosec B308, B703  # every text interpolated is escape()d; the rest are numbers
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="{css}" '
        f'viewBox="0 0 {WIDTH} {height}" width="100%" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>{axis}{lines}{''.join(marks)}</svg>"
    )


def count(value: float) -> str:
    return str(int(value))
