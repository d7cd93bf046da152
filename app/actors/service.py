"""Actor use cases: names and aliases unique across all actors, affiliations without cycles."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.actors import repository
from app.actors.repository import ActorFilter, alias_key
from app.actors.schemas import ActorCreate, ActorPatch, ActorQuery
from app.core.errors import Conflict, Invalid, NotFound
from app.models import Actor, ActorAlias

# Affiliation chains are short; this only stops a walk through corrupt data.
_MAX_DEPTH = 1000


def _clean_aliases(name: str, aliases: list[str]) -> list[str]:
    """Aliases without repeats and without the actor's own name (it is reserved anyway)."""
    seen = {alias_key(name)}
    kept = []
    for alias in aliases:
        key = alias_key(alias)
        if key not in seen:
            seen.add(key)
            kept.append(alias)
    return kept


async def _check_names_free(
    session: AsyncSession, name: str, aliases: list[str], actor_id: int | None
) -> None:
    keys = [alias_key(name), *(alias_key(a) for a in aliases)]
    taken = await repository.names_taken(session, keys, exclude_actor_id=actor_id)
    if taken:
        listed = ", ".join(repr(t) for t in taken)
        raise Conflict(
            f"{listed} already names another actor (as its name or an alias)", code="duplicate"
        )


async def _check_parent(session: AsyncSession, own_id: int | None, parent_id: int) -> None:
    """The parent exists and is not `own_id` itself or one of its affiliates."""
    if await repository.get_plain(session, parent_id) is None:
        raise Invalid(["body", "parent_id"], f"actor {parent_id} does not exist")
    if own_id is None:
        return
    current: int | None = parent_id
    for _ in range(_MAX_DEPTH):
        if current is None:
            return
        if current == own_id:
            raise Invalid(["body", "parent_id"], "an actor cannot be affiliated with itself")
        current = await repository.parent_id_of(session, current)


async def get_actor(session: AsyncSession, actor_id: int) -> Actor:
    actor = await repository.get(session, actor_id)
    if actor is None:
        raise NotFound("actor", actor_id)
    return actor


async def resolve_actor(session: AsyncSession, name: str) -> Actor:
    """The actor known by `name`, as its name or any alias."""
    found = await repository.find_by_name_or_alias(session, name)
    if found is None:
        raise NotFound("actor named", name)
    return await get_actor(session, found.id)


async def list_actors(
    session: AsyncSession, query: ActorQuery, after_id: int | None
) -> tuple[list[Actor], int | None]:
    """One more actor than asked for (so the caller knows a next page exists), and the count."""
    where = ActorFilter(
        q=query.q,
        actor_types=query.actor_type,
        country_codes=query.country_code,
        parent_id=query.parent_id,
    )
    rows = await repository.list_page(session, where, after_id=after_id, limit=query.limit + 1)
    total = await repository.count(session, where) if query.total else None
    return rows, total


async def create_actor(session: AsyncSession, data: ActorCreate) -> Actor:
    aliases = _clean_aliases(data.name, data.aliases)
    await _check_names_free(session, data.name, aliases, None)
    if data.parent_id is not None:
        await _check_parent(session, None, data.parent_id)
    actor = Actor(
        name=data.name,
        actor_type=data.actor_type,
        country_code=data.country_code,
        parent_id=data.parent_id,
        affiliation=data.affiliation,
        description=data.description,
    )
    session.add(actor)
    await session.flush()
    session.add_all(ActorAlias(actor_id=actor.id, alias=a, alias_key=alias_key(a)) for a in aliases)
    await session.flush()
    return await get_actor(session, actor.id)


async def _replace_aliases(session: AsyncSession, actor_id: int, aliases: list[str]) -> None:
    """Keep the rows whose key stays, drop the rest, add the new ones (deletes flushed first)."""
    wanted = {alias_key(a): a for a in aliases}
    existing = await repository.alias_rows(session, actor_id)
    await repository.delete_aliases(session, [r.id for r in existing if r.alias_key not in wanted])
    kept = {r.alias_key: r for r in existing if r.alias_key in wanted}
    for key, alias in wanted.items():
        if key in kept:
            kept[key].alias = alias
        else:
            session.add(ActorAlias(actor_id=actor_id, alias=alias, alias_key=key))
    await session.flush()


async def update_actor(session: AsyncSession, actor_id: int, patch: ActorPatch) -> Actor:
    actor = await get_actor(session, actor_id)
    fields = patch.model_fields_set
    name = patch.name if patch.name is not None else actor.name
    if patch.aliases is not None:
        aliases = _clean_aliases(name, patch.aliases)
    else:
        aliases = _clean_aliases(name, [a.alias for a in actor.aliases])
    await _check_names_free(session, name, aliases, actor.id)
    if patch.parent_id is not None:
        await _check_parent(session, actor.id, patch.parent_id)
    for field in ("name", "actor_type", "country_code", "parent_id", "affiliation", "description"):
        if field in fields:
            setattr(actor, field, getattr(patch, field))
    await session.flush()
    if [a.alias for a in actor.aliases] != aliases:
        await _replace_aliases(session, actor.id, aliases)
    return await get_actor(session, actor.id)


async def delete_actor(session: AsyncSession, actor_id: int) -> None:
    """Delete an actor no event record mentions; its affiliates lose their parent."""
    await get_actor(session, actor_id)
    usage = await repository.usage(session, actor_id)
    if usage:
        listed = ", ".join(f"{n} {what}" for what, n in usage.items())
        raise Conflict(f"actor {actor_id} is referenced by {listed}", code="in_use")
    await repository.delete_actor(session, actor_id)
