"""Query benchmark: the API's reads at scale, over HTTP, beside the same SQL run directly.

    .venv/bin/python bench/query_bench.py [--rows 1000000] [--db both|postgresql|sqlite]
                                          [--reps 30] [--reload]

Loads N synthetic events (deterministic, skewed: Zipf over countries, places, actors, sources)
into a migrated schema: COPY on PostgreSQL (database `conflictdb_bench`), executemany on SQLite
(/tmp/conflictdb-bench.sqlite3). A loaded database is reused unless --reload. Then it starts
`conflictdb serve` on each database, times the fixed query set through HTTP (p50/p95 over
--reps runs after warm-up), times the same main SQL statement directly, streams a CSV export of
every row (rows/s, time to first byte, the server's peak RSS from /proc/<pid>/status VmHWM), and
writes bench/results-queries.md.

PostgreSQL settings are set on the bench database only (ALTER DATABASE ... SET), see PG_SETTINGS.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import math
import os
import platform
import random
import sqlite3
import statistics
import subprocess
import sys
import time
import typing
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.aggregates.schemas import AggregateQuery  # noqa: E402
from app.aggregates.service import statement as aggregate_sql  # noqa: E402
from app.core.migrations import migrate  # noqa: E402
from app.core.names import fold_name  # noqa: E402
from app.core.pagination import encode_cursor  # noqa: E402
from app.events.page_json import page_statement  # noqa: E402
from app.events.queries import (  # noqa: E402
    EventFilters,
    QueryContext,
    conditions,
    cursor_payload,
    keyset_page,
    ordered,
)
from app.events.serialize import EVENT_FIELDS  # noqa: E402
from app.exports.acled_pg import copy_statement, inner_columns, join_lists  # noqa: E402
from app.exports.rows import export_columns  # noqa: E402

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/conflictdb_bench"
SQLITE_PATH = Path("/tmp/conflictdb-bench.sqlite3")
SQLITE_URL = f"sqlite+aiosqlite:///{SQLITE_PATH}"
SECRET = "bench-cursor-secret"
# Per-database settings (ALTER DATABASE conflictdb_bench SET ...): the shared server's own
# configuration is left alone. work_mem lets the aggregate's hash/sort stay in memory;
# random_page_cost 1.1 tells the planner the data is cached / on SSD.
PG_SETTINGS = {"work_mem": "64MB", "random_page_cost": "1.1", "jit": "off"}

COUNTRIES = [
    ("SY", 35.0, 38.0),
    ("IQ", 33.0, 44.0),
    ("YE", 15.5, 47.5),
    ("AF", 34.0, 66.0),
    ("NG", 9.0, 8.0),
    ("ML", 17.0, -4.0),
    ("SO", 5.0, 46.0),
    ("SD", 15.0, 30.0),
    ("UA", 49.0, 32.0),
    ("MM", 21.0, 96.0),
    ("CD", -3.0, 23.0),
    ("PK", 30.0, 70.0),
    ("LY", 27.0, 17.0),
    ("BF", 12.0, -1.5),
    ("CM", 6.0, 12.0),
    ("ET", 9.0, 39.0),
    ("MX", 23.0, -102.0),
    ("CO", 4.0, -73.0),
    ("IN", 22.0, 79.0),
    ("PH", 12.0, 122.0),
]
SUB_TYPES = [
    ("armed_clash", 30),
    ("shelling_artillery_missile_attack", 14),
    ("air_drone_strike", 12),
    ("attack", 10),
    ("peaceful_protest", 9),
    ("remote_explosive_landmine_ied", 5),
    ("government_regains_territory", 2),
    ("non_state_actor_overtakes_territory", 2),
    ("abduction_forced_disappearance", 2),
    ("protest_with_intervention", 2),
    ("mob_violence", 2),
    ("violent_demonstration", 2),
    ("arrests", 2),
    ("looting_property_destruction", 1),
    ("suicide_bomb", 1),
    ("grenade", 1),
    ("agreement", 1),
    ("change_to_group_activity", 1),
    ("other", 1),
]
_WORDS_TEXT = """
forces shelled village town positions killed wounded civilians clashes militants army rebels
airstrike drone convoy checkpoint market hospital school mosque bridge road offensive ambush
protest police arrested fighters tribal militia gunmen explosion artillery mortar rocket
helicopter aircraft raid siege displaced border frontline
"""
WORDS = _WORDS_TEXT.split()
START = dt.date(2015, 1, 1)
DAYS = 3652  # ten years


def zipf_weights(n: int, s: float = 1.1) -> list[float]:
    return [1 / (i + 1) ** s for i in range(n)]


@dataclass
class World:
    places: list[tuple[Any, ...]]
    place_by_country: list[list[int]]
    actors: list[tuple[Any, ...]]
    sources: list[tuple[Any, ...]]


def make_world(rng: random.Random) -> World:
    now = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    places: list[tuple[Any, ...]] = []
    by_country: list[list[int]] = []
    pid = 0
    for code, clat, clon in COUNTRIES:
        ids = []
        for a1 in range(10):
            for a2 in range(5):
                for p in range(20):
                    pid += 1
                    lat = max(-89.0, min(89.0, clat + rng.gauss(0, 2.0)))
                    lon = max(-179.0, min(179.0, clon + rng.gauss(0, 2.5)))
                    name = f"{code} place {a1}-{a2}-{p}"
                    places.append(
                        (
                            pid,
                            name,
                            "village",
                            code,
                            f"{code} Province {a1}",
                            f"{code} District {a1}-{a2}",
                            None,
                            round(lat, 5),
                            round(lon, 5),
                            1,
                            None,
                            f"/{pid}/",
                            f"{name}|village|{code}|{a1}|{a2}".lower(),
                            now,
                            now,
                        )
                    )
                    ids.append(pid)
        by_country.append(ids)
    actors = [
        (
            i + 1,
            f"Actor {i + 1}",
            fold_name(f"Actor {i + 1}"),
            rng.choice([1, 2, 2, 3, 4, 5, 6, 7, 8]),
            None,
            now,
            now,
        )
        for i in range(600)
    ]
    sources = [
        (i + 1, f"Source {i + 1}", fold_name(f"Source {i + 1}"), "newspaper", now, now)
        for i in range(150)
    ]
    return World(places, by_country, actors, sources)


@dataclass
class Rows:
    events: list[tuple[Any, ...]]
    event_actors: list[tuple[Any, ...]]
    claims: list[tuple[Any, ...]]
    tags: list[tuple[Any, ...]]
    campaign_events: list[tuple[Any, ...]]


def generate(n: int, world: World, rng: random.Random, batch: int = 50_000) -> Iterator[Rows]:
    """Events in batches, with their actors, claims, tags and campaign links."""
    country_w = zipf_weights(len(COUNTRIES), 1.0)
    country_cum = list(_cumulative(country_w))
    place_w_cum = list(_cumulative(zipf_weights(1000, 0.8)))
    actor_cum = list(_cumulative(zipf_weights(len(world.actors), 1.0)))
    source_cum = list(_cumulative(zipf_weights(len(world.sources), 1.0)))
    sub_codes = [c for c, _ in SUB_TYPES]
    sub_cum = list(_cumulative([w for _, w in SUB_TYPES]))
    ea_id = claim_id = 0
    base = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    out = Rows([], [], [], [], [])
    for eid in range(1, n + 1):
        country = rng.choices(range(len(COUNTRIES)), cum_weights=country_cum)[0]
        place = world.place_by_country[country][
            rng.choices(range(1000), cum_weights=place_w_cum)[0]
        ]
        day = START + dt.timedelta(days=int(rng.random() ** 0.8 * DAYS))
        best = 0 if rng.random() < 0.45 else int(rng.paretovariate(1.3))
        low, high = max(0, best - rng.randint(0, 2)), best + rng.randint(0, 3)
        summary = " ".join(rng.choices(WORDS, k=14))
        updated = base + dt.timedelta(seconds=eid * 150 + rng.randint(0, 100))
        out.events.append(
            (
                eid,
                "bench",
                f"B{eid}",
                day,
                day,
                "day",
                sub_codes[rng.choices(range(len(sub_codes)), cum_weights=sub_cum)[0]],
                place,
                1,
                summary,
                None if rng.random() < 0.9 else "Reported by local sources.",
                rng.random() < 0.1,
                low,
                best,
                high,
                None,
                1,
                updated,
                updated,
            )
        )
        actor_ids = set()
        for role in ("initiator", "target", "initiator_support")[: rng.choice([1, 2, 2, 2, 3])]:
            actor = rng.choices(range(len(world.actors)), cum_weights=actor_cum)[0] + 1
            if actor in actor_ids:
                continue
            actor_ids.add(actor)
            ea_id += 1
            out.event_actors.append((ea_id, eid, actor, role, "confirmed"))
        for _ in range(rng.choice([1, 1, 1, 2])):
            claim_id += 1
            source = rng.choices(range(len(world.sources)), cum_weights=source_cum)[0] + 1
            out.claims.append(
                (claim_id, eid, source, "occurrence", "asserts", "reported", updated, updated)
            )
        if rng.random() < 0.1:
            out.tags.append((eid, rng.choice(["offensive", "ceasefire", "airstrike", "siege"])))
        if rng.random() < 0.05:
            out.campaign_events.append((rng.randint(1, 5), eid))
        if len(out.events) >= batch:
            yield out
            out = Rows([], [], [], [], [])
    if out.events:
        yield out


def _cumulative(weights: list[float]) -> Iterator[float]:
    total = 0.0
    for w in weights:
        total += w
        yield total


EVENT_COLS = (
    "id, dataset, external_id, date_start, date_end, date_precision, sub_event_type_code, "
    "place_id, geo_precision, summary, notes, civilian_targeting, fatalities_low, "
    "fatalities_best, fatalities_high, extras, version, created_at, updated_at"
)
PLACE_COLS = (
    "id, name, kind, country_code, admin1, admin2, admin3, latitude, longitude, geo_precision, "
    "parent_id, path, natural_key, created_at, updated_at"
)
TABLES = {
    "places": PLACE_COLS,
    "actors": "id, name, name_key, actor_type, country_code, created_at, updated_at",
    "sources": "id, name, name_key, kind, created_at, updated_at",
    "campaigns": "id, name, name_key, created_at, updated_at",
    "events": EVENT_COLS,
    "event_actors": "id, event_id, actor_id, role, status",
    "claims": "id, event_id, source_id, kind, stance, assertion, created_at, updated_at",
    "event_tags": "event_id, tag",
    "campaign_events": "campaign_id, event_id",
}


def load_postgresql(n: int) -> None:
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS conflictdb_bench WITH (FORCE)"))
        conn.execute(text("CREATE DATABASE conflictdb_bench"))
        for key, value in PG_SETTINGS.items():
            conn.execute(text(f"ALTER DATABASE conflictdb_bench SET {key} = '{value}'"))
    admin.dispose()
    _migrate(PG_URL)
    import psycopg

    rng = random.Random(42)
    world = make_world(rng)
    now = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/conflictdb_bench") as conn:
        with conn.cursor() as cur:
            _copy(cur, "places", world.places)
            _copy(cur, "actors", world.actors)
            _copy(cur, "sources", world.sources)
            _copy(
                cur,
                "campaigns",
                [(i, f"Campaign {i}", fold_name(f"Campaign {i}"), now, now) for i in range(1, 6)],
            )
            for rows in generate(n, world, rng):
                _copy(cur, "events", rows.events)
                _copy(cur, "event_actors", rows.event_actors)
                _copy(cur, "claims", rows.claims)
                _copy(cur, "event_tags", rows.tags)
                _copy(cur, "campaign_events", rows.campaign_events)
            for table in (
                "places",
                "actors",
                "sources",
                "campaigns",
                "events",
                "event_actors",
                "claims",
            ):
                cur.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")


def _copy(cur: Any, table: str, rows: list[tuple[Any, ...]]) -> None:
    with cur.copy(f"COPY {table} ({TABLES[table]}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _migrate(url: str) -> None:
    migrate(url)  # as `conflictdb migrate`: the schema, the event types, the admin-1 units


def _sqlite_value(v: Any) -> Any:
    if isinstance(v, dt.datetime):
        return v.astimezone(dt.UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(v, dt.date):
        return v.isoformat()
    return v


def load_sqlite(n: int) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{SQLITE_PATH}{suffix}").unlink(missing_ok=True)
    _migrate(SQLITE_URL)
    rng = random.Random(42)
    world = make_world(rng)
    now = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    conn = sqlite3.connect(SQLITE_PATH)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")

    def put(table: str, rows: list[tuple[Any, ...]]) -> None:
        cols = TABLES[table]
        marks = ", ".join("?" * len(cols.split(",")))
        conn.executemany(
            f"INSERT INTO {table} ({cols}) VALUES ({marks})",
            ([_sqlite_value(v) for v in row] for row in rows),
        )

    put("places", world.places)
    put("actors", world.actors)
    put("sources", world.sources)
    put(
        "campaigns",
        [(i, f"Campaign {i}", fold_name(f"Campaign {i}"), now, now) for i in range(1, 6)],
    )
    for rows in generate(n, world, rng):
        put("events", rows.events)
        put("event_actors", rows.event_actors)
        put("claims", rows.claims)
        put("event_tags", rows.tags)
        put("campaign_events", rows.campaign_events)
        conn.commit()
    conn.execute("ANALYZE")
    conn.commit()
    conn.close()


def loaded_rows(url: str) -> int | None:
    try:
        engine = create_engine(url.replace("+aiosqlite", ""))
        with engine.connect() as conn:
            n = conn.execute(text("SELECT count(*) FROM events")).scalar_one()
        engine.dispose()
        return int(n)
    except Exception:
        return None


# --- the query set ---------------------------------------------------------------------------


@dataclass
class Query:
    name: str
    path: str
    params: list[tuple[str, str]]
    sql: Callable[[QueryContext], Any] | None


def query_set(n: int, cursor_10k: str | None) -> list[Query]:
    filtered = [
        ("country", "SY"),
        ("event_type", "battles"),
        ("date_from", "2019-01-01"),
        ("fatalities_min", "1"),
    ]
    agg = [
        ("country", "SY"),
        ("interval", "week"),
        ("group_by", "admin1"),
        ("date_from", "2019-01-01"),
        ("date_to", "2023-12-31"),
    ]
    queries = [
        Query("filtered list page (100, nested)", "/v1/events", filtered, None),
        Query("first page (100)", "/v1/events", [], None),
    ]
    if cursor_10k:
        queries.append(Query("10,000th page (100)", "/v1/events", [("cursor", cursor_10k)], None))
    queries += [
        Query("bbox", "/v1/events", [("bbox", "36.0,34.0,37.0,35.0")], None),
        Query(
            "radius 25 km",
            "/v1/events",
            [("lat", "34.5"), ("lon", "37.5"), ("radius_km", "25")],
            None,
        ),
        Query(
            "radius 25 km, by distance",
            "/v1/events",
            [("lat", "34.5"), ("lon", "37.5"), ("radius_km", "25"), ("sort", "distance")],
            None,
        ),
        Query("full text (q=convoy ambush)", "/v1/events", [("q", "convoy ambush")], None),
        Query("weekly aggregate by admin1, 5 years (SY)", "/v1/aggregates", agg, None),
    ]
    return queries


def any_claimed_figure(url: str) -> bool:
    """What the aggregate service asks before building its statement (see plain_sql)."""
    engine = create_engine(url.replace("+aiosqlite", ""))
    with engine.connect() as conn:
        found = conn.execute(
            text("SELECT 1 FROM casualty_figures WHERE outcome = 'killed' LIMIT 1")
        ).first()
    engine.dispose()
    return found is not None


def plain_sql(
    q: Query, ctx: QueryContext, cursor: dict[str, Any] | None, with_accounts: bool = True
) -> Any:
    """The main statement the API runs for this request (without the nested loads)."""
    model = AggregateQuery if q.path == "/v1/aggregates" else EventFilters
    params: dict[str, Any] = {}
    for k, v in q.params:
        if k == "cursor":
            continue
        if typing.get_origin(model.model_fields[k].annotation) is list:
            params.setdefault(k, []).append(v)
        else:
            params[k] = v
    if q.path == "/v1/aggregates":
        # The API's own statement: without the accounts' join when no claim gives a figure.
        stmt, _, _ = aggregate_sql(AggregateQuery(**params), ctx, with_accounts=with_accounts)
        return stmt
    f = EventFilters(**params)
    return keyset_page(f, conditions(f, ctx), cursor if q.name.startswith("10,000") else None, ctx)


def percentile(values: list[float], p: float) -> float:
    ordered_values = sorted(values)
    k = max(0, min(len(ordered_values) - 1, math.ceil(p / 100 * len(ordered_values)) - 1))
    return ordered_values[k]


def time_http(client: httpx.Client, q: Query, reps: int) -> tuple[float, float, int]:
    for _ in range(3):
        r = client.get(q.path, params=q.params)
        r.raise_for_status()
    samples = []
    for _ in range(reps):
        t0 = time.perf_counter()
        r = client.get(q.path, params=q.params)
        samples.append((time.perf_counter() - t0) * 1000)
        r.raise_for_status()
    body = r.json()
    count = len(body.get("items", body.get("rows", [])))
    return statistics.median(samples), percentile(samples, 95), count


def time_lean_and_sql(
    port: int, q: Query | None, url: str | None, stmt: Any, reps: int
) -> tuple[float, float | None, float | None]:
    """p50 ms of the request from the standard library's http.client on one kept-alive
    connection (the server's time with little of the client's own: httpx spends ~0.5-0.8 ms
    of Python on a request), and p50 and p95 of its main statement run directly (`stmt` on
    `url`, the same driver), the two taken in turns: request, statement, request, ... So both
    see the same stretch of a noisy machine, where timing one after the other gave ratios
    that moved by 1.5x from run to run. Without `q`, /healthz and no statement."""
    path, params = (q.path, q.params) if q is not None else ("/healthz", [])
    target = path + ("?" + urlencode(params) if params else "")
    http_conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    engine = None
    if url is not None:
        engine = create_engine(url.replace("+aiosqlite", ""))
        if url.startswith("sqlite"):
            from sqlalchemy import event

            from app.core.geo import register_sqlite_functions

            event.listen(engine, "connect", register_sqlite_functions)
    lean: list[float] = []
    sql: list[float] = []
    try:
        with engine.connect() if engine is not None else nullcontext() as conn:
            for i in range(reps + 3):
                t0 = time.perf_counter()
                http_conn.request("GET", target)
                response = http_conn.getresponse()
                response.read()
                if i >= 3:
                    lean.append((time.perf_counter() - t0) * 1000)
                if response.status != 200:
                    raise RuntimeError(f"{target}: {response.status}")
                if conn is not None:
                    t0 = time.perf_counter()
                    conn.execute(stmt).all()
                    if i >= 3:
                        sql.append((time.perf_counter() - t0) * 1000)
    finally:
        http_conn.close()
        if engine is not None:
            engine.dispose()
    if not sql:
        return statistics.median(lean), None, None
    return statistics.median(lean), statistics.median(sql), percentile(sql, 95)


def time_page_sql(url: str, stmt: Any, reps: int) -> tuple[float, float]:
    """PostgreSQL: the two statements a JSON page runs, directly: its ids (`stmt`), then the
    page's JSON written by the database (`events.page_json`, every field)."""
    fields = tuple(f for f in EVENT_FIELDS if f != "distance_km")
    page = page_statement(fields)
    engine = create_engine(url)
    samples = []
    with engine.connect() as conn:
        for i in range(reps + 3):
            t0 = time.perf_counter()
            ids = [r[1] for r in conn.execute(stmt).all()][:100]
            conn.execute(page, {"ids": ids}).scalar_one()
            if i >= 3:
                samples.append((time.perf_counter() - t0) * 1000)
    engine.dispose()
    return statistics.median(samples), percentile(samples, 95)


def vm_hwm_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def export_run(client: httpx.Client, pid: int) -> dict[str, float]:
    rss_before = vm_hwm_kb(pid)
    t0 = time.perf_counter()
    first = None
    lines = 0
    with client.stream("GET", "/v1/events", params={"format": "csv"}, timeout=3600) as r:
        r.raise_for_status()
        for chunk in r.iter_bytes():
            lines += chunk.count(b"\n")
            if first is None and lines > 1:  # past the header: the first data row
                first = time.perf_counter() - t0
    elapsed = time.perf_counter() - t0
    rows = lines - 1
    return {
        "rows": rows,
        "seconds": elapsed,
        "rows_per_s": rows / elapsed,
        "first_row_s": first or elapsed,
        "rss_before_mb": rss_before / 1024,
        "peak_rss_mb": vm_hwm_kb(pid) / 1024,
    }


def export_sql(url: str, ctx: QueryContext) -> float:
    """Rows/s of the export's statement run directly: the COPY on PostgreSQL, else the SELECT."""
    # What the endpoint runs for a whole-table export: id order, lists joined (set-based).
    f = EventFilters(sort="id")
    if ctx.dialect == "postgresql":
        import psycopg

        inner = join_lists(
            ordered(f, conditions(f, ctx), None, ctx, *inner_columns(True), details=True)
        )
        sql, params = copy_statement(inner)
        t0 = time.perf_counter()
        n = 0
        with (
            psycopg.connect(url.replace("+psycopg", "")) as pg,
            pg.cursor() as cur,
            cur.copy(sql, params) as copy,
        ):
            for data in copy:
                n += bytes(data).count(b"\n")
        return n / (time.perf_counter() - t0)
    stmt = ordered(f, conditions(f, ctx), None, ctx, *export_columns(ctx.dialect), details=True)
    engine = create_engine(url.replace("+aiosqlite", ""))
    t0 = time.perf_counter()
    n = 0
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=5000).execute(stmt)
        for part in result.partitions():
            n += len(part)
    engine.dispose()
    return n / (time.perf_counter() - t0)


def context_for(url: str) -> QueryContext:
    if url.startswith("sqlite"):
        return QueryContext("sqlite", False)
    engine = create_engine(url)
    with engine.connect() as conn:
        geog = conn.execute(
            text(
                "SELECT 1 FROM information_schema.columns "
                "WHERE table_name='places' AND column_name='geog'"
            )
        ).first()
    engine.dispose()
    return QueryContext("postgresql", geog is not None)


def cursor_for_page(
    url: str, ctx: QueryContext, page: int, limit: int = 100
) -> tuple[str, dict[str, Any]]:
    """The cursor the server would have issued after page-1 pages of the unfiltered list."""
    f = EventFilters()
    stmt = ordered(f, conditions(f, ctx), None, ctx).offset((page - 1) * limit - 1).limit(1)
    engine = create_engine(url.replace("+aiosqlite", ""))
    with engine.connect() as conn:
        row = tuple(conn.execute(stmt).one())
    engine.dispose()
    payload = cursor_payload(f, row)
    return encode_cursor(SECRET, payload), payload


def serve(url: str, port: int) -> subprocess.Popen[bytes]:
    # The response cache off: a repeated request must run its statements, not be a hit.
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "CONFLICTDB_CURSOR_SECRET": SECRET,
        "CONFLICTDB_CACHE_ENABLED": "false",
        # The limiter still counts every request (its cost is in the figures) but refuses none:
        # a run of --reps 100 sends more than the default 1,200 a minute.
        "CONFLICTDB_RATE_LIMIT_ANONYMOUS": "1000000/minute",
    }
    proc = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/python"),
            "-m",
            "uvicorn",
            "app.main:create_app",
            "--factory",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env=env,
        cwd=ROOT,
    )
    for _ in range(200):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not start")


def run_db(name: str, url: str, n: int, reps: int, reload: bool, port: int) -> dict[str, Any]:
    have = loaded_rows(url)
    if reload or have != n:
        t0 = time.perf_counter()
        (load_postgresql if name == "postgresql" else load_sqlite)(n)
        print(f"{name}: loaded {n} events in {time.perf_counter() - t0:.0f} s", flush=True)
    ctx = context_for(url)
    pages = n // 100
    cursor_token = cursor_raw = None
    if pages >= 2:
        cursor_token, cursor_raw = cursor_for_page(url, ctx, min(10_000, pages))
    claimed = any_claimed_figure(url)
    proc = serve(url, port)
    results: list[dict[str, Any]] = []
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=600) as client:
            floor = time_http(client, Query("health", "/healthz", [], None), reps)[0]
            lean_floor = time_lean_and_sql(port, None, None, None, reps)[0]
            for q in query_set(n, cursor_token):
                p50, p95, count = time_http(client, q, reps)
                stmt = plain_sql(q, ctx, cursor_raw, claimed)
                lean50, sql50, sql95 = time_lean_and_sql(port, q, url, stmt, reps)
                assert sql50 is not None and sql95 is not None
                s50, s95 = sql50, sql95
                page50 = page95 = None
                if name == "postgresql" and q.path == "/v1/events":
                    page50, page95 = time_page_sql(url, stmt, reps)
                results.append(
                    {
                        "name": q.name,
                        "p50": p50,
                        "p95": p95,
                        "lean_p50": lean50,
                        "rows": count,
                        "sql_p50": s50,
                        "sql_p95": s95,
                        "page_p50": page50,
                        "page_p95": page95,
                    }
                )
                print(
                    f"{name}: {q.name}: {p50:.1f}/{p95:.1f} ms (SQL {s50:.1f}/{s95:.1f})",
                    flush=True,
                )
            export = export_run(client, proc.pid)
            print(f"{name}: export {export}", flush=True)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    export["sql_rows_per_s"] = export_sql(url, ctx)
    floors = {"httpx": floor, "http.client": lean_floor}
    return {"queries": results, "export": export, "ctx": ctx, "floors": floors}


def machine() -> str:
    mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    pg = "?"
    try:
        engine = create_engine(PG_ADMIN)
        with engine.connect() as conn:
            pg = conn.execute(text("SHOW server_version")).scalar_one()
        engine.dispose()
    except Exception:
        pass
    return (
        f"{os.cpu_count()} CPUs, {mem_kb / 1024 / 1024:.0f} GB RAM, PostgreSQL {pg}, "
        f"SQLite {sqlite3.sqlite_version}, Python {platform.python_version()}"
    )


def report(n: int, reps: int, runs: dict[str, dict[str, Any]], args: str) -> str:
    lines = [
        "# Query benchmark",
        "",
        f"Command: `.venv/bin/python bench/query_bench.py {args}`",
        f"Machine: {machine()}; other engineers' work runs on the same 2 cores, "
        "so figures are noisy.",
        f"Data: {n:,} synthetic events (~2 actors, ~1.25 claims each; Zipf over 20 countries, "
        "20,000 places, 600 actors, 150 sources; 10 years). "
        f"HTTP: {reps} sequential requests after 3 warm-ups, one uvicorn worker; "
        "SQL: the API's main statement (keyset page / GROUP BY) run directly, same driver; "
        "page SQL (PostgreSQL lists): the ids statement and the page's JSON statement "
        "(`app/events/page_json.py`, every field) run directly: all the SQL a page runs. "
        "Lean HTTP: the same requests from the standard library's http.client on one kept-alive "
        "connection, which costs the client far less than httpx (see each run's /healthz), "
        "taken in turns with the SQL's runs (request, statement, request, ...), so that both "
        "see the same stretch of the machine.",
        f"PostgreSQL settings on the bench database only: {PG_SETTINGS}.",
        "",
    ]
    for name, run in runs.items():
        ctx = run["ctx"]
        lines += [
            f"## {name}" + (" (PostGIS geography)" if ctx.has_geog else ""),
            "",
            f"GET /healthz p50: {run['floors']['httpx']:.2f} ms from httpx, "
            f"{run['floors']['http.client']:.2f} ms from http.client.",
            "",
            "| query | rows | HTTP p50 ms | HTTP p95 ms | lean HTTP p50 ms | SQL p50 ms "
            "| SQL p95 ms | HTTP/SQL (p50) | lean HTTP/SQL (p50) | page SQL p50 / p95 ms "
            "| HTTP/page SQL (p50) |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in run["queries"]:
            ratio = r["p50"] / r["sql_p50"] if r["sql_p50"] > 0 else float("nan")
            lean = r["lean_p50"] / r["sql_p50"] if r["sql_p50"] > 0 else float("nan")
            page = page_ratio = "-"
            if r.get("page_p50"):
                page = f"{r['page_p50']:.1f} / {r['page_p95']:.1f}"
                page_ratio = f"{r['p50'] / r['page_p50']:.1f}x"
            lines.append(
                f"| {r['name']} | {r['rows']} | {r['p50']:.1f} | {r['p95']:.1f} | "
                f"{r['lean_p50']:.1f} | {r['sql_p50']:.1f} | {r['sql_p95']:.1f} | {ratio:.1f}x | "
                f"{lean:.2f}x | {page} | {page_ratio} |"
            )
        e = run["export"]
        lines += [
            "",
            f"CSV export (ACLED shape) of all {int(e['rows']):,} rows: "
            f"{e['rows_per_s']:,.0f} rows/s ({e['seconds']:.1f} s), first row after "
            f"{e['first_row_s'] * 1000:.0f} ms, server peak RSS {e['peak_rss_mb']:.0f} MB "
            f"(before the export: {e['rss_before_mb']:.0f} MB). The same SELECT alone, read "
            f"directly: {e['sql_rows_per_s']:,.0f} rows/s.",
            "",
        ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--db", choices=["both", "postgresql", "sqlite"], default="both")
    parser.add_argument("--reps", type=int, default=30)
    parser.add_argument("--reload", action="store_true")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results-queries.md"))
    parser.add_argument("--load-only", action="store_true", help="Load the data, time nothing.")
    args = parser.parse_args()
    if args.load_only:
        for name, url in (("postgresql", PG_URL), ("sqlite", SQLITE_URL)):
            if args.db in ("both", name) and (args.reload or loaded_rows(url) != args.rows):
                t0 = time.perf_counter()
                (load_postgresql if name == "postgresql" else load_sqlite)(args.rows)
                print(f"{name}: loaded {args.rows} events in {time.perf_counter() - t0:.0f} s")
        return
    runs: dict[str, dict[str, Any]] = {}
    if args.db in ("both", "postgresql"):
        runs["PostgreSQL"] = run_db("postgresql", PG_URL, args.rows, args.reps, args.reload, 8765)
    if args.db in ("both", "sqlite"):
        runs["SQLite"] = run_db("sqlite", SQLITE_URL, args.rows, args.reps, args.reload, 8766)
    text_out = report(args.rows, args.reps, runs, " ".join(sys.argv[1:]))
    Path(args.out).write_text(text_out + "\n")
    print(text_out)


if __name__ == "__main__":
    main()
