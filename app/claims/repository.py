"""Every SQL statement of the claims domain."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, selectinload

from app.models import Campaign, CasualtyFigure, Claim, Document, Event, Source

# A claim is read with its source, relay and the casualty figures it gives.
_READ_OPTIONS = (
    joinedload(Claim.source),
    joinedload(Claim.via_source),
    selectinload(Claim.casualties),
)

_ENTITIES: dict[str, Any] = {
    "event": Event,
    "campaign": Campaign,
    "source": Source,
    "document": Document,
    "claim": Claim,
}


async def exists(session: AsyncSession, what: str, entity_id: int) -> bool:
    """Whether the event/campaign/source/document/claim with this id exists."""
    model = _ENTITIES[what]
    stmt = select(model.id).where(model.id == entity_id)
    return (await session.execute(stmt)).first() is not None


async def get(session: AsyncSession, claim_id: int) -> Claim | None:
    stmt = (
        select(Claim)
        .where(Claim.id == claim_id)
        .options(*_READ_OPTIONS)
        .execution_options(populate_existing=True)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def lock(session: AsyncSession, claim_id: int) -> Claim | None:
    """The claim, row-locked until commit (PostgreSQL; SQLite's writer holds the database)."""
    stmt = (
        select(Claim)
        .where(Claim.id == claim_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def casualties_of(session: AsyncSession, claim_id: int) -> list[CasualtyFigure]:
    stmt = (
        select(CasualtyFigure)
        .where(CasualtyFigure.claim_id == claim_id)
        .order_by(CasualtyFigure.id)
        .execution_options(populate_existing=True)
    )
    return list((await session.execute(stmt)).scalars())


async def list_for_campaign(session: AsyncSession, campaign_id: int) -> list[Claim]:
    stmt = (
        select(Claim)
        .where(Claim.campaign_id == campaign_id)
        .order_by(Claim.id)
        .options(*_READ_OPTIONS)
    )
    return list((await session.execute(stmt)).scalars().all())


@dataclass(frozen=True)
class ClaimFilter:
    """What a list of claims is narrowed to; empty lists mean no restriction."""

    event_ids: Sequence[int] = field(default_factory=list)
    campaign_ids: Sequence[int] = field(default_factory=list)
    source_ids: Sequence[int] = field(default_factory=list)
    kinds: Sequence[str] = field(default_factory=list)
    grades: Sequence[str] = field(default_factory=list)

    def conditions(self) -> list[ColumnElement[bool]]:
        conds: list[ColumnElement[bool]] = []
        if self.event_ids:
            conds.append(Claim.event_id.in_(list(self.event_ids)))
        if self.campaign_ids:
            conds.append(Claim.campaign_id.in_(list(self.campaign_ids)))
        if self.source_ids:
            conds.append(Claim.source_id.in_(list(self.source_ids)))
        if self.kinds:
            conds.append(Claim.kind.in_(list(self.kinds)))
        if self.grades:
            conds.append(Claim.grade.in_(list(self.grades)))
        return conds


async def list_page(
    session: AsyncSession, where: ClaimFilter, *, after_id: int | None, limit: int
) -> list[Claim]:
    stmt = (
        select(Claim)
        .where(*where.conditions())
        .order_by(Claim.id)
        .limit(limit)
        .options(*_READ_OPTIONS)
    )
    if after_id is not None:
        stmt = stmt.where(Claim.id > after_id)
    return list((await session.execute(stmt)).scalars().all())


async def count(session: AsyncSession, where: ClaimFilter) -> int:
    stmt = select(func.count()).select_from(Claim).where(*where.conditions())
    return int((await session.execute(stmt)).scalar_one())


async def delete_claim(session: AsyncSession, claim_id: int) -> None:
    await session.execute(delete(Claim).where(Claim.id == claim_id))
