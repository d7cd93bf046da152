"""Import benchmark: the importer end to end, beside a plain load of the same CSV.

    .venv/bin/python bench/import_bench.py [--rows 1000000] [--seed 42]
        [--db both|postgresql|sqlite] [--files ucdp,acled] [--out bench/results-import.md]

For each database (a fresh, migrated one per file: PostgreSQL `conflictdb_import_bench`,
SQLite /tmp/conflictdb-import-bench.sqlite3) and each file (the real UCDP Syria file; a
synthetic ACLED file made by bench/generate.py, kept in /tmp), it times:
- the import as `conflictdb import` runs it (parse, resolve, stage, upsert, commit: one
  transaction), then the same file again (every row unchanged);
- a plain load of the same CSV into a flat all-text table: COPY on PostgreSQL, csv.reader +
  executemany in one transaction on SQLite. The ratio import / plain load is the overhead.
Then it writes the markdown table, the command and the machine to --out.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.core.migrations import migrate  # noqa: E402
from app.imports.problems import ImportReport  # noqa: E402
from app.imports.service import ImportRequest, run_import  # noqa: E402

PG_ADMIN = os.environ.get("CONFLICTDB_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_DB = "conflictdb_import_bench"
SQLITE_PATH = Path("/tmp/conflictdb-import-bench.sqlite3")
SHARED = Path(os.environ.get("CONFLICTDB_SHARED_DATA", ROOT.parent / "shared" / "data"))
UCDP_FILE = SHARED / "ucdp" / "ged-syria-2016-01-to-2019-11.csv"


@dataclass
class Result:
    db: str
    name: str
    rows: int
    report: ImportReport
    again: ImportReport
    plain_seconds: float
    notes: list[str] = field(default_factory=list)


def pg_url(db: str) -> str:
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{db}"


def fresh_database(kind: str) -> str:
    """A new, migrated database with the reference vocabularies loaded; returns its URL."""
    if kind == "postgresql":
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{PG_DB}"')
        url = pg_url(PG_DB).replace("postgresql://", "postgresql+psycopg://", 1)
    else:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{SQLITE_PATH}{suffix}").unlink(missing_ok=True)
        url = f"sqlite+aiosqlite:///{SQLITE_PATH}"
    migrate(url)  # as `conflictdb migrate`: the schema, the event types, the admin-1 units
    return url


def csv_header(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8") as fh:
        return next(csv.reader(fh))


def copy_csv(conn: psycopg.Connection[Any], table: str, path: Path) -> None:
    """COPY a CSV file, header and all, into `table` as it is."""
    with (
        conn.cursor() as cur,
        cur.copy(f"COPY {table} FROM STDIN (FORMAT csv, HEADER true)") as copy,
        path.open("rb") as fh,
    ):
        while chunk := fh.read(1 << 20):
            copy.write(chunk)


def plain_load(kind: str, path: Path) -> float:
    """Seconds to load the CSV as it is into a flat all-text table (the floor for any import)."""
    columns = ", ".join(f'"{c}" TEXT' for c in csv_header(path))
    if kind == "postgresql":
        with psycopg.connect(pg_url(PG_DB)) as conn:
            conn.execute("DROP TABLE IF EXISTS flat_copy")
            conn.execute(f"CREATE TABLE flat_copy ({columns})")
            conn.commit()
            started = time.perf_counter()
            copy_csv(conn, "flat_copy", path)
            conn.commit()
            seconds = time.perf_counter() - started
            conn.execute("DROP TABLE flat_copy")
            conn.commit()
        return seconds
    conn = sqlite3.connect(SQLITE_PATH)
    conn.execute("DROP TABLE IF EXISTS flat_copy")
    conn.execute(f"CREATE TABLE flat_copy ({columns})")
    conn.commit()
    width = len(csv_header(path))
    marks = ", ".join("?" for _ in range(width))
    started = time.perf_counter()
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        next(reader)
        conn.executemany(f"INSERT INTO flat_copy VALUES ({marks})", reader)
    conn.commit()
    seconds = time.perf_counter() - started
    conn.execute("DROP TABLE flat_copy")
    conn.commit()
    conn.close()
    return seconds


def synthetic(rows: int, seed: int) -> Path:
    path = Path(f"/tmp/acled-synthetic-{rows}-{seed}.csv")
    if not path.exists():
        subprocess.run(
            [sys.executable, str(ROOT / "bench" / "generate.py"), "--rows", str(rows),
             "--seed", str(seed), "--out", str(path)],
            check=True,
        )  # fmt: skip
    return path


def run(kind: str, name: str, path: Path, fmt: str) -> Result:
    url = fresh_database(kind)
    print(f"[{kind}] {name}: importing {path}", flush=True)
    report = run_import(url, ImportRequest(path, fmt))
    assert report.committed, report.rejects[:5]
    print(f"[{kind}] {name}: {report.rows} rows in {report.seconds:.1f}s", flush=True)
    again = run_import(url, ImportRequest(path, fmt))
    plain = plain_load(kind, path)
    print(f"[{kind}] {name}: again {again.seconds:.1f}s, plain load {plain:.1f}s", flush=True)
    return Result(kind, name, report.rows, report, again, plain)


def machine() -> list[str]:
    mem = next(
        (line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
         if line.startswith("MemTotal")),
        "0",
    )  # fmt: skip
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        platform.processor(),
    )  # fmt: skip
    engine = create_engine(PG_ADMIN)
    with engine.connect() as conn:
        pg = conn.execute(text("SHOW server_version")).scalar()
        settings = {
            name: conn.execute(text(f"SHOW {name}")).scalar()
            for name in ("shared_buffers", "max_wal_size", "synchronous_commit")
        }
    engine.dispose()
    return [
        f"- CPU: {os.cpu_count()} x {cpu} (nproc {os.cpu_count()}); "
        f"RAM {int(mem) // 1024 // 1024} GiB",
        f"- PostgreSQL {pg} ({', '.join(f'{k}={v}' for k, v in settings.items())}); "
        f"SQLite {sqlite3.sqlite_version}; Python {platform.python_version()}",
        f"- load average when the run ended: {', '.join(f'{x:.2f}' for x in os.getloadavg())} "
        "(the machine is shared: other work ran beside this benchmark)",
    ]


NOTES = [
    "How to read the phases: `read` is the parsing thread: parsing, `resolve`, `build` and, once",
    "the previous batch's upsert is done, staging the batch (`db_new_dims`, `db_stage`);",
    "`db_upsert` runs on the database thread meanwhile (wall-clock, so the phases overlap and",
    "do not add up); `drain` waits for the last upsert; `rebuild` (PostgreSQL, big loads)",
    "builds the dropped indexes and foreign keys, mostly the full-text GIN index; `analyze`",
    "(PostgreSQL, >= 10,000 events written); then `commit`, and `vacuum` after it.",
    "The plain load is the floor for any import of the file: COPY (PostgreSQL) or executemany",
    "(SQLite) of the CSV as it is into one all-text table, no parsing in Python, no indexes.",
]


def phases(report: ImportReport) -> str:
    return ", ".join(f"{k} {v:.1f}" for k, v in report.phases.items())


def write(results: list[Result], out: Path, argv: list[str]) -> None:
    lines = [
        "# Import benchmark",
        "",
        f"Command: `.venv/bin/python bench/import_bench.py {' '.join(argv)}`",
        "",
        *machine(),
        "",
        "| database | file | rows | import s | rows/s | plain load s | plain rows/s | "
        "import / plain | same file again s |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.db} | {r.name} | {r.rows:,} | {r.report.seconds:.1f} | "
            f"{r.report.rows_per_second:,.0f} | {r.plain_seconds:.1f} | "
            f"{r.rows / r.plain_seconds:,.0f} | {r.report.seconds / r.plain_seconds:.1f}x | "
            f"{r.again.seconds:.1f} |"
        )
    lines += ["", "Phases of each import (seconds):", ""]
    for r in results:
        lines.append(f"- {r.db}, {r.name}: {phases(r.report)}")
    lines += ["", *NOTES]
    out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--db", choices=["both", "postgresql", "sqlite"], default="both")
    parser.add_argument("--files", default="ucdp,acled", help="ucdp, acled or both")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results-import.md")
    args = parser.parse_args(argv)
    kinds = ["postgresql", "sqlite"] if args.db == "both" else [args.db]
    files = args.files.split(",")
    results = []
    for kind in kinds:
        if "ucdp" in files:
            results.append(run(kind, "UCDP GED Syria (real)", UCDP_FILE, "ucdp"))
        if "acled" in files:
            path = synthetic(args.rows, args.seed)
            results.append(run(kind, f"ACLED synthetic (seed {args.seed})", path, "acled"))
    write(results, args.out, sys.argv[1:] if argv is None else argv)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
