"""A server killed during an import: at the next start its job is failed and its upload removed.

Unit level: jobs whose worker is a dead process (a `sleep` that was killed, or the same pid with
another start time) are failed, jobs of live workers, of other hosts and of unknown workers are
left alone. The real thing: a server (`python -m app.cli serve`) takes a background import, is
killed with SIGKILL while the import writes, and is started again.
"""

from __future__ import annotations

import contextlib
import inspect
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, make_url, select, text

import app.main
from app.core.config import sync_database_url
from app.core.db import make_sync_engine
from app.imports import recovery, repository, service
from app.imports.recovery import (
    STOPPED_QUEUED,
    STOPPED_RUNNING,
    UPLOAD_PREFIX,
    current_worker,
    recover_orphaned_jobs,
    worker_id,
    worker_state,
)
from app.imports.schemas import ImportJobRead
from app.imports.service import ImportRequest, run_import
from app.models import ImportJob
from app.models.base import utcnow
from tests.conftest import mint_keys, shared_file, truncate_all
from tests.imports.support import FIXTURES, TABLES, counts

ROOT = Path(__file__).resolve().parents[2]
EMPTY = dict.fromkeys(TABLES, 0)
# Whether app/main.py's lifespan recovers jobs at startup (wired separately from this module).
LIFESPAN_RECOVERS = "recover_at_startup" in inspect.getsource(app.main)


def upload(directory: Path, content: bytes = b"id,year\n1,2019\n") -> Path:
    with tempfile.NamedTemporaryFile(prefix=UPLOAD_PREFIX, dir=directory, delete=False) as fh:
        fh.write(content)
    return Path(fh.name)


def dead_worker() -> str:
    """The worker string of a process that ran (a `sleep`) and is gone."""
    proc = subprocess.Popen(["sleep", "60"])
    try:
        worker = worker_id(proc.pid)
    finally:
        proc.kill()
        proc.wait()
    return worker


def job(url: str, job_id: int) -> Any:
    engine = make_sync_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(select(ImportJob).where(ImportJob.id == job_id)).one()
    finally:
        engine.dispose()


def test_jobs_of_dead_workers_are_failed(database_url: str, tmp_path: Path) -> None:
    truncate_all(database_url)
    dead = dead_worker()
    host, _pid, start = dead.rsplit(":", 2)
    assert start, "no process start time read from /proc"
    assert worker_state(dead) == "gone"
    assert worker_state(current_worker()) == "alive"
    # The same pid as this live process, but another start of it: a pid reused.
    reused = f"{host}:{os.getpid()}:{start}"
    assert worker_state(reused) == "gone"

    names = ("dead", "queued", "live", "reused", "away", "ended", "ended_live")
    files = {name: upload(tmp_path) for name in names}
    foreign = tmp_path / "not-an-upload.csv"
    foreign.write_text("x\n")
    engine = make_sync_engine(database_url)

    def add(status: str, worker: str | None, path: Path | None, **values: Any) -> int:
        return repository.create_job(
            engine,
            status=status,
            format="ucdp",
            size_bytes=100,
            partial=False,
            worker=worker,
            upload_path=str(path) if path else None,
            **values,
        )

    try:
        ids = {
            "dead": add("running", dead, files["dead"], started_at=utcnow(), rows_read=5),
            "queued": add("queued", dead, files["queued"]),
            "live": add("running", current_worker(), files["live"], started_at=utcnow()),
            "reused": add("running", reused, files["reused"], started_at=utcnow()),
            "away": add("running", "elsewhere.example/1:4242:abc.99", files["away"]),
            "legacy": add("running", None, None),
            "finished": add("succeeded", dead, None, finished_at=utcnow()),
            # Ended, but its worker died before removing the upload.
            "ended": add("succeeded", dead, files["ended"], finished_at=utcnow()),
            "ended_live": add("failed", current_worker(), files["ended_live"], error="x"),
            "foreign": add("running", dead, foreign),
        }
        recovered = recover_orphaned_jobs(database_url)
    finally:
        engine.dispose()

    assert {(r.id, r.was, r.status) for r in recovered} == {
        (ids["dead"], "running", "failed"),
        (ids["queued"], "queued", "failed"),
        (ids["reused"], "running", "failed"),
        (ids["foreign"], "running", "failed"),
        (ids["ended"], "succeeded", "succeeded"),
    }
    for name in ("dead", "reused"):
        row = job(database_url, ids[name])
        assert row.status == "failed"
        assert row.error == STOPPED_RUNNING
        assert "nothing was written" in row.error
        assert row.finished_at is not None
        assert row.report["interrupted"] is True
        assert row.report["committed"] is False
        assert row.report["error"] == STOPPED_RUNNING
        assert row.upload_path is None
        assert not files[name].exists()
    assert job(database_url, ids["dead"]).report["rows"] == 5
    queued = job(database_url, ids["queued"])
    assert (queued.status, queued.error) == ("failed", STOPPED_QUEUED)
    assert not files["queued"].exists()
    # Its job failed, but a file not named as an upload is never removed.
    assert job(database_url, ids["foreign"]).status == "failed"
    assert foreign.exists()

    for name in ("live", "away", "legacy"):
        row = job(database_url, ids[name])
        assert (row.status, row.error, row.finished_at) == ("running", None, None)
    assert files["live"].exists() and files["away"].exists()
    assert job(database_url, ids["finished"]).status == "succeeded"
    ended = job(database_url, ids["ended"])
    assert (ended.status, ended.error, ended.upload_path) == ("succeeded", None, None)
    assert not files["ended"].exists()
    assert job(database_url, ids["ended_live"]).upload_path == str(files["ended_live"])
    assert files["ended_live"].exists()

    # The job's API shape keeps worker and path private.
    shape = ImportJobRead.of(job(database_url, ids["dead"])).model_dump()
    assert "worker" not in shape and "upload_path" not in shape
    assert shape["status"] == "failed" and shape["error"] == STOPPED_RUNNING

    # A second run (another worker starting) finds nothing more to do.
    assert recover_orphaned_jobs(database_url) == []


@pytest.mark.parametrize(
    ("fmt", "fixture"), [("ucdp", "ucdp-syria-excerpt.csv"), ("ndjson", "events.ndjson")]
)
def test_the_import_commits_its_jobs_success(
    database_url: str, tmp_path: Path, fmt: str, fixture: str
) -> None:
    """`succeeded` is committed with the import: a crash right after COMMIT is no failure."""
    truncate_all(database_url)
    dead = dead_worker()
    source = upload(tmp_path, (FIXTURES / fixture).read_bytes())
    engine = make_sync_engine(database_url)
    try:
        job_id = repository.create_job(
            engine,
            status="running",
            format=fmt,
            size_bytes=source.stat().st_size,
            partial=True,
            worker=dead,
            upload_path=str(source),
        )
    finally:
        engine.dispose()
    # The import as run_job runs it, without the job's own updates after it (as if it died).
    report = run_import(database_url, ImportRequest(source, fmt, partial=True, job_id=job_id))
    assert report.committed and report.inserted > 0
    row = job(database_url, job_id)
    assert (row.status, row.inserted, row.error) == ("succeeded", report.inserted, None)
    assert row.report["committed"] is True and row.finished_at is not None

    # Recovery leaves it succeeded, and removes the upload its dead worker left.
    [recovered] = recover_orphaned_jobs(database_url)
    assert (recovered.id, recovered.was, recovered.status) == (job_id, "succeeded", "succeeded")
    row = job(database_url, job_id)
    assert (row.status, row.error, row.inserted) == ("succeeded", None, report.inserted)
    assert row.upload_path is None and not source.exists()
    assert counts(database_url)["events"] == report.inserted


def test_a_job_records_its_worker_and_forgets_its_upload(database_url: str, tmp_path: Path) -> None:
    truncate_all(database_url)
    source = upload(tmp_path, (FIXTURES / "ucdp-syria-excerpt.csv").read_bytes())
    request = ImportRequest(source, "ucdp")
    job_id = service.create_job(database_url, request, filename="x.csv", size=1)
    row = job(database_url, job_id)
    assert (row.worker, row.upload_path) == (current_worker(), str(source))
    service.run_job(database_url, job_id, request, cleanup=True)
    row = job(database_url, job_id)
    assert (row.status, row.worker, row.upload_path) == ("succeeded", current_worker(), None)
    assert not source.exists()
    assert recover_orphaned_jobs(database_url) == []


def test_worker_identity() -> None:
    worker = current_worker()
    host, pid, start = worker.rsplit(":", 2)
    assert int(pid) == os.getpid()
    assert start == recovery.process_start(os.getpid()) != ""
    assert socket.gethostname()[:200] in host
    assert worker_state(None) == "unknown"
    assert worker_state("garbage") == "unknown"
    assert worker_state(f"{host}:0:") == "gone"


# ---- the real thing: a server process killed with SIGKILL during an import ----


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def server(url: str, tmp: Path, log_name: str) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """`conflictdb serve` on a free port, once it answers; killed at the end if still running."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # One process: kill -9 of a supervisor would leave its workers running.
    env = {**os.environ, "DATABASE_URL": url, "TMPDIR": str(tmp), "CONFLICTDB_WORKERS": "1"}
    env.pop("CONFLICTDB_DATABASE_URL", None)
    with (tmp.parent / log_name).open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                assert proc.poll() is None, (
                    f"the server exited: {(tmp.parent / log_name).read_text()}"
                )
                with contextlib.suppress(httpx.TransportError):
                    if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                        break
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.05)
            yield proc, base
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()


def import_writing(url: str) -> bool:
    """Whether another connection has the import's transaction open and writing."""
    if url.startswith("sqlite"):
        # The import holds SQLite's write lock (BEGIN IMMEDIATE) from its start to its commit.
        database = make_url(url).database
        assert database is not None
        conn = sqlite3.connect(database, timeout=0, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("ROLLBACK")
        except sqlite3.OperationalError:
            return True
        finally:
            conn.close()
        return False
    # PostgreSQL: the import's backend holds the row-exclusive lock of its first writes.
    return bool(
        query(
            url,
            "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
            "WHERE l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND c.relname = 'places' AND l.mode = 'RowExclusiveLock' AND l.granted "
            "AND l.pid <> pg_backend_pid()",
        )[0][0]
    )


def import_backends(url: str) -> int:
    if url.startswith("sqlite"):
        return 0
    return int(
        query(
            url,
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND xact_start IS NOT NULL",
        )[0][0]
    )


def query(url: str, sql: str, **params: Any) -> list[Any]:
    engine = create_engine(sync_database_url(url))
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(sql), params).all())
    finally:
        engine.dispose()


def test_kill_9_of_the_server_fails_its_job_at_restart(database_url: str, tmp_path: Path) -> None:
    truncate_all(database_url)
    path = shared_file("ucdp/ged-syria-2016-01-to-2019-11.csv")
    write_key, read_key = mint_keys(database_url)
    uploads = tmp_path / "uploads"
    uploads.mkdir()

    with server(database_url, uploads, "first.log") as (proc, base):
        headers = {"Authorization": f"Bearer {write_key}"}
        with path.open("rb") as fh:
            response = httpx.post(
                f"{base}/v1/imports",
                headers=headers,
                files={"file": (path.name, fh, "text/csv")},
                data={"format": "ucdp", "background": "true"},
                timeout=30,
            )
        assert response.status_code == 202, response.text
        job_id = response.json()["id"]
        assert not {"worker", "upload_path"} & set(response.json())

        deadline = time.monotonic() + 15
        status = ""
        while status != "running":
            assert time.monotonic() < deadline, f"the job never ran: {status}"
            got = httpx.get(f"{base}/v1/imports/{job_id}", headers=headers, timeout=5)
            status = got.json()["status"]
            assert status in ("queued", "running"), got.json()
        while not import_writing(database_url):
            assert time.monotonic() < deadline, "the import was never seen writing"
            assert job(database_url, job_id).status == "running", "the import ended too soon"
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait() == -signal.SIGKILL

    row = job(database_url, job_id)
    assert (row.status, row.report) == ("running", None)
    assert row.worker.split(":")[1] == str(proc.pid)
    left = Path(row.upload_path)
    assert left.parent == uploads and left.name.startswith(UPLOAD_PREFIX)
    assert left.exists() and left.stat().st_size == path.stat().st_size
    assert counts(database_url) == EMPTY  # the import's transaction never committed

    with server(database_url, uploads, "second.log") as (_proc, base):
        if not LIFESPAN_RECOVERS:
            # Until app/main.py's lifespan calls `recover_at_startup`: what it would do.
            recover_orphaned_jobs(database_url)
        got = httpx.get(
            f"{base}/v1/imports/{job_id}",
            headers={"Authorization": f"Bearer {read_key}"},
            timeout=5,
        )
    assert got.status_code == 200
    body = got.json()
    assert body["status"] == "failed"
    assert body["error"] == STOPPED_RUNNING
    assert "server stopped" in body["error"] and "nothing was written" in body["error"]
    assert body["finished_at"] is not None
    assert (body["inserted"], body["updated"]) == (0, 0)
    assert not {"worker", "upload_path"} & set(body)
    assert not left.exists()
    assert list(uploads.iterdir()) == []
    assert counts(database_url) == EMPTY

    # PostgreSQL ends the dead server's backend (rolling its transaction back) once it notices.
    deadline = time.monotonic() + 30
    while import_backends(database_url) and time.monotonic() < deadline:
        time.sleep(0.1)
