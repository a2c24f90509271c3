"""The region map: crises, shelters and displacement, drawn on the server as SVG.

No tile server and no internet at run time: the boundaries are Natural Earth's 1:50m
countries (public domain), cut to the region by ``scripts/build_region_map.py`` into
``humanitarian/static/humanitarian/map/region.json`` (provenance: ``docs/map.md``).
The projection is Web Mercator over the region's box. Every marker carries a
``<title>`` (a tooltip and its accessible name), and the page shows the same figures as
tables beside the map, so nothing is said by colour or position alone.

Displacement is the latest round of each area (admin-1, or admin-2 when given) summed
per admin-1 area: a circle whose area grows with the people displaced, placed at the
mean position of that area's shelters or crises, else at the country's centre; each
country is shaded by its total (a choropleth with a legend).
"""

from __future__ import annotations

import functools
import json
import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

DATA = Path(__file__).resolve().parent.parent / "static" / "humanitarian" / "map" / "region.json"
WIDTH = 1000
SEA = "#dbe9f4"
LAND = "#eef0ea"
NEIGHBOUR = "#f6f6f3"
BORDER = "#8a8f87"
#: Choropleth of people displaced per country (light to dark; the last is "or more").
SHADES = ((1, "#fde7c8"), (1_000, "#f9c98b"), (10_000, "#f0a04b"), (100_000, "#d9731c"))
SEVERITY_COLOURS = {1: "#2f6f3e", 2: "#5a7a1a", 3: "#9a6700", 4: "#c2410c", 5: "#b42318"}


@dataclass
class CrisisPoint:
    id: int
    reference: str
    title: str
    severity: int
    lat: float
    lon: float
    where: str = ""


@dataclass
class ShelterPoint:
    id: int
    name: str
    population: int
    capacity: int
    lat: float | None
    lon: float | None
    area: str = ""
    country: str = ""

    @property
    def percent(self) -> int:
        return round(100 * self.population / self.capacity) if self.capacity else 0


@dataclass
class AreaFigure:
    country_code: str
    country_name: str
    admin1_code: str
    admin1_name: str
    idps: int = 0
    refugees: int = 0
    reported_on: object = None
    crisis_ids: set[int] = field(default_factory=set)
    nudged: bool = False
    points: list[tuple[float, float]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.idps + self.refugees


@functools.cache
def region() -> dict:
    """The boundaries (read once per process)."""
    return json.loads(DATA.read_text())


class Projection:
    """Web Mercator over the region's box, scaled to ``WIDTH`` pixels."""

    def __init__(self, box):
        west, south, east, north = box
        self.west = west
        self.top = self._y(north)
        self.scale = WIDTH / (east - west)
        self.height = round((self.top - self._y(south)) * self.scale)

    @staticmethod
    def _y(lat: float) -> float:
        lat = max(min(lat, 85.0), -85.0)
        return math.degrees(math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)))

    def __call__(self, lon: float, lat: float) -> tuple[float, float]:
        return (
            round((lon - self.west) * self.scale, 1),
            round((self.top - self._y(lat)) * self.scale, 1),
        )


def _path(project: Projection, polygons) -> str:
    out = []
    for polygon in polygons:
        for ring in polygon:
            points = []
            for lon, lat in ring:
                x, y = project(lon, lat)
                if not points or abs(points[-1][0] - x) + abs(points[-1][1] - y) >= 0.8:
                    points.append((x, y))
            if len(points) >= 3:
                out.append("M" + "L".join(f"{x:g} {y:g}" for x, y in points) + "Z")
    return "".join(out)


def _shade(total: int) -> str | None:
    colour = None
    for threshold, shade in SHADES:
        if total >= threshold:
            colour = shade
    return colour


def _centre(feature) -> tuple[float, float]:
    """The middle of the country's largest ring's bounding box (lon, lat)."""
    rings = [polygon[0] for polygon in feature["geometry"]["coordinates"]]
    ring = max(rings, key=len)
    lons = [p[0] for p in ring]
    lats = [p[1] for p in ring]
    return (min(lons) + max(lons)) / 2, (min(lats) + max(lats)) / 2


def _number(n: int) -> str:
    return f"{n:,}".replace(",", "\u202f")


def area_figures(reports, shelters: list[ShelterPoint], crises: list[CrisisPoint]):
    """Displacement per admin-1 area from the latest round of each reported area."""
    latest: dict[tuple, object] = {}
    for report in reports:
        key = (
            report.crisis_id,
            report.country_code,
            report.admin1_code,
            report.admin2_code,
        )
        have = latest.get(key)
        if have is None or (report.reported_on, report.round) > (have.reported_on, have.round):
            latest[key] = report
    areas: dict[tuple[str, str], AreaFigure] = {}
    for report in latest.values():
        area = areas.setdefault(
            (report.country_code, report.admin1_code),
            AreaFigure(
                report.country_code, report.country_name, report.admin1_code, report.admin1_name
            ),
        )
        area.crisis_ids.add(report.crisis_id)
        area.idps += report.idps
        area.refugees += report.refugees
        if area.reported_on is None or report.reported_on > area.reported_on:
            area.reported_on = report.reported_on
    for area in areas.values():
        code, name = area.admin1_code.lower(), area.admin1_name.lower()
        for shelter in shelters:
            if shelter.lat is not None and shelter.area.lower() in (code, name):
                area.points.append((shelter.lon, shelter.lat))
        if not area.points:
            for crisis in crises:
                if code and crisis.where.lower().startswith(code):
                    area.points.append((crisis.lon, crisis.lat))
        if not area.points:
            # Near the crisis the figures belong to (set aside a little, so that several
            # such areas do not hide each other).
            for crisis in crises:
                if crisis.id in area.crisis_ids:
                    turn = len([a for a in areas.values() if a.nudged]) * 1.3
                    area.points.append(
                        (crisis.lon + 1.2 * math.cos(turn), crisis.lat + 1.2 * math.sin(turn))
                    )
                    area.nudged = True
                    break
    return sorted(areas.values(), key=lambda a: (-a.total, a.country_code, a.admin1_name))


def region_map_svg(
    *, crises: list[CrisisPoint], shelters: list[ShelterPoint], areas: list[AreaFigure]
) -> SafeString:
    """The map as one SVG element (``role="img"``, titled; markers titled one by one)."""
    data = region()
    project = Projection(data["bbox"])
    height = project.height
    by_country: dict[str, int] = defaultdict(int)
    for area in areas:
        by_country[area.country_code] += area.total

    parts = [f'<rect width="{WIDTH}" height="{height}" fill="{SEA}"/>']
    centres = {}
    for feature in data["features"]:
        code = feature["id"]
        centres[code] = _centre(feature)
        own = feature["properties"]["region"]
        fill = _shade(by_country.get(code, 0)) or (LAND if own else NEIGHBOUR)
        name = feature["properties"]["name"]
        label = name
        if by_country.get(code):
            label = _("%(country)s: %(people)s people displaced") % {
                "country": name,
                "people": _number(by_country[code]),
            }
        outline = _path(project, feature["geometry"]["coordinates"])
        parts.append(
            f'<path class="country" data-country="{code}" d="{outline}" '
            f'fill="{fill}" stroke="{BORDER}" stroke-width="{0.8 if own else 0.5}">'
            f"<title>{escape(label)}</title></path>"
        )

    biggest = max((a.total for a in areas), default=0) or 1
    for area in areas:
        if not area.total:
            continue
        if area.points:
            lon = sum(p[0] for p in area.points) / len(area.points)
            lat = sum(p[1] for p in area.points) / len(area.points)
        elif area.country_code in centres:
            lon, lat = centres[area.country_code]
        else:
            continue
        x, y = project(lon, lat)
        r = round(6 + 24 * math.sqrt(area.total / biggest), 1)
        title = _(
            "%(area)s (%(country)s): %(idps)s internally displaced, %(refugees)s refugees"
        ) % {
            "area": area.admin1_name or area.admin1_code,
            "country": area.country_code,
            "idps": _number(area.idps),
            "refugees": _number(area.refugees),
        }
        parts.append(
            f'<g class="displacement" data-area="{escape(area.admin1_code)}" '
            f'data-people="{area.total}"><title>{escape(title)}</title>'
            f'<circle cx="{x}" cy="{y}" r="{r}" fill="#6f42c1" fill-opacity=".28" '
            f'stroke="#5a32a3" stroke-width="1.2"/></g>'
        )

    for shelter in shelters:
        if shelter.lat is None or shelter.lon is None:
            continue
        x, y = project(shelter.lon, shelter.lat)
        percent = shelter.percent
        colour = "#b42318" if percent >= 100 else "#9a6700" if percent >= 80 else "#1a7f37"
        title = _("Shelter %(name)s: %(population)s of %(capacity)s places (%(percent)s %%)") % {
            "name": shelter.name,
            "population": _number(shelter.population),
            "capacity": _number(shelter.capacity),
            "percent": percent,
        }
        parts.append(
            f'<g class="shelter" data-shelter="{shelter.id}" data-percent="{percent}">'
            f"<title>{escape(title)}</title>"
            f'<rect x="{x - 5}" y="{y - 5}" width="10" height="10" fill="{colour}" '
            f'stroke="#fff" stroke-width="1.5"/>'
            f'<text x="{x + 8}" y="{y + 4}" font-size="12" font-weight="600" fill="#1b1f24" '
            f'stroke="#fff" stroke-width="3" paint-order="stroke">{percent} %</text></g>'
        )

    for crisis in sorted(crises, key=lambda c: c.severity):
        x, y = project(crisis.lon, crisis.lat)
        size = 6 + 2 * crisis.severity
        colour = SEVERITY_COLOURS.get(crisis.severity, "#b42318")
        title = _("%(reference)s %(title)s — severity %(severity)s") % {
            "reference": crisis.reference,
            "title": crisis.title,
            "severity": crisis.severity,
        }
        diamond = f"M{x} {y - size}L{x + size} {y}L{x} {y + size}L{x - size} {y}Z"
        parts.append(
            f'<g class="crisis-marker" data-crisis="{crisis.id}" data-severity="{crisis.severity}">'
            f'<title>{escape(title)}</title><path d="{diamond}" fill="{colour}" stroke="#fff" '
            f'stroke-width="2"/><text x="{x + size + 3}" y="{y + 4}" font-size="12" '
            f'font-weight="700" fill="#1b1f24" stroke="#fff" stroke-width="3" '
            f'paint-order="stroke">{escape(crisis.reference)}</text></g>'
        )

    parts.append(_legend(height))
    title = _(
        "Map of the region: %(crises)s open crises, %(shelters)s shelters, "
        "%(areas)s areas with displacement figures"
    ) % {
        "crises": len(crises),
        "shelters": len([s for s in shelters if s.lat is not None]),
        "areas": len([a for a in areas if a.total]),
    }
    return mark_safe(  # nosec B308, B703  # every text interpolated is escape()d; the rest are numbers and constants
        f'<svg xmlns="http://www.w3.org/2000/svg" class="region-map" role="img" '
        f'viewBox="0 0 {WIDTH} {height}" aria-labelledby="region-map-title" '
        f'font-family="system-ui, sans-serif"><title id="region-map-title">{escape(title)}</title>'
        f"{''.join(parts)}</svg>"
    )


def _legend(height: int) -> str:
    x, y = 12, height - 182
    rows = [
        f'<rect x="{x}" y="{y}" width="300" height="170" rx="6" fill="#fff" fill-opacity=".92" '
        f'stroke="{BORDER}"/>',
    ]
    line = y + 22

    def text(tx, ty, words, weight="400"):
        return (
            f'<text x="{tx}" y="{ty}" font-size="12" font-weight="{weight}" fill="#1b1f24">'
            f"{escape(words)}</text>"
        )

    rows.append(text(x + 10, line, _("Crisis (size and colour: severity 1 to 5)"), "600"))
    for i, severity in enumerate((1, 3, 5)):
        cx = x + 20 + i * 34
        size = 6 + 2 * severity
        rows.append(
            f'<path d="M{cx} {line + 18 - size / 2}L{cx + size / 2} {line + 18}L{cx} '
            f'{line + 18 + size / 2}L{cx - size / 2} {line + 18}Z" '
            f'fill="{SEVERITY_COLOURS[severity]}"/>'
        )
    line += 44
    rows.append(text(x + 10, line, _("Shelter occupancy"), "600"))
    for i, (colour, words) in enumerate(
        (("#1a7f37", _("under 80 %")), ("#9a6700", _("80 to 99 %")), ("#b42318", _("full")))
    ):
        sx = x + 10 + i * 96
        rows.append(f'<rect x="{sx}" y="{line + 8}" width="10" height="10" fill="{colour}"/>')
        rows.append(text(sx + 14, line + 17, words))
    line += 40
    rows.append(text(x + 10, line, _("People displaced (circle; country shade)"), "600"))
    for i, (threshold, shade) in enumerate(SHADES):
        sx = x + 10 + i * 72
        rows.append(
            f'<rect x="{sx}" y="{line + 8}" width="14" height="12" fill="{shade}" '
            f'stroke="{BORDER}"/>'
        )
        rows.append(text(sx + 18, line + 18, f"{_number(threshold)}+"))
    return f'<g class="legend">{"".join(rows)}</g>'
