"""A real `conflictdb serve` process for the write tests: start, /healthz, kill -9, restart, stop.

`ServerProcess` is one uvicorn process (`python -m app.cli serve --host 127.0.0.1 --port P`,
`DATABASE_URL` in its environment) with its stdout and stderr in a log file. `LiveServer` is what
a test gets: the process, the database url, a write key and a read key, clients, kill/restart.

Starting a server costs about 1.6 s (importing the app), so the processes are pooled per database
and per environment for the session: the function-scoped fixtures (`server`, `seeded_server`,
`server_factory`) empty the database (`truncate_all`), load the seeds when asked, mint fresh keys
and hand out a running process, restarting it when an earlier test killed it. With
CONFLICTDB_WRITES_FRESH_SERVER=1 every test gets a process of its own, stopped after it. The
server's log of the test is printed when the test fails.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

import httpx
import pytest
from sqlalchemy import text

from app.core.db import make_sync_engine
from tests.conftest import load_seed_data, mint_keys, truncate_all

ROOT = Path(__file__).resolve().parents[2]
_VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
PYTHON = str(_VENV_PYTHON) if _VENV_PYTHON.exists() else sys.executable
START_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
FRESH = os.environ.get("CONFLICTDB_WRITES_FRESH_SERVER", "").lower() in {"1", "true", "yes"}
# Settings of the server that the test environment must not change behind a test's back.
_SCRUBBED_PREFIXES = ("CONFLICTDB_",)
_SCRUBBED = {"DATABASE_URL", "PORT"}

T = TypeVar("T")


def free_port() -> int:
    """A TCP port nobody listens on right now (the kernel's pick)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def http_client(base_url: str, **kwargs: Any) -> httpx.Client:
    """A client for the local plain-HTTP server: no proxy from the environment, and no CA bundle
    loaded (50 ms a client otherwise, which 32 threads pay at once)."""
    return httpx.Client(base_url=base_url, verify=False, trust_env=False, **kwargs)


class ServerError(RuntimeError):
    """The server did not come up, or died; the message ends with its log."""


class ServerProcess:
    """One `conflictdb serve` process against one database, restartable on the same port."""

    def __init__(
        self,
        database_url: str,
        log_dir: Path,
        env: Mapping[str, str] | None = None,
        name: str = "server",
    ) -> None:
        self.database_url = database_url
        self.env = dict(env or {})
        self.log_dir = log_dir
        self.log_path = log_dir / f"{name}.log"
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.kills = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return None if self.proc is None else self.proc.pid

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def _environment(self) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in _SCRUBBED and not k.startswith(_SCRUBBED_PREFIXES)
        }
        env.update(self.env)
        env["DATABASE_URL"] = self.database_url
        # The app of this checkout, whatever the venv's editable install points at.
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def start(self, timeout: float = START_TIMEOUT) -> None:
        """Start the process and wait until /healthz answers 200; a taken port gets a new one."""
        if self.running():
            raise ServerError(f"server {self.pid} is already running on {self.base_url}")
        for attempt in range(3):
            offset = self.log_size()
            with self.log_path.open("ab") as log:
                log.write(f"--- start {self.starts + 1} on port {self.port} ---\n".encode())
                log.flush()
                self.proc = subprocess.Popen(
                    [
                        PYTHON,
                        "-m",
                        "app.cli",
                        "serve",
                        "--host",
                        "127.0.0.1",
                        "--port",
                        str(self.port),
                        # One process unless a test asks for more: kill -9 must end the server,
                        # and a supervisor's workers would outlive it.
                        "--workers",
                        self.env.get("CONFLICTDB_WORKERS", "1"),
                    ],
                    # Not the checkout: a developer's .env there must not reach the server.
                    cwd=self.log_dir,
                    env=self._environment(),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            self.starts += 1
            try:
                self.wait_healthy(timeout)
                return
            except ServerError:
                text = self.log_text(offset)
                if attempt < 2 and "address already in use" in text.lower():
                    self.port = free_port()
                    continue
                self.kill()
                raise
        raise AssertionError("unreachable")

    def wait_healthy(self, timeout: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        last = "no answer yet"
        with http_client(self.base_url, timeout=2.0) as client:
            while time.monotonic() < deadline:
                if self.proc is None or self.proc.poll() is not None:
                    code = None if self.proc is None else self.proc.returncode
                    raise ServerError(
                        f"the server exited with {code} before answering /healthz\n"
                        + self.log_tail()
                    )
                try:
                    r = client.get("/healthz")
                    if r.status_code == 200:
                        return
                    last = f"/healthz answered {r.status_code}: {r.text[:200]}"
                except httpx.TransportError as exc:
                    last = repr(exc)
                time.sleep(0.05)
        raise ServerError(f"/healthz not 200 within {timeout:.0f} s ({last})\n" + self.log_tail())

    def kill(self) -> None:
        """kill -9: no shutdown, open transactions cut where they stand."""
        if self.proc is None:
            return
        self.send_kill()
        self.proc.wait(timeout=STOP_TIMEOUT)
        self._note(f"--- killed (exit {self.proc.returncode}) ---")

    def send_kill(self) -> None:
        """SIGKILL and return at once (from any thread); kill() then waits for the end."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.kills += 1

    def stop(self, timeout: float = STOP_TIMEOUT) -> int | None:
        """A clean shutdown (SIGTERM: uvicorn finishes its requests); SIGKILL after `timeout`."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self._note(f"--- stopped (exit {self.proc.returncode}) ---")
        return self.proc.returncode

    def restart(self, timeout: float = START_TIMEOUT) -> None:
        """kill -9 when still running, then start again on the same port and database."""
        self.kill()
        self.start(timeout)

    def _note(self, line: str) -> None:
        with self.log_path.open("ab") as log:
            log.write((line + "\n").encode())

    def log_size(self) -> int:
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    def log_text(self, offset: int = 0) -> str:
        if not self.log_path.exists():
            return ""
        with self.log_path.open("rb") as log:
            log.seek(offset)
            return log.read().decode(errors="replace")

    def log_tail(self, offset: int = 0, limit: int = 6000) -> str:
        text = self.log_text(offset)
        if len(text) > limit:
            text = "...\n" + text[-limit:]
        return f"--- server log {self.log_path} ---\n{text}"


@dataclass
class LiveServer:
    """What a test gets: a running server on a prepared database, with keys and clients."""

    process: ServerProcess
    database_url: str
    write_key: str
    read_key: str

    @property
    def base_url(self) -> str:
        return self.process.base_url

    @property
    def url(self) -> str:
        return self.database_url

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def write_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.write_key}"}

    @property
    def read_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.read_key}"}

    def client(self, *, write: bool = True, timeout: float = 30.0) -> httpx.Client:
        """A synchronous client (one per thread) with the write key, or the read key."""
        return http_client(
            self.base_url,
            headers=self.write_headers if write else self.read_headers,
            timeout=timeout,
        )

    def kill(self) -> None:
        self.process.kill()

    def start(self) -> None:
        self.process.start()

    def restart(self) -> None:
        self.process.restart()

    def stop(self) -> int | None:
        return self.process.stop()


class ServerPool:
    """The server processes of one database, one per environment, for the session."""

    def __init__(self, database_url: str, log_dir: Path) -> None:
        self.database_url = database_url
        self.log_dir = log_dir
        self.processes: dict[tuple[tuple[str, str], ...], ServerProcess] = {}

    def get(self, env: Mapping[str, str] | None = None) -> ServerProcess:
        key = tuple(sorted((env or {}).items()))
        proc = self.processes.get(key)
        if proc is None:
            proc = ServerProcess(
                self.database_url, self.log_dir, env, name=f"server{len(self.processes)}"
            )
            self.processes[key] = proc
        if not proc.running():
            proc.start()
        return proc

    def stop_all(self) -> None:
        """Stop every process cleanly; one that does not shut down cleanly is an error."""
        problems = []
        for proc in self.processes.values():
            offset = proc.log_size()
            was_running = proc.running()
            code = proc.stop()
            # uvicorn re-raises SIGTERM after its graceful shutdown: -15 is a clean exit too.
            if was_running and (
                code not in (0, -signal.SIGTERM)
                or "Application shutdown complete" not in proc.log_text(offset)
            ):
                problems.append(f"{proc.base_url} did not stop cleanly (exit {code})\n")
                problems.append(proc.log_tail(offset))
        if problems:
            raise ServerError("".join(problems))


class ServerFactory(Protocol):
    def __call__(
        self, *, env: Mapping[str, str] | None = None, seed: bool = False
    ) -> LiveServer: ...


@dataclass
class _Prepared:
    keys: tuple[str, str] | None = None
    seeded: bool = False
    used: dict[int, tuple[ServerProcess, int]] = field(default_factory=dict)


def settle_postgres(url: str, wait: float = 10.0) -> None:
    """Between tests no one else works in the test database: wait a little for backends still
    busy (a killed server's, finishing their statement), then end them, so that TRUNCATE does not
    wait behind a lock forever."""
    if not url.startswith("postgresql"):
        return
    engine = make_sync_engine(url)
    busy = text(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
        "AND pid <> pg_backend_pid() AND backend_type = 'client backend' AND state <> 'idle'"
    )
    try:
        with engine.connect() as conn:
            deadline = time.monotonic() + wait
            while True:
                pids = list(conn.execute(busy).scalars())
                conn.rollback()  # pg_stat_activity is a snapshot per transaction
                if not pids or time.monotonic() >= deadline:
                    break
                time.sleep(0.1)
            for pid in pids:
                conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
            conn.commit()
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def server_pool(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerPool]:
    kind = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    pool = ServerPool(database_url, tmp_path_factory.mktemp(f"servers-{kind}"))
    yield pool
    pool.stop_all()


@pytest.fixture
def server_factory(
    server_pool: ServerPool, database_url: str, request: pytest.FixtureRequest
) -> Iterator[ServerFactory]:
    """`make(env=..., seed=...)`: the database emptied (and seeded) once, a server on it.

    Called twice in a test (e.g. a second server with CONFLICTDB_REQUIRE_IF_MATCH=true), both
    servers share the database and the keys.
    """
    state = _Prepared()

    def make(*, env: Mapping[str, str] | None = None, seed: bool = False) -> LiveServer:
        if state.keys is None:
            settle_postgres(database_url)
            truncate_all(database_url)
            if seed:
                asyncio.run(load_seed_data(database_url))
                state.seeded = True
            state.keys = mint_keys(database_url)
        elif seed and not state.seeded:
            raise RuntimeError("ask for the seeds at the first server of the test")
        proc = server_pool.get(env)
        state.used.setdefault(id(proc), (proc, proc.log_size()))
        return LiveServer(proc, database_url, *state.keys)

    yield make

    report = getattr(request.node, "rep_call", None)
    failed = report is None or report.failed  # no report: the test did not get to run
    for proc, offset in state.used.values():
        if failed:
            print(proc.log_tail(offset))
            # Whatever the failure left behind (hung requests, open transactions) dies with
            # the process; the next test gets a fresh one.
            proc.kill()
        elif FRESH:
            proc.stop()


@pytest.fixture
def server(server_factory: ServerFactory) -> LiveServer:
    """A running server on an empty database (reference vocabularies only)."""
    return server_factory()


@pytest.fixture
def seeded_server(server_factory: ServerFactory) -> LiveServer:
    """A running server on the seed report (actors such as "Military Forces of Syria (2000-)",
    sources such as "Syrian Observatory for Human Rights")."""
    return server_factory(seed=True)


# ---- threads ----


def together(n: int, work: Callable[[int], T], timeout: float = 120.0) -> list[T]:
    """Run work(0..n-1) on n threads released at the same moment; results in order.

    An exception in any thread is raised here (the first one, by index).
    """
    barrier = threading.Barrier(n)

    def run(i: int) -> T:
        barrier.wait(timeout=timeout)
        return work(i)

    with ThreadPoolExecutor(max_workers=n, thread_name_prefix="writer") as pool:
        futures = [pool.submit(run, i) for i in range(n)]
        return [f.result(timeout=timeout) for f in futures]


def problem(response: httpx.Response) -> dict[str, Any]:
    """The problem+json body of an error answer (asserting its content type)."""
    content_type = response.headers.get("content-type", "")
    assert content_type.startswith("application/problem+json"), (
        response.status_code,
        content_type,
        response.text[:500],
    )
    body: dict[str, Any] = response.json()
    return body
