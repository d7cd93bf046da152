"""The aggregate query: one GROUP BY over the filtered events and the chosen dimensions.

Multi-valued dimensions (actor, actor role, source, campaign) join DISTINCT (event, value)
pairs, so an event counts once in each of its groups, never twice in one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from psycopg.abc import Buffer
from psycopg.adapt import Loader
from sqlalchemy import (
    Date,
    DateTime,
    Executable,
    Select,
    Text,
    cast,
    func,
    literal_column,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from app.aggregates import basis
from app.core.db import compiled_sql, driver_result
from app.core.names import fold_name
from app.core.statements import Kept, compiled_once
from app.models import (
    Actor,
    AdminUnit,
    Campaign,
    CasualtyFigure,
    Claim,
    Event,
    EventActor,
    Place,
    Source,
    SubEventType,
)
from app.models import campaign_events as ce


def bucket_expr(interval: str, dialect: str) -> ColumnElement[Any]:
    """The first day of the event's bucket (by date_start); weeks start on Monday."""
    if interval == "day":
        return Event.date_start.expression
    if dialect == "postgresql":
        unit: ColumnElement[str] = literal_column(f"'{interval}'")
        return cast(func.date_trunc(unit, cast(Event.date_start, DateTime)), Date)
    if interval == "week":
        return func.date(
            Event.date_start, literal_column("'weekday 0'"), literal_column("'-6 days'")
        )
    fmt = "'%Y-%m-01'" if interval == "month" else "'%Y-01-01'"
    return func.strftime(literal_column(fmt), Event.date_start)


def aggregate_statement(
    where: Sequence[ColumnElement[bool]],
    interval: str | None,
    group_by: Sequence[str],
    dialect: str,
    actor_roles: Sequence[str] = (),
    kind: str = "event",
    source_order: Sequence[int] = (),
    with_accounts: bool = True,
) -> tuple[Select[Any], list[str], Select[Any] | None]:
    """SELECT bucket?, dims..., events, fatality sums and their basis; the dimension labels;
    and the statement of each group's distinct sources, when it is one of its own.

    `kind` is the basis (event, source, incident: app/aggregates/basis.py, which adds the
    measures); the dimensions and their joins are built here.
    """
    columns: list[Any] = []
    labels: list[str] = []
    if interval:
        columns.append(bucket_expr(interval, dialect).label("bucket"))
    dims = set(group_by)
    actor_sub = source_sub = None
    if dims & {"actor", "actor_role"}:
        cols: list[Any] = [EventActor.event_id]
        if "actor" in dims:
            cols.append(EventActor.actor_id)
        if "actor_role" in dims:
            cols.append(EventActor.role)
        sub = select(*cols).distinct()
        if actor_roles:
            sub = sub.where(EventActor.role.in_(actor_roles))
        actor_sub = sub.subquery("ea")
    if "source" in dims:
        source_sub = select(Claim.event_id, Claim.source_id).distinct().subquery("cs")
    for dim in group_by:
        if dim == "event_type":
            columns.append(SubEventType.event_type_code.label(dim))
        elif dim == "sub_event_type":
            columns.append(Event.sub_event_type_code.label(dim))
        elif dim == "disorder_type":
            columns.append(SubEventType.disorder_type.label(dim))
        elif dim == "country":
            columns.append(Place.country_code.label(dim))
        elif dim == "admin1":
            # The gazetteer's unit: its canonical name and ISO 3166-2 code (a place it has no
            # unit for keeps its own spelling, without a code).
            columns.append(func.coalesce(AdminUnit.name, Place.admin1).label(dim))
            columns.append(Place.admin1_code.label("admin1_code"))
        elif dim == "admin2":
            columns.append(Place.admin2.label(dim))
        elif dim == "place":
            columns.append(Place.id.label(dim))
        elif dim == "actor":
            columns.append(Actor.name.label(dim))
        elif dim == "actor_role":
            assert actor_sub is not None
            columns.append(actor_sub.c.role.label(dim))
        elif dim == "source":
            columns.append(Source.name.label(dim))
        elif dim == "campaign":
            columns.append(Campaign.name.label(dim))
        elif dim in UCDP_DIMS:
            columns.append(getattr(Event, dim).label(dim))
        labels.append(dim)
        if dim == "admin1":
            # The code is part of the group's identity (two countries may have a "Central"):
            # top, fill and the sort treat it as a dimension of its own.
            labels.append("admin1_code")
    keys = list(columns)
    if "place" in dims:
        columns.append(func.max(Place.name).label("place_name"))
    fig = basis.EventFigure(kind, source_order, with_accounts)
    stmt = select().select_from(Event).where(*where)
    stmt = fig.join(stmt)
    if dims & {"event_type", "disorder_type"}:
        stmt = stmt.join(SubEventType, SubEventType.code == Event.sub_event_type_code)
    if dims & PLACE_DIMS:
        stmt = stmt.outerjoin(Place, Place.id == Event.place_id)
    if "admin1" in dims:
        stmt = stmt.outerjoin(AdminUnit, AdminUnit.code == Place.admin1_code)
    if actor_sub is not None:
        stmt = stmt.outerjoin(actor_sub, actor_sub.c.event_id == Event.id)
        if "actor" in dims:
            stmt = stmt.outerjoin(Actor, Actor.id == actor_sub.c.actor_id)
    if source_sub is not None:
        stmt = stmt.outerjoin(source_sub, source_sub.c.event_id == Event.id).outerjoin(
            Source, Source.id == source_sub.c.source_id
        )
    if "campaign" in dims:
        stmt = stmt.outerjoin(ce, ce.c.event_id == Event.id).outerjoin(
            Campaign, Campaign.id == ce.c.campaign_id
        )
    out, extra, sources = basis.finish(stmt, columns, keys, fig, kind)
    return out, labels + extra, sources


# Dimensions read from the event's place (the statement joins places for them).
PLACE_DIMS = frozenset({"country", "admin1", "admin2", "place"})
# UCDP's own coding, columns of the event (null for other datasets).
UCDP_DIMS = frozenset({"type_of_violence", "conflict_id", "dyad_id"})


# PostgreSQL's default work_mem (4 MB) makes the planner sort every matching event for a
# GroupAggregate whenever it fears a hash of its (over-)estimated groups would spill: month x
# admin1 over Syria on 1M ACLED rows, 1,365 groups estimated at 23,500, ran in 54 ms sorted,
# 22-30 ms hashed. Set for the aggregate's statement only (`driver_result`'s settings: read
# sessions are in autocommit).
AGGREGATE_WORK_MEM = "64MB"


class WholeNumberLoader(Loader):
    """PostgreSQL's numeric as int: the measures are counts and sums of whole numbers (a sum
    of bigint counts is a numeric), and int for every measure is the answer's type. Loaded
    so, no pass over the rows converts them (~3 ms for 1,365 rows)."""

    def load(self, data: Buffer) -> int:
        return int(bytes(data))


async def run(session: AsyncSession, stmt: Select[Any], limit: int) -> list[dict[str, Any]]:
    """The rows of an aggregate statement as dicts; every measure an int (or None)."""
    conn = await session.connection()
    if conn.dialect.name == "postgresql":
        # Compiled through SQLAlchemy's cache and run by psycopg with its work_mem, in one round
        # trip (core/db.driver_result): the ORM's execution and result objects took ~4 ms of
        # CPU for the 1,365 rows of month x admin1 over Syria.
        sql, params = compiled_sql(conn, stmt.limit(limit))
        keys, rows = await driver_result(
            conn,
            sql,
            params,
            settings={"work_mem": AGGREGATE_WORK_MEM},
            loaders={"numeric": WholeNumberLoader},
        )
    else:
        result = await conn.execute(stmt.limit(limit))
        keys, rows = list(result.keys()), list(result.tuples())
    # Plain tuples zipped with the keys once: a mapping per row cost ~10 ms on 2,610 rows.
    out = [dict(zip(keys, row, strict=True)) for row in rows]
    if "bucket" in keys:
        for item in out:
            bucket = item["bucket"]
            if isinstance(bucket, dt.date):
                item["bucket"] = bucket.isoformat()
    return out


def json_rows(stmt: Select[Any], limit: int, labels: Sequence[str]) -> Select[int, str]:
    """PostgreSQL: how many rows `stmt` gives (at most `limit`) and the rows as one JSON array
    written by the database, each row an object of its columns in their order, as `run` makes
    them, sorted as the service sorts `run`'s rows without `top` (`service._sort_key`): by
    bucket, events (most first), then each label's value, present before absent, by its text in
    code point order (the "C" collation; UTF-8's byte order is code point order)."""
    rows = stmt.limit(limit).subquery("t")
    order: list[Any] = [rows.c.bucket] if "bucket" in rows.c else []
    order.append(rows.c.events.desc())
    for label in labels:
        column = rows.c[label]
        order += [column.is_(None), cast(column, Text).collate("C")]
    body = func.json_agg(aggregate_order_by(rows.table_valued(), *order))
    written = cast(func.coalesce(body, literal_column("'[]'::json")), Text)
    return select(func.count(), written).select_from(rows)


async def run_json(
    session: AsyncSession, build: Callable[[], Executable], kept: Kept | None
) -> tuple[int, bytes]:
    """The count and the JSON text of `build()`, a `json_rows` statement; with `kept`, built and
    compiled once per key (`core/statements`). For month x admin1 over Syria on 1M ACLED rows
    (1,365 rows), `run`, the service's sort and the dump cost ~7 ms of Python a request, and
    building the statement ~2.5 ms more: the worker's event loop was held while its other
    requests waited (the peer bench's mix at 64 connections)."""
    conn = await session.connection()
    sql, params = compiled_once(conn, build, kept)
    _, ((count, text),) = await driver_result(
        conn, sql, params, settings={"work_mem": AGGREGATE_WORK_MEM}
    )
    return int(count), str(text).encode()


async def any_claimed_figure(session: AsyncSession) -> bool:
    """Whether any claim gives a killed figure (if none, no event's figure comes from claims)."""
    stmt = select(CasualtyFigure.id).where(CasualtyFigure.outcome == "killed").limit(1)
    conn = await session.connection()  # Core: the ORM's execute adds ~0.3 ms for one row
    return (await conn.execute(stmt)).first() is not None


async def source_id(session: AsyncSession, ref: str) -> int | None:
    """The id of the source with this id (digits) or name (folded), if any."""
    cond = Source.name_key == fold_name(ref)
    if ref.isdigit() and len(ref) < 10:
        cond = or_(cond, Source.id == int(ref))
    found = (await session.execute(select(Source.id).where(cond).order_by(Source.id))).first()
    return None if found is None else int(found[0])


__all__ = [
    "aggregate_statement",
    "any_claimed_figure",
    "bucket_expr",
    "json_rows",
    "run",
    "run_json",
    "source_id",
]
