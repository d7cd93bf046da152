"""Every SQL statement of the places domain."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    String,
    delete,
    func,
    literal,
    select,
    union,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.names import fold_name
from app.models import Event, Place, TerritoryChange


def place_natural_key(
    name: str, kind: str, country_code: str, admin1: str | None, admin2: str | None
) -> str:
    """Each part folded (fold_name), joined by "|": the key that deduplicates places."""
    parts = [name, kind, country_code, admin1 or "", admin2 or ""]
    return "|".join(fold_name(p) for p in parts)


async def find_by_natural_key(session: AsyncSession, key: str) -> Place | None:
    return (
        await session.execute(select(Place).where(Place.natural_key == key))
    ).scalar_one_or_none()


async def insert_if_absent(session: AsyncSession, values: dict[str, Any]) -> int | None:
    """INSERT .. ON CONFLICT (natural_key) DO NOTHING: the new place's id, or None if it exists.

    On PostgreSQL an uncommitted insert of the same key by another transaction makes this one
    wait for it: None once it commits (the caller then reads that row, which READ COMMITTED
    shows to its next statement), an insert of our own if it rolls back. SQLite has one writer,
    so there the key is simply there or not.
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = (
        insert(Place)
        .values(**values)
        .on_conflict_do_nothing(index_elements=[Place.natural_key])
        .returning(Place.id)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def get(session: AsyncSession, place_id: int) -> Place | None:
    stmt = select(Place).where(Place.id == place_id).execution_options(populate_existing=True)
    return (await session.execute(stmt)).scalar_one_or_none()


async def path_of(session: AsyncSession, place_id: int) -> str | None:
    stmt = select(Place.path).where(Place.id == place_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def names_by_id(session: AsyncSession, ids: Iterable[int]) -> dict[int, str]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    stmt = select(Place.id, Place.name).where(Place.id.in_(wanted))
    return {row.id: row.name for row in await session.execute(stmt)}


@dataclass(frozen=True)
class PlaceFilter:
    """What a list of places is narrowed to; empty lists mean no restriction."""

    country_codes: Sequence[str] = field(default_factory=list)
    admin1: Sequence[str] = field(default_factory=list)
    kinds: Sequence[str] = field(default_factory=list)
    q: str | None = None
    # Only places strictly inside the place with this materialized path.
    within_path: str | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        conds: list[ColumnElement[bool]] = []
        if self.country_codes:
            conds.append(Place.country_code.in_(list(self.country_codes)))
        if self.admin1:
            conds.append(Place.admin1.in_(list(self.admin1)))
        if self.kinds:
            conds.append(Place.kind.in_(list(self.kinds)))
        if self.q:
            # A name search, not an identity (that is natural_key): on SQLite lower() folds
            # ASCII only, so a non-ASCII `q` may miss a differently cased name there.
            conds.append(func.lower(Place.name).contains(fold_name(self.q), autoescape=True))
        if self.within_path is not None:
            # Descendants share the ancestor's path as a prefix (an indexed range scan).
            conds.append(Place.path.startswith(self.within_path))
            conds.append(Place.path != self.within_path)
        return conds


async def list_page(
    session: AsyncSession, where: PlaceFilter, *, after_id: int | None, limit: int
) -> list[Place]:
    stmt = select(Place).where(*where.conditions()).order_by(Place.id).limit(limit)
    if after_id is not None:
        stmt = stmt.where(Place.id > after_id)
    return list((await session.execute(stmt)).scalars().all())


async def count(session: AsyncSession, where: PlaceFilter) -> int:
    stmt = select(func.count()).select_from(Place).where(*where.conditions())
    return int((await session.execute(stmt)).scalar_one())


async def longest_path_under(session: AsyncSession, path: str) -> int:
    """Length of the longest materialized path in the subtree rooted at `path`."""
    stmt = select(func.max(func.length(Place.path))).where(Place.path.startswith(path))
    return int((await session.execute(stmt)).scalar_one() or len(path))


async def move_subtree(session: AsyncSession, old_path: str, new_path: str, root_id: int) -> None:
    """Rewrite the paths of every place below `root_id` from `old_path` to `new_path`."""
    rest = func.substr(Place.path, len(old_path) + 1, type_=String)
    stmt = (
        update(Place)
        .where(Place.path.startswith(old_path), Place.id != root_id)
        .values(path=literal(new_path, String).concat(rest))
        .execution_options(synchronize_session=False)
    )
    await session.execute(stmt)


async def usage(session: AsyncSession, place_id: int) -> dict[str, int]:
    """What points at the place, by kind (only non-zero kinds)."""
    counts = {
        "events": select(func.count()).where(Event.place_id == place_id),
        "territory changes": select(func.count()).where(TerritoryChange.place_id == place_id),
        "places inside it": select(func.count()).where(Place.parent_id == place_id),
    }
    result: dict[str, int] = {}
    for what, stmt in counts.items():
        n = int((await session.execute(stmt)).scalar_one())
        if n:
            result[what] = n
    return result


async def delete_place(session: AsyncSession, place_id: int) -> None:
    await session.execute(delete(Place).where(Place.id == place_id))


def event_ids_showing(place_id: int) -> CompoundSelect[Any]:
    """Ids of the events that show the place: where they happened, or a territory they name."""
    return event_ids_showing_any([place_id])


def event_ids_showing_any(place_ids: Sequence[int]) -> CompoundSelect[Any]:
    """Ids of the events that show any of these places (see event_ids_showing)."""
    return union(
        select(Event.id).where(Event.place_id.in_(list(place_ids))),
        select(TerritoryChange.event_id).where(TerritoryChange.place_id.in_(list(place_ids))),
    )
