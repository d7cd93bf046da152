"""Places: deduplicated by natural key, nested by parent, with a materialized path."""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import Conflict, Invalid, NotFound
from app.core.etag import IfMatch
from app.core.preconditions import require_current
from app.core.schemas import Ref
from app.core.unique import unique_or_conflict
from app.events import history
from app.gazetteer.service import attach
from app.models import Place
from app.places import repository
from app.places.repository import PlaceFilter, find_by_natural_key, place_natural_key
from app.places.schemas import PlaceCreate, PlacePatch, PlaceQuery, PlaceRead

# The width of places.path; a deeper nesting than fits is refused, not truncated.
MAX_PATH_LENGTH = 512
# Reads and inserts a get-or-create tries before giving up (each retry needs a concurrent delete).
_GET_OR_CREATE_ATTEMPTS = 3
_KEY_FIELDS = ("name", "kind", "country_code", "admin1", "admin2")
# A change of any of these may move the place to another admin-1 unit (app/gazetteer).
_GAZETTEER_FIELDS = {
    "kind", "country_code", "admin1", "admin2", "latitude", "longitude", "geo_precision"
}  # fmt: skip


class PlaceFields(Protocol):
    """What a place is made from (read-only, so Literal-typed schema fields qualify)."""

    @property
    def name(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def country_code(self) -> str: ...
    @property
    def admin1(self) -> str | None: ...
    @property
    def admin2(self) -> str | None: ...
    @property
    def admin3(self) -> str | None: ...
    @property
    def latitude(self) -> float | None: ...
    @property
    def longitude(self) -> float | None: ...
    @property
    def geo_precision(self) -> int | None: ...
    @property
    def parent_id(self) -> int | None: ...


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
    path = f"{parent.path}{place.id}/"
    if len(path) > MAX_PATH_LENGTH:
        raise Invalid([*loc, "parent_id"], "places are nested too deeply")
    place.parent_id = parent.id
    place.path = path


def _new_values(data: PlaceFields, key: str) -> dict[str, Any]:
    return {
        "name": data.name,
        "kind": data.kind,
        "country_code": data.country_code,
        "admin1": data.admin1,
        "admin2": data.admin2,
        "admin3": data.admin3,
        "latitude": data.latitude,
        "longitude": data.longitude,
        "geo_precision": data.geo_precision,
        "natural_key": key,
        # Made of the id, so set once the row has one (set_parent).
        "path": "",
    }


async def _insert(
    session: AsyncSession, data: PlaceFields, key: str, loc: list[str | int]
) -> Place:
    place = Place(**_new_values(data, key))
    session.add(place)
    await session.flush()
    await set_parent(session, place, data.parent_id, loc)
    await session.flush()
    return place


async def get_or_create_place(
    session: AsyncSession, data: PlaceFields, loc: list[str | int]
) -> Place:
    """The place with this natural key, created if new (coordinates filled in if missing).

    Safe against concurrent requests creating the same new place: the INSERT skips a key that
    exists (ON CONFLICT DO NOTHING, waiting for an uncommitted one), and the row is then read.
    """
    key = place_natural_key(data.name, data.kind, data.country_code, data.admin1, data.admin2)
    for _ in range(_GET_OR_CREATE_ATTEMPTS):
        place = await find_by_natural_key(session, key)
        if place is not None:
            if place.latitude is None and data.latitude is not None:
                place.latitude, place.longitude = data.latitude, data.longitude
                if place.geo_precision is None:
                    place.geo_precision = data.geo_precision
                await attach(session, [place.id], renew=place.admin1_code is None)
            return place
        new_id = await repository.insert_if_absent(session, _new_values(data, key))
        if new_id is not None:
            created = await repository.get(session, new_id)
            assert created is not None
            await set_parent(session, created, data.parent_id, loc)
            await attach(session, [created.id])
            return await repository.get(session, new_id) or created
        # Another transaction committed this key between our read and our insert: read it.
    # Only if that row were deleted again each time, between our insert and our read.
    raise Conflict(f"place {data.name!r} is being created and deleted concurrently; retry")


def _ancestor_ids(place: Place) -> list[int]:
    return [int(p) for p in place.path.strip("/").split("/") if p][:-1]


async def _reads(session: AsyncSession, places: list[Place]) -> list[PlaceRead]:
    """Read models with parents and ancestors, named by one query for the whole list."""
    wanted = {i for p in places for i in _ancestor_ids(p)}
    wanted.update(p.parent_id for p in places if p.parent_id is not None)
    names = await repository.names_by_id(session, wanted)
    reads = []
    for p in places:
        ancestors = [Ref(id=i, name=names[i]) for i in _ancestor_ids(p) if i in names]
        parent_id = p.parent_id
        parent = None
        if parent_id is not None and parent_id in names:
            parent = Ref(id=parent_id, name=names[parent_id])
        reads.append(
            PlaceRead(
                id=p.id,
                name=p.name,
                kind=p.kind,
                country_code=p.country_code,
                admin1=p.admin1,
                admin2=p.admin2,
                admin3=p.admin3,
                latitude=p.latitude,
                longitude=p.longitude,
                geo_precision=p.geo_precision,
                admin1_code=p.admin1_code,
                parent=parent,
                ancestors=ancestors,
                created_at=p.created_at,
                updated_at=p.updated_at,
            )
        )
    return reads


async def _get(session: AsyncSession, place_id: int) -> Place:
    place = await repository.get(session, place_id)
    if place is None:
        raise NotFound("place", place_id)
    return place


async def represent_place(session: AsyncSession, place_id: int) -> dict[str, Any]:
    """A place as GET shows it (its ETag is the hash of this)."""
    return (await get_place(session, place_id)).model_dump(mode="json")


async def get_place(session: AsyncSession, place_id: int) -> PlaceRead:
    return (await _reads(session, [await _get(session, place_id)]))[0]


async def list_places(
    session: AsyncSession, query: PlaceQuery, after_id: int | None
) -> tuple[list[PlaceRead], int | None]:
    """One more place than asked for (so the caller knows a next page exists), and the count."""
    within_path = None
    if query.within is not None:
        within_path = await repository.path_of(session, query.within)
        if within_path is None:
            raise Invalid(["query", "within"], f"place {query.within} does not exist")
    where = PlaceFilter(
        country_codes=query.country_code,
        admin1=query.admin1,
        kinds=query.kind,
        q=query.q,
        within_path=within_path,
    )
    rows = await repository.list_page(session, where, after_id=after_id, limit=query.limit + 1)
    total = await repository.count(session, where) if query.total else None
    return await _reads(session, rows), total


async def create_place(session: AsyncSession, data: PlaceCreate) -> PlaceRead:
    key = place_natural_key(data.name, data.kind, data.country_code, data.admin1, data.admin2)
    if await find_by_natural_key(session, key) is not None:
        raise Conflict(_duplicate_detail(data.name), code="duplicate")
    async with unique_or_conflict(session, _duplicate_detail(data.name)):
        place = await _insert(session, data, key, ["body"])
    await attach(session, [place.id])
    return await get_place(session, place.id)


def _duplicate_detail(name: str) -> str:
    return f"a place {name!r} of this kind, country, admin1 and admin2 already exists"


async def _move(session: AsyncSession, place: Place, parent_id: int | None) -> None:
    """Re-parent `place` and rewrite the paths of everything inside it."""
    old_path = place.path
    await set_parent(session, place, parent_id, ["body"])
    if place.path == old_path:
        return
    deepest = await repository.longest_path_under(session, old_path)
    if deepest - len(old_path) + len(place.path) > MAX_PATH_LENGTH:
        raise Invalid(["body", "parent_id"], "places are nested too deeply")
    await session.flush()
    await repository.move_subtree(session, old_path, place.path, place.id)


async def update_place(
    session: AsyncSession, place_id: int, patch: PlacePatch, *, if_match: IfMatch | None = None
) -> PlaceRead:
    await require_current(
        session, Place, place_id, "place", if_match, lambda: represent_place(session, place_id)
    )
    place = await _get(session, place_id)
    fields = patch.model_fields_set
    merged = {f: getattr(patch, f) if f in fields else getattr(place, f) for f in _KEY_FIELDS}
    key = place_natural_key(**merged)
    if key != place.natural_key:
        other = await find_by_natural_key(session, key)
        if other is not None and other.id != place.id:
            raise Conflict(_duplicate_detail(merged["name"]), code="duplicate")
    latitude = patch.latitude if "latitude" in fields else place.latitude
    longitude = patch.longitude if "longitude" in fields else place.longitude
    if (latitude is None) != (longitude is None):
        raise Invalid(["body", "latitude"], "latitude and longitude come together")
    if "parent_id" in fields and patch.parent_id != place.parent_id:
        await _move(session, place, patch.parent_id)
    async with unique_or_conflict(session, _duplicate_detail(merged["name"])):
        for field in (*_KEY_FIELDS, "admin3", "latitude", "longitude", "geo_precision"):
            if field in fields:
                setattr(place, field, getattr(patch, field))
        place.natural_key = key
    if fields & _GAZETTEER_FIELDS:
        await attach(session, [place.id], renew=True)
    if fields - {"parent_id"}:
        # Every other field is shown on the place's events: they go back into the change feed.
        await history.touch_events(session, repository.event_ids_showing(place.id))
    return await get_place(session, place.id)


async def delete_place(
    session: AsyncSession, place_id: int, *, if_match: IfMatch | None = None
) -> None:
    """Delete a place that no event, territory change or other place refers to."""
    await require_current(
        session, Place, place_id, "place", if_match, lambda: represent_place(session, place_id)
    )
    await _get(session, place_id)
    usage = await repository.usage(session, place_id)
    if usage:
        listed = ", ".join(f"{n} {what}" for what, n in usage.items())
        raise Conflict(f"place {place_id} is referenced by {listed}", code="in_use")
    await repository.delete_place(session, place_id)
