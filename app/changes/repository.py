"""SQL of the change feed: keyset pages over (updated_at, id) and (deleted_at, id)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Event, EventTombstone


async def changed_page(
    session: AsyncSession,
    since: dt.datetime | None,
    datasets: Sequence[str],
    after: tuple[dt.datetime, int] | None,
    limit: int,
) -> list[tuple[Any, ...]]:
    stmt = select(Event.updated_at, Event.id, Event.dataset, Event.external_id)
    if since is not None:
        stmt = stmt.where(Event.updated_at >= since)
    if datasets:
        stmt = stmt.where(Event.dataset.in_(datasets))
    if after is not None:
        stmt = stmt.where(tuple_(Event.updated_at, Event.id) > tuple_(*after))
    stmt = stmt.order_by(Event.updated_at, Event.id).limit(limit + 1)
    return [tuple(r) for r in (await session.execute(stmt)).all()]


async def deleted_page(
    session: AsyncSession,
    since: dt.datetime | None,
    datasets: Sequence[str],
    after: tuple[dt.datetime, int] | None,
    limit: int,
) -> list[EventTombstone]:
    stmt = select(EventTombstone)
    if since is not None:
        stmt = stmt.where(EventTombstone.deleted_at >= since)
    if datasets:
        stmt = stmt.where(EventTombstone.dataset.in_(datasets))
    if after is not None:
        stmt = stmt.where(tuple_(EventTombstone.deleted_at, EventTombstone.id) > tuple_(*after))
    stmt = stmt.order_by(EventTombstone.deleted_at, EventTombstone.id).limit(limit + 1)
    return list((await session.execute(stmt)).scalars())
