"""The shipped admin-1 file (`app/geodata/admin1.json.gz`, built by `build_admin1.py`).

Read once per process: the units and their spellings for the loader, the polygons for
point-in-polygon (a shapely STRtree) and for the map's outlines.
"""

from __future__ import annotations

import functools
import gzip
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

import orjson
import shapely
from shapely import STRtree

from app.core.geo import BBox

FILE = "admin1.json.gz"
# A point that falls in no polygon (simplification leaves slivers along coasts and borders)
# goes to the nearest unit of its country within this distance, in degrees (~5 km).
NEAREST_WITHIN = 0.05


@dataclass(frozen=True, slots=True)
class Unit:
    code: str
    country: str
    name: str
    type: str | None
    aliases: tuple[str, ...]


def raw() -> dict[str, Any]:
    """The file, decoded (each unit's geometry is GeoJSON text)."""
    data: dict[str, Any] = orjson.loads(gzip.decompress((files("app.geodata") / FILE).read_bytes()))
    return data


@functools.cache
def _parsed() -> tuple[tuple[Unit, ...], Any]:
    """The units and their outlines as shapely geometries (~10 MB; GEOS parses the text)."""
    data = raw()["units"]
    units = tuple(
        Unit(u["code"], u["country"], u["name"], u["type"], tuple(u["aliases"])) for u in data
    )
    geoms = shapely.from_geojson([u["geometry"] for u in data])
    return units, geoms


def units() -> tuple[Unit, ...]:
    return _parsed()[0]


class Locator:
    """Which unit a point lies in: polygons in an STRtree, queried many points at a time."""

    def __init__(self) -> None:
        self.units, self.geoms = _parsed()
        self.codes = [u.code for u in self.units]
        self.countries = [u.country for u in self.units]
        self.tree = STRtree(self.geoms)

    def locate(
        self, points: Sequence[tuple[float, float]], countries: Sequence[str | None]
    ) -> list[str | None]:
        """The code of the unit each (lon, lat) lies in, of the given country when one is
        given (a point on the wrong side of a border is left without a unit)."""
        if not points:
            return []
        found: list[str | None] = [None] * len(points)
        geoms = shapely.points([[float(x), float(y)] for x, y in points])
        pairs = self.tree.query(geoms, predicate="intersects")
        for i, j in zip(pairs[0].tolist(), pairs[1].tolist(), strict=True):
            if found[i] is None and countries[i] in (None, self.countries[j]):
                found[i] = self.codes[j]
        missing = [i for i, code in enumerate(found) if code is None]
        if missing:
            near = self.tree.query_nearest(
                geoms[missing], max_distance=NEAREST_WITHIN, all_matches=False
            )
            for k, j in zip(near[0].tolist(), near[1].tolist(), strict=True):
                i = missing[k]
                if countries[i] in (None, self.countries[j]):
                    found[i] = self.codes[j]
        return found

    def units_in(self, countries: Sequence[str], box: BBox | None) -> list[int]:
        """Indexes of the units of `countries` (any if empty) that meet `box` (any if None)."""
        wanted = set(countries)
        found: Sequence[int]
        if box is None:
            found = range(len(self.codes))
        else:
            boxes = [(box.min_lon, box.max_lon)]
            if box.crosses_antimeridian:
                boxes = [(box.min_lon, 180.0), (-180.0, box.max_lon)]
            hits: set[int] = set()
            for west, east in boxes:
                area = shapely.box(west, box.min_lat, east, box.max_lat)
                hits.update(self.tree.query(area, predicate="intersects").tolist())
            found = sorted(hits)
        return [i for i in found if not wanted or self.countries[i] in wanted]

    def feature(self, index: int) -> dict[str, Any]:
        u = self.units[index]
        return {
            "type": "Feature",
            "properties": {"code": u.code, "iso_a2": u.country, "name": u.name},
            "geometry": orjson.loads(shapely.to_geojson(self.geoms[index])),
        }


@functools.cache
def locator() -> Locator:
    return Locator()
