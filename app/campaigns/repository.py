"""Every SQL statement of the campaigns domain."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, delete, exists, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.core.names import fold_name
from app.models import Actor, Campaign, Claim, Event, campaign_events


async def get(session: AsyncSession, campaign_id: int) -> Campaign | None:
    stmt = (
        select(Campaign)
        .where(Campaign.id == campaign_id)
        .options(selectinload(Campaign.initiator))
        .execution_options(populate_existing=True)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def name_taken(session: AsyncSession, name: str, exclude_id: int | None) -> bool:
    stmt = select(Campaign.id).where(Campaign.name_key == fold_name(name))
    if exclude_id is not None:
        stmt = stmt.where(Campaign.id != exclude_id)
    return (await session.execute(stmt.limit(1))).first() is not None


async def actor_exists(session: AsyncSession, actor_id: int) -> bool:
    stmt = select(Actor.id).where(Actor.id == actor_id)
    return (await session.execute(stmt)).first() is not None


async def existing_event_ids(session: AsyncSession, event_ids: Sequence[int]) -> set[int]:
    found: set[int] = set()
    unique = sorted(set(event_ids))
    # Chunked: SQLite caps the number of bound parameters in one statement.
    for start in range(0, len(unique), 500):
        chunk = unique[start : start + 500]
        rows = await session.execute(select(Event.id).where(Event.id.in_(chunk)))
        found.update(rows.scalars())
    return found


async def event_ids_of(session: AsyncSession, campaign_id: int) -> set[int]:
    stmt = select(campaign_events.c.event_id).where(campaign_events.c.campaign_id == campaign_id)
    return set((await session.execute(stmt)).scalars())


async def set_events(session: AsyncSession, campaign_id: int, event_ids: Sequence[int]) -> None:
    """Make `event_ids` the campaign's events."""
    await session.execute(
        delete(campaign_events).where(campaign_events.c.campaign_id == campaign_id)
    )
    rows = [{"campaign_id": campaign_id, "event_id": e} for e in sorted(set(event_ids))]
    if rows:
        await session.execute(insert(campaign_events), rows)


async def events_of(session: AsyncSession, campaign_id: int) -> Sequence[Row[int, dt.date, str]]:
    """The campaign's events as (id, date_start, summary) rows, by date."""
    stmt = (
        select(Event.id, Event.date_start, Event.summary)
        .join(campaign_events, campaign_events.c.event_id == Event.id)
        .where(campaign_events.c.campaign_id == campaign_id)
        .order_by(Event.date_start, Event.id)
    )
    return (await session.execute(stmt)).all()


async def event_counts(session: AsyncSession, campaign_ids: Sequence[int]) -> dict[int, int]:
    if not campaign_ids:
        return {}
    stmt = (
        select(campaign_events.c.campaign_id, func.count())
        .where(campaign_events.c.campaign_id.in_(list(campaign_ids)))
        .group_by(campaign_events.c.campaign_id)
    )
    return {int(cid): int(n) for cid, n in await session.execute(stmt)}


@dataclass(frozen=True)
class CampaignFilter:
    """What a list of campaigns is narrowed to; empty lists mean no restriction."""

    q: str | None = None
    initiator_ids: Sequence[int] = field(default_factory=list)
    event_id: int | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        conds: list[ColumnElement[bool]] = []
        if self.q:
            conds.append(Campaign.name_key.contains(fold_name(self.q), autoescape=True))
        if self.initiator_ids:
            conds.append(Campaign.initiator_actor_id.in_(list(self.initiator_ids)))
        if self.event_id is not None:
            conds.append(
                exists().where(
                    campaign_events.c.campaign_id == Campaign.id,
                    campaign_events.c.event_id == self.event_id,
                )
            )
        return conds


async def list_page(
    session: AsyncSession, where: CampaignFilter, *, after_id: int | None, limit: int
) -> list[Campaign]:
    stmt = (
        select(Campaign)
        .where(*where.conditions())
        .order_by(Campaign.id)
        .limit(limit)
        .options(selectinload(Campaign.initiator))
    )
    if after_id is not None:
        stmt = stmt.where(Campaign.id > after_id)
    return list((await session.execute(stmt)).scalars().all())


async def count(session: AsyncSession, where: CampaignFilter) -> int:
    stmt = select(func.count()).select_from(Campaign).where(*where.conditions())
    return int((await session.execute(stmt)).scalar_one())


async def claim_count(session: AsyncSession, campaign_id: int) -> int:
    stmt = select(func.count()).where(Claim.campaign_id == campaign_id)
    return int((await session.execute(stmt)).scalar_one())


async def delete_campaign(session: AsyncSession, campaign_id: int) -> None:
    await session.execute(delete(Campaign).where(Campaign.id == campaign_id))


def event_ids_in(campaign_id: int) -> Select[Any]:
    """Ids of the campaign's events (each shows the campaign's name)."""
    return select(campaign_events.c.event_id).where(campaign_events.c.campaign_id == campaign_id)
