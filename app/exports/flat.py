"""An event as one flat record (NDJSON lines, GeoJSON properties)."""

from __future__ import annotations

from typing import Any

from app.exports.rows import ExportRow

FLAT_FIELDS: tuple[str, ...] = (
    "id",
    "dataset",
    "external_id",
    "date_start",
    "date_end",
    "date_precision",
    "disorder_type",
    "event_type",
    "sub_event_type",
    "acled_event_type",
    "acled_sub_event_type",
    "place_id",
    "location",
    "country_code",
    "admin1",
    "admin2",
    "admin3",
    "latitude",
    "longitude",
    "geo_precision",
    "summary",
    "notes",
    "civilian_targeting",
    "fatalities_low",
    "fatalities_best",
    "fatalities_high",
    "actors",
    "sources",
    "tags",
    "campaigns",
    "updated_at",
)


def flat_record(r: ExportRow) -> dict[str, Any]:
    return {
        "id": r.id,
        "dataset": r.dataset,
        "external_id": r.external_id,
        "date_start": r.date_start.isoformat(),
        "date_end": r.date_end.isoformat(),
        "date_precision": r.date_precision,
        "disorder_type": r.disorder_type,
        "event_type": r.event_type,
        "sub_event_type": r.sub_event_type,
        "acled_event_type": r.acled_event_type,
        "acled_sub_event_type": r.acled_sub_event_type,
        "place_id": r.place_id,
        "location": r.location,
        "country_code": r.country_code,
        "admin1": r.admin1,
        "admin2": r.admin2,
        "admin3": r.admin3,
        "latitude": r.latitude,
        "longitude": r.longitude,
        "geo_precision": r.geo_precision if r.geo_precision is not None else r.place_geo_precision,
        "summary": r.summary,
        "notes": r.notes,
        "civilian_targeting": r.civilian_targeting,
        "fatalities_low": r.fatalities_low,
        "fatalities_best": r.fatalities_best,
        "fatalities_high": r.fatalities_high,
        "actors": [
            {"id": a.id, "name": a.name, "role": a.role, "actor_type": a.actor_type}
            for a in r.actors
        ],
        "sources": r.sources,
        "tags": r.tags,
        "campaigns": r.campaigns,
        "updated_at": r.updated_at.isoformat().replace("+00:00", "Z"),
    }


def geojson_feature(r: ExportRow) -> dict[str, Any]:
    """RFC 7946 Feature: a Point [lon, lat], or a null geometry when the place has none."""
    geometry = (
        None
        if r.latitude is None or r.longitude is None
        else {"type": "Point", "coordinates": [r.longitude, r.latitude]}
    )
    return {"type": "Feature", "id": r.id, "geometry": geometry, "properties": flat_record(r)}
