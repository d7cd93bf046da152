"""ACLED deletion lists: the events a dataset withdrew, deleted here with tombstones left behind."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from app.imports.acled import DATASET, timestamp_seconds
from app.imports.bulk import BulkOptions
from app.imports.csvio import CsvFile, open_csv, require_columns
from app.imports.problems import ImportReport, Problem, RowRejected
from app.imports.rows import Deletion
from app.imports.staging import DELETION_COLUMNS, staging_for
from app.imports.vocab import EXTERNAL_ID
from app.links.service import regroup_after_deletions
from app.models.base import utcnow


class AcledDeletionsParser:
    """ACLED's deletion list: `event_id_cnty` and `deleted_timestamp` (Unix seconds)."""

    format = "acled-deletions"

    def __init__(self, dataset: str | None = None) -> None:
        self.dataset = dataset or DATASET
        self.file: CsvFile | None = None

    def open(self, path: Path) -> CsvFile:
        self.file = open_csv(path)
        require_columns(self.file.header, ("event_id_cnty",), "an ACLED deletion list")
        return self.file

    def deletions(self, report: ImportReport, now: dt.datetime) -> Iterator[Deletion]:
        assert self.file is not None
        pos = {name: i for i, name in enumerate(self.file.header)}
        id_col, ts_col = pos["event_id_cnty"], pos.get("deleted_timestamp")
        for line, rec in self.file.records():
            report.rows += 1
            external_id = rec[id_col].strip() if id_col < len(rec) else ""
            if not external_id or len(external_id) > 64 or not EXTERNAL_ID.match(external_id):
                report.add(
                    Problem(line, "event_id_cnty", external_id, "event_id_cnty is not a valid id")
                )
                continue
            when = now
            raw = rec[ts_col].strip() if ts_col is not None and ts_col < len(rec) else ""
            if raw:
                try:
                    when = dt.datetime.fromtimestamp(timestamp_seconds(raw), dt.UTC)
                except RowRejected:
                    report.add(
                        Problem(
                            line,
                            "deleted_timestamp",
                            raw,
                            "deleted_timestamp must be Unix seconds",
                            "reject",
                            external_id,
                        )
                    )
                    continue
            yield Deletion(line, external_id, when)

    def close(self) -> None:
        if self.file is not None:
            self.file.close()


def load_deletions(
    conn: Connection,
    rows: Iterable[Deletion],
    dataset: str,
    report: ImportReport,
    options: BulkOptions,
    reason: str,
) -> None:
    """Delete the listed events (their tombstones tell syncing clients), in one statement set."""
    started = time.perf_counter()
    staging = staging_for(conn)
    staging.create("stg_deletions")
    seen: set[str] = set()
    batch: list[tuple[Any, ...]] = []
    staged = 0
    for row in rows:
        if row.external_id in seen:
            continue
        seen.add(row.external_id)
        batch.append((dataset, row.external_id, staging.timestamp(row.deleted_at)))
        if len(batch) >= options.chunk_size:
            staging.write("stg_deletions", DELETION_COLUMNS, batch)
            staged += len(batch)
            batch = []
            if options.progress is not None:
                options.progress("parse", report.rows, options.bytes_read())
    staging.write("stg_deletions", DELETION_COLUMNS, batch)
    staged += len(batch)
    report.phases["parse_and_stage"] = time.perf_counter() - started
    if report.rejects and not options.partial:
        return
    started = time.perf_counter()
    report.deleted, incidents = staging.delete_listed(utcnow(), reason, options.api_key_id)
    regroup_after_deletions(conn, incidents)
    report.unchanged = staged - report.deleted
    report.phases["delete"] = time.perf_counter() - started
