"""The keys a file has named so far, kept on disk: the duplicate check in bounded memory.

A dict of every key of a 1M-row file held ~120 MB for the whole import, and grows with the
file. Here the keys of earlier batches live in a private temporary SQLite file (its page cache
bounded, deleted when closed); only the current batch is in memory. Nothing of it is in the
import's database or transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

from app.imports.problems import ImportReport, Problem
from app.imports.rows import EventRow

# The temporary file's page cache (KiB): the index is appended to mostly in order.
CACHE_KIB = 16 * 1024


class SeenKeys:
    """`fresh(batch)`: the batch's rows whose key no earlier row named; rejects the others."""

    def __init__(self) -> None:
        # "" opens a private temporary database on disk, removed when it is closed.
        self.db = sqlite3.connect("", isolation_level=None, check_same_thread=False)
        self.db.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        self.db.execute("PRAGMA journal_mode = OFF")
        self.db.execute("PRAGMA synchronous = OFF")
        self.db.execute("CREATE TABLE seen (key TEXT PRIMARY KEY, line INTEGER) WITHOUT ROWID")
        self.db.execute("CREATE TEMP TABLE batch (key TEXT, line INTEGER)")
        self.count = 0

    def fresh(self, rows: list[EventRow], report: ImportReport) -> list[EventRow]:
        firsts: dict[str, int] = {}
        for row in rows:
            firsts.setdefault(row.external_id, row.line)
        if self.count:
            db = self.db
            db.execute("BEGIN")
            db.executemany("INSERT INTO batch VALUES (?, ?)", firsts.items())
            earlier = dict(
                db.execute("SELECT b.key, s.line FROM batch b JOIN seen s ON s.key = b.key")
            )
            db.execute("DELETE FROM batch")
            db.execute("COMMIT")
        else:
            earlier = {}
        out = []
        for row in rows:
            first = earlier.get(row.external_id)
            if first is None:
                first = firsts[row.external_id]
            if first != row.line:
                report.add(
                    Problem(
                        row.line,
                        "external_id",
                        row.external_id,
                        f"duplicate key within the file (first at line {first})",
                        "reject",
                        row.external_id,
                    )
                )
                continue
            out.append(row)
        new = [(k, v) for k, v in firsts.items() if k not in earlier]
        self.db.execute("BEGIN")
        self.db.executemany("INSERT INTO seen VALUES (?, ?)", sorted(new))
        self.db.execute("COMMIT")
        self.count += len(new)
        return out

    def close(self) -> None:
        self.db.close()


def batches(rows: Iterator[EventRow], size: int) -> Iterator[list[EventRow]]:
    batch: list[EventRow] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
