"""Places: deduplicated by natural key, nested by parent, with a materialized path."""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import Invalid
from app.models import Place
from app.places.repository import find_by_natural_key, place_natural_key


class PlaceFields(Protocol):
    name: str
    kind: str
    country_code: str
    admin1: str | None
    admin2: str | None
    admin3: str | None
    latitude: float | None
    longitude: float | None
    geo_precision: int | None
    parent_id: int | None


async def set_parent(
    session: AsyncSession, place: Place, parent_id: int | None, loc: list[str | int]
) -> None:
    """Attach `place` under `parent_id` and recompute its path; refuses cycles."""
    if parent_id is None:
        place.parent_id = None
        place.path = f"/{place.id}/"
        return
    parent = await session.get(Place, parent_id)
    if parent is None:
        raise Invalid([*loc, "parent_id"], f"place {parent_id} does not exist")
    if f"/{place.id}/" in parent.path or parent.id == place.id:
        raise Invalid([*loc, "parent_id"], "a place cannot lie inside itself")
    place.parent_id = parent.id
    place.path = f"{parent.path}{place.id}/"


async def get_or_create_place(
    session: AsyncSession, data: PlaceFields, loc: list[str | int]
) -> Place:
    """The place with this natural key, created if new (coordinates filled in if missing)."""
    key = place_natural_key(data.name, data.kind, data.country_code, data.admin1, data.admin2)
    place = await find_by_natural_key(session, key)
    if place is not None:
        if place.latitude is None and data.latitude is not None:
            place.latitude, place.longitude = data.latitude, data.longitude
        return place
    place = Place(
        name=data.name,
        kind=data.kind,
        country_code=data.country_code,
        admin1=data.admin1,
        admin2=data.admin2,
        admin3=data.admin3,
        latitude=data.latitude,
        longitude=data.longitude,
        geo_precision=data.geo_precision,
        natural_key=key,
        path="",
    )
    session.add(place)
    await session.flush()
    await set_parent(session, place, data.parent_id, loc)
    await session.flush()
    return place
