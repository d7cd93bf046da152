"""SQL of the change feed: the horizon, and keyset pages over (change_seq, id)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import ChangeCounter, Event, EventTombstone

Position = tuple[int, int]


# One below the oldest transaction that may still write this database's rows: the oldest one
# running that is not known to belong to another database (pg_stat_activity tells whose an id
# is; one it does not show, or shows without its id, counts as ours), or the next id to be
# handed out. An id's database never changes, so a stale row of pg_stat_activity cannot make
# this too high; a transaction of ours that ends between the two reads only makes it lower.
_PG_HIGH_WATER = text(
    "WITH s AS (SELECT pg_current_snapshot() AS snap) "
    "SELECT LEAST(pg_snapshot_xmax(snap)::text::bigint, ("
    "  SELECT min(x::text::bigint) FROM pg_snapshot_xip(snap) AS x WHERE NOT EXISTS ("
    "    SELECT 1 FROM pg_stat_activity a WHERE a.datname IS DISTINCT FROM current_database() "
    "    AND a.datname IS NOT NULL "
    "    AND a.backend_xid::text::bigint = x::text::bigint % 4294967296))"
    ") - 1 FROM s"
)


async def high_water(session: AsyncSession) -> int:
    """The last position whose every change has ended (committed or rolled back).

    PostgreSQL: one below the oldest transaction that may still be writing here (any that
    commits later has a larger id). SQLite: the counter as this read transaction sees it (one
    writer at a time: every lower position is committed).
    """
    if session.get_bind().dialect.name == "postgresql":
        return int((await session.execute(_PG_HIGH_WATER)).scalar_one())
    value = (
        await session.execute(select(ChangeCounter.value).where(ChangeCounter.id == 1))
    ).scalar_one_or_none()
    return int(value or 0)


async def changed_page(
    session: AsyncSession,
    *,
    since_seq: int | None,
    since: dt.datetime | None,
    upto: int,
    datasets: Sequence[str],
    after: Position | None,
    limit: int,
) -> list[tuple[Any, ...]]:
    """(change_seq, id, dataset, external_id, updated_at) of changed events, in feed order."""
    stmt = select(
        Event.change_seq, Event.id, Event.dataset, Event.external_id, Event.updated_at
    ).where(Event.change_seq <= upto)
    if since_seq is not None:
        stmt = stmt.where(Event.change_seq > since_seq)
    if since is not None:
        stmt = stmt.where(Event.updated_at >= since)
    if datasets:
        stmt = stmt.where(Event.dataset.in_(datasets))
    if after is not None:
        stmt = stmt.where(tuple_(Event.change_seq, Event.id) > tuple_(*after))
    stmt = stmt.order_by(Event.change_seq, Event.id).limit(limit + 1)
    return [tuple(r) for r in (await session.execute(stmt)).all()]


async def deleted_page(
    session: AsyncSession,
    *,
    since_seq: int | None,
    since: dt.datetime | None,
    upto: int,
    datasets: Sequence[str],
    after: Position | None,
    limit: int,
) -> list[EventTombstone]:
    stmt = select(EventTombstone).where(EventTombstone.change_seq <= upto)
    if since_seq is not None:
        stmt = stmt.where(EventTombstone.change_seq > since_seq)
    if since is not None:
        stmt = stmt.where(EventTombstone.deleted_at >= since)
    if datasets:
        stmt = stmt.where(EventTombstone.dataset.in_(datasets))
    if after is not None:
        stmt = stmt.where(tuple_(EventTombstone.change_seq, EventTombstone.id) > tuple_(*after))
    stmt = stmt.order_by(EventTombstone.change_seq, EventTombstone.id).limit(limit + 1)
    return list((await session.execute(stmt)).scalars())
