"""Geometry helpers shared by the spatial filters: bbox and GeoJSON parsing, SQLite functions.

Coordinates follow GeoJSON (RFC 7946) and OGC API Features: longitude first, WGS 84. Polygon edges
are straight lines in longitude/latitude (RFC 7946 section 3.1.1), so the same GEOS predicate
decides membership on SQLite (shapely) and PostgreSQL (PostGIS geometry).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import shapely
from shapely.geometry import MultiPolygon, Point, Polygon, shape
from shapely.prepared import PreparedGeometry, prep

# PostGIS's sphere (use_spheroid=false) is the mean radius of WGS 84, (2a + b) / 3.
EARTH_RADIUS_KM = 6371.0087714
MAX_POLYGON_VERTICES = 10_000


@dataclass(frozen=True)
class BBox:
    """minLon, minLat, maxLon, maxLat; min_lon > max_lon crosses the antimeridian."""

    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float

    @property
    def crosses_antimeridian(self) -> bool:
        return self.min_lon > self.max_lon


def _finite(raw: str) -> float:
    value = float(raw)
    if not math.isfinite(value):
        raise ValueError("coordinates must be finite numbers")
    return value


def parse_bbox(text: str) -> BBox:
    """OGC order: minLon,minLat,maxLon,maxLat (4 numbers, WGS 84)."""
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 4:
        raise ValueError("bbox takes 4 numbers: minLon,minLat,maxLon,maxLat")
    try:
        min_lon, min_lat, max_lon, max_lat = (_finite(p) for p in parts)
    except ValueError as exc:
        raise ValueError(f"bbox: {exc}" if "finite" in str(exc) else "bbox: not a number") from exc
    if not (-180 <= min_lon <= 180 and -180 <= max_lon <= 180):
        raise ValueError("bbox: longitudes must lie in [-180, 180]")
    if not (-90 <= min_lat <= 90 and -90 <= max_lat <= 90):
        raise ValueError("bbox: latitudes must lie in [-90, 90]")
    if min_lat > max_lat:
        raise ValueError("bbox: minLat must not exceed maxLat")
    return BBox(min_lon, min_lat, max_lon, max_lat)


def radius_bounds(lat: float, lon: float, radius_km: float) -> tuple[BBox | None, bool]:
    """A box enclosing the spherical cap, for an index prefilter; (None, _) when it is global.

    The second value says whether the longitude range is unbounded (the cap holds a pole).
    """
    angular = radius_km / EARTH_RADIUS_KM
    if angular >= math.pi:
        return None, True
    dlat = math.degrees(angular)
    min_lat, max_lat = lat - dlat, lat + dlat
    if max_lat >= 90 or min_lat <= -90:
        return BBox(-180, max(min_lat, -90), 180, min(max_lat, 90)), True
    ratio = math.sin(angular) / math.cos(math.radians(lat))
    if ratio >= 1:
        return BBox(-180, min_lat, 180, max_lat), True
    # A hair of slack: the exact test follows, the box must only never be too small.
    dlon = math.degrees(math.asin(ratio)) * (1 + 1e-9) + 1e-9
    min_lat, max_lat = min_lat - 1e-9, max_lat + 1e-9
    if dlon >= 180:
        return BBox(-180, min_lat, 180, max_lat), True
    west, east = lon - dlon, lon + dlon
    if west < -180:
        west += 360
    if east > 180:
        east -= 360
    return BBox(west, min_lat, east, max_lat), False


@dataclass(frozen=True)
class GeoPolygon:
    geojson: str
    bounds: BBox


MAX_POLYGON_NESTING = 16


def _nesting(text: str) -> int:
    """The deepest bracket nesting of a JSON text (brackets inside strings counted too: an
    over-estimate only refuses absurd input)."""
    depth = deepest = 0
    for ch in text:
        if ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def parse_polygon(text: str) -> GeoPolygon:
    """A GeoJSON Polygon or MultiPolygon geometry (or a Feature holding one), validated."""
    if _nesting(text) > MAX_POLYGON_NESTING:
        # A GeoJSON MultiPolygon is 4 arrays deep in 2 objects; refusing deeper text before
        # parsing it keeps a crafted `[[[[...` from exhausting the parser's stack.
        raise ValueError(f"polygon: nested more than {MAX_POLYGON_NESTING} levels deep")
    try:
        obj = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ValueError("polygon: not valid JSON") from exc
    if isinstance(obj, dict) and obj.get("type") == "Feature":
        obj = obj.get("geometry")
    if not isinstance(obj, dict) or obj.get("type") not in {"Polygon", "MultiPolygon"}:
        raise ValueError("polygon: expected a GeoJSON Polygon or MultiPolygon geometry")
    try:
        geom = shape(obj)
    except Exception as exc:  # shapely raises several types for malformed coordinates
        raise ValueError(f"polygon: malformed coordinates ({type(exc).__name__})") from exc
    if not isinstance(geom, Polygon | MultiPolygon) or geom.is_empty:
        raise ValueError("polygon: empty geometry")
    if shapely.get_num_coordinates(geom) > MAX_POLYGON_VERTICES:
        raise ValueError(f"polygon: more than {MAX_POLYGON_VERTICES} vertices")
    if geom.has_z:
        geom = shapely.force_2d(geom)
    min_lon, min_lat, max_lon, max_lat = geom.bounds
    if not all(math.isfinite(v) for v in geom.bounds):
        raise ValueError("polygon: coordinates must be finite")
    if min_lon < -180 or max_lon > 180 or min_lat < -90 or max_lat > 90:
        raise ValueError("polygon: coordinates must be longitude, latitude in WGS 84")
    if not geom.is_valid:
        raise ValueError(f"polygon: invalid geometry ({shapely.is_valid_reason(geom)})")
    return GeoPolygon(shapely.to_geojson(geom), BBox(min_lon, min_lat, max_lon, max_lat))


@lru_cache(maxsize=32)
def _prepared(geojson: str) -> PreparedGeometry[Any]:
    return prep(shape(json.loads(geojson)))


def point_in_geojson(geojson: str | None, lon: float | None, lat: float | None) -> int | None:
    """SQLite function `cdb_intersects(geojson, lon, lat)`: 1 when the point lies in or on it."""
    if geojson is None or lon is None or lat is None:
        return None
    return 1 if _prepared(geojson).intersects(Point(lon, lat)) else 0


def register_sqlite_functions(dbapi_connection: Any, _record: Any) -> None:
    """Add the spatial predicate to a SQLite connection (sqlite3 or aiosqlite's adapter)."""
    dbapi_connection.create_function("cdb_intersects", 3, point_in_geojson, deterministic=True)
