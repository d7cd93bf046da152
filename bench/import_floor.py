"""The import beside its floor: the same rows written into the same schema with no logic.

    .venv/bin/python bench/import_floor.py [--rows 1000000] [--seed 42]
        [--db both|postgresql|sqlite] [--files synthetic,acled-copies]
        [--out bench/results-import-floor.md]

For each database and file, in one run, one after the other:

1. the import, as `conflictdb import FILE --format acled` runs it, in a process of its own, into
   a fresh migrated database: its time (the command's own `seconds=`: parse, load, rebuild,
   ANALYZE, commit, VACUUM) and the process's peak RSS (ru_maxrss);
2. the floor: into a second fresh migrated database (the same schema, indexes, triggers and
   foreign keys), in one transaction on the importer's own connection settings, everything an
   import of this file cannot avoid, done the cheapest way there is:
   - reading the file: PostgreSQL COPYs the CSV, as it is, into a TEMP all-text table (the
     backend parses it: one transaction is one backend, so its time adds to the rest);
     SQLite has no server to read it, so a second process runs `csv.reader` over the file
     while the database writes (two cores: the wall time counts, not the sum);
   - writing exactly the rows the import wrote (places, actors, sources, events, event_actors,
     claims, event_tags), taken from the imported database and loaded with no logic at all:
     PostgreSQL `COPY .. FROM` binary dumps (so `events.search_vector`, the stored search
     words, is computed as the import computes it); SQLite `INSERT .. SELECT` from the attached
     imported database;
   - the indexes: as the importer's big-load path does it (secondary indexes and foreign keys
     of events, event_actors, claims, event_tags dropped, built once at the end; SQLite's
     FTS5 index filled in one pass), so the GIN/FTS5 index and every B-tree is there at commit;
   - the commit. Not in the floor (the import pays for them): ANALYZE, VACUUM, parsing and
     validating in Python, the digests, finding places/actors/sources, the upsert's lookups.

The ratio import / floor is the importer's overhead over the least any importer of our schema
must do on this machine. The machine is shared: compare only figures of one run.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from acled_copies import acled_copies  # noqa: E402
from import_bench import PG_ADMIN, PG_DB, SQLITE_PATH, copy_csv, machine, synthetic  # noqa: E402
from import_bench import fresh_database as fresh_import_database  # noqa: E402

from app.core.migrations import migrate  # noqa: E402
from app.imports.service import _transaction  # noqa: E402
from app.imports.staging import staging_for  # noqa: E402

csv.field_size_limit(2**31 - 1)

FLOOR_PG_DB = "conflictdb_import_floor"
FLOOR_SQLITE = Path("/tmp/conflictdb-import-floor.sqlite3")
DUMP_DIR = Path("/tmp/conflictdb-import-floor-dump")
# Parents first (foreign keys).
TABLES = ("places", "actors", "sources", "events", "event_actors", "claims", "event_tags")


def pg_url(db: str, driver: str = "postgresql+psycopg") -> str:
    return PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", f"{driver}://", 1) + f"/{db}"


IMPORT_CHILD = """
import json, resource, sys, time
from pathlib import Path
from app.imports.service import ImportRequest, run_import
started = time.perf_counter()
report = run_import(sys.argv[1], ImportRequest(Path(sys.argv[2]), "acled"))
wall = time.perf_counter() - started
assert report.committed, report.rejects[:5]
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
print(json.dumps([report.seconds, wall, peak, workers, report.counts(), report.phases]))
"""


def run_import(url: str, path: Path) -> dict[str, Any]:
    """The import, as `conflictdb import` runs it (`run_import`), in a process of its own:
    its seconds, its peak RSS (and its own children's, if it has any), counts and phases."""
    out = subprocess.run(
        [sys.executable, "-c", IMPORT_CHILD, url, str(path)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    seconds, wall, peak, workers, counts, phases = json.loads(out.strip().splitlines()[-1])
    return {
        "import": seconds,
        "wall": wall,
        "rss": peak,
        "worker_rss": workers,
        "counts": counts,
        "phases": phases,
    }


def columns_pg(conn: psycopg.Connection[object], table: str) -> list[str]:
    rows = conn.execute(
        "SELECT a.attname FROM pg_attribute a WHERE a.attrelid = %s::regclass AND a.attnum > 0 "
        "AND NOT a.attisdropped AND a.attgenerated = '' ORDER BY a.attnum",
        (table,),
    ).fetchall()
    return [str(r[0]) for r in rows]


def dump_pg() -> dict[str, tuple[list[str], Path]]:
    DUMP_DIR.mkdir(exist_ok=True)
    dumps = {}
    with psycopg.connect(pg_url(PG_DB, "postgresql")) as conn:
        for table in TABLES:
            cols = columns_pg(conn, table)  # type: ignore[arg-type]
            path = DUMP_DIR / f"{table}.bin"
            order = "event_id" if table == "event_tags" else "id"
            select = f"SELECT {', '.join(cols)} FROM {table} ORDER BY {order}"
            sql = f"COPY ({select}) TO STDOUT (FORMAT binary)"
            with conn.cursor() as cur, cur.copy(sql) as copy, path.open("wb") as fh:  # type: ignore[arg-type]
                for chunk in copy:
                    fh.write(chunk)
            dumps[table] = (cols, path)
    return dumps


def floor_pg(path: Path, dumps: dict[str, tuple[list[str], Path]]) -> dict[str, float]:
    """The floor on PostgreSQL; returns timed parts (`total` is the whole transaction)."""
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{FLOOR_PG_DB}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{FLOOR_PG_DB}"')
    fresh_schema(pg_url(FLOOR_PG_DB))
    parts: dict[str, float] = {}
    with _transaction(pg_url(FLOOR_PG_DB)) as conn:
        started = time.perf_counter()
        staging = staging_for(conn)
        staging.settings()
        raw = conn.connection.driver_connection
        header = next(csv.reader(path.open(newline="", encoding="utf-8")))
        cols = ", ".join(f'"{c}" TEXT' for c in header)
        conn.exec_driver_sql(f"CREATE TEMP TABLE raw_rows ({cols}) ON COMMIT DROP")
        t = time.perf_counter()
        copy_csv(raw, "raw_rows", path)
        parts["read the file (COPY into TEMP)"] = time.perf_counter() - t
        restore = staging.suspend_constraints()
        for table in TABLES:
            names, dump = dumps[table]
            t = time.perf_counter()
            sql = f"COPY {table} ({', '.join(names)}) FROM STDIN (FORMAT binary)"
            with raw.cursor() as cur, cur.copy(sql) as copy, dump.open("rb") as fh:
                while chunk := fh.read(1 << 20):
                    copy.write(chunk)
            parts[f"write {table}"] = time.perf_counter() - t
        t = time.perf_counter()
        restore()
        parts["indexes and foreign keys"] = time.perf_counter() - t
        t = time.perf_counter()
        conn.commit()
        parts["commit"] = time.perf_counter() - t
        parts["total"] = time.perf_counter() - started
    return parts


def fresh_schema(url: str) -> None:
    """Migrated, with the taxonomy the events refer to (as bench/import_bench.py makes one)."""
    migrate(url)  # as `conflictdb migrate`: the schema, the event types, the admin-1 units


# The least reading the file in Python costs: csv.reader over it, touching nothing.
READ_CSV = (
    "import csv, sys\n"
    "csv.field_size_limit(2**31 - 1)\n"
    "with open(sys.argv[1], newline='', encoding='utf-8') as fh:\n"
    "    for _ in csv.reader(fh):\n"
    "        pass\n"
)


def floor_sqlite(path: Path) -> dict[str, float]:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{FLOOR_SQLITE}{suffix}").unlink(missing_ok=True)
    fresh_schema(f"sqlite+aiosqlite:///{FLOOR_SQLITE}")
    parts: dict[str, float] = {}
    with _transaction(f"sqlite:///{FLOOR_SQLITE}") as conn:
        started = time.perf_counter()
        # The file is read by a second process meanwhile (SQLite has no server to read it).
        reader = subprocess.Popen([sys.executable, "-c", READ_CSV, str(path)])
        conn.exec_driver_sql(f"ATTACH DATABASE '{SQLITE_PATH}' AS imp")
        staging = staging_for(conn)
        restore = staging.suspend_constraints()
        for table in TABLES:
            t = time.perf_counter()
            conn.exec_driver_sql(f"INSERT INTO main.{table} SELECT * FROM imp.{table}")
            parts[f"write {table}"] = time.perf_counter() - t
        t = time.perf_counter()
        restore()
        parts["indexes and FTS5"] = time.perf_counter() - t
        t = time.perf_counter()
        conn.exec_driver_sql("COMMIT")
        parts["commit"] = time.perf_counter() - t
        t = time.perf_counter()
        reader.wait()
        parts["waiting for the file's reader"] = time.perf_counter() - t
        parts["total"] = time.perf_counter() - started
    return parts


def measure(kind: str, name: str, path: Path, rows: int) -> dict[str, Any]:
    url = fresh_import_database(kind)
    print(f"[{kind}] {name}: import of {path}", flush=True)
    result = run_import(url, path)
    seconds, rss = result["import"], result["rss"]
    print(f"[{kind}] {name}: import {seconds:.1f}s, peak RSS {rss / 2**20:.0f} MB", flush=True)
    load_import = os.getloadavg()
    parts = floor_pg(path, dump_pg()) if kind == "postgresql" else floor_sqlite(path)
    floor = parts["total"]
    print(f"[{kind}] {name}: floor {floor:.1f}s, ratio {seconds / floor:.2f}", flush=True)
    return {
        **result,
        "db": kind,
        "file": name,
        "rows": rows,
        "floor": floor,
        "parts": parts,
        "load": (load_import, os.getloadavg()),
    }


def _rss(r: dict[str, Any]) -> str:
    mb = int(r["rss"]) / 2**20
    if r["worker_rss"]:
        return f"{mb:.0f} (+ {int(r['worker_rss']) / 2**20:.0f} per worker)"
    return f"{mb:.0f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--db", choices=["both", "postgresql", "sqlite"], default="both")
    parser.add_argument("--files", default="synthetic,acled-copies")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results-import-floor.md")
    args = parser.parse_args(argv)
    kinds = ["postgresql", "sqlite"] if args.db == "both" else [args.db]
    makers: dict[str, tuple[str, Callable[[], Path]]] = {
        "synthetic": (
            f"ACLED synthetic (seed {args.seed})",
            lambda: synthetic(args.rows, args.seed),
        ),
        "acled-copies": ("ACLED's real rows, copied", lambda: acled_copies(args.rows)),
    }
    results: list[dict[str, Any]] = []
    text = ""
    for kind in kinds:
        for key in args.files.split(","):
            name, make = makers[key]
            results.append(measure(kind, name, make(), args.rows))
            # Written after each pair, so that a long run that is stopped keeps what it measured.
            text = report(results, " ".join(sys.argv[1:] if argv is None else argv))
            args.out.write_text(text)
    print(text)
    return 0


def report(results: list[dict[str, Any]], command: str) -> str:
    lines = [
        "# Import beside its floor",
        "",
        f"Command: `.venv/bin/python bench/import_floor.py {command}`",
        "",
        *machine(),
        "",
        "| database | file | rows | import s | rows/s | floor s | import / floor | "
        "peak RSS MB | load avg (import, floor) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        load = r["load"]
        lines.append(
            f"| {r['db']} | {r['file']} | {r['rows']:,} | {r['import']:.1f} | "
            f"{int(r['rows']) / float(r['import']):,.0f} | {r['floor']:.1f} | "  # type: ignore[arg-type]
            f"{float(r['import']) / float(r['floor']):.2f}x | {_rss(r)} | "  # type: ignore[arg-type]
            f"{load[0][0]:.2f}, {load[1][0]:.2f} |"  # type: ignore[index]
        )
    lines += ["", "The floor's parts (seconds):", ""]
    for r in results:
        parts = ", ".join(f"{k} {v:.1f}" for k, v in r["parts"].items())  # type: ignore[attr-defined]
        lines.append(f"- {r['db']}, {r['file']}: {parts}")
    lines += ["", "The imports' phases (seconds; they overlap, see docs/import.md):", ""]
    for r in results:
        phases = ", ".join(f"{k} {v:.1f}" for k, v in r["phases"].items())  # type: ignore[attr-defined]
        lines.append(f"- {r['db']}, {r['file']}: {phases}; {r['counts']}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
