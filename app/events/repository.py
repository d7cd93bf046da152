"""Every SQL statement of the events domain."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Select, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import selectinload
from sqlalchemy.sql.elements import ColumnElement

from app.core.db import Reader, driver_rows
from app.core.names import fold_name
from app.core.statements import Kept, compiled_once
from app.models import (
    AirspaceViolation,
    Campaign,
    CasualtyFigure,
    Claim,
    Event,
    EventActor,
    MaterielLoss,
    TerritoryChange,
)

FULL_LOAD = (
    selectinload(Event.sub_event_type),
    selectinload(Event.place),
    selectinload(Event.tags),
    selectinload(Event.actors).selectinload(EventActor.actor),
    selectinload(Event.claims).selectinload(Claim.source),
    selectinload(Event.claims).selectinload(Claim.via_source),
    selectinload(Event.casualties).selectinload(CasualtyFigure.actor),
    selectinload(Event.territory_changes).selectinload(TerritoryChange.place),
    selectinload(Event.territory_changes).selectinload(TerritoryChange.gained_by),
    selectinload(Event.territory_changes).selectinload(TerritoryChange.lost_by),
    selectinload(Event.materiel_losses).selectinload(MaterielLoss.owner),
    selectinload(Event.airspace_violations).selectinload(AirspaceViolation.violating_actor),
    selectinload(Event.campaigns),
)


async def get_event_by_key(session: AsyncSession, dataset: str, external_id: str) -> Event | None:
    stmt = select(Event).where(Event.dataset == dataset, Event.external_id == external_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def get_event_full(
    session: AsyncSession, event_id: int, *, populate_existing: bool = False
) -> Event | None:
    stmt = select(Event).where(Event.id == event_id).options(*FULL_LOAD)
    if populate_existing:
        stmt = stmt.execution_options(populate_existing=True)
    return (await session.execute(stmt)).scalar_one_or_none()


async def get_event_by_id(session: AsyncSession, event_id: int) -> Event | None:
    return await session.get(Event, event_id)


async def get_event_for_update(session: AsyncSession, event_id: int) -> Event | None:
    """The event with its child collections loaded, so they can be replaced."""
    stmt = (
        select(Event)
        .where(Event.id == event_id)
        .options(
            selectinload(Event.actors),
            selectinload(Event.tags),
            selectinload(Event.claims),
            selectinload(Event.casualties),
            selectinload(Event.territory_changes),
            selectinload(Event.materiel_losses),
            selectinload(Event.airspace_violations),
            selectinload(Event.campaigns),
        )
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def load_events_full(session: AsyncSession, ids: Sequence[int]) -> list[Event]:
    """Full events for a page of ids, in the given order, in a fixed number of queries."""
    if not ids:
        return []
    rows = (
        (await session.execute(select(Event).where(Event.id.in_(ids)).options(*FULL_LOAD)))
        .scalars()
        .all()
    )
    by_id = {e.id: e for e in rows}
    return [by_id[i] for i in ids if i in by_id]


async def page_ids(
    session: Reader,
    build: Callable[[], Select[Any]],
    kept: Kept | None = None,
) -> list[tuple[Any, ...]]:
    """The rows of a page's id statement, `build()`. On PostgreSQL it is compiled through
    SQLAlchemy's cache and run by psycopg (no execution context or result objects); with
    `kept` (a memo and a key that determines the statement), compiled once per key."""
    conn = session if isinstance(session, AsyncConnection) else await session.connection()
    if conn.dialect.name == "postgresql":
        return await driver_rows(conn, *compiled_once(conn, build, kept))
    # On the session's Core connection: the ORM's execute adds ~0.3 ms of CPU for plain rows.
    return [tuple(r) for r in (await conn.execute(build())).all()]


async def fts_matches_at_least(session: Reader, fts5: str, n: int) -> bool:
    """SQLite: whether the FTS5 query `fts5` matches at least `n` events (reads at most n)."""
    stmt = text(
        "SELECT count(*) FROM (SELECT rowid FROM events_fts WHERE events_fts MATCH :q LIMIT :n)"
    )
    return int((await session.execute(stmt, {"q": fts5, "n": n})).scalar_one()) >= n


async def count(session: Reader, where: Sequence[ColumnElement[bool]]) -> int:
    stmt = select(func.count()).select_from(Event).where(*where)
    return int((await session.execute(stmt)).scalar_one())


async def campaigns_by_ids(session: AsyncSession, ids: Sequence[int]) -> list[Campaign]:
    if not ids:
        return []
    return list((await session.execute(select(Campaign).where(Campaign.id.in_(ids)))).scalars())


async def campaigns_by_names(session: AsyncSession, names: Sequence[str]) -> list[Campaign]:
    if not names:
        return []
    keys = [fold_name(n) for n in names]
    stmt = select(Campaign).where(Campaign.name_key.in_(keys))
    return list((await session.execute(stmt)).scalars())


async def claims_by_ids(session: AsyncSession, ids: Sequence[int]) -> dict[int, Claim]:
    if not ids:
        return {}
    rows = (await session.execute(select(Claim).where(Claim.id.in_(ids)))).scalars()
    return {c.id: c for c in rows}


async def delete_event(session: AsyncSession, event: Event) -> None:
    # Children go by ON DELETE CASCADE (passive_deletes), not by loading them.
    await session.delete(event)
