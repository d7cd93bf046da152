"""Writes a unique index may refuse: the refusal is a 409 `duplicate` that says what clashed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import Conflict


def is_unique_violation(exc: IntegrityError) -> bool:
    """Whether a unique index or primary key refused the row (not a foreign key or a check)."""
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if sqlstate is not None:  # PostgreSQL (psycopg)
        return bool(sqlstate == "23505")
    return "unique constraint failed" in str(exc.orig).lower()  # SQLite


@asynccontextmanager
async def unique_or_conflict(session: AsyncSession, detail: str) -> AsyncIterator[None]:
    """Flush what the block adds or changes in a SAVEPOINT; a duplicate key is `Conflict(detail)`.

    Services look for a clash first, for a clear message in the common case; two requests
    racing past that look both reach the index, and the later one ends here (on PostgreSQL the
    index makes it wait for the first to commit, then refuses it; SQLite has one writer, so
    there the look already saw the first). Changes pending before the block are flushed before
    the SAVEPOINT (SQLAlchemy does so), so make them outside or flush them first. The SAVEPOINT
    needs a transaction opened explicitly, as the write engine's are (app/core/db.py): under
    pysqlite's default mode, releasing it would commit everything written so far.
    """
    try:
        async with session.begin_nested():
            yield
            await session.flush()
    except IntegrityError as exc:
        if not is_unique_violation(exc):
            raise
        raise Conflict(detail, code="duplicate") from exc
