"""Run one import: pick the parser, open one transaction, load, commit or roll back, report."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

from sqlalchemy import Connection, Engine, event
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import make_engine, make_sessionmaker, make_sync_engine
from app.core.errors import NotFound
from app.imports import repository
from app.imports.acled import DATASET_SOURCE as ACLED_SOURCE
from app.imports.acled import AcledParser
from app.imports.bulk import BulkOptions, ProgressFn, load_events
from app.imports.deletions import AcledDeletionsParser, load_deletions
from app.imports.native import load_native, parse_native
from app.imports.problems import ImportFailed, ImportReport
from app.imports.recovery import current_worker
from app.imports.staging import vacuum_written
from app.imports.ucdp import DATASET_SOURCE as UCDP_SOURCE
from app.imports.ucdp import UcdpParser
from app.imports.vocab import Taxonomy
from app.models import ImportJob
from app.models.base import utcnow

log = logging.getLogger("conflictdb.imports")

# SQLite's page cache for an import's connection, in KiB (see `_transaction`).
SQLITE_CACHE_KIB = 128 * 1024

ImportFormat = Literal["acled", "ucdp", "ndjson", "json", "acled-deletions"]
FORMATS: tuple[str, ...] = get_args(ImportFormat)


@dataclass
class ImportRequest:
    path: Path
    format: str
    dataset: str | None = None
    partial: bool = False
    api_key_id: int | None = None
    progress: ProgressFn | None = None
    chunk_size: int = 20_000
    # Drop the written tables' indexes and rebuild them after the load; None decides by size.
    bulk: bool | None = None
    # The import job (API uploads): marked `succeeded` inside the import's own transaction, so
    # that a job left unfinished by a crash committed nothing (see recovery.py).
    job_id: int | None = None


@contextmanager
def _transaction(database_url: str) -> Iterator[Connection]:
    """One connection in one transaction, committed by `_finish`; any error rolls it back."""
    engine = make_sync_engine(database_url)
    try:
        with engine.connect() as conn:
            if conn.dialect.name != "sqlite":
                # Autobegun on first use; closing the connection uncommitted rolls back.
                yield conn
                return
            # SQLite: take the write lock up front; a deferred transaction could fail to upgrade.
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            # A bounded page cache, whatever the file's size: the transaction's dirty pages
            # spill to the WAL once it is full (uncommitted frames, ignored by a reader or a
            # recovery until the commit frame). A 1 GiB cache, the file mapped and temp store
            # in memory (index builds sort there) held 1.6 GB at the peak of 1M ACLED rows.
            conn.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
            conn.exec_driver_sql("PRAGMA mmap_size = 0")
            # Staging tables and the index builds' sorts in temp files (the OS's page cache).
            conn.exec_driver_sql("PRAGMA temp_store = FILE")
            # The staging tables' own page cache (TEMP's default is 2 MB): a 20k-row batch stays in
            # memory between its executemany and the upsert that reads it back.
            conn.exec_driver_sql("PRAGMA temp.cache_size = -32768")
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.exec_driver_sql("ROLLBACK")
                raise
    finally:
        engine.dispose()


def _finish(conn: Connection, report: ImportReport, request: ImportRequest) -> None:
    if report.rejects and not request.partial:
        _rollback(conn)
        return
    if request.job_id is not None:
        conn.execute(repository.job_succeeded(request.job_id, report))
    started = time.perf_counter()
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("COMMIT")
    else:
        conn.commit()
    report.committed = True
    report.phases["commit"] = time.perf_counter() - started


def _rollback(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("ROLLBACK")
    else:
        conn.rollback()


def run_import(database_url: str, request: ImportRequest) -> ImportReport:
    """Import a file; the database changes only if the report says `committed`."""
    fmt = request.format
    if fmt not in FORMATS:
        raise ImportFailed(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")
    started = time.perf_counter()
    if fmt in ("json", "ndjson"):
        report = asyncio.run(_run_native(database_url, request))
    else:
        report = _run_bulk(database_url, request)
    report.seconds = time.perf_counter() - started
    if not report.committed:
        # Nothing was written: counts of what a rolled-back transaction did would mislead.
        report.inserted = report.updated = report.unchanged = report.deleted = 0
    return report


def _run_bulk(database_url: str, request: ImportRequest) -> ImportReport:
    with _transaction(database_url) as conn:
        if request.format == "acled-deletions":
            deletions = AcledDeletionsParser(request.dataset)
            file = deletions.open(request.path)
            report = ImportReport(request.format, deletions.dataset)
            options = _options(request, file.bytes_read)
            try:
                load_deletions(
                    conn,
                    deletions.deletions(report, utcnow()),
                    deletions.dataset,
                    report,
                    options,
                    reason=f"in {request.path.name}",
                )
            finally:
                deletions.close()
            _finish(conn, report, request)
            return report
        parser: AcledParser | UcdpParser
        if request.format == "acled":
            parser = AcledParser(Taxonomy.load(conn), request.dataset)
        else:
            parser = UcdpParser(request.dataset)
        file = parser.open(request.path)
        report = ImportReport(request.format, parser.dataset)
        options = _options(request, file.bytes_read)
        options.dataset_sources = [ACLED_SOURCE if request.format == "acled" else UCDP_SOURCE]
        try:
            load_events(conn, parser, report, options)
        finally:
            parser.close()
        _finish(conn, report, request)
        if report.committed and "analyze" in report.phases:
            _vacuum(conn, report)
        return report


def _vacuum(conn: Connection, report: ImportReport) -> None:
    """After a big committed import (PostgreSQL), VACUUM what it wrote.

    It sets the visibility map, so that index-only scans (the aggregates' covering index) skip
    the heap: on 1M freshly imported events a weekly aggregate went from 400 to 300 ms, for a
    0.7 s VACUUM. Autovacuum would get there too, in its own time, or never where it is off.
    Outside the import's transaction (VACUUM cannot run in one): the data is committed already,
    so a failure here is logged, not raised.
    """
    started = time.perf_counter()
    try:
        vacuum_written(conn)
    except Exception:
        log.warning("VACUUM after the import failed; autovacuum will catch up", exc_info=True)
        return
    report.phases["vacuum"] = time.perf_counter() - started


def _options(request: ImportRequest, bytes_read: Callable[[], int]) -> BulkOptions:
    return BulkOptions(
        partial=request.partial,
        api_key_id=request.api_key_id,
        chunk_size=request.chunk_size,
        progress=request.progress,
        bytes_read=bytes_read,
        bulk=request.bulk,
        total_bytes=request.path.stat().st_size,
    )


async def _run_native(database_url: str, request: ImportRequest) -> ImportReport:
    report = ImportReport(request.format, request.dataset)
    engine = make_engine(database_url)
    if engine.dialect.name == "sqlite":
        # Per-row savepoints need real transactions: the driver's own implicit BEGIN would let
        # RELEASE SAVEPOINT commit (SQLAlchemy's documented recipe for pysqlite/aiosqlite).
        event.listen(engine.sync_engine, "connect", _sqlite_autocommit_driver)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
    size = request.path.stat().st_size
    progress = request.progress

    def tick(rows: int) -> None:
        if progress is not None:
            progress("parse", report.rows, size * rows // max(report.rows, 1))

    try:
        async with make_sessionmaker(engine)() as session:
            try:
                async with session.begin():
                    rows = parse_native(request.path, request.format, request.dataset, report)
                    started = time.perf_counter()
                    await load_native(
                        session,
                        rows,
                        report,
                        partial=request.partial,
                        api_key_id=request.api_key_id,
                        progress=tick,
                    )
                    report.phases["load"] = time.perf_counter() - started
                    if report.rejects and not request.partial:
                        raise _Discard
                    if request.job_id is not None:
                        await session.execute(repository.job_succeeded(request.job_id, report))
                report.committed = True
            except _Discard:
                pass
    finally:
        await engine.dispose()
    return report


def _sqlite_autocommit_driver(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None


def _sqlite_begin(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")


class _Discard(Exception):
    """Leaves the transaction block so that it rolls back (all or nothing)."""


# ---- jobs (the HTTP upload) ----

# Uploads up to this size run inside the request; larger ones as a background job.
INLINE_MAX_BYTES = 2 * 1024 * 1024
MAX_UPLOAD_BYTES = 2 * 1024 * 1024 * 1024
# PostgreSQL jobs report rows parsed this often; SQLite's import holds the write lock, so a
# SQLite job shows its progress only when it ends.
PROGRESS_EVERY_SECONDS = 2.0


def create_job(
    database_url: str, request: ImportRequest, *, filename: str | None, size: int
) -> int:
    engine = make_sync_engine(database_url)
    try:
        return repository.create_job(
            engine,
            status="queued",
            format=request.format,
            dataset=request.dataset,
            filename=filename,
            size_bytes=size,
            partial=request.partial,
            api_key_id=request.api_key_id,
            # Who runs it and its upload: to recover it should this process die (recovery.py).
            worker=current_worker(),
            upload_path=str(request.path),
        )
    finally:
        engine.dispose()


def run_job(database_url: str, job_id: int, request: ImportRequest, *, cleanup: bool) -> None:
    """Run a queued job to its end; the job row says how it went, whatever happens."""
    engine = make_sync_engine(database_url)
    try:
        repository.update_job(engine, job_id, status="running", started_at=utcnow())
        request.job_id = job_id
        if engine.dialect.name != "sqlite":
            request.progress = _JobProgress(engine, job_id)
        try:
            report = run_import(database_url, request)
        except ImportFailed as exc:
            repository.fail_job(engine, job_id, str(exc))
            return
        except Exception:
            log.exception("import job %s failed", job_id)
            repository.fail_job(
                engine, job_id, "an unexpected error stopped the import; nothing was written"
            )
            return
        counts = report.counts()
        error = None
        if not report.committed:
            error = f"{report.rejected} row(s) rejected; nothing was written (partial=false)"
        repository.update_job(
            engine,
            job_id,
            status="succeeded" if report.committed else "failed",
            dataset=report.dataset,
            rows_read=counts.pop("rows"),
            **counts,
            report=report.as_dict(),
            error=error,
            finished_at=utcnow(),
        )
    finally:
        if cleanup:
            _remove_upload(engine, job_id, request.path)
        engine.dispose()


def _remove_upload(engine: Engine, job_id: int, path: Path) -> None:
    """The upload removed, then forgotten by its job (recovery removes it if we die between)."""
    path.unlink(missing_ok=True)
    try:
        repository.update_job(engine, job_id, upload_path=None)
    except Exception:
        log.warning("import job %s: could not clear its upload's path", job_id, exc_info=True)


def start_background_job(database_url: str, job_id: int, request: ImportRequest) -> None:
    thread = threading.Thread(
        target=run_job,
        args=(database_url, job_id, request),
        kwargs={"cleanup": True},
        name=f"import-job-{job_id}",
        daemon=True,
    )
    thread.start()


class _JobProgress:
    def __init__(self, engine: Engine, job_id: int) -> None:
        self.engine = engine
        self.job_id = job_id
        self.last = 0.0

    def __call__(self, phase: str, rows: int, bytes_read: int) -> None:
        now = time.monotonic()
        if now - self.last >= PROGRESS_EVERY_SECONDS:
            self.last = now
            repository.update_job(self.engine, self.job_id, rows_read=rows)


async def read_job(session: AsyncSession, job_id: int) -> ImportJob:
    """An import job as it stands; 404 if there is none."""
    job = await repository.get_job(session, job_id)
    if job is None:
        raise NotFound("import", job_id)
    return job
