"""What an import of N ACLED rows cannot go below on this machine, measured part by part.

    .venv/bin/python bench/import_floor.py [--rows 1000000] [--seed 42]
        [--out bench/results-import-floor.md]

The import benchmark (bench/import_bench.py) times the importer; this one times, in the same
run and on the same synthetic file, the work that any importer keeping our schema must do,
each part alone and without the others in the way:

- PostgreSQL `COPY` of the CSV as it is into a TEMP all-text table (no WAL: less than the
  import benchmark's plain load, which writes a logged table);
- `to_tsvector('english', notes)` over those rows: the words the full-text index holds
  (`events.search_vector`, a stored generated column since migration 0005), computed by any
  insert into `events`, on one core;
- the GIN index build over those words once stored, as the importer's big-load path does it
  (maintenance_work_mem 512MB; PostgreSQL 15 builds a GIN index with one process);
- SQLite: the FTS5 index (porter unicode61, as `events_fts`) over the same notes;
- Python: `csv.reader` over the file, touching nothing (the least any parsing in Python costs),
  then the ACLED parser (`AcledParser.events`: validation and normalization), no database.

An import is one transaction, so all its PostgreSQL work runs in one backend, on one core; the
parsing runs in Python on the other. The floor is therefore at least the larger of the two.
"""

from __future__ import annotations

import argparse
import csv
import sqlite3
import sys
import time
from pathlib import Path

import psycopg
from sqlalchemy import create_engine

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from import_bench import PG_ADMIN, copy_csv, machine, synthetic  # noqa: E402

from app.imports.acled import AcledParser  # noqa: E402
from app.imports.problems import ImportReport  # noqa: E402
from app.imports.vocab import Taxonomy  # noqa: E402

csv.field_size_limit(2**31 - 1)


def timed(label: str, results: list[tuple[str, float]], fn: object) -> None:
    started = time.perf_counter()
    fn()  # type: ignore[operator]
    seconds = time.perf_counter() - started
    results.append((label, seconds))
    print(f"{label}: {seconds:.1f}s", flush=True)


def postgres_parts(path: Path, results: list[tuple[str, float]]) -> None:
    with path.open(newline="", encoding="utf-8") as fh:
        header = next(csv.reader(fh))
    columns = ", ".join(f'"{c}" TEXT' for c in header)
    with psycopg.connect(PG_ADMIN) as conn:
        conn.execute("SET temp_buffers = '2GB'")
        conn.execute(f"CREATE TEMP TABLE raw ({columns})")

        timed(
            "PostgreSQL: COPY the CSV into a TEMP all-text table",
            results,
            lambda: copy_csv(conn, "raw", path),
        )
        conn.execute("SELECT count(*) FROM raw")  # warm the buffers once, outside the timings
        timed(
            "PostgreSQL: to_tsvector('english', notes) over every row",
            results,
            lambda: conn.execute("SELECT count(to_tsvector('english', notes)) FROM raw"),
        )
        conn.execute(
            "CREATE TEMP TABLE words AS SELECT to_tsvector('english', notes) AS v FROM raw"
        )
        conn.execute("SET maintenance_work_mem = '512MB'")
        timed(
            "PostgreSQL: GIN index build over the stored words",
            results,
            lambda: conn.execute("CREATE INDEX ON words USING gin (v)"),
        )
        conn.rollback()


def sqlite_fts(path: Path, results: list[tuple[str, float]]) -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE notes (notes TEXT)")
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        col = next(reader).index("notes")
        conn.executemany("INSERT INTO notes VALUES (?)", ((r[col],) for r in reader))
    conn.execute("CREATE VIRTUAL TABLE f USING fts5(notes, tokenize='porter unicode61')")
    timed(
        "SQLite: FTS5 index (porter unicode61) over the notes",
        results,
        lambda: conn.execute("INSERT INTO f (notes) SELECT notes FROM notes"),
    )
    conn.close()


def python_parts(path: Path, results: list[tuple[str, float]]) -> None:
    def read() -> None:
        with path.open(newline="", encoding="utf-8") as fh:
            for _ in csv.reader(fh):
                pass

    timed("Python: csv.reader over the file, nothing else", results, read)
    url = "sqlite:////tmp/conflictdb-import-bench.sqlite3"
    engine = create_engine(url)
    with engine.connect() as conn:
        taxonomy = Taxonomy.load(conn)
    engine.dispose()
    parser = AcledParser(taxonomy)
    parser.open(path)
    report = ImportReport("acled", "acled")

    def parse() -> None:
        for _ in parser.events(report):
            pass

    timed("Python: the ACLED parser (validate and normalize), no database", results, parse)
    parser.close()
    assert not report.rejects, report.rejects[:3]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results-import-floor.md")
    args = parser.parse_args(argv)
    path = synthetic(args.rows, args.seed)
    if not Path("/tmp/conflictdb-import-bench.sqlite3").exists():
        from import_bench import fresh_database

        fresh_database("sqlite")  # the taxonomy the parser checks types against
    results: list[tuple[str, float]] = []
    postgres_parts(path, results)
    sqlite_fts(path, results)
    python_parts(path, results)
    rows = args.rows
    lines = [
        "# Import floor: the parts no importer of our schema avoids",
        "",
        f"Command: `.venv/bin/python bench/import_floor.py {' '.join(sys.argv[1:])}`",
        f"File: the synthetic ACLED file of bench/generate.py, {rows:,} rows, seed {args.seed}",
        "",
        *machine(),
        "",
        "| part | seconds | rows/s if it were all |",
        "|---|---:|---:|",
    ]
    for label, seconds in results:
        lines.append(f"| {label} | {seconds:.1f} | {rows / seconds:,.0f} |")
    by = dict(results)
    pg_floor = (
        by["PostgreSQL: COPY the CSV into a TEMP all-text table"]
        + by["PostgreSQL: to_tsvector('english', notes) over every row"]
        + by["PostgreSQL: GIN index build over the stored words"]
    )
    py_floor = by["Python: the ACLED parser (validate and normalize), no database"]
    lines += [
        "",
        f"One transaction is one PostgreSQL backend: reading the rows once, computing their "
        f"search words and indexing them alone take {pg_floor:.1f} s on its core, a ceiling of "
        f"{rows / pg_floor:,.0f} rows/s before a single event, actor, claim or B-tree entry is "
        f"written. Validating the rows in Python takes {py_floor:.1f} s on the other core "
        f"({rows / py_floor:,.0f} rows/s). Both cores busy all the time, with nothing else to "
        f"do, would give {rows / max(pg_floor, py_floor):,.0f} rows/s.",
    ]
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
