"""Traceability: a revision per API change (who, when, what it became); tombstones on delete."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.events import repository
from app.events.serialize import event_dict
from app.models import Event, EventRevision, EventTombstone
from app.models.base import utcnow


async def record_revision(
    session: AsyncSession, event_id: int, operation: str, api_key_id: int | None
) -> EventRevision:
    """Snapshot the event as it now stands (flushes first so the snapshot is current)."""
    await session.flush()
    full = await repository.get_event_full(session, event_id, populate_existing=True)
    assert full is not None
    revision = EventRevision(
        event_id=event_id,
        version=full.version,
        operation=operation,
        api_key_id=api_key_id,
        snapshot=event_dict(full),
        changed_at=utcnow(),
    )
    session.add(revision)
    await session.flush()
    return revision


async def record_deletion(
    session: AsyncSession, event: Event, api_key_id: int | None, reason: str | None = None
) -> EventTombstone:
    """The tombstone a syncing client reads, and a last revision with the deleted content."""
    full = await repository.get_event_full(session, event.id)
    snapshot = event_dict(full) if full is not None else None
    session.add(
        EventRevision(
            event_id=event.id,
            version=event.version + 1,
            operation="delete",
            api_key_id=api_key_id,
            snapshot=snapshot,
            changed_at=utcnow(),
        )
    )
    existing = (
        await session.execute(
            select(EventTombstone).where(
                EventTombstone.dataset == event.dataset,
                EventTombstone.external_id == event.external_id,
            )
        )
    ).scalar_one_or_none()
    if existing is not None:
        existing.event_id, existing.deleted_at, existing.reason = event.id, utcnow(), reason
        return existing
    tombstone = EventTombstone(
        event_id=event.id,
        dataset=event.dataset,
        external_id=event.external_id,
        deleted_at=utcnow(),
        reason=reason,
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
