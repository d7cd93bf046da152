"""The harness itself: a real server comes up, answers, survives its kill -9, stops cleanly."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.writes.server import LiveServer, ServerError, ServerProcess, free_port, together
from tests.writes.support import event_body


def test_server_answers_and_comes_back_after_kill_9(server: LiveServer) -> None:
    proc = server.process
    assert proc.running()
    with server.client() as client:
        assert client.get("/healthz").json()["status"] == "ok"
        created = client.post("/v1/events", json=event_body("HARNESS-1"))
        assert created.status_code == 201, created.text
        event_id = created.json()["id"]
        # Seen by another request = committed (this test is about the harness, not about when
        # the server commits: the crash tests are).
        deadline = time.monotonic() + 10
        while client.get(f"/v1/events/{event_id}").status_code != 200:
            assert time.monotonic() < deadline, "the created event never became visible"
            time.sleep(0.05)

    pid = proc.pid
    server.kill()
    assert not proc.running()
    assert proc.proc is not None and proc.proc.returncode == -signal.SIGKILL
    with server.client() as client, pytest.raises(httpx.TransportError):
        client.get("/healthz")

    server.start()  # the same port, the same database
    assert proc.running() and proc.pid != pid
    with server.client() as client:
        assert client.get("/healthz").status_code == 200
        again = client.get(f"/v1/events/{event_id}")
        assert again.status_code == 200, again.text
        assert again.json()["external_id"] == "HARNESS-1"
        # Writes work after the restart too.
        assert client.post("/v1/events", json=event_body("HARNESS-2")).status_code == 201


def test_a_server_that_dies_at_start_raises_with_its_log(tmp_path: Path) -> None:
    # Python refuses this environment at once: the harness must say so, with the log, at once.
    # (A clean stop is checked at the end of every session: ServerPool.stop_all.)
    broken = ServerProcess(
        f"sqlite+aiosqlite:///{tmp_path / 'none.sqlite3'}",
        tmp_path,
        {"PYTHONHASHSEED": "bogus"},
        "broken",
    )
    with pytest.raises(ServerError, match=r"(?s)exited with 1 .*PYTHONHASHSEED"):
        broken.start(timeout=30)
    assert not broken.running()


def test_free_port_is_bindable() -> None:
    import socket

    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_together_runs_its_threads_at_once() -> None:
    # Each waits for all the others inside the work: run one after another, they would time out.
    inside = threading.Barrier(4)

    def work(i: int) -> int:
        inside.wait(timeout=20)
        return i

    assert together(4, work) == [0, 1, 2, 3]
