"""Build ``humanitarian/static/humanitarian/map/region.json`` from Natural Earth.

Run once when the boundaries should change (never at run time, and the console never
fetches anything from the internet)::

    npm pack world-atlas@2.0.2 && tar xzf world-atlas-2.0.2.tgz
    python scripts/build_region_map.py package/countries-50m.json

The input is the ``world-atlas`` package's TopoJSON (Natural Earth 1:50m admin-0
countries, public domain; the package is ISC-licensed). This script decodes the TopoJSON
arcs, keeps the ASEAN member states (plus Timor-Leste) and the neighbours that frame
them, drops rings wholly outside the region's box, clamps the rest to just outside it,
rounds coordinates to 0.03° (0.1° for the neighbours) and writes a small GeoJSON
FeatureCollection with ISO 3166-1 alpha-3 codes. Provenance and licence: ``docs/map.md``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "humanitarian" / "static" / "humanitarian" / "map" / "region.json"

#: ISO 3166-1 numeric (world-atlas ids) -> alpha-3; True for the region's own states.
COUNTRIES = {
    "096": ("BRN", True),
    "116": ("KHM", True),
    "360": ("IDN", True),
    "418": ("LAO", True),
    "104": ("MMR", True),
    "458": ("MYS", True),
    "608": ("PHL", True),
    "702": ("SGP", True),
    "764": ("THA", True),
    "704": ("VNM", True),
    "626": ("TLS", True),
    "156": ("CHN", False),
    "356": ("IND", False),
    "050": ("BGD", False),
    "598": ("PNG", False),
    "036": ("AUS", False),
    "158": ("TWN", False),
}
#: The region's box (west, south, east, north), in degrees.
BOX = (90.0, -12.5, 142.0, 29.0)


def decode_arcs(topology: dict) -> list[list[tuple[float, float]]]:
    """TopoJSON arcs (quantized, delta-encoded) as absolute [lon, lat] points."""
    transform = topology.get("transform")
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            if transform:
                x += dx
                y += dy
                (sx, sy), (tx, ty) = transform["scale"], transform["translate"]
                points.append((x * sx + tx, y * sy + ty))
            else:
                points.append((dx, dy))
        arcs.append(points)
    return arcs


def ring(arcs, indexes: list[int]) -> list[tuple[float, float]]:
    """A ring from arc indexes (a negative index ~i is arc i reversed)."""
    out: list[tuple[float, float]] = []
    for index in indexes:
        points = arcs[index] if index >= 0 else list(reversed(arcs[~index]))
        out.extend(points if not out else points[1:])
    return out


def touches_box(points) -> bool:
    west, south, east, north = BOX
    return any(west <= lon <= east and south <= lat <= north for lon, lat in points)


def simplify(points, step: float):
    """Round to ``step`` degrees and drop repeated points (a map ~1000 px wide shows
    about 0.05° per pixel, so nothing visible is lost)."""
    west, south, east, north = BOX[0] - 1, BOX[1] - 1, BOX[2] + 1, BOX[3] + 1
    out = []
    for lon, lat in points:
        # Clamped to just outside the box: what lies beyond is never drawn, and a
        # clamped edge runs outside the map's frame.
        lon, lat = min(max(lon, west), east), min(max(lat, south), north)
        point = [round(round(lon / step) * step, 2), round(round(lat / step) * step, 2)]
        if not out or out[-1] != point:
            out.append(point)
    return out


def build(source: Path) -> dict:
    topology = json.loads(source.read_text())
    arcs = decode_arcs(topology)
    features = []
    for geometry in topology["objects"]["countries"]["geometries"]:
        code = COUNTRIES.get(str(geometry.get("id")))
        if code is None:
            continue
        polygons = geometry["arcs"] if geometry["type"] == "MultiPolygon" else [geometry["arcs"]]
        kept = []
        for polygon in polygons:
            rings = [ring(arcs, r) for r in polygon]
            if rings and touches_box(rings[0]):
                rings = [simplify(r, 0.03 if code[1] else 0.1) for r in rings]
                if len(rings[0]) >= 4:
                    kept.append([r for r in rings if len(r) >= 4])
        if kept:
            features.append(
                {
                    "type": "Feature",
                    "id": code[0],
                    "properties": {"name": geometry["properties"]["name"], "region": code[1]},
                    "geometry": {"type": "MultiPolygon", "coordinates": kept},
                }
            )
    return {
        "type": "FeatureCollection",
        "bbox": list(BOX),
        "source": "Natural Earth 1:50m admin-0 countries via world-atlas 2.0.2 (public domain)",
        "features": features,
    }


if __name__ == "__main__":
    data = build(Path(sys.argv[1]))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(data, separators=(",", ":")))
    print(f"{OUT.relative_to(ROOT)}: {len(data['features'])} countries, {OUT.stat().st_size} bytes")
