"""If-Match for the records that are not events: lock the row, compare its representation.

Events and claims have their own (app/events/service.py, app/claims/service.py): a write to
them also locks the event. Here one row is locked (PostgreSQL; SQLite's writer holds the
database) and compared with the ETag of what GET shows, so a stale write is a 412 and two
conditional writes with the same ETag cannot both pass.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import NotFound
from app.core.etag import IfMatch, etag_of


async def lock_row(session: AsyncSession, model: Any, row_id: int) -> bool:
    """Row-lock `model` `row_id` until commit; False if there is no such row."""
    stmt = select(model.id).where(model.id == row_id).with_for_update()
    return (await session.execute(stmt)).first() is not None


async def require_current(
    session: AsyncSession,
    model: Any,
    row_id: int,
    what: str,
    if_match: IfMatch | None,
    represent: Callable[[], Awaitable[Any]],
) -> None:
    """Lock the row; 404 if it is gone, 412 if If-Match names another version of it."""
    if not await lock_row(session, model, row_id):
        raise NotFound(what, row_id)
    if if_match is not None and not if_match.any:
        body = await represent()
        if_match.check(what, etag_of(body), body.get("version"))
