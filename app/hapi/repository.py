"""Every SQL statement of the HDX HAPI conflict-events API: monthly counts per place."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.aggregates.repository import bucket_expr
from app.models import Event, Place, SubEventType


async def monthly(
    session: AsyncSession,
    *,
    admin_level: int,
    countries: list[str] | None,
    since: dt.date | None,
    before: dt.date | None,
) -> list[tuple[Any, ...]]:
    """(month start, country, admin1, admin2, disorder type, civilians targeted, events,
    fatalities) per group; admin1/admin2 are NULL above the level asked. The month is
    /v1/aggregates' bucket (by date_start), so both agree."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    month = bucket_expr("month", dialect)
    admin1 = Place.admin1 if admin_level >= 1 else None
    admin2 = Place.admin2 if admin_level >= 2 else None
    keys: list[Any] = [
        month,
        Place.country_code,
        *(c for c in (admin1, admin2) if c is not None),
        SubEventType.disorder_type,
        Event.civilian_targeting,
    ]
    stmt = (
        select(*keys, func.count(Event.id), func.sum(func.coalesce(Event.fatalities_best, 0)))
        .select_from(Event)
        .join(Place, Place.id == Event.place_id)
        .join(SubEventType, SubEventType.code == Event.sub_event_type_code)
        .group_by(*keys)
    )
    if countries is not None:
        stmt = stmt.where(Place.country_code.in_(countries))
    if since is not None:
        stmt = stmt.where(Event.date_start >= since)
    if before is not None:
        stmt = stmt.where(Event.date_start < before)
    out = []
    for r in await session.execute(stmt):
        values = list(r)
        head = values[:2]
        admins = values[2 : 2 + admin_level]
        admins += [None] * (2 - admin_level)
        out.append((*head, *admins, *values[2 + admin_level :]))
    return out
