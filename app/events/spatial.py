"""Spatial conditions on places: bbox, point + radius, GeoJSON polygon, distance.

- bbox and polygon are planar in longitude/latitude (OGC bbox, RFC 7946 polygons) on both
  databases: the bbox uses the (latitude, longitude) index; a polygon adds its bounding box as a
  prefilter and one GEOS predicate (PostGIS `ST_Intersects` on geometry, shapely on SQLite).
- radius and distance are on the sphere of PostGIS's `use_spheroid=false`: `ST_DWithin` /
  `ST_Distance` on `places.geog` (GiST) when the column exists, else the haversine formula with a
  bounding-box prefilter (SQLite, or PostgreSQL without PostGIS). Same radius, same answers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Float, and_, func, literal_column, or_, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.elements import ColumnElement

from app.core.errors import BadRequest
from app.core.geo import EARTH_RADIUS_KM, BBox, GeoPolygon, radius_bounds
from app.models import Place


@dataclass(frozen=True)
class QueryContext:
    """What the database offers: its dialect and whether places.geog (PostGIS) exists."""

    dialect: str = "sqlite"
    has_geog: bool = False


async def detect_context(engine: AsyncEngine) -> QueryContext:
    """Read once at startup: migration 0002 adds places.geog only where PostGIS is available."""
    dialect = engine.dialect.name
    if dialect != "postgresql":
        return QueryContext(dialect, False)
    async with engine.connect() as conn:
        found = (
            await conn.execute(
                text(
                    "SELECT 1 FROM information_schema.columns "
                    "WHERE table_schema = current_schema() AND table_name = 'places' "
                    "AND column_name = 'geog'"
                )
            )
        ).first()
    return QueryContext(dialect, found is not None)


_GEOG: ColumnElement[Any] = literal_column("places.geog")


def box_condition(box: BBox) -> ColumnElement[bool]:
    lat = Place.latitude.between(box.min_lat, box.max_lat)
    if box.crosses_antimeridian:
        return and_(lat, or_(Place.longitude >= box.min_lon, Place.longitude <= box.max_lon))
    return and_(lat, Place.longitude.between(box.min_lon, box.max_lon))


def _point(lat: float, lon: float) -> Any:
    return func.geography(func.ST_SetSRID(func.ST_MakePoint(lon, lat), 4326))


def haversine_km(lat: float, lon: float, dialect: str) -> ColumnElement[Any]:
    """Great-circle distance from (lat, lon) to each place, in km, on PostGIS's sphere."""
    dlat = func.sin(func.radians(Place.latitude - lat) / 2)
    dlon = func.sin(func.radians(Place.longitude - lon) / 2)
    h = dlat * dlat + math.cos(math.radians(lat)) * func.cos(func.radians(Place.latitude)) * (
        dlon * dlon
    )
    clamp = func.least if dialect == "postgresql" else func.min
    expr = 2 * EARTH_RADIUS_KM * func.asin(func.sqrt(clamp(h, 1.0)))
    return expr.cast(Float) if dialect == "postgresql" else expr


def distance_km(lat: float, lon: float, ctx: QueryContext) -> ColumnElement[Any]:
    if ctx.has_geog:
        return func.ST_Distance(_GEOG, _point(lat, lon), False) / 1000.0
    return haversine_km(lat, lon, ctx.dialect)


def radius_condition(
    lat: float, lon: float, radius_km: float, ctx: QueryContext
) -> ColumnElement[bool]:
    if ctx.has_geog:
        within: ColumnElement[bool] = func.ST_DWithin(
            _GEOG, _point(lat, lon), radius_km * 1000.0, False
        )
        return within
    box, _ = radius_bounds(lat, lon, radius_km)
    exact = haversine_km(lat, lon, ctx.dialect) <= radius_km
    if box is None:
        return and_(Place.latitude.is_not(None), exact)
    return and_(box_condition(box), exact)


def polygon_condition(poly: GeoPolygon, ctx: QueryContext) -> ColumnElement[bool]:
    prefilter = box_condition(poly.bounds)
    if ctx.dialect == "postgresql":
        if not ctx.has_geog:
            raise BadRequest(
                "polygon queries need PostGIS on this server", code="spatial_unavailable"
            )
        shape = func.ST_SetSRID(func.ST_GeomFromGeoJSON(poly.geojson), 4326)
        point = func.ST_SetSRID(func.ST_MakePoint(Place.longitude, Place.latitude), 4326)
        return and_(prefilter, func.ST_Intersects(shape, point))
    return and_(prefilter, func.cdb_intersects(poly.geojson, Place.longitude, Place.latitude) == 1)
