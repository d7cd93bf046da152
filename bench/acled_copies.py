"""A big ACLED file made of ACLED's real rows: the 9,000-row test file copied until N rows.

    .venv/bin/python bench/acled_copies.py --rows 1000000 [--out /tmp/acled-copies-1000000.csv]

Copy k (0, 1, 2, ...) of each row of ACLED's test file (`../shared/data/acled/
acled-dummy-2022h1.csv`):
- shifts `event_date` back by 30*k days, and `year` with it;
- suffixes `event_id_cnty` with `X<k>` (copy 0 keeps the id), so every key is unique;
- fixes ACLED's misspelled `disorder_type` "Demostrations" (4,978 rows) to "Demonstrations".
Everything else (notes, actors, places, sources, timestamp) is ACLED's own text, so the notes
are as long as real ones (261 characters on average, against ~90 in bench/generate.py's file),
which makes the search words dearer. The last copy is cut where N rows are reached.

`write_acled_copies(path, rows)` is the function other benchmarks import.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# ../shared/data beside the checkout; a clone elsewhere on the machine finds /work/shared (as
# the tests do, tests/conftest.py).
_BESIDE = ROOT.parent / "shared" / "data"
SHARED = Path(
    os.environ.get(
        "CONFLICTDB_SHARED_DATA",
        _BESIDE if _BESIDE.is_dir() else Path("/work/shared/data"),
    )
)
ACLED_FILE = SHARED / "acled" / "acled-dummy-2022h1.csv"


def write_acled_copies(path: Path | str, rows: int, source: Path | str = ACLED_FILE) -> Path:
    """Write `rows` rows (plus the header) of copies of ACLED's test file to `path`."""
    path = Path(path)
    with Path(source).open(newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        records = list(reader)
    col = {name: i for i, name in enumerate(header)}
    c_id, c_date, c_year = col["event_id_cnty"], col["event_date"], col["year"]
    c_disorder = col.get("disorder_type")
    days = [dt.date.fromisoformat(r[c_date]) for r in records]
    tmp = path.with_name(path.name + ".tmp")
    written = 0
    with tmp.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        k = 0
        while written < rows:
            shift = dt.timedelta(days=30 * k)
            suffix = f"X{k}" if k else ""
            for rec, day in zip(records, days, strict=True):
                if written >= rows:
                    break
                row = list(rec)
                moved = day - shift
                row[c_date] = moved.isoformat()
                row[c_year] = str(moved.year)
                row[c_id] = rec[c_id] + suffix
                if c_disorder is not None and row[c_disorder] == "Demostrations":
                    row[c_disorder] = "Demonstrations"
                writer.writerow(row)
                written += 1
            k += 1
    tmp.replace(path)
    return path


def acled_copies(rows: int) -> Path:
    """The file of `rows` rows in /tmp, written once and then reused."""
    path = Path(f"/tmp/acled-copies-{rows}.csv")
    if not path.exists():
        write_acled_copies(path, rows)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    out = args.out or Path(f"/tmp/acled-copies-{args.rows}.csv")
    write_acled_copies(out, args.rows)
    print(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
