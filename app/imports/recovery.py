"""Jobs whose server died: found at startup, failed, and their uploads removed.

An API import runs in the server process that took the upload (in the request, or in a
background thread), so a `kill -9` of that process, or a crash, leaves its job `running` (or
`queued`) for ever and its uploaded file on disk. The import itself is one transaction, which
the database rolls back when the connection dies; and the job is marked `succeeded` inside that
same transaction (`repository.job_succeeded`), so a job left unfinished by a dead process wrote
nothing. A job keeps its upload's path until the file is removed (`service._remove_upload`), so
an upload left by a process that died after its import ended is found too.

Each job records its worker, "host:pid:start": the host name (with the PID namespace, so that
two containers sharing a host name are told apart), the pid, and the process's start (boot id and
start time in clock ticks, /proc/<pid>/stat field 22), so that a pid reused by another process
is not taken for the worker. Without /proc (not Linux) the start is empty and a worker is alive
while its pid is (`os.kill(pid, 0)`).

`recover_orphaned_jobs` fails the unfinished jobs of workers gone from this host and removes
their uploads; it runs at the app's startup (`recover_at_startup`, in the lifespan) and can be
called from a CLI or a test.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Engine

from app.core.db import make_sync_engine
from app.imports import repository
from app.models.base import utcnow

log = logging.getLogger("conflictdb.imports")

# Every upload's temporary file is named so; recovery removes no other file.
UPLOAD_PREFIX = "conflictdb-import-"

_PROC = Path("/proc")
_HAS_PROC = (_PROC / "self" / "stat").exists()

WorkerState = Literal["alive", "gone", "elsewhere", "unknown"]


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def _host() -> str:
    """This host's name, and the PID namespace: pids are only comparable within one."""
    host = socket.gethostname()[:200]
    try:
        namespace = os.readlink("/proc/self/ns/pid")  # "pid:[4026531836]"
    except OSError:
        return host
    return f"{host}/{namespace.removeprefix('pid:[').removesuffix(']')}"


def _boot_id() -> str:
    # Start times count clock ticks since boot: the boot id tells a reboot's from the last one's.
    boot = _read(_PROC / "sys" / "kernel" / "random" / "boot_id") or ""
    return boot.replace("-", "")[:12]


def _stat(pid: int) -> tuple[str, str] | None:
    """(state, start time in clock ticks since boot) of a process, from /proc; None if none."""
    text = _read(_PROC / str(pid) / "stat")
    if text is None:
        return None
    # "pid (comm) state ppid ...": comm may hold spaces and parentheses; fields after it
    # start at field 3 (state), so field 22 (starttime) is the 20th.
    fields = text[text.rfind(")") + 1 :].split()
    if len(fields) < 20:
        return None
    return fields[0], fields[19]


def process_start(pid: int) -> str:
    """A process's start ("bootid.ticks"); empty without /proc or for no such process."""
    stat = _stat(pid)
    if stat is None:
        return ""
    return f"{_boot_id()}.{stat[1]}"


def worker_id(pid: int) -> str:
    """The worker string ("host:pid:start") of a process of this host."""
    return f"{_host()}:{pid}:{process_start(pid)}"


_current: tuple[int, str] | None = None


def current_worker() -> str:
    """This process's worker string (recomputed after a fork: a worker has its own pid)."""
    global _current
    pid = os.getpid()
    if _current is None or _current[0] != pid:
        _current = (pid, worker_id(pid))
    return _current[1]


def _running(pid: int, start: str) -> bool:
    if pid <= 0:
        return False
    stat = _stat(pid)
    if stat is not None:
        state, ticks = stat
        if state in ("Z", "X"):  # a zombie is dead, only not yet reaped
            return False
        return not start or f"{_boot_id()}.{ticks}" == start
    if _HAS_PROC:
        return False  # Linux: no /proc entry, no such process
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def worker_state(worker: str | None) -> WorkerState:
    """Whether a job's worker still runs: `elsewhere` and `unknown` are not for us to judge."""
    if not worker:
        return "unknown"  # a job from before workers were recorded
    try:
        host, pid, start = worker.rsplit(":", 2)
        number = int(pid)
    except ValueError:
        return "unknown"
    if host != _host():
        # Another host (or container): its processes cannot be seen from here, and its own
        # startup recovers its jobs. Left alone.
        return "elsewhere"
    return "alive" if _running(number, start) else "gone"


STOPPED_RUNNING = (
    "the server stopped (killed or crashed) while this import was running; its transaction "
    "was rolled back, so nothing was written. Upload the file again."
)
STOPPED_QUEUED = (
    "the server stopped (killed or crashed) before this import started; nothing was written. "
    "Upload the file again."
)


@dataclass(frozen=True)
class RecoveredJob:
    id: int
    was: str  # queued or running (then failed), or already ended (only its upload removed)
    status: str
    upload_removed: bool


def _report(job: Any, error: str) -> dict[str, Any]:
    # The shape of ImportReport.as_dict, for a job that never got to write one.
    return {
        "format": job.format,
        "dataset": job.dataset,
        "rows": job.rows_read,
        "inserted": 0,
        "updated": 0,
        "unchanged": 0,
        "deleted": 0,
        "rejected": 0,
        "warnings": 0,
        "committed": False,
        "interrupted": True,
        "error": error,
        "rejects": [],
        "warnings_list": [],
        "truncated": False,
    }


def _remove_upload(path: str | None) -> bool:
    if not path:
        return False
    upload = Path(path)
    if not upload.name.startswith(UPLOAD_PREFIX):
        log.warning("not removing %s: not an upload's temporary file", upload)
        return False
    try:
        upload.unlink()
    except FileNotFoundError:
        return False
    except OSError:
        log.warning("could not remove the upload %s", upload, exc_info=True)
        return False
    return True


def recover_orphaned_jobs(target: str | Engine) -> list[RecoveredJob]:
    """Fail every `queued` or `running` job whose worker is gone from this host.

    Its error and report say that the server stopped and nothing was written (its import's
    transaction never committed), and its upload is removed; so is the upload of an ended job
    whose worker died before removing it. Jobs of live workers (e.g. the other worker process
    of `serve --workers 2`) and of other hosts are left alone. Safe to run from several
    processes at once: each job is recovered by one of them.
    """
    engine = make_sync_engine(target) if isinstance(target, str) else target
    recovered: list[RecoveredJob] = []
    try:
        for job in repository.jobs_left(engine):
            if worker_state(job.worker) != "gone":
                continue
            values: dict[str, Any] = {"upload_path": None}
            status = job.status
            if job.status in repository.UNFINISHED:
                status = "failed"
                error = STOPPED_RUNNING if job.status == "running" else STOPPED_QUEUED
                values |= {
                    "status": status,
                    "error": error,
                    "report": _report(job, error),
                    "finished_at": utcnow(),
                }
            # Claimed first: only if nothing changed it meanwhile (its import's commit, or
            # another process recovering it), then the file removed.
            claimed = repository.settle_left_job(
                engine, job.id, seen_status=job.status, worker=job.worker, **values
            )
            if not claimed:
                continue
            removed = _remove_upload(job.upload_path)
            recovered.append(RecoveredJob(job.id, job.status, status, removed))
            log.warning(
                "import job %s was %s when its server (%s) stopped: %s%s",
                job.id,
                job.status,
                job.worker,
                "marked failed" if status != job.status else "left as it was",
                ", its upload removed" if removed else "",
            )
    finally:
        if isinstance(target, str):
            engine.dispose()
    return recovered


async def recover_at_startup(database_url: str) -> list[RecoveredJob]:
    """`recover_orphaned_jobs` for an app's lifespan: off the event loop, and never fatal.

    A failure (e.g. SQLite's write lock held past the busy timeout by another worker's
    import) is logged: the jobs stay as they are until the next start.
    """
    try:
        return await asyncio.to_thread(recover_orphaned_jobs, database_url)
    except Exception:
        log.exception("recovering the import jobs of stopped servers failed")
        return []
