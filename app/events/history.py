"""Traceability: versions, revisions, tombstones and the change sequence, in one place.

Every write that changes an event, or anything it owns (claims, figures, actor links, territory,
materiel, airspace, tags, campaign links), ends with `record_change` for each event it touched,
after every row lock it takes. Within one transaction an event's version rises exactly once,
however many of its parts changed; the revision of that version holds the event as committed.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from sqlalchemy import CompoundSelect, Connection, Select, select, text, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.claims.figures import refresh_event_figures
from app.events import repository
from app.events.serialize import event_dict
from app.models import ChangeCounter, Event, EventRevision, EventTombstone
from app.models.base import utcnow
from app.places.repository import event_ids_showing_any

_SEQ = "conflictdb.change_seq"
_BUMPED = "conflictdb.bumped"
_RECORDED = "conflictdb.recorded"


def _recorded(session: AsyncSession) -> dict[int, Any]:
    entry = session.info.get(_RECORDED)
    if entry is None or entry[0] is not session.sync_session.get_transaction():
        return {}
    snapshots: dict[int, Any] = entry[1]
    return snapshots


def recorded(session: AsyncSession, event_id: int) -> dict[str, Any] | None:
    """The event as this transaction's last `record_change` left it (its GET representation),
    so that a write's answer need not load it again."""
    snapshot: dict[str, Any] | None = _recorded(session).get(event_id)
    return snapshot


def _tx_cache(session: AsyncSession, key: str) -> dict[int, EventRevision] | None:
    """Per-transaction memo in session.info, forgotten when the transaction changes."""
    tx = session.sync_session.get_transaction()
    entry = session.info.get(key)
    if entry is None or entry[0] is not tx:
        return None
    cache: dict[int, EventRevision] = entry[1]
    return cache


async def change_seq(session: AsyncSession) -> int:
    """A position in the change feed for what this transaction writes now.

    PostgreSQL: the transaction's id (the same for all it writes). The feed serves only
    positions below the oldest transaction still running, so a change is served once it and
    every change before it have ended, whatever the commit order (app/changes/service.py).
    SQLite: a counter, bumped at each call; one writer at a time makes its order the commit
    order, and a savepoint rolled back takes its bump with it.
    """
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        return int((await session.execute(_sqlite_bump())).scalar_one())
    tx = session.sync_session.get_transaction()
    entry = session.info.get(_SEQ)
    if entry is not None and entry[0] is tx:
        return int(entry[1])
    seq = int((await session.execute(_PG_SEQ)).scalar_one())
    session.info[_SEQ] = (tx, seq)
    return seq


_PG_SEQ = text("SELECT pg_current_xact_id()::text::bigint")


def _sqlite_bump() -> Any:
    bump = sqlite_insert(ChangeCounter).values(id=1, value=1)
    bump = bump.on_conflict_do_update(
        index_elements=[ChangeCounter.id], set_={"value": ChangeCounter.value + 1}
    )
    return bump.returning(ChangeCounter.value)


async def lock_events(session: AsyncSession, event_ids: Iterable[int]) -> set[int]:
    """Row-lock these events until commit (PostgreSQL), in id order; returns those that exist.

    SQLite needs no row lock: a write transaction there holds the database's write lock from
    its first statement (BEGIN IMMEDIATE).
    """
    ids = sorted(set(event_ids))
    if not ids:
        return set()
    stmt = select(Event.id).where(Event.id.in_(ids)).order_by(Event.id).with_for_update()
    return set((await session.execute(stmt)).scalars())


async def record_change(
    session: AsyncSession, event_id: int, operation: str, api_key_id: int | None
) -> EventRevision:
    """The event's version rises by one (once per transaction), its revision records it.

    `create` keeps version 1. Flushes first, so the snapshot is the event as it now stands;
    the event's figure follows its claims' (app/claims/figures.py).
    """
    await session.flush()
    await refresh_event_figures(session, [event_id])
    tx = session.sync_session.get_transaction()
    bumped = _tx_cache(session, _BUMPED)
    if bumped is None:
        bumped = {}
        session.info[_BUMPED] = (tx, bumped)
    seq = await change_seq(session)
    revision = bumped.get(event_id)
    if revision is not None and revision not in session:
        revision = None  # its savepoint was rolled back
    if revision is None:
        values: dict[str, object] = {"updated_at": utcnow(), "change_seq": seq}
        if operation != "create":
            values["version"] = Event.version + 1
        await session.execute(update(Event).where(Event.id == event_id).values(**values))
    full = await repository.get_event_full(session, event_id, populate_existing=True)
    assert full is not None
    if revision is None:
        revision = EventRevision(
            event_id=event_id,
            version=full.version,
            operation=operation,
            api_key_id=api_key_id,
            changed_at=full.updated_at,
        )
        session.add(revision)
        bumped[event_id] = revision
    revision.snapshot = event_dict(full)
    session.info[_RECORDED] = (tx, {**_recorded(session), event_id: revision.snapshot})
    await session.flush()
    return revision


async def touch_events(session: AsyncSession, event_ids: Select[Any] | CompoundSelect[Any]) -> None:
    """Events that show a record whose shown fields changed (an actor's name, a place's
    coordinates, a source's name, a campaign's name) go back into the change feed: their
    `change_seq` moves to this transaction's. Their version and revisions stay: the event's own
    content was not edited, and its strong ETag (a hash of the body) changes by itself."""
    seq = await change_seq(session)
    await session.execute(
        update(Event)
        .where(Event.id.in_(event_ids))
        .values(change_seq=seq)
        .execution_options(synchronize_session=False)
    )


def touch_events_on(conn: Connection, event_ids: Select[Any] | CompoundSelect[Any]) -> None:
    """`touch_events` on a synchronous connection, in its transaction (the gazetteer's pass of
    an import relabels places that earlier events show)."""
    bump = _PG_SEQ if conn.dialect.name == "postgresql" else _sqlite_bump()
    seq = int(conn.execute(bump).scalar_one())
    conn.execute(
        update(Event)
        .where(Event.id.in_(event_ids))
        .values(change_seq=seq)
        .execution_options(synchronize_session=False)
    )


# Places whose events are touched per statement (each id is a bound parameter, twice).
TOUCH_CHUNK = 5_000


def touch_events_of_places(conn: Connection, place_ids: Collection[int]) -> None:
    """`touch_events_on` the events that show any of these places (a place relabelled by
    the gazetteer, given coordinates by an import), TOUCH_CHUNK places a statement."""
    shown = sorted(place_ids)
    for start in range(0, len(shown), TOUCH_CHUNK):  # bound parameters: ~32k at most
        touch_events_on(conn, event_ids_showing_any(shown[start : start + TOUCH_CHUNK]))


async def record_deletion(
    session: AsyncSession, event: Event, api_key_id: int | None, reason: str | None = None
) -> EventTombstone:
    """The tombstone a syncing client reads, and a last revision with the deleted content;
    the event leaves its incident (app/links)."""
    from app.links.service import forget_event  # app.links reads events; imported late

    await forget_event(session, event.id)
    full = await repository.get_event_full(session, event.id)
    snapshot = event_dict(full) if full is not None else None
    seq = await change_seq(session)
    now = utcnow()
    session.add(
        EventRevision(
            event_id=event.id,
            version=event.version + 1,
            operation="delete",
            api_key_id=api_key_id,
            snapshot=snapshot,
            changed_at=now,
        )
    )
    tombstone = EventTombstone(
        event_id=event.id,
        dataset=event.dataset,
        external_id=event.external_id,
        deleted_at=now,
        reason=reason,
        change_seq=seq,
    )
    session.add(tombstone)
    return tombstone


async def list_revisions(session: AsyncSession, event_id: int) -> list[EventRevision]:
    stmt = (
        select(EventRevision)
        .where(EventRevision.event_id == event_id)
        .order_by(EventRevision.version, EventRevision.id)
    )
    return list((await session.execute(stmt)).scalars())
