"""Actor use cases: names and aliases unique across all actors, affiliations without cycles."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.actors import repository
from app.actors.repository import ActorFilter
from app.actors.schemas import ActorCreate, ActorPatch, ActorQuery, ActorRead
from app.core.errors import Conflict, Invalid, NotFound
from app.core.etag import IfMatch
from app.core.names import fold_name
from app.core.preconditions import require_current
from app.core.unique import unique_or_conflict
from app.events import history
from app.models import Actor, ActorAlias

# Affiliation chains are short; this only stops a walk through corrupt data.
_MAX_DEPTH = 1000
# What a PATCH sets as given (aliases are replaced separately).
_FIELDS = ("name", "actor_type", "country_code", "parent_id", "affiliation", "description")
# What an event shows of its actors (app/events/serialize.py): a change puts their events back
# into the change feed.
_SHOWN_ON_EVENTS = {"name", "actor_type", "country_code"}


def _clean_aliases(name: str, aliases: list[str]) -> list[str]:
    """Aliases without repeats and without the actor's own name (it is reserved anyway)."""
    seen = {fold_name(name)}
    kept = []
    for alias in aliases:
        key = fold_name(alias)
        if key not in seen:
            seen.add(key)
            kept.append(alias)
    return kept


async def _check_names_free(
    session: AsyncSession, name: str, aliases: list[str], actor_id: int | None
) -> None:
    keys = [fold_name(name), *(fold_name(a) for a in aliases)]
    taken = await repository.names_taken(session, keys, exclude_actor_id=actor_id)
    if taken:
        listed = ", ".join(repr(t) for t in taken)
        raise Conflict(
            f"{listed} already names another actor (as its name or an alias)", code="duplicate"
        )


def _race_detail(name: str, aliases: list[str]) -> str:
    """What a unique index refused, when another write took a name since the check above."""
    what = f"the name {name!r}" + (" or one of the aliases" if aliases else "")
    return f"{what} already names another actor (as its name or an alias)"


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


async def represent_actor(session: AsyncSession, actor_id: int) -> dict[str, Any]:
    """An actor as GET shows it (its ETag is the hash of this)."""
    return ActorRead.model_validate(await get_actor(session, actor_id)).model_dump(mode="json")


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
    actor.aliases = [ActorAlias(alias=a) for a in aliases]
    async with unique_or_conflict(session, _race_detail(data.name, aliases)):
        session.add(actor)
    return await get_actor(session, actor.id)


async def _drop_aliases(session: AsyncSession, actor_id: int, aliases: list[str]) -> None:
    """Delete the alias rows whose key is not among `aliases`; respell the ones that stay."""
    wanted = {fold_name(a): a for a in aliases}
    existing = await repository.alias_rows(session, actor_id)
    await repository.delete_aliases(session, [r.id for r in existing if r.alias_key not in wanted])
    for row in existing:
        if row.alias_key in wanted:
            row.alias = wanted[row.alias_key]


async def _add_aliases(session: AsyncSession, actor_id: int, aliases: list[str]) -> None:
    """Insert the aliases the actor does not have yet."""
    have = {r.alias_key for r in await repository.alias_rows(session, actor_id)}
    session.add_all(
        ActorAlias(actor_id=actor_id, alias=a) for a in aliases if fold_name(a) not in have
    )


async def update_actor(
    session: AsyncSession, actor_id: int, patch: ActorPatch, *, if_match: IfMatch | None = None
) -> Actor:
    await require_current(
        session, Actor, actor_id, "actor", if_match, lambda: represent_actor(session, actor_id)
    )
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
    new_aliases = [a.alias for a in actor.aliases] != aliases
    async with unique_or_conflict(session, _race_detail(name, aliases)):
        # Every folded name is held by one row at a time (actor_name_keys): aliases that go are
        # deleted before the name changes (it may become one of them), new ones are added after
        # (one may be the old name).
        if new_aliases:
            await _drop_aliases(session, actor.id, aliases)
        for field in _FIELDS:
            if field in fields:
                setattr(actor, field, getattr(patch, field))
        await session.flush()
        if new_aliases:
            await _add_aliases(session, actor.id, aliases)
    if fields & _SHOWN_ON_EVENTS:
        await history.touch_events(session, repository.event_ids_showing(actor.id))
    return await get_actor(session, actor.id)


async def delete_actor(
    session: AsyncSession, actor_id: int, *, if_match: IfMatch | None = None
) -> None:
    """Delete an actor no event record mentions; its affiliates lose their parent."""
    await require_current(
        session, Actor, actor_id, "actor", if_match, lambda: represent_actor(session, actor_id)
    )
    await get_actor(session, actor_id)
    usage = await repository.usage(session, actor_id)
    if usage:
        listed = ", ".join(f"{n} {what}" for what, n in usage.items())
        raise Conflict(f"actor {actor_id} is referenced by {listed}", code="in_use")
    await repository.delete_actor(session, actor_id)
