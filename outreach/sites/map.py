"""Paris's arrondissements and the sites, projected to SVG coordinates on the server (no tiles, no
script).

Boundaries: ``data/paris-arrondissements.geojson``, © Ville de Paris, Paris Open Data (ODbL 1.0).
Projection: equirectangular around Paris's latitude (distances true to a few per mille at this
scale).
"""
import json
import math
import os
from dataclasses import dataclass
from functools import lru_cache

GEOJSON = os.path.join(os.path.dirname(__file__), "data", "paris-arrondissements.geojson")
CREDIT = "© Ville de Paris, Paris Open Data (ODbL)"
WIDTH = 1000
MARGIN = 0.12
PAD_DEGREES = 0.006  # about 450 m north-south
MIN_STEP = 2  # SVG units between two kept vertices of a boundary: lighter page, same drawing
LAT0 = 48.86
X_SCALE = math.cos(math.radians(LAT0))


@dataclass
class Shape:
    number: int
    name: str
    rings: list  # [[(lon, lat), ...], ...]


@dataclass
class MapView:
    view_box: str
    shapes: list  # [(number, path, (x, y))]
    points: list  # [(figures, x, y, r)]


@lru_cache(maxsize=1)
def arrondissements():
    with open(GEOJSON, encoding="utf-8") as handle:
        features = json.load(handle)["features"]
    return [Shape(f["properties"]["c_ar"], f["properties"]["l_aroff"], _rings(f["geometry"]))
            for f in features]


def _rings(geometry):
    polygons = ([geometry["coordinates"]] if geometry["type"] == "Polygon"
                else geometry["coordinates"])
    return [[tuple(point) for point in ring] for polygon in polygons for ring in polygon]


def _plane(lon, lat):
    return lon * X_SCALE, -lat


def _bounds(points):
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return min(xs), min(ys), max(xs), max(ys)


def _focus(shapes, site_points):
    """The box of the sites with a margin (at least ``PAD_DEGREES``), or all of Paris when no site
    is located."""
    if not site_points:
        return _bounds([_plane(*p) for s in shapes for ring in s.rings for p in ring])
    x0, y0, x1, y1 = _bounds([_plane(*p) for p in site_points])
    pad_x = max((x1 - x0) * MARGIN, 2 * PAD_DEGREES * X_SCALE)  # room for the names
    pad_y = max((y1 - y0) * MARGIN, PAD_DEGREES)
    return x0 - pad_x, y0 - pad_y, x1 + pad_x, y1 + pad_y


def _transform(box):
    x0, y0, x1, y1 = box
    scale = WIDTH / (x1 - x0)

    def to_svg(lon, lat):
        x, y = _plane(lon, lat)
        return round((x - x0) * scale, 1), round((y - y0) * scale, 1)
    return to_svg, round((y1 - y0) * scale)


def _path(rings, to_svg):
    return " ".join("M" + " L".join(f"{x} {y}" for x, y in _thin([to_svg(*p) for p in ring])) + " Z"
                    for ring in rings)


def _thin(coords):
    """Drop vertices closer than ``MIN_STEP`` to the last one kept (invisible at this scale)."""
    kept = [coords[0]]
    for x, y in coords[1:]:
        if abs(x - kept[-1][0]) + abs(y - kept[-1][1]) >= MIN_STEP:
            kept.append((x, y))
    return kept


def _centre(rings, to_svg):
    """Centre of the outer ring's vertices: where the arrondissement's number is written."""
    coords = [to_svg(*p) for p in rings[0]]
    return (round(sum(x for x, _ in coords) / len(coords), 1),
            round(sum(y for _, y in coords) / len(coords), 1))


def radius(people):
    """Marker radius: grows with the square root of people seen (area ~ count), readable at phone
    width."""
    value = people if isinstance(people, int) else 0
    return round(min(24 + 3.5 * math.sqrt(value), 56), 1)


def build_map(figures):
    """``figures``: ``SiteFigures`` rows; sites without coordinates are left to the table."""
    located = [f for f in figures if f.site.latitude is not None]
    shapes = arrondissements()
    box = _focus(shapes, [(f.site.longitude, f.site.latitude) for f in located])
    to_svg, height = _transform(box)
    drawn = [(s.number, _path(s.rings, to_svg), _centre(s.rings, to_svg)) for s in shapes]
    points = [(f, *to_svg(f.site.longitude, f.site.latitude), radius(f.people_seen))
              for f in located]
    return MapView(f"0 0 {WIDTH} {height}", drawn, points)
