"""ACLED CSV straight from PostgreSQL: `COPY (SELECT ...) TO STDOUT (FORMAT csv)`, streamed.

Same columns and values as `acled.acled_row` (a test holds the two equal), but PostgreSQL builds
each line in C: Python only forwards the bytes, so the export runs at the database's speed, with
memory flat. The filtered, ordered statement is the list's own (`queries.ordered`); its actors,
sources and tags come from correlated subqueries on indexes; the country name, ISO number and
ACLED region from a small jsonb map bound as a parameter (a binary-search key lookup per row).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from functools import lru_cache
from typing import Any

import pycountry
from sqlalchemy import Integer, Select, bindparam, column, func, literal_column, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql.psycopg import dialect as psycopg_dialect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.acled.format import ACLED_MARK, KEPT_KINDS, WEEK_SPAN_DAYS
from app.core.db import driver_rows
from app.exports.countries import _acled_table, country_info
from app.models import Event, Place, SubEventType

# Over an event's actors `x` (event_id, id, role, name, actor_type), read in (event_id, id)
# order: the first initiator and its type, the other initiators and the initiator supporters;
# the same for targets.
ACTORS_ARRAY = """ARRAY[
  (array_agg(x.name) FILTER (WHERE x.role = 'initiator'))[1],
  ((array_agg(x.actor_type) FILTER (WHERE x.role = 'initiator'))[1])::text,
  array_to_string(
    (array_agg(x.name) FILTER (WHERE x.role = 'initiator'))[2:]
    || (array_agg(x.name) FILTER (WHERE x.role = 'initiator_support')), '; '),
  (array_agg(x.name) FILTER (WHERE x.role = 'target'))[1],
  ((array_agg(x.actor_type) FILTER (WHERE x.role = 'target'))[1])::text,
  array_to_string(
    (array_agg(x.name) FILTER (WHERE x.role = 'target'))[2:]
    || (array_agg(x.name) FILTER (WHERE x.role = 'target_support')), '; ')]"""
ACTOR_ROWS = (
    "SELECT ea.event_id, ea.id, ea.role, a.name, a.actor_type "
    "FROM event_actors ea JOIN actors a ON a.id = ea.actor_id"
)
SOURCE_ROWS = (
    'SELECT DISTINCT c.event_id, s.name COLLATE "C" AS name '
    "FROM claims c JOIN sources s ON s.id = c.source_id"
)

# Per row (small exports): correlated subqueries on the event_id indexes.
ACTORS_SQL = f"""(SELECT {ACTORS_ARRAY} FROM ({ACTOR_ROWS}
  WHERE ea.event_id = events.id ORDER BY ea.id) x)"""  # noqa: S608 (constants)
SOURCES_SQL = f"""(SELECT string_agg(x.name, '; ') FROM ({SOURCE_ROWS}
  WHERE c.event_id = events.id ORDER BY 2) x)"""  # noqa: S608 (constants)
TAGS_SQL = """(SELECT string_agg(t.tag, '; ' ORDER BY t.tag COLLATE "C")
  FROM event_tags t WHERE t.event_id = events.id)"""

# Set-based (whole-table exports in id order): each list aggregated once, in event_id order,
# and merge-joined to the events as they stream: no per-row subquery, no blocking step.
ACTORS_BY_EVENT = f"""SELECT x.event_id, {ACTORS_ARRAY} AS act FROM ({ACTOR_ROWS}
  ORDER BY ea.event_id, ea.id) x GROUP BY x.event_id"""  # noqa: S608 (constants)
SOURCES_BY_EVENT = f"""SELECT x.event_id, string_agg(x.name, '; ') AS sources FROM ({SOURCE_ROWS}
  ORDER BY 1, 2) x GROUP BY x.event_id"""  # noqa: S608 (constants)
TAGS_BY_EVENT = """SELECT t.event_id, string_agg(t.tag, '; ' ORDER BY t.tag COLLATE "C") AS tags
  FROM event_tags t GROUP BY t.event_id"""
# Below this many matching rows, per-row subqueries beat aggregating the whole child tables.
SET_BASED_FROM_ROWS = 100_000


# Over the inner, ordered statement `s`; NULL prints as an empty field, like Python's ''.
def _valid(key: str) -> str:
    """SQL for `acled._valid` on s.extras -> key (jsonb)."""
    kind = KEPT_KINDS[key]
    if kind == "code":
        codes = ", ".join(f"'{i}'" for i in range(9))
        return (
            f"(jsonb_typeof(s.extras -> '{key}') = 'number' "
            f"AND (s.extras ->> '{key}') IN ({codes}))"
        )
    return f"jsonb_typeof(s.extras -> '{key}') = '{'number' if kind == 'number' else 'string'}'"


def _kept(key: str, computed: str, cast: str = "text") -> str:
    """SQL: what an ACLED import recorded (`acled.recorded`), else `computed`."""
    return (
        f"CASE WHEN {_valid(ACLED_MARK)} AND {_valid(key)} "
        f"THEN (s.extras ->> '{key}')::{cast} ELSE ({computed})::{cast} END"
    )


# ACLED's own inter codes for a row read from an ACLED file, else the first actors' types (0:
# no such actor).
_INTER1 = _kept("inter1", "CASE WHEN s.act[1] IS NOT NULL THEN s.act[2]::int ELSE 0 END", "int")
_INTER2 = _kept("inter2", "CASE WHEN s.act[4] IS NOT NULL THEN s.act[5]::int ELSE 0 END", "int")

# Over the inner, ordered statement `s`, the inter codes computed once (`i`); NULL prints as an
# empty field, like Python's ''.
OUTER_SQL = f"""SELECT{{lead}}
  CASE WHEN s.dataset = 'acled' THEN s.external_id ELSE s.dataset || '-' || s.external_id END,
  s.day,
  extract(year FROM s.day)::int,
  CASE
    WHEN s.date_precision = 'range' AND s.span_days <= {WEEK_SPAN_DAYS} THEN 2
    WHEN s.date_precision = 'day' THEN 1 WHEN s.date_precision = 'week' THEN 2 ELSE 3
  END,
  nullif({_kept("disorder_type", "s.disorder_type")}, ''),
  nullif(s.acled_event_type, ''), nullif(s.acled_sub_event_type, ''),
  nullif(s.act[1], ''), nullif(s.act[3], ''),
  CASE WHEN s.act[1] IS NOT NULL THEN i.inter1 END,
  nullif(s.act[4], ''), nullif(s.act[6], ''),
  i.inter2,
  CASE
    WHEN i.inter1 > 0 AND i.inter2 > 0
      THEN least(i.inter1, i.inter2) * 10 + greatest(i.inter1, i.inter2)
    WHEN i.inter1 > 0 OR i.inter2 > 0 THEN (i.inter1 + i.inter2) * 10
  END,
  CASE WHEN s.civilian_targeting THEN 'Civilians targeted' END,
  (%(countries)s::jsonb -> s.country_code) ->> 1,
  nullif((%(countries)s::jsonb -> s.country_code) ->> 2, ''),
  nullif((%(countries)s::jsonb -> s.country_code) ->> 0, ''),
  nullif({_kept("admin1", "s.admin1")}, ''), nullif({_kept("admin2", "s.admin2")}, ''),
  nullif({_kept("admin3", "s.admin3")}, ''), nullif({_kept("location", "s.location")}, ''),
  round({_kept("latitude", "s.latitude", "numeric")}, 4),
  round({_kept("longitude", "s.longitude", "numeric")}, 4),
  coalesce(s.geo_precision, s.place_geo_precision),
  nullif(s.sources, ''),
  nullif(s.extras ->> 'source_scale', ''),
  nullif(s.summary, ''),
  coalesce(s.fatalities_best, 0),
  nullif(s.tags, ''),
  floor(extract(epoch FROM s.updated_at))::bigint
FROM ({{inner}}) AS s
CROSS JOIN LATERAL (SELECT {_INTER1} AS inter1, {_INTER2} AS inter2) AS i"""

DAY_SQL = (
    "CASE WHEN events.date_precision = 'day' OR events.date_end = events.date_start "
    "THEN events.date_start "
    "ELSE events.date_start + (events.date_end - events.date_start) / 2 END"
)


FLUSH_BYTES = 64 * 1024
_DIALECT = psycopg_dialect()  # type: ignore[no-untyped-call]


@lru_cache(maxsize=1)
def countries_json() -> str:
    """{alpha-2: [ACLED name, ISO numeric or null, ACLED region]} for every known country."""
    codes = {c.alpha_2 for c in pycountry.countries} | set(_acled_table())
    table = {}
    for code in sorted(codes):
        info = country_info(code)
        table[code] = [info.name, info.iso_numeric, info.acled_region]
    return json.dumps(table, separators=(",", ":"))


def inner_columns(set_based: bool = False) -> tuple[Any, ...]:
    """The inner statement's columns (after the sort value and id), labelled for OUTER_SQL."""
    act: Any
    sources: Any
    tags: Any
    if set_based:
        act, sources, tags = (
            literal_column("act.act"),
            literal_column("src.sources"),
            literal_column("tg.tags"),
        )
    else:
        act, sources, tags = (
            literal_column(ACTORS_SQL),
            literal_column(SOURCES_SQL),
            literal_column(TAGS_SQL),
        )
    return (
        Event.dataset.label("dataset"),
        Event.external_id.label("external_id"),
        literal_column(DAY_SQL).label("day"),
        Event.date_precision.label("date_precision"),
        (Event.date_end - Event.date_start).label("span_days"),
        SubEventType.disorder_type.label("disorder_type"),
        SubEventType.acled_event_type.label("acled_event_type"),
        SubEventType.acled_sub_event_type.label("acled_sub_event_type"),
        act.label("act"),
        Event.civilian_targeting.label("civilian_targeting"),
        Place.country_code.label("country_code"),
        Place.admin1.label("admin1"),
        Place.admin2.label("admin2"),
        Place.admin3.label("admin3"),
        Place.name.label("location"),
        Place.latitude.label("latitude"),
        Place.longitude.label("longitude"),
        Event.geo_precision.label("geo_precision"),
        Place.geo_precision.label("place_geo_precision"),
        sources.label("sources"),
        Event.extras.label("extras"),
        Event.summary.label("summary"),
        Event.fatalities_best.label("fatalities_best"),
        tags.label("tags"),
        Event.updated_at.label("updated_at"),
    )


def join_lists(stmt: Select[Any]) -> Select[Any]:
    """Add the set-based lists (LEFT JOINs on event_id) to a statement of inner_columns(True)."""
    for sql, name in (
        (ACTORS_BY_EVENT, "act"),
        (SOURCES_BY_EVENT, "src"),
        (TAGS_BY_EVENT, "tg"),
    ):
        sub = text(sql).columns(column("event_id", Integer)).subquery(name)
        stmt = stmt.outerjoin(sub, sub.c.event_id == Event.id)
    return stmt


async def at_least(
    sessionmaker: async_sessionmaker[AsyncSession], where: Sequence[Any], n: int
) -> bool:
    """Whether `where` matches at least n events (reads at most n index entries)."""
    probe = select(Event.id).where(*where).limit(n).subquery()
    async with sessionmaker() as session:
        found = (await session.execute(select(func.count()).select_from(probe))).scalar_one()
    return int(found) >= n


def outer_statement(stmt: Select[Any]) -> tuple[str, dict[str, Any]]:
    """ACLED's 31 columns (OUTER_SQL, NULL for a blank) over an inner statement of
    inner_columns(), as SQL for psycopg and its parameters."""
    compiled = stmt.compile(dialect=_DIALECT, compile_kwargs={"render_postcompile": True})
    params = dict(compiled.params)
    processors: dict[str, Any] = dict(compiled._bind_processors)
    for key, process in processors.items():
        if key in params and callable(process):
            params[key] = process(params[key])
    params["countries"] = countries_json()
    # Literal percent signs of the outer SQL are not placeholders; the inner's are escaped.
    return OUTER_SQL.format(lead="", inner=str(compiled)), params


def copy_statement(stmt: Select[Any]) -> tuple[str, dict[str, Any]]:
    """COPY ... TO STDOUT for an inner statement built by queries.ordered(inner_columns())."""
    sql, params = outer_statement(stmt)
    return f"COPY ({sql}) TO STDOUT (FORMAT csv)", params


@lru_cache(maxsize=1)
def rows_by_ids_sql() -> str:
    """The id and ACLED's 31 columns of the events `%(ids)s`, in that order: one constant statement
    (compiled once; psycopg prepares it on the server after a few runs)."""
    ids = (
        func.unnest(bindparam("ids", type_=ARRAY(Integer)))
        .table_valued("id", with_ordinality="ord")
        .render_derived("page_ids")
    )
    inner = (
        select(ids.c.ord.label("page_ord"), Event.id, *inner_columns())
        .select_from(ids)
        .join(Event, Event.id == ids.c.id)
        .join(SubEventType, SubEventType.code == Event.sub_event_type_code)
        .outerjoin(Place, Place.id == Event.place_id)
    )
    compiled = inner.compile(dialect=_DIALECT)
    # OFFSET 0 keeps the inner a subquery of its own: pulled up into the outer, each of
    # the ten `s.act[n]` re-ran the actors' subquery (10 ms for 100 rows instead of ~2).
    # The country table is a constant of the statement, not a parameter: as a parameter of
    # a prepared (generic) plan it was parsed from text three times a row (50 ms a page).
    countries = "'" + countries_json().replace("'", "''").replace("%", "%%") + "'"
    # Each row led by its event's id: a reader keeping rows by event (core/doccache).
    sql = OUTER_SQL.format(lead=" s.id,", inner=f"{compiled} OFFSET 0") + " ORDER BY s.page_ord"
    return sql.replace("%(countries)s", countries)


async def acled_rows(session: AsyncSession, ids: Sequence[int]) -> list[tuple[Any, ...]]:
    """The rows of (id, ACLED's 31 columns) for the events `ids`, in that order, typed as
    PostgreSQL gives them (event_date a date, iso text, coordinates numeric; NULL for a
    blank), read in the session's transaction."""
    if not ids:
        return []
    return await driver_rows(session, rows_by_ids_sql(), {"ids": list(ids)}, generic_plan=True)


async def copy_csv(
    sessionmaker: async_sessionmaker[AsyncSession], stmt: Select[Any]
) -> AsyncIterator[bytes]:
    """The CSV lines of `stmt`, as PostgreSQL writes them, in the chunks it sends."""
    sql, params = copy_statement(stmt)
    async with sessionmaker() as session:
        conn = await session.connection()
        raw = await conn.get_raw_connection()
        driver: Any = raw.driver_connection
        async with driver.cursor() as cur, cur.copy(sql, params) as copy:
            # PostgreSQL sends one message per row: batch them, one send per ~64 KB.
            buffer = bytearray()
            async for data in copy:
                buffer += data
                if len(buffer) >= FLUSH_BYTES:
                    yield bytes(buffer)
                    buffer.clear()
            if buffer:
                yield bytes(buffer)
