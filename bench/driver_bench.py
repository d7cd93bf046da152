"""Pick the async PostgreSQL driver by measurement: psycopg 3 vs asyncpg under SQLAlchemy.

    .venv/bin/python bench/driver_bench.py [--rows 50000]

Loads a table of synthetic event-like rows, then times, through the same SQLAlchemy async
engine code: many small point queries (the API's keyset page + by-id loads) and one large
streamed read (exports). Prints a markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

BASE = "postgresql+{driver}://postgres@127.0.0.1:5432/{db}"


async def setup(db: str, rows: int) -> None:
    engine = create_async_engine(
        BASE.format(driver="psycopg", db="postgres"), isolation_level="AUTOCOMMIT"
    )
    async with engine.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{db}"'))
        await conn.execute(text(f'CREATE DATABASE "{db}"'))
    await engine.dispose()
    engine = create_async_engine(BASE.format(driver="psycopg", db=db))
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "CREATE TABLE ev (id serial primary key, d date, summary text, fat int, "
                "lat float, lon float)"
            )
        )
        await conn.execute(
            text(
                "INSERT INTO ev (d, summary, fat, lat, lon) SELECT date '2015-01-01' + (g % 3000), "
                "'event number ' || g || ' in some place with a longer summary text', g % 17, "
                "30 + (g % 100) / 10.0, 35 + (g % 70) / 10.0 FROM generate_series(1, :n) g"
            ),
            {"n": rows},
        )
        await conn.execute(text("CREATE INDEX ON ev (d, id)"))
    await engine.dispose()


async def measure(driver: str, db: str) -> dict[str, float]:
    engine = create_async_engine(BASE.format(driver=driver, db=db), pool_size=5)
    page = text("SELECT d, id FROM ev WHERE d <= :d ORDER BY d DESC, id DESC LIMIT 101")
    by_ids = text("SELECT * FROM ev WHERE id = ANY(:ids)")
    lat: list[float] = []
    async with engine.connect() as conn:
        for _ in range(30):  # warm up
            await conn.execute(page, {"d": __import__("datetime").date(2020, 1, 1)})
        for i in range(500):
            t0 = time.perf_counter()
            rows = (
                await conn.execute(page, {"d": __import__("datetime").date(2016, 1, 1 + i % 28)})
            ).all()
            await conn.execute(by_ids, {"ids": [r[1] for r in rows]})
            lat.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        n = 0
        result = await conn.stream(text("SELECT * FROM ev").execution_options(yield_per=5000))
        async for part in result.partitions():
            n += len(part)
        stream_s = time.perf_counter() - t0
    await engine.dispose()
    lat.sort()
    return {
        "p50_ms": statistics.median(lat),
        "p95_ms": lat[int(len(lat) * 0.95)],
        "stream_rows_s": n / stream_s,
    }


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    args = parser.parse_args()
    db = "conflictdb_driver_bench"
    await setup(db, args.rows)
    print(f"rows: {args.rows}\n")
    print("| driver | page+ids p50 ms | page+ids p95 ms | streamed rows/s |")
    print("|---|---|---|---|")
    for rnd in range(2):  # alternate, twice, to even out noise
        for driver in ("psycopg", "asyncpg"):
            r = await measure(driver, db)
            print(
                f"| {driver} (round {rnd + 1}) | {r['p50_ms']:.2f} | {r['p95_ms']:.2f} "
                f"| {r['stream_rows_s']:,.0f} |"
            )


if __name__ == "__main__":
    asyncio.run(main())
