"""Every SQL statement of the actors domain."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Actor, ActorAlias


def alias_key(name: str) -> str:
    """Case- and space-folded form under which names and aliases are unique."""
    return " ".join(name.casefold().split())


async def find_by_name_or_alias(session: AsyncSession, name: str) -> Actor | None:
    """The actor whose name or any alias matches, ignoring case and extra spaces."""
    key = alias_key(name)
    stmt = (
        select(Actor)
        .outerjoin(ActorAlias, ActorAlias.actor_id == Actor.id)
        .where(or_(func.lower(Actor.name) == key, ActorAlias.alias_key == key))
        .limit(1)
    )
    return (await session.execute(stmt)).scalars().first()


def ids_matching_name_or_alias_stmt(names: list[str]):  # type: ignore[no-untyped-def]
    """A SELECT of actor ids whose name or alias is any of `names` (for event filters)."""
    keys = [alias_key(n) for n in names]
    by_name = select(Actor.id).where(func.lower(Actor.name).in_(keys))
    by_alias = select(ActorAlias.actor_id).where(ActorAlias.alias_key.in_(keys))
    return by_name.union(by_alias)
