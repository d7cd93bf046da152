"""Every SQL statement of the actors domain."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Select,
    delete,
    exists,
    func,
    or_,
    select,
    union,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.core.names import fold_name
from app.models import (
    Actor,
    ActorAlias,
    ActorNameKey,
    AirspaceViolation,
    CasualtyFigure,
    EventActor,
    MaterielLoss,
    TerritoryChange,
)


async def find_by_name_or_alias(session: AsyncSession, name: str) -> Actor | None:
    """The actor whose name or any alias folds like `name` (one primary-key lookup)."""
    stmt = (
        select(Actor)
        .join(ActorNameKey, ActorNameKey.actor_id == Actor.id)
        .where(ActorNameKey.name_key == fold_name(name))
    )
    return (await session.execute(stmt)).scalars().first()


def ids_matching_name_or_alias_stmt(names: list[str]) -> Select[int]:
    """A SELECT of actor ids whose name or alias is any of `names` (for event filters)."""
    keys = sorted({fold_name(n) for n in names})
    return select(ActorNameKey.actor_id).where(ActorNameKey.name_key.in_(keys))


# What a read shows: the aliases and the parent's name.
_READ_OPTIONS = (selectinload(Actor.aliases), selectinload(Actor.parent))


async def get(session: AsyncSession, actor_id: int) -> Actor | None:
    stmt = (
        select(Actor)
        .where(Actor.id == actor_id)
        .options(*_READ_OPTIONS)
        .execution_options(populate_existing=True)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def get_plain(session: AsyncSession, actor_id: int) -> Actor | None:
    return await session.get(Actor, actor_id)


async def names_taken(
    session: AsyncSession, keys: Sequence[str], exclude_actor_id: int | None = None
) -> list[str]:
    """The keys among `keys` (folded) already used as a name or alias by another actor."""
    if not keys:
        return []
    stmt = select(ActorNameKey.name_key).where(ActorNameKey.name_key.in_(sorted(set(keys))))
    if exclude_actor_id is not None:
        stmt = stmt.where(ActorNameKey.actor_id != exclude_actor_id)
    return sorted((await session.execute(stmt)).scalars().all())


async def alias_rows(session: AsyncSession, actor_id: int) -> list[ActorAlias]:
    stmt = select(ActorAlias).where(ActorAlias.actor_id == actor_id).order_by(ActorAlias.id)
    return list((await session.execute(stmt)).scalars().all())


async def delete_aliases(session: AsyncSession, alias_ids: Sequence[int]) -> None:
    if alias_ids:
        await session.execute(delete(ActorAlias).where(ActorAlias.id.in_(list(alias_ids))))


async def parent_id_of(session: AsyncSession, actor_id: int) -> int | None:
    stmt = select(Actor.parent_id).where(Actor.id == actor_id)
    return (await session.execute(stmt)).scalar_one_or_none()


@dataclass(frozen=True)
class ActorFilter:
    """What a list of actors is narrowed to; empty lists mean no restriction."""

    q: str | None = None
    actor_types: Sequence[int] = field(default_factory=list)
    country_codes: Sequence[str] = field(default_factory=list)
    parent_id: int | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        conds: list[ColumnElement[bool]] = []
        if self.q:
            # The folded keys, so that "école" finds "ÉCOLE" on SQLite too.
            conds.append(
                exists().where(
                    ActorNameKey.actor_id == Actor.id,
                    ActorNameKey.name_key.contains(fold_name(self.q), autoescape=True),
                )
            )
        if self.actor_types:
            conds.append(Actor.actor_type.in_(list(self.actor_types)))
        if self.country_codes:
            conds.append(Actor.country_code.in_(list(self.country_codes)))
        if self.parent_id is not None:
            conds.append(Actor.parent_id == self.parent_id)
        return conds


async def list_page(
    session: AsyncSession, where: ActorFilter, *, after_id: int | None, limit: int
) -> list[Actor]:
    """Up to `limit` actors after `after_id` in id order, with aliases and parent loaded."""
    stmt = (
        select(Actor)
        .where(*where.conditions())
        .order_by(Actor.id)
        .limit(limit)
        .options(*_READ_OPTIONS)
    )
    if after_id is not None:
        stmt = stmt.where(Actor.id > after_id)
    return list((await session.execute(stmt)).scalars().all())


async def count(session: AsyncSession, where: ActorFilter) -> int:
    stmt = select(func.count()).select_from(Actor).where(*where.conditions())
    return int((await session.execute(stmt)).scalar_one())


async def usage(session: AsyncSession, actor_id: int) -> dict[str, int]:
    """How many event records point at the actor, by kind (only non-zero kinds)."""
    counts = {
        "event roles": select(func.count()).where(EventActor.actor_id == actor_id),
        "casualty figures": select(func.count()).where(CasualtyFigure.actor_id == actor_id),
        "territory changes": select(func.count()).where(
            or_(
                TerritoryChange.gained_by_actor_id == actor_id,
                TerritoryChange.lost_by_actor_id == actor_id,
            )
        ),
        "materiel losses": select(func.count()).where(MaterielLoss.owner_actor_id == actor_id),
        "airspace violations": select(func.count()).where(
            AirspaceViolation.violating_actor_id == actor_id
        ),
    }
    result: dict[str, int] = {}
    for what, stmt in counts.items():
        n = int((await session.execute(stmt)).scalar_one())
        if n:
            result[what] = n
    return result


def event_ids_showing(actor_id: int) -> CompoundSelect[Any]:
    """Ids of the events that show the actor: in a role, or named by one of their records."""
    return union(
        select(EventActor.event_id).where(EventActor.actor_id == actor_id),
        select(CasualtyFigure.event_id).where(CasualtyFigure.actor_id == actor_id),
        select(TerritoryChange.event_id).where(
            or_(
                TerritoryChange.gained_by_actor_id == actor_id,
                TerritoryChange.lost_by_actor_id == actor_id,
            )
        ),
        select(MaterielLoss.event_id).where(MaterielLoss.owner_actor_id == actor_id),
        select(AirspaceViolation.event_id).where(AirspaceViolation.violating_actor_id == actor_id),
    )


async def delete_actor(session: AsyncSession, actor_id: int) -> None:
    """Delete in SQL: the database cascades the aliases and detaches affiliates."""
    await session.execute(delete(Actor).where(Actor.id == actor_id))
