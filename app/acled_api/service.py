"""Use cases of the ACLED-compatible API: parse ACLED's grammar, query, shape rows as ACLED does.

Event rows come from the exporter (app/exports: one streamed query plus one query per chunk), so
`/acled/read` and the ACLED CSV export agree column for column. This module only retypes them for
JSON (numbers as numbers, blanks as null), applies `inter_num`, `export_type` and `fields`.
Decisions:
- Events come newest first by event_date (then id, so pages never overlap), as ACLED's do.
- `limit` (default 5000) and `page` count events; `limit=0` returns every matching row, streamed
  in chunks (memory stays flat), never cut off silently.
- monadic: one row per actor: the event's row with actor1 only, then (when there is an actor2) a
  row with actor2's name, associates and type moved into the actor1 columns; `count` and
  `total_count` count those rows.
- `last_update`: Unix seconds of the latest edit or deletion.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import pycountry
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.sql.elements import ColumnElement

from app.acled.format import ACLED_REGIONS, COLUMNS, inter_label, interaction_label
from app.acled.grammar import (
    EVENT_OPTIONS,
    AcledQuery,
    AcledQueryError,
    Column,
    matches,
    parse_query,
)
from app.acled_api import repository
from app.acled_api.columns import EVENT_COLUMNS
from app.core.doccache import DocCache, documents
from app.core.statements import StatementMemo
from app.exports.acled import acled_row
from app.exports.acled_pg import acled_rows
from app.exports.countries import country_info
from app.exports.rows import stream_export_rows
from app.models.vocab import ACTOR_TYPES

Params = Sequence[tuple[str, str]]
Record = dict[str, Any]

DELETED_COLUMNS: dict[str, Column] = {
    "event_id_cnty": Column("text"),
    "deleted_timestamp": Column("timestamp", ">="),
}
_STATS = {
    "first_event_date": Column("date"),
    "last_event_date": Column("date"),
    "event_count": Column("int", ">="),
}
ACTOR_COLUMNS: dict[str, Column] = {"actor_name": Column("text"), **_STATS}
COUNTRY_COLUMNS: dict[str, Column] = {
    "country": Column("text"),
    "iso": Column("int"),
    "iso3": Column("text"),
    **_STATS,
}
REGION_COLUMNS: dict[str, Column] = {
    "region": Column("int"),
    "region_name": Column("text"),
    **_STATS,
}
ACTOR_TYPE_COLUMNS: dict[str, Column] = {
    "actor_type_id": Column("int"),
    "actor_type_name": Column("text"),
    **_STATS,
}
_FLOATS = {"latitude", "longitude"}


ALL_DATASETS = "all_datasets"
ALL_DATASETS_DOC = (
    " Only ACLED-coded events are served (ACLED imports and the events written here, in "
    "ACLED's taxonomy): a dataset with its own coding, such as UCDP's GED, is left out unless "
    "`all_datasets=true`."
)


def all_datasets(params: Params) -> tuple[list[tuple[str, str]], bool]:
    """The params without `all_datasets`, and whether it asks for every dataset."""
    rest = [(k, v) for k, v in params if k != ALL_DATASETS]
    given = {v.strip().lower() for k, v in params if k == ALL_DATASETS}
    if given - {"", "true", "false", "1", "0"} or len(given) > 1:
        raise AcledQueryError(f"{ALL_DATASETS}: use true or false")
    return rest, bool(given & {"true", "1"})


def parse_events(params: Params) -> AcledQuery:
    return parse_query(params, EVENT_COLUMNS, options=EVENT_OPTIONS, field_names=COLUMNS)


def parse(params: Params, columns: dict[str, Column]) -> AcledQuery:
    return parse_query(params, columns)


# ---- /acled/read ----


def _record(values: Sequence[Any]) -> Record:
    """An exporter row (CSV-ready: blanks are "") as JSON: numbers as numbers, blanks null."""
    record: Record = {}
    for name, value in zip(COLUMNS, values, strict=True):
        if value == "":
            record[name] = None
        elif name in _FLOATS:
            record[name] = float(value)
        else:
            record[name] = value
    return record


def _monadic(record: Record) -> list[Record]:
    own = {**record, "actor2": None, "assoc_actor_2": None, "inter2": 0}
    if record["actor2"] is None:
        return [own]
    other = {
        **own,
        "actor1": record["actor2"],
        "assoc_actor_1": record["assoc_actor_2"],
        "inter1": record["inter2"],
    }
    return [own, other]


def _labels(record: Record) -> Record:
    """ACLED's default: actor types and the interaction as text ("State forces")."""
    record["inter1"] = inter_label(record["inter1"])
    record["inter2"] = inter_label(record["inter2"])
    code = record["interaction"]
    if isinstance(code, int):
        record["interaction"] = interaction_label(code // 10, code % 10) or None
    return record


def _typed_record(values: Sequence[Any]) -> Record:
    """A row of `acled_pg` (NULL for a blank, PostgreSQL's types) as `_record` makes the
    exporter's row: the date as text, the ISO number an integer, coordinates floats."""
    record: Record = dict(zip(COLUMNS, values, strict=True))
    record["event_date"] = record["event_date"].isoformat()
    if record["iso"] is not None:
        record["iso"] = int(record["iso"])
    for name in _FLOATS:
        if record[name] is not None:
            record[name] = float(record[name])
    return record


def shape_records(values: Sequence[Any], query: AcledQuery) -> list[Record]:
    return _shape(_record(values), query)


def _shape(record: Record, query: AcledQuery) -> list[Record]:
    records = _monadic(record) if query.export_type == "monadic" else [record]
    if not query.inter_num:
        records = [_labels(r) for r in records]
    if query.fields:
        records = [{name: r[name] for name in query.fields} for r in records]
    return records


# Up to this many rows (ACLED's default page is 5,000) a read is one statement whose rows
# PostgreSQL computes; a larger one (or limit=0, every row) streams through the exporter.
ONE_READ_ROWS = 5000


async def one_chunk(records: list[Record]) -> AsyncIterator[list[Record]]:
    yield records


@dataclass
class EventsResult:
    chunks: AsyncIterator[list[Record]]
    total: int | None
    last_update: int | None
    columns: tuple[str, ...]
    # The rows when they were read at once (a page): the answer needs no stream.
    records: list[Record] | None = None
    # Or each row as JSON (a page of JSON, one row an event): the answer is their bytes.
    documents: list[bytes] | None = None


async def read_events(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    query: AcledQuery,
    *,
    all_datasets: bool = False,
    docs: DocCache | None = None,
    statements: StatementMemo | None = None,
) -> EventsResult:
    dialect = repository.dialect_of(session)
    one_read = dialect == "postgresql" and 0 < query.limit <= ONE_READ_ROWS
    keys = repository.exact_event_keys(query)
    if one_read and keys is not None and not query.with_total:
        # Events by their ids alone: two constant statements (what the page below reads).
        page, stamp = await repository.acled_keys_named(
            session, keys, query.limit, query.offset, acled_only=not all_datasets
        )
        return await _page_result(session, page, None, stamp, query, docs)
    found = await repository.domains(session, query)

    def where() -> list[ColumnElement[bool]]:
        conditions = repository.event_conditions(query, found, dialect)
        if not all_datasets:
            conditions.append(repository.acled_coded())
        return conditions

    total = None
    if query.with_total:
        total = await repository.count_events(session, where())
        if query.export_type == "monadic":
            total += await repository.count_events(session, where(), with_target=True)
    if one_read:
        # A page: its rows computed by PostgreSQL, read at once on the request's session. Its
        # statement is determined by the filters, the page and what `found` read: built once
        # for them (core/statements).
        kept = None
        if statements is not None:
            key = ("acled.page", query.clauses, query.limit, query.offset, all_datasets, found)
            kept = (statements, key)
        page, stamp = await repository.acled_page_keys(
            session, where, query.limit, query.offset, kept
        )
        return await _page_result(session, page, total, stamp, query, docs)
    stamp = await repository.last_update(session)
    stmt = repository.event_rows_stmt(where(), query.limit, query.offset, dialect)

    async def chunks() -> AsyncIterator[list[Record]]:
        async for rows in stream_export_rows(sessionmaker, stmt):
            yield [rec for r in rows for rec in shape_records(acled_row(r), query)]

    return EventsResult(chunks(), total, stamp, query.fields or COLUMNS)


async def _page_result(
    session: AsyncSession,
    page: list[tuple[int, int]],
    total: int | None,
    stamp: int | None,
    query: AcledQuery,
    docs: DocCache | None,
) -> EventsResult:
    """A page read at once, its events `page` (id, change_seq). JSON of one record an event
    (dyadic): each event's record as `docs` keeps it at that change_seq (`core/doccache`), the
    others shaped now and kept. Otherwise its records shaped as `query` asks, in one chunk."""
    columns = query.fields or COLUMNS
    if query.format == "json" and query.export_type != "monadic":
        shape = ("acled", query.inter_num, query.fields)

        async def build(ids: list[int]) -> dict[int, bytes]:
            rows = await acled_rows(session, ids)
            return {r[0]: orjson.dumps(_shape(_typed_record(r[1:]), query)[0]) for r in rows}

        data = await documents(docs, shape, page, build)
        return EventsResult(one_chunk([]), total, stamp, columns, documents=data)
    rows = await acled_rows(session, [rid for rid, _ in page])
    records = [rec for r in rows for rec in _shape(_typed_record(r[1:]), query)]
    return EventsResult(one_chunk(records), total, stamp, columns, records)


# ---- /deleted/read ----


async def read_deleted(session: AsyncSession, query: AcledQuery) -> tuple[list[Record], int | None]:
    page = await repository.deleted(session, query)
    records = [
        {"event_id_cnty": event_id, "deleted_timestamp": int(_utc(at).timestamp())}
        for event_id, at in page.rows
    ]
    return records, page.total


def _utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


# ---- /actor/read, /country/read, /region/read, /actortype/read ----


def _stat_fields(first: dt.date, last: dt.date, count: int) -> Record:
    return {
        "first_event_date": first.isoformat(),
        "last_event_date": last.isoformat(),
        "event_count": count,
    }


async def read_actors(session: AsyncSession, query: AcledQuery) -> tuple[list[Record], int | None]:
    page = await repository.actors(session, query)
    records = [{"actor_name": name, **_stat_fields(*stats)} for name, *stats in page.rows]
    return records, page.total


def _filter_page(
    records: Iterable[tuple[Record, Record]], query: AcledQuery
) -> tuple[list[Record], int | None]:
    """Filter (on typed values) and page small aggregate lists in Python."""
    kept = [
        record
        for record, typed in records
        if all(any(matches(f, typed[f.column]) for f in clause) for clause in query.clauses)
    ]
    total = len(kept) if query.with_total else None
    if query.limit:
        kept = kept[query.offset : query.offset + query.limit]
    return kept, total


def _typed_stats(first: dt.date, last: dt.date, count: int) -> Record:
    return {"first_event_date": first, "last_event_date": last, "event_count": count}


async def read_countries(
    session: AsyncSession, query: AcledQuery
) -> tuple[list[Record], int | None]:
    def pair(code: str, first: dt.date, last: dt.date, count: int) -> tuple[Record, Record]:
        info = country_info(code)
        iso3 = _iso3(code)
        own = {"country": info.name, "iso": info.iso_numeric, "iso3": iso3}
        return (
            {**own, **_stat_fields(first, last, count)},
            {**own, **_typed_stats(first, last, count)},
        )

    rows = await repository.stats_by_country(session)
    return _filter_page((pair(*r) for r in rows), query)


def _iso3(code: str) -> str | None:
    record = pycountry.countries.get(alpha_2=code)
    return str(record.alpha_3) if record is not None else None


async def read_regions(session: AsyncSession, query: AcledQuery) -> tuple[list[Record], int | None]:
    numbers = {name: number for number, name in ACLED_REGIONS.items()}
    merged: dict[str, tuple[dt.date, dt.date, int]] = {}
    for code, first, last, count in await repository.stats_by_country(session):
        name = country_info(code).acled_region
        if not name:
            continue
        if name in merged:
            f0, l0, c0 = merged[name]
            merged[name] = (min(f0, first), max(l0, last), c0 + count)
        else:
            merged[name] = (first, last, count)
    pairs = []
    for name, (first, last, count) in sorted(merged.items(), key=lambda i: numbers.get(i[0], 99)):
        own = {"region": numbers.get(name), "region_name": name}
        pairs.append(
            (
                {**own, **_stat_fields(first, last, count)},
                {**own, **_typed_stats(first, last, count)},
            )
        )
    return _filter_page(pairs, query)


async def read_actor_types(
    session: AsyncSession, query: AcledQuery
) -> tuple[list[Record], int | None]:
    pairs = []
    for code, first, last, count in await repository.stats_by_actor_type(session):
        own = {"actor_type_id": code, "actor_type_name": ACTOR_TYPES.get(code)}
        pairs.append(
            (
                {**own, **_stat_fields(first, last, count)},
                {**own, **_typed_stats(first, last, count)},
            )
        )
    return _filter_page(pairs, query)
