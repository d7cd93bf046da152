"""kill -9 of a real import process after it has started writing: nothing stays; a rerun completes.

The import runs as `python -m app.cli import ... --progress lines` in a subprocess, in batches
of 1,000 rows. It is killed with SIGKILL at one of three moments: while the first batches are being
written (places, staging), once the events table itself is being written, or the same in a big
load (`--rebuild-indexes yes`: its indexes dropped; they must be back after). On PostgreSQL the
moment is seen in pg_locks (the import's backend holding the row-exclusive lock that its first
write to the table takes, until its transaction ends); on SQLite it is counted in progress lines
(batches are written at most two behind the parsing).
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
from tests.imports.support import counts, schema

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
# The table a running import has started writing at each moment, how many progress lines
# make sure a SQLite import got there, and whether it is a big load (indexes dropped, rebuilt
# at the end).
MOMENTS = {
    "first_writes": ("places", 1, False),
    "events_table": ("events", 4, False),
    "big_load_events_table": ("events", 4, True),
}


def command(path: Path, url: str, big: bool = False) -> list[str]:
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
        "--rebuild-indexes",
        "yes" if big else "no",
    ]


def backend_writing(url: str, table: str) -> int | None:
    """The pid of another backend of this database that has written to `table`, if any."""
    engine = create_engine(sync_database_url(url))
    try:
        with engine.connect() as conn:
            pid = conn.execute(
                text(
                    "SELECT l.pid FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                    "WHERE l.database = (SELECT oid FROM pg_database "
                    "WHERE datname = current_database()) AND c.relname = :t "
                    "AND l.mode = 'RowExclusiveLock' AND l.granted AND l.pid <> pg_backend_pid()"
                ),
                {"t": table},
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
    table, lines, big = MOMENTS[moment]
    before = schema(database_url)
    proc = subprocess.Popen(
        command(path, database_url, big),
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
                backend = backend_writing(database_url, table)
            assert backend is not None, f"no import seen writing to {table}"
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
    assert schema(database_url) == before  # the dropped indexes and trigger are back

    rerun = subprocess.run(
        command(path, database_url, big),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert "inserted=16566" in rerun.stdout
    assert counts(database_url)["events"] == 16566
    assert schema(database_url) == before
