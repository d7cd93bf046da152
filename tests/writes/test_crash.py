"""kill -9 of a real server during a burst of writes: what was acknowledged is there, whole;
nothing is half there.

Each round releases a burst on the server: 8 threads creating events (inline place, actors by
name, two claims, casualty figures), and 4 threads each PATCHing one existing event from state to
state (every field of state n says n, so a mixture shows), each thread through its own connection,
one request after another. The server is killed with SIGKILL at a moment drawn from a seeded
random generator (CONFLICTDB_WRITES_SEED overrides the seed): after k acknowledged writes, k early,
midway or late in the burst, plus a few random milliseconds, so that the moment means the same on a
fast machine and a slow one. It is then started again on the same database, and every write is
checked:

- acknowledged (2xx): found after the restart, equal to what was sent and to what the answer said;
- unanswered (the connection died with the server): there or not, but only whole;
- refused (4xx/5xx): not there.

A PATCHed event must hold one whole state, at least the last acknowledged one, with the version
that state implies (one per committed PATCH), never below an acknowledged version. No row may
belong to an event that is not there, and every event has one revision per version. The counts are
printed (pytest -s shows them) before the assertions.
"""

from __future__ import annotations

import os
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import text

from app.core.db import make_sync_engine
from tests.writes.server import LiveServer
from tests.writes.support import (
    REBELS,
    RUSSIA,
    SYRIA,
    content,
    expected_content,
    full_event_body,
    list_all,
)

SEED = int(os.environ.get("CONFLICTDB_WRITES_SEED", "20151008"))
CREATORS = 8
PATCHERS = 4
MAX_WRITES_PER_THREAD = 60
# Each round kills after k acknowledged writes, k drawn from its range: "at once" by the thread
# that received the k-th acknowledgement, the moment right after an answer (a server that answers
# before it commits loses that write); "later" by the main thread, 0-40 ms after.
ROUNDS = [((1, 5), "at once"), ((6, 15), "later"), ((16, 30), "at once")]
KILL_JITTER = 0.04


@dataclass
class Attempt:
    """One write request and what became of it."""

    kind: str  # "create" or "patch"
    thread: int
    body: dict[str, Any]
    label: int = 0
    status: int | None = None  # None: no answer, the server died under it
    answer: dict[str, Any] | None = None
    error: str | None = None

    @property
    def acknowledged(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def refused(self) -> bool:
        return self.status is not None and not self.acknowledged


Send = Callable[[httpx.Client, int, int], Attempt]


@dataclass
class Burst:
    kill_after: int
    attempts: list[Attempt] = field(default_factory=list)
    acked: int = 0
    reached: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    kill_now: Callable[[], None] | None = None
    killed_at: float = 0.0
    acked_at_kill: int = 0

    def add(self, attempt: Attempt) -> None:
        with self.lock:
            self.attempts.append(attempt)
            self.acked += attempt.acknowledged
            if self.acked >= self.kill_after and not self.reached.is_set():
                if self.kill_now is not None:
                    self.kill_now()
                    self.acked_at_kill = self.acked
                self.reached.set()

    def of(self, kind: str) -> list[Attempt]:
        return [a for a in self.attempts if a.kind == kind]


def burst_and_kill(
    live: LiveServer, kill_after: int, jitter: float | None, senders: list[tuple[Send, int]]
) -> Burst:
    """Threads call send(client, thread, n) until the server dies; kill -9 once `kill_after`
    writes were acknowledged: at once (jitter None) or `jitter` seconds later; the server is
    started again."""
    burst = Burst(kill_after, kill_now=live.process.send_kill if jitter is None else None)
    n_threads = sum(count for _, count in senders)
    barrier = threading.Barrier(n_threads + 1)

    running = [n_threads]

    def worker(send: Send, t: int) -> None:
        try:
            with live.client(timeout=15.0) as client:
                barrier.wait(timeout=30)
                for n in range(MAX_WRITES_PER_THREAD):
                    attempt = send(client, t, n)
                    burst.add(attempt)
                    if attempt.status is None:
                        return  # the server is gone
        finally:
            with burst.lock:
                running[0] -= 1
                if not running[0]:
                    burst.reached.set()  # all done before the kill moment: kill now

    threads = [
        threading.Thread(target=worker, args=(send, t), daemon=True)
        for send, count in senders
        for t in range(count)
    ]
    for th in threads:
        th.start()
    barrier.wait(timeout=30)
    started = time.monotonic()
    burst.reached.wait(timeout=30)
    if jitter is not None:
        time.sleep(jitter)
        with burst.lock:
            burst.acked_at_kill = burst.acked
    live.kill()  # or, when a writer killed it already, wait for it to be gone
    burst.killed_at = time.monotonic() - started
    for th in threads:
        th.join(timeout=60)
        assert not th.is_alive(), "a writer thread hung after the kill"
    live.start()
    return burst


def send_request(client: httpx.Client, a: Attempt, method: str, path: str) -> Attempt:
    try:
        r = client.request(method, path, json=a.body)
    except httpx.TransportError as exc:
        a.error = repr(exc)
        return a
    a.status = r.status_code
    if r.headers.get("content-type", "").startswith(("application/json", "application/problem")):
        a.answer = r.json()
    return a


def orphans(url: str) -> dict[str, int]:
    """Rows owned by an event (or a claim) that is not there: half-written or half-deleted."""
    checks = {
        "claims": "claims WHERE event_id IS NOT NULL AND event_id NOT IN (SELECT id FROM events)",
        "casualty_figures": "casualty_figures WHERE event_id NOT IN (SELECT id FROM events)",
        "event_actors": "event_actors WHERE event_id NOT IN (SELECT id FROM events)",
        "event_tags": "event_tags WHERE event_id NOT IN (SELECT id FROM events)",
        "casualty_figures of no claim": "casualty_figures WHERE claim_id IS NOT NULL "
        "AND claim_id NOT IN (SELECT id FROM claims)",
    }
    engine = make_sync_engine(url)
    try:
        with engine.connect() as conn:
            found = {
                name: int(conn.execute(text(f"SELECT count(*) FROM {sql}")).scalar_one())
                for name, sql in checks.items()
            }
    finally:
        engine.dispose()
    return {k: v for k, v in found.items() if v}


def revisions_off(url: str, prefix: str) -> list[tuple[int, int, int]]:
    """(event id, version, revisions) of the events under `prefix` whose revision count is not
    their version: one revision per version."""
    engine = make_sync_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT e.id, e.version, (SELECT count(*) FROM event_revisions r "
                    "WHERE r.event_id = e.id) FROM events e WHERE e.external_id LIKE :p"
                ),
                {"p": prefix + "%"},
            ).all()
    finally:
        engine.dispose()
    return [(int(i), int(v), int(n)) for i, v, n in rows if int(v) != int(n)]


# ---- states of a PATCHed event ----

_STATE = re.compile(r" state (\d+)$")


def state_patch(t: int, n: int) -> dict[str, Any]:
    """State n of event t: every field it sets says n, so a mixture of two states shows."""
    actors = (
        [{"actor": RUSSIA, "role": "initiator"}, {"actor": REBELS, "role": "target"}]
        if n % 2 == 0
        else [{"actor": SYRIA, "role": "initiator"}]
    )
    return {
        "summary": f"PATCH-{t} state {n}",
        "notes": f"notes of state {n}",
        "fatalities_low": n,
        "fatalities_best": n,
        "fatalities_high": n,
        "tags": [f"state-{n}"],
        "actors": actors,
    }


def state_of(event: dict[str, Any]) -> dict[str, Any]:
    return {
        "summary": event["summary"],
        "notes": event["notes"],
        "fatalities_low": event["fatalities_low"],
        "fatalities_best": event["fatalities_best"],
        "fatalities_high": event["fatalities_high"],
        "tags": sorted(event["tags"]),
        "actors": sorted((a["name"], a["role"]) for a in event["actors"]),
    }


def expected_state(t: int, n: int) -> dict[str, Any]:
    body = state_patch(t, n)
    body["actors"] = sorted((a["actor"], a["role"]) for a in body["actors"])
    return body


# ---- the checks of one round ----


def check_creates(
    live: LiveServer,
    attempts: list[Attempt],
    prefix: str,
    counts: Counter[str],
    problems: list[str],
) -> None:
    sent = {a.body["external_id"]: a for a in attempts}
    with live.client(write=False) as client:
        stored = {
            e["external_id"]: e
            for e in list_all(client, "/v1/events", dataset="conflictdb")
            if e["external_id"].startswith(prefix)
        }
        for ext, a in sent.items():
            if a.acknowledged:
                counts["acknowledged"] += 1
                assert a.answer is not None and a.status == 201, (a.status, a.answer)
                if content(a.answer) != expected_content(a.body):
                    counts["answered_wrong"] += 1
                    problems.append(f"{ext}: the 201 differs from what was sent")
                r = client.get(f"/v1/events/{a.answer['id']}")
                if r.status_code == 404:
                    counts["lost"] += 1
                    problems.append(f"{ext}: acknowledged (id {a.answer['id']}), not found")
                    continue
                assert r.status_code == 200, r.text
                if content(r.json()) != expected_content(a.body):
                    counts["partial"] += 1
                    problems.append(f"{ext}: stored differs from sent: {content(r.json())}")
                else:
                    counts["found"] += 1
            elif a.refused:
                counts[f"refused_{a.status}"] += 1
                if ext in stored:
                    counts["refused_but_present"] += 1
                    problems.append(f"{ext}: answered {a.status} yet stored")
            else:
                counts["unanswered"] += 1
                counts["unanswered_present"] += ext in stored
        for ext, event in stored.items():
            origin = sent.get(ext)
            if origin is None:
                counts["never_sent_present"] += 1
                problems.append(f"{ext}: stored, never sent")
            elif content(event) != expected_content(origin.body):
                if not origin.acknowledged:  # acknowledged ones were counted above
                    counts["partial"] += 1
                problems.append(f"{ext}: listed event is not whole: {content(event)}")


@dataclass
class Patched:
    """One PATCHed event: its id and where it stood after the last restart."""

    event_id: int
    label: int  # the state it held
    version: int
    next_label: int = 1  # state labels only grow, across rounds


def check_patches(
    live: LiveServer,
    attempts: list[Attempt],
    events: dict[int, Patched],
    counts: Counter[str],
    problems: list[str],
) -> None:
    with live.client(write=False) as client:
        for t, ev in events.items():
            mine = [a for a in attempts if a.thread == t]  # in the order they were sent
            acked = [a for a in mine if a.acknowledged]
            counts["patch_acknowledged"] += len(acked)
            counts["patch_unanswered"] += sum(a.status is None for a in mine)
            counts["patch_refused"] += sum(a.refused for a in mine)
            r = client.get(f"/v1/events/{ev.event_id}")
            assert r.status_code == 200, r.text
            event = r.json()
            match = _STATE.search(event["summary"])
            assert match, event["summary"]
            found = int(match.group(1))
            where = f"event {ev.event_id} (PATCH-{t})"
            if state_of(event) != expected_state(t, found):
                counts["mixed"] += 1
                problems.append(f"{where}: a mixture of states: {state_of(event)}")
            if found != ev.label and found not in [a.label for a in mine]:
                counts["mixed"] += 1
                problems.append(f"{where}: state {found} was never sent")
            top_acked = max((a.label for a in acked), default=ev.label)
            if found < top_acked:
                counts["patch_lost"] += 1
                problems.append(f"{where}: state {found} after state {top_acked} was acked")
            if any(a.label == found and a.refused for a in mine):
                counts["refused_but_applied"] += 1
                problems.append(f"{where}: state {found} was refused, yet stored")
            # One after the other on one event: every write of the round up to the state
            # found (those refused excepted) raised the version by exactly one.
            want = ev.version + sum(1 for a in mine if a.label <= found and not a.refused)
            if event["version"] != want:
                counts["version_off"] += 1
                problems.append(
                    f"{where}: version {event['version']} with state {found}, expected {want}"
                )
            for a in acked:
                assert a.answer is not None
                if a.answer["version"] > event["version"]:
                    counts["version_went_back"] += 1
                    problems.append(
                        f"{where}: acked version {a.answer['version']} > stored {event['version']}"
                    )
                if state_of(a.answer) != expected_state(t, a.label):
                    counts["answered_wrong"] += 1
                    problems.append(f"{where}: the 200 of state {a.label} differs from it")
            ev.label, ev.version = found, int(event["version"])
            ev.next_label = max([ev.next_label - 1, *(a.label for a in mine)]) + 1


def test_kill_9_during_a_burst_of_writes_keeps_acknowledged_writes_whole(
    seeded_server: LiveServer,
) -> None:
    live = seeded_server
    db = "sqlite" if live.is_sqlite else "postgresql"
    rng = random.Random(f"{SEED}-{db}")

    events: dict[int, Patched] = {}
    with live.client() as client:
        for t in range(PATCHERS):
            body = full_event_body(f"PATCH-{t}", 0)
            # No killed figure in its claims: the event's own figure is the one PATCHed (where
            # claims give one, the event's figure is theirs and a PATCH of it is a 422).
            body["casualties"] = [c for c in body["casualties"] if c["outcome"] != "killed"]
            body.update(state_patch(t, 0))
            r = client.post("/v1/events", json=body)
            assert r.status_code == 201, r.text
            events[t] = Patched(event_id=r.json()["id"], label=0, version=0)
        for ev in events.values():
            # Committed before the burst: another request sees it.
            deadline = time.monotonic() + 10
            while (r := client.get(f"/v1/events/{ev.event_id}")).status_code != 200:
                assert time.monotonic() < deadline, r.text
                time.sleep(0.05)
            ev.version = int(r.json()["version"])

    totals: Counter[str] = Counter()
    problems: list[str] = []
    for rnd, ((low, high), moment) in enumerate(ROUNDS):
        prefix = f"CRASH{rnd}-"
        first = {t: ev.next_label for t, ev in events.items()}

        def create(client: httpx.Client, t: int, n: int, prefix: str = prefix) -> Attempt:
            # One place per thread: created by its first write, found by the next ones.
            body = full_event_body(f"{prefix}{t}-{n}", n, place=f"Crash Village {t}")
            return send_request(client, Attempt("create", t, body), "POST", "/v1/events")

        def patch(client: httpx.Client, t: int, n: int, first: dict[int, int] = first) -> Attempt:
            label = first[t] + n
            a = Attempt("patch", t, state_patch(t, label), label=label)
            return send_request(client, a, "PATCH", f"/v1/events/{events[t].event_id}")

        kill_after = rng.randint(low, high)
        jitter = None if moment == "at once" else rng.uniform(0, KILL_JITTER)
        burst = burst_and_kill(live, kill_after, jitter, [(create, CREATORS), (patch, PATCHERS)])
        counts: Counter[str] = Counter(sent=len(burst.attempts), acked_at_kill=burst.acked_at_kill)
        check_creates(live, burst.of("create"), prefix, counts, problems)
        check_patches(live, burst.of("patch"), events, counts, problems)
        with live.client() as client:  # the server takes writes again after the restart
            after = client.post("/v1/events", json=full_event_body(f"{prefix}after", 0))
            assert after.status_code == 201, after.text
        leftover = orphans(live.url)
        counts["orphan_rows"] = sum(leftover.values())
        if leftover:
            problems.append(f"rows of events or claims that are not there: {leftover}")
        off = revisions_off(live.url, prefix) + revisions_off(live.url, "PATCH-")
        counts["revisions_off"] = len(off)
        if off:
            problems.append(f"(event id, version, revisions): not one revision per version: {off}")
        print(
            f"\n[{db}] round {rnd}: kill -9 {moment} after {kill_after} acks "
            f"({burst.killed_at:.2f} s into the burst): "
            + " ".join(f"{k}={v}" for k, v in sorted(counts.items()))
        )
        totals.update(counts)

    print(f"[{db}] total: " + " ".join(f"{k}={v}" for k, v in sorted(totals.items())))
    for line in problems[:50]:
        print("  problem:", line)
    assert totals["acknowledged"] > 0, "no create was acknowledged before the kills"
    assert totals["unanswered"] + totals["patch_unanswered"] > 0, "no kill hit a write in flight"
    assert totals["lost"] == 0, problems
    assert totals["partial"] == 0, problems
    assert totals["refused_but_present"] == 0, problems
    assert totals["never_sent_present"] == 0, problems
    assert totals["patch_acknowledged"] > 0, "no PATCH was acknowledged before the kills"
    assert totals["patch_lost"] == 0, problems
    assert totals["mixed"] == 0, problems
    assert totals["refused_but_applied"] == 0, problems
    assert totals["version_went_back"] == 0, problems
    assert totals["version_off"] == 0, problems
    assert totals["answered_wrong"] == 0, problems
    assert totals["orphan_rows"] == 0, problems
    assert totals["revisions_off"] == 0, problems
