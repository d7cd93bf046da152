"""Every SQL statement of the ACLED-compatible API."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Integer,
    Select,
    String,
    Text,
    and_,
    bindparam,
    case,
    distinct,
    exists,
    func,
    or_,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by
from sqlalchemy.dialects.postgresql.psycopg import dialect as psycopg_dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from app.acled.grammar import AcledQuery, Filter
from app.acled_api.columns import Domains, compare, condition, event_date_expr, id_keys
from app.core.db import driver_rows
from app.core.statements import Kept, compiled_once
from app.exports.rows import export_columns
from app.models import Actor, Event, EventActor, EventTombstone, Place, SubEventType


def dialect_of(session: AsyncSession) -> str:
    bind = session.bind
    return bind.dialect.name if bind is not None else "sqlite"


# The distinct country codes of places by a loose index scan: one probe of
# ix_places_country_code per country (~250), not a read of every place (33 ms at 1M events).
DISTINCT_COUNTRY_CODES = text(
    """
    WITH RECURSIVE codes(code) AS (
        SELECT min(country_code) FROM places
        UNION ALL
        SELECT (SELECT min(p.country_code) FROM places p WHERE p.country_code > codes.code)
        FROM codes WHERE codes.code IS NOT NULL
    )
    SELECT code FROM codes WHERE code IS NOT NULL
    """
)


async def domains(session: AsyncSession, query: AcledQuery) -> Domains:
    """Countries and sub-event types, read only when a filter needs them."""
    columns = {f.column for f in query.filters()}
    codes: list[str] = []
    types: list[tuple[str, str, str, str]] = []
    if columns & {"iso", "country", "region"}:
        if dialect_of(session) == "postgresql":
            codes = [r[0] for r in await driver_rows(session, DISTINCT_COUNTRY_CODES.text, {})]
        else:
            codes = list((await session.execute(DISTINCT_COUNTRY_CODES)).scalars())
    if columns & {"disorder_type", "event_type", "sub_event_type"}:
        rows = await session.execute(
            select(
                SubEventType.code,
                SubEventType.disorder_type,
                SubEventType.acled_event_type,
                SubEventType.acled_sub_event_type,
            )
        )
        types = [(r[0], r[1], r[2], r[3]) for r in rows]
    return Domains(tuple(codes), tuple(types))  # hashable: part of a statement's key


def event_conditions(query: AcledQuery, found: Domains, dialect: str) -> list[ColumnElement[bool]]:
    """One condition per clause (a clause ORs its filters), on `events LEFT JOIN places`."""
    return [or_(*[condition(f, found, dialect) for f in clause]) for clause in query.clauses]


def acled_coded() -> ColumnElement[bool]:
    """Events in ACLED's coding: not those of a dataset with its own (UCDP's GED rows carry
    their type_of_violence)."""
    return Event.type_of_violence.is_(None)


def _events_from(stmt: Select[Any]) -> Select[Any]:
    return stmt.select_from(Event).outerjoin(Place, Place.id == Event.place_id)


def event_rows_stmt(
    where: Sequence[ColumnElement[bool]], limit: int, offset: int, dialect: str
) -> Select[Any]:
    """(event_date, id, *DETAIL_COLUMNS) newest first, as the exporter's row stream reads them.

    ACLED returns events by event_date, newest first; id breaks ties so pages never overlap.
    The page's events are chosen first, by (event_date, id) alone, and only they get their
    detail columns (actors, sources, tags: correlated subqueries): ordering the details of every
    matching event took ~2 s for a 100-row page of Syria's events since 2020 among 1M.
    """
    page = _page(where, limit, offset, dialect)
    return (
        _events_from(select(page.c.day, Event.id, *export_columns(dialect)))
        .join(page, page.c.id == Event.id)
        .join(SubEventType, SubEventType.code == Event.sub_event_type_code)
        .order_by(page.c.day.desc(), Event.id.desc())
    )


def _page(where: Sequence[ColumnElement[bool]], limit: int, offset: int, dialect: str) -> Any:
    """The page's (id, day), chosen by (event_date, id) alone, newest first."""
    day = event_date_expr(dialect)
    keys: list[Any] = [Event.id.label("id"), day.label("day")]
    chosen = _events_from(select(*keys)).where(*where).order_by(day.desc(), Event.id.desc())
    if limit:
        chosen = chosen.limit(limit)
    if offset:
        chosen = chosen.offset(offset)
    return chosen.subquery("page")


async def acled_page_keys(
    session: AsyncSession,
    where: Callable[[], Sequence[ColumnElement[bool]]],
    limit: int,
    offset: int,
    kept: Kept | None = None,
) -> tuple[list[tuple[int, int]], int | None]:
    """PostgreSQL: the page's events in the order of `event_rows_stmt`, as (id, change_seq),
    and `last_update`, in one round trip; their rows are `exports/acled_pg.acled_rows` (or
    kept documents). `where()` builds the conditions; with `kept` (a memo and a key that
    determines the statement), the statement is built once per key."""
    # Compiled through SQLAlchemy's cache and run by psycopg, as the list's page ids are.
    conn = await session.connection()

    def build() -> Select[Any]:
        return _ids_and_stamps(_page(where(), limit, offset, "postgresql"))

    ((ids, seqs, changed, deleted),) = await driver_rows(conn, *compiled_once(conn, build, kept))
    return list(zip(ids or [], seqs or [], strict=True)), _stamp(changed, deleted)


def _ids_and_stamps(page: Any) -> Select[Any]:
    """One row: the page's ids newest first and their change_seq (two arrays), and the latest
    change's stamps. change_seq is read for the page's rows only (joined after the choice,
    which an index may then make alone)."""
    order = (page.c.day.desc(), page.c.id.desc())
    arrays = (
        select(
            func.array_agg(aggregate_order_by(page.c.id, *order)).label("ids"),
            func.array_agg(aggregate_order_by(Event.change_seq, *order)).label("seqs"),
        )
        .select_from(page)
        .join(Event, Event.id == page.c.id)
        .subquery("arrays")
    )
    return select(arrays.c.ids, arrays.c.seqs, *_STAMPS)


def exact_event_keys(query: AcledQuery) -> list[tuple[str, str]] | None:
    """The (dataset, external_id) keys of a query that names its events by their ids alone
    (`event_id_cnty=A|B`, no other filter), each once; None for any other query."""
    if len(query.clauses) != 1 or len(query.clauses[0]) != 1:
        return None
    f = query.clauses[0][0]
    if f.column != "event_id_cnty" or f.op != "=":
        return None
    return list(dict.fromkeys(key for value in f.texts for key in id_keys(value)))


@lru_cache(maxsize=2)
def _by_keys_sql(acled_only: bool) -> str:
    """`acled_page_keys`' ids-and-stamps statement for events named by their keys, compiled
    once (psycopg's placeholders): what `_page` selects for the same ids, in the same order."""
    keys = (
        func.unnest(
            bindparam("datasets", type_=ARRAY(Text)), bindparam("external_ids", type_=ARRAY(Text))
        )
        .table_valued("dataset", "external_id")
        .render_derived("k")
    )
    day = event_date_expr("postgresql")
    named = and_(Event.dataset == keys.c.dataset, Event.external_id == keys.c.external_id)
    chosen = select(Event.id.label("id"), day.label("day")).select_from(Event).join(keys, named)
    if acled_only:
        chosen = chosen.where(acled_coded())
    page = (
        chosen.order_by(day.desc(), Event.id.desc())
        .limit(bindparam("limit", type_=Integer))
        .offset(bindparam("offset", type_=Integer))
        .subquery("page")
    )
    stmt = _ids_and_stamps(page)
    return str(stmt.compile(dialect=psycopg_dialect()))  # type: ignore[no-untyped-call]


async def acled_keys_named(
    session: AsyncSession,
    keys: Sequence[tuple[str, str]],
    limit: int,
    offset: int,
    *,
    acled_only: bool,
) -> tuple[list[tuple[int, int]], int | None]:
    """PostgreSQL: `acled_page_keys` for events named by their keys (`exact_event_keys`),
    with no statement built per request: a lookup by id is the API's commonest read, and
    building and compiling its filter cost more CPU than both statements take to run."""
    params = {
        "datasets": [k[0] for k in keys],
        "external_ids": [k[1] for k in keys],
        "limit": limit,
        "offset": offset,
    }
    [(ids, seqs, changed, deleted)] = await driver_rows(session, _by_keys_sql(acled_only), params)
    return list(zip(ids or [], seqs or [], strict=True)), _stamp(changed, deleted)


async def count_events(
    session: AsyncSession, where: Sequence[ColumnElement[bool]], *, with_target: bool = False
) -> int:
    stmt = _events_from(select(func.count(Event.id))).where(*where)
    if with_target:
        stmt = stmt.where(
            Event.id.in_(select(EventActor.event_id).where(EventActor.role == "target"))
        )
    return int((await session.execute(stmt)).scalar_one())


# The latest edit and the latest deletion (each an index's last entry).
_STAMPS = (
    select(func.max(Event.updated_at)).scalar_subquery(),
    select(func.max(EventTombstone.deleted_at)).scalar_subquery(),
)


async def last_update(session: AsyncSession) -> int | None:
    """Unix seconds of the latest change: an edit or a deletion."""
    changed, deleted = (await session.execute(select(*_STAMPS))).one()  # one round trip
    return _stamp(changed, deleted)


def _stamp(changed: Any, deleted: Any) -> int | None:
    stamps = [_aware(v) for v in (changed, deleted) if v is not None]
    return int(max(stamps).timestamp()) if stamps else None


def _aware(value: Any) -> dt.datetime:
    # max() over a UTCDateTime column comes back untyped on SQLite: a naive UTC string.
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value  # type: ignore[no-any-return]


# ---- /deleted/read ----

TOMBSTONE_ID = case(
    (EventTombstone.dataset == "acled", EventTombstone.external_id),
    else_=EventTombstone.dataset + "-" + EventTombstone.external_id,
)


def _deleted_condition(f: Filter) -> ColumnElement[bool]:
    if f.column == "event_id_cnty":
        return compare(TOMBSTONE_ID, f)
    column = EventTombstone.deleted_at
    if f.op == "LIKE":
        return compare(func.cast(column, String), f)

    def at(seconds: int) -> dt.datetime:
        return dt.datetime.fromtimestamp(seconds, dt.UTC)

    values = [int(v) for v in f.values]
    if f.op == "=":
        return or_(*[and_(column >= at(v), column < at(v + 1)) for v in values])
    if f.op == "BETWEEN":
        return and_(column >= at(values[0]), column < at(values[1] + 1))
    v = values[0]
    return {
        ">": column >= at(v + 1),
        ">=": column >= at(v),
        "<": column < at(v),
        "<=": column < at(v + 1),
    }[f.op]


@dataclass(frozen=True)
class Page:
    rows: list[tuple[Any, ...]]
    total: int | None


def _current_deletions() -> list[ColumnElement[bool]]:
    """A key's latest tombstone, and none while the key is live again (ACLED's view)."""
    later = aliased(EventTombstone)
    return [
        ~exists().where(
            Event.dataset == EventTombstone.dataset,
            Event.external_id == EventTombstone.external_id,
        ),
        ~exists().where(
            later.dataset == EventTombstone.dataset,
            later.external_id == EventTombstone.external_id,
            later.id > EventTombstone.id,
        ),
    ]


async def deleted(session: AsyncSession, query: AcledQuery) -> Page:
    where = [or_(*[_deleted_condition(f) for f in clause]) for clause in query.clauses]
    where += _current_deletions()
    stmt = (
        select(TOMBSTONE_ID, EventTombstone.deleted_at)
        .where(*where)
        .order_by(EventTombstone.deleted_at.desc(), EventTombstone.id.desc())
    )
    if query.limit:
        stmt = stmt.limit(query.limit).offset(query.offset)
    rows = [tuple(r) for r in await session.execute(stmt)]
    total = None
    if query.with_total:
        count = select(func.count(EventTombstone.id)).where(*where)
        total = int((await session.execute(count)).scalar_one())
    return Page(rows, total)


# ---- aggregates: /actor/read, /country/read, /region/read, /actortype/read ----


def _stats(dialect: str) -> tuple[Any, Any, Any]:
    day = event_date_expr(dialect)
    return (
        func.min(day).label("first_event_date"),
        func.max(day).label("last_event_date"),
        func.count(distinct(Event.id)).label("event_count"),
    )


async def actors(session: AsyncSession, query: AcledQuery) -> Page:
    """Actors with at least one event, filtered in SQL (there may be many)."""
    agg = (
        select(Actor.name.label("actor_name"), *_stats(dialect_of(session)))
        .join(EventActor, EventActor.actor_id == Actor.id)
        .join(Event, Event.id == EventActor.event_id)
        .group_by(Actor.id, Actor.name)
        .subquery()
    )
    where = [
        or_(*[compare(getattr(agg.c, f.column), f) for f in clause]) for clause in query.clauses
    ]
    stmt = select(agg).where(*where).order_by(agg.c.actor_name)
    if query.limit:
        stmt = stmt.limit(query.limit).offset(query.offset)
    rows = [tuple(r) for r in await session.execute(stmt)]
    total = None
    if query.with_total:
        count = select(func.count()).select_from(agg).where(*where)
        total = int((await session.execute(count)).scalar_one())
    return Page(rows, total)


async def stats_by_country(session: AsyncSession) -> list[tuple[str, dt.date, dt.date, int]]:
    stmt = (
        select(Place.country_code, *_stats(dialect_of(session)))
        .select_from(Event)
        .join(Place, Place.id == Event.place_id)
        .group_by(Place.country_code)
        .order_by(Place.country_code)
    )
    return [(r[0], _date(r[1]), _date(r[2]), int(r[3])) for r in await session.execute(stmt)]


async def stats_by_actor_type(session: AsyncSession) -> list[tuple[int, dt.date, dt.date, int]]:
    stmt = (
        select(Actor.actor_type, *_stats(dialect_of(session)))
        .select_from(EventActor)
        .join(Actor, Actor.id == EventActor.actor_id)
        .join(Event, Event.id == EventActor.event_id)
        .group_by(Actor.actor_type)
        .order_by(Actor.actor_type)
    )
    return [(int(r[0]), _date(r[1]), _date(r[2]), int(r[3])) for r in await session.execute(stmt)]


def _date(value: Any) -> dt.date:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value
