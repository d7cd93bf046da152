"""kill -9 of a real import process after it has started writing: nothing stays; a rerun completes.

The import runs as `python -m app.cli import ... --progress lines` in a subprocess, in batches
of 1,000 rows. It is killed with SIGKILL at one of two moments: while the first batches are being
written (places, staging), or once the events table itself is being written. On PostgreSQL the
moment is seen in pg_stat_activity (the import's backend executing that statement); on SQLite it
is counted in progress lines (batches are written at most two behind the parsing).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from app.core.config import sync_database_url
from tests.conftest import shared_file, truncate_all
from tests.imports.support import counts

ROOT = Path(__file__).resolve().parents[2]
EMPTY = {
    "events": 0,
    "places": 0,
    "actors": 0,
    "sources": 0,
    "claims": 0,
    "event_actors": 0,
    "event_tags": 0,
    "event_tombstones": 0,
    "event_revisions": 0,
}
# What the backend of a running import executes at each moment, and how many progress lines
# make sure a SQLite import got there.
MOMENTS = {"first_writes": ("INSERT INTO places", 1), "events_table": ("INSERT INTO events", 4)}


def command(path: Path, url: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "app.cli",
        "import",
        str(path),
        "--format",
        "ucdp",
        "--progress",
        "lines",
        "--chunk-size",
        "1000",
        "--database-url",
        url,
    ]


def backend_busy(url: str, statement: str) -> int | None:
    """The pid of a backend of this database running `statement`, if any."""
    engine = create_engine(sync_database_url(url))
    try:
        with engine.connect() as conn:
            pid = conn.execute(
                text(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND state = 'active' AND query LIKE :q"
                ),
                {"q": f"%{statement}%"},
            ).scalar()
    finally:
        engine.dispose()
    return int(pid) if pid is not None else None


def backend_gone(url: str, pid: int) -> bool:
    engine = create_engine(sync_database_url(url))
    try:
        with engine.connect() as conn:
            found = conn.execute(
                text("SELECT 1 FROM pg_stat_activity WHERE pid = :p"), {"p": pid}
            ).first()
    finally:
        engine.dispose()
    return found is None


@pytest.mark.slow
@pytest.mark.parametrize("moment", list(MOMENTS))
def test_kill_9_leaves_the_database_as_it_was(database_url: str, moment: str) -> None:
    truncate_all(database_url)
    path = shared_file("ucdp/ged-syria-2016-01-to-2019-11.csv")
    is_pg = database_url.startswith("postgresql")
    statement, lines = MOMENTS[moment]
    proc = subprocess.Popen(
        command(path, database_url),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    backend = None
    try:
        if is_pg:
            deadline = time.monotonic() + 120
            while backend is None and time.monotonic() < deadline and proc.poll() is None:
                backend = backend_busy(database_url, statement)
            assert backend is not None, f"no backend seen running {statement}"
        else:
            seen = 0
            for line in proc.stdout:
                seen += line.startswith("progress phase=parse")
                if seen >= lines:
                    break
            else:
                pytest.fail(f"the import ended before {lines} batches: exit {proc.wait()}")
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == -signal.SIGKILL

    if backend is not None:
        # The server notices the dead client at the end of the statement, then rolls back.
        deadline = time.monotonic() + 120
        while not backend_gone(database_url, backend) and time.monotonic() < deadline:
            time.sleep(0.2)
    assert counts(database_url) == EMPTY

    rerun = subprocess.run(
        command(path, database_url),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert "inserted=16566" in rerun.stdout
    assert counts(database_url)["events"] == 16566
