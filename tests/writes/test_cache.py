"""The response cache under real load: `conflictdb serve --workers 2` with Redis, real threads.

Writers PATCH their own event and read it back at once through the list and the event's URL,
while readers poll those same URLs, so that the cache is warm with the version just replaced.
Every read after a write's 2xx shows that write, whichever worker answers, and the pollers get
hits between writes.
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter

from tests.writes.server import ServerFactory, together
from tests.writes.support import event_body

REDIS_URL = os.environ.get("CONFLICTDB_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
WRITERS, READERS, ROUNDS = 2, 2, 12


def test_reads_after_a_write_show_it_on_every_worker(server_factory: ServerFactory) -> None:
    live = server_factory(env={"CONFLICTDB_WORKERS": "2", "CONFLICTDB_REDIS_URL": REDIS_URL})
    ids: list[int] = []
    with live.client() as client:
        for w in range(WRITERS):
            r = client.post("/v1/events", json=event_body(f"CACHE-{w}"))
            assert r.status_code == 201, r.text
            ids.append(r.json()["id"])
    listing = "/v1/events?limit=100&fields=id,notes"
    done = threading.Event()
    seen: Counter[str] = Counter()

    def work(i: int) -> list[str]:
        failures: list[str] = []
        with live.client(write=i < WRITERS) as client:
            if i >= WRITERS:  # a poller
                while not done.is_set():
                    for url in (listing, f"/v1/events/{ids[i % WRITERS]}"):
                        r = client.get(url)
                        if r.status_code != 200:
                            failures.append(f"poll {url}: {r.status_code}")
                        seen[r.headers.get("x-cache", "none")] += 1
                return failures
            event_id = ids[i]
            try:
                for n in range(ROUNDS):
                    notes = f"writer {i} round {n}"
                    r = client.patch(
                        f"/v1/events/{event_id}", json={"notes": notes}, headers={"If-Match": "*"}
                    )
                    if r.status_code != 200:
                        failures.append(f"patch {n}: {r.status_code} {r.text[:200]}")
                        continue
                    one = client.get(f"/v1/events/{event_id}")
                    if one.json().get("notes") != notes:
                        failures.append(f"round {n}: event read {one.json().get('notes')!r}")
                    page = {e["id"]: e["notes"] for e in client.get(listing).json()["items"]}
                    if page.get(event_id) != notes:
                        failures.append(f"round {n}: list read {page.get(event_id)!r}")
                    time.sleep(0.05)  # the pollers fill the cache between writes
            finally:
                if i == WRITERS - 1:
                    done.set()
        return failures

    results = together(WRITERS + READERS, work)
    assert [f for r in results for f in r] == []
    assert seen["hit"] > 0, seen
