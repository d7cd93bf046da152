"""Event list use cases: one keyset page as JSON, or every matching event streamed as a file.

The route negotiates the format and wraps what these return in a response; the SQL is built by
`queries` (filters, order, seek), `listing` (a page's rows) and the export modules.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.sql.elements import ColumnElement

from app.core.doccache import DocCache
from app.core.errors import NotFound
from app.core.pagination import decode_cursor, encode_cursor
from app.core.statements import StatementMemo
from app.events import history, repository
from app.events.listing import load_event_dicts, load_event_documents
from app.events.page_json import load_page_text
from app.events.queries import (
    EventFilters,
    QueryContext,
    conditions,
    cursor_payload,
    keyset_page,
    ordered,
)
from app.events.search import MEMBERSHIP_FROM, fts5_query
from app.exports.acled_pg import (
    SET_BASED_FROM_ROWS,
    at_least,
    copy_csv,
    inner_columns,
    join_lists,
)
from app.exports.rows import export_columns, stream_export_rows
from app.exports.stream import MEDIA_TYPES, csv_head, export_stream, prefixed
from app.models import EventRevision


@dataclass(frozen=True)
class EventListPage:
    """One page of the list: its items, the cursor of the next page (None: the last), the count."""

    items: list[dict[str, Any]]
    next_cursor: str | None
    total: int | None
    # The items as one JSON array, when written as such (then `items` is empty).
    items_json: str | bytes | None = None


@dataclass(frozen=True)
class EventExport:
    """A streamed export: its media type, a file name for CSV, and the body's bytes."""

    media_type: str
    filename: str | None
    body: AsyncIterator[bytes]


def _cursor(filters: EventFilters, secret: str) -> dict[str, Any] | None:
    return decode_cursor(secret, filters.cursor) if filters.cursor else None


# Sort orders an index holds on SQLite (dates and id, either way): a page of many full-text
# matches walks it (see search.MEMBERSHIP_FROM).
_INDEXED_ORDERS = frozenset({"date", "-date", "id", "-id"})


async def list_page(
    engine: AsyncEngine,
    filters: EventFilters,
    ctx: QueryContext,
    secret: str,
    docs: DocCache | None = None,
    statements: StatementMemo | None = None,
) -> EventListPage:
    """The page after `filters.cursor` in the total order (sort key, id); a bad cursor is a 400.

    A page of every field (no `fields=`, not by distance) reuses the events `docs` keeps at
    their current change_seq (`core/doccache`). The page's statement is built once for the
    same filters (`statements`, `core/statements`). Its statements run on a connection of
    the read `engine`, returned to the pool as soon as they are done: the ORM session's
    transaction bookkeeping was ~80 us of a ~1.2 ms page, and an export takes none."""
    cursor = _cursor(filters, secret)  # a bad one is refused before a connection is taken
    async with engine.connect() as conn:
        by_membership = False
        if filters.q and ctx.dialect != "postgresql" and filters.sort in _INDEXED_ORDERS:
            include = fts5_query(filters.q).include
            by_membership = include is not None and await repository.fts_matches_at_least(
                conn, include, MEMBERSHIP_FROM
            )

        def where() -> list[ColumnElement[bool]]:
            return conditions(filters, ctx, country_on_event=True, text_by_membership=by_membership)

        # Every field of the filters (the cursor's token too) is in the key: the same key, the same
        # statement. SQLite's membership choice depends on the data: it is in the key as well.
        kept = None
        if statements is not None:
            kept = (statements, ("events.page", by_membership, filters.model_dump_json()))
        rows = await repository.page_ids(
            conn, lambda: keyset_page(filters, where(), cursor, ctx), kept
        )
        has_more = len(rows) > filters.limit
        rows = rows[: filters.limit]
        ids = [r[1] for r in rows]
        with_distance = filters.sort == "distance" and (
            not filters.fields or "distance_km" in filters.fields
        )
        items: list[dict[str, Any]] = []
        items_json: str | bytes | None = None
        if not filters.fields and not with_distance:
            keys = [(r[1], r[2]) for r in rows]
            items_json = await load_event_documents(conn, keys, docs)
        elif ctx.dialect == "postgresql" and not with_distance:
            items_json = await load_page_text(conn, ids, filters.fields)
        if items_json is None:
            items = await load_event_dicts(conn, ids, filters.fields)
        if with_distance:
            for item, row in zip(items, rows, strict=True):
                item["distance_km"] = row[0]
        next_cursor = None
        if has_more:
            next_cursor = encode_cursor(secret, cursor_payload(filters, rows[-1][:2]))
        total = await repository.count(conn, where()) if filters.total else None
        return EventListPage(items, next_cursor, total, items_json)


async def export(
    sessionmaker: async_sessionmaker[AsyncSession],
    filters: EventFilters,
    fmt: str,
    ctx: QueryContext,
    secret: str,
) -> EventExport:
    """Every matching event (or `limit` of them) as csv, geojson or ndjson, in the list's order.

    Without sort= (and without a cursor, which carries its sort) an export comes in id order,
    the order the database reads fastest. A bad cursor is a 400 here, before anything is sent.
    The stream reads through sessions of its own, opened as it is consumed.
    """
    cursor = _cursor(filters, secret)
    where = conditions(filters, ctx)
    if "sort" not in filters.model_fields_set and cursor is None:
        filters = filters.model_copy(update={"sort": "id"})
    capped = "limit" in filters.model_fields_set
    body: AsyncIterator[bytes]
    stmt: Select[Any]
    if fmt == "csv" and filters.shape == "acled" and ctx.dialect == "postgresql":
        # PostgreSQL writes ACLED's CSV itself (COPY): the export runs at the database's speed.
        # A large export in id order joins each list aggregated once; others look them up.
        set_based = (
            filters.sort == "id"
            and not capped
            and await at_least(sessionmaker, where, SET_BASED_FROM_ROWS)
        )
        stmt = ordered(filters, where, cursor, ctx, *inner_columns(set_based), details=True)
        if set_based:
            stmt = join_lists(stmt)
        if capped:
            stmt = stmt.limit(filters.limit)
        body = prefixed(csv_head("acled", filters.hxl), copy_csv(sessionmaker, stmt))
    else:
        stmt = ordered(filters, where, cursor, ctx, *export_columns(ctx.dialect), details=True)
        if capped:
            stmt = stmt.limit(filters.limit)
        body = export_stream(
            fmt, stream_export_rows(sessionmaker, stmt), filters.shape, filters.hxl
        )
    filename = f"events-{filters.shape}.csv" if fmt == "csv" else None
    return EventExport(media_type=MEDIA_TYPES[fmt], filename=filename, body=body)


async def list_revisions(session: AsyncSession, event_id: int) -> list[EventRevision]:
    """Every revision of an event, deleted ones included; 404 if it never existed."""
    revisions = await history.list_revisions(session, event_id)
    if not revisions and await repository.get_event_by_id(session, event_id) is None:
        raise NotFound("event", event_id)
    return revisions
