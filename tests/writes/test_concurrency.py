"""Concurrent writes through a real server with real threads, on SQLite and on PostgreSQL.

Read-your-writes, serialized PUTs that never mix, exact versions and revisions, If-Match (412) and
CONFLICTDB_REQUIRE_IF_MATCH (428), case-variant duplicates and shared inline places created once,
repeated DELETEs, ids never reused, and a mixed load that never answers a 5xx other than a 503
with Retry-After.

The sizes are kept small for CI (2 cores, both databases); CONFLICTDB_WRITES_FULL=1 runs the
sizes of the issue (200 POST+GET pairs, 30 PUT rounds, 2 x 50 PATCHes, 8 s of load).
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections import Counter
from typing import Any

import httpx

from tests.writes.server import LiveServer, ServerFactory, problem, together
from tests.writes.support import event_body, strong_etag, sync_until

FULL = os.environ.get("CONFLICTDB_WRITES_FULL", "").lower() in {"1", "true", "yes"}
RYW_THREADS, RYW_PAIRS = 4, (50 if FULL else 8)  # POST+GET pairs per thread
PUT_ROUNDS = 30 if FULL else 8
PATCHES_PER_THREAD = 50 if FULL else 15
LOAD_THREADS, LOAD_SECONDS = 32, (8.0 if FULL else 5.0)

KAFR_TEST = {
    "name": "Kafr Test",
    "kind": "village",
    "country_code": "SY",
    "admin1": "Hama",
    "latitude": 35.4,
    "longitude": 36.5,
}


def create(client: httpx.Client, external_id: str, **extra: Any) -> dict[str, Any]:
    r = client.post("/v1/events", json=event_body(external_id, **extra))
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


def make_sources(client: httpx.Client, *names: str) -> None:
    for name in names:
        r = client.post("/v1/sources", json={"name": name, "kind": "monitor"})
        assert r.status_code == 201, r.text


def test_post_then_get_never_404s_and_patch_then_get_reads_the_patch(server: LiveServer) -> None:
    def work(t: int) -> list[str]:
        failures: list[str] = []
        # A place per thread: the race for one new place is another test's.
        place = {**KAFR_TEST, "name": f"RYW Town {t}"}
        with server.client() as client:
            for i in range(RYW_PAIRS):
                r = client.post("/v1/events", json=event_body(f"RYW-{t}-{i}", place=place))
                assert r.status_code == 201, r.text
                created = r.json()
                got = client.get(f"/v1/events/{created['id']}")
                if got.status_code != 200:
                    failures.append(f"GET after 201 of {created['id']}: {got.status_code}")
                    continue
                if got.json() != created:
                    failures.append(f"GET after 201 of {created['id']} differs from the 201")
                r = client.patch(f"/v1/events/{created['id']}", json={"summary": f"patched {i}"})
                assert r.status_code == 200, r.text
                got = client.get(f"/v1/events/{created['id']}")
                if got.status_code != 200 or got.json()["summary"] != f"patched {i}":
                    failures.append(
                        f"GET after PATCH of {created['id']}: {got.status_code} {got.text[:200]}"
                    )
                elif got.json() != r.json():
                    failures.append(f"GET after PATCH of {created['id']} differs from the 200")
        return failures

    failures = [f for per_thread in together(RYW_THREADS, work) for f in per_thread]
    assert failures == [], f"{len(failures)} of {RYW_THREADS * RYW_PAIRS * 2} reads: {failures}"


def test_concurrent_puts_serialize_and_never_mix(server: LiveServer) -> None:
    with server.client() as client:
        make_sources(client, "Source A1", "Source A2", "Source B1", "Source B2")
        event = create(client, "PUT-RACE", summary="start")

    def put_body(side: str) -> dict[str, Any]:
        return event_body(
            "PUT-RACE",
            summary=side,
            notes=f"notes {side}",
            tags=[f"side-{side}"],
            claims=[
                {"source": f"Source {side}1", "assertion": f"{side} one"},
                {"source": f"Source {side}2", "assertion": f"{side} two", "grade": "weak"},
            ],
        )

    bodies = {"A": put_body("A"), "B": put_body("B")}
    mixed: list[str] = []
    seen: Counter[str] = Counter()
    clients = [server.client(), server.client()]
    try:
        for rnd in range(PUT_ROUNDS):

            def work(i: int) -> httpx.Response:
                return clients[i].put(f"/v1/events/{event['id']}", json=bodies["AB"[i]])

            answers = together(2, work)
            assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
            stored = clients[0].get(f"/v1/events/{event['id']}").json()
            seen[stored["summary"]] += 1
            # What is stored, and what each PUT answered, is one side's content, whole.
            for label, shown in [("stored", stored)] + [
                (f"answer {i}", a.json()) for i, a in enumerate(answers)
            ]:
                side = shown["summary"]
                claims = sorted((c["source"]["name"], c["assertion"]) for c in shown["claims"])
                want = [(f"Source {side}1", f"{side} one"), (f"Source {side}2", f"{side} two")]
                if (
                    side not in bodies
                    or claims != want
                    or shown["notes"] != f"notes {side}"
                    or shown["tags"] != [f"side-{side}"]
                ):
                    mixed.append(
                        f"round {rnd} {label}: {side!r} {shown['notes']!r} {shown['tags']} {claims}"
                    )
            assert [a.json()["summary"] for a in answers] == ["A", "B"]
    finally:
        for c in clients:
            c.close()
    print(f"\n[{'sqlite' if server.is_sqlite else 'postgresql'}] PUT races won: {dict(seen)}")
    assert mixed == []


def test_versions_and_revisions_count_every_patch_exactly(server: LiveServer) -> None:
    with server.client() as client:
        event = create(client, "VERSIONS")
    v0 = event["version"]
    assert v0 == 1

    def work(t: int) -> list[int]:
        field = ("summary", "notes")[t]
        versions: list[int] = []
        with server.client() as client:
            for i in range(PATCHES_PER_THREAD):
                r = client.patch(f"/v1/events/{event['id']}", json={field: f"{field} {i}"})
                assert r.status_code == 200, r.text
                versions.append(r.json()["version"])
        return versions

    answered = together(2, work)
    total = 2 * PATCHES_PER_THREAD
    for versions in answered:
        assert versions == sorted(versions) and len(set(versions)) == len(versions), versions
    everyone = sorted(answered[0] + answered[1])
    assert everyone == list(range(v0 + 1, v0 + total + 1)), "each PATCH its own version"
    with server.client(write=False) as client:
        final = client.get(f"/v1/events/{event['id']}").json()
        assert final["version"] == v0 + total
        # No lost update: each field holds the last value its thread wrote.
        assert final["summary"] == f"summary {PATCHES_PER_THREAD - 1}"
        assert final["notes"] == f"notes {PATCHES_PER_THREAD - 1}"
        r = client.get(f"/v1/events/{event['id']}/revisions")
        assert r.status_code == 200, r.text
        revisions = r.json()
    versions = [rev["version"] for rev in revisions]
    assert len(revisions) == total + 1, versions
    assert sorted(versions) == list(range(1, total + 2)), versions
    assert {rev["event_id"] for rev in revisions} == {event["id"]}


def test_if_match_on_patch_put_delete(server: LiveServer) -> None:
    with server.client() as client:
        event = create(client, "IFMATCH", summary="created")
        path = f"/v1/events/{event['id']}"
        got = client.get(path)
        assert got.status_code == 200
        etag1 = strong_etag(got)

        first = client.patch(path, json={"summary": "first"}, headers={"If-Match": etag1})
        assert first.status_code == 200, first.text
        etag2 = strong_etag(first)
        assert etag2 != etag1

        stale = client.patch(path, json={"summary": "stale"}, headers={"If-Match": etag1})
        assert stale.status_code == 412, stale.text
        body = problem(stale)
        assert body["code"] == "precondition_failed"
        assert isinstance(body["current_version"], int) and not isinstance(
            body["current_version"], bool
        )
        assert body["current_version"] == first.json()["version"]
        now = client.get(path)
        assert body["current_etag"] == strong_etag(now) == etag2
        assert now.json()["summary"] == "first"
        assert now.json()["version"] == first.json()["version"]

        # PUT: the stale tag is refused, the current one (from the PATCH's answer) passes.
        put = event_body("IFMATCH", summary="put")
        stale = client.put(path, json=put, headers={"If-Match": etag1})
        assert stale.status_code == 412, stale.text
        assert problem(stale)["code"] == "precondition_failed"
        assert client.get(path).json()["summary"] == "first"
        ok = client.put(path, json=put, headers={"If-Match": etag2})
        assert ok.status_code == 200, ok.text
        etag3 = strong_etag(ok)
        assert etag3 not in (etag1, etag2)

        # The PUT's answer carries the current tag; `*` matches any existing record.
        again = client.patch(path, json={"notes": "again"}, headers={"If-Match": etag3})
        assert again.status_code == 200, again.text
        star = client.patch(path, json={"summary": "star"}, headers={"If-Match": "*"})
        assert star.status_code == 200, star.text
        etag4 = strong_etag(star)

        # DELETE: stale -> 412 and the event stays; current -> 204.
        stale = client.delete(path, headers={"If-Match": etag3})
        assert stale.status_code == 412, stale.text
        body = problem(stale)
        assert body["code"] == "precondition_failed"
        assert body["current_version"] == star.json()["version"]
        assert client.get(path).status_code == 200
        gone = client.delete(path, headers={"If-Match": etag4})
        assert gone.status_code == 204, gone.text
        assert client.get(path).status_code == 404


def test_two_patches_with_the_same_fresh_etag_one_wins_one_412(server: LiveServer) -> None:
    with server.client() as client:
        event = create(client, "IFMATCH-RACE")
    path = f"/v1/events/{event['id']}"
    clients = [server.client(), server.client()]
    try:
        for rnd in range(5):
            etag = strong_etag(clients[0].get(path))

            def work(i: int, etag: str = etag, rnd: int = rnd) -> httpx.Response:
                return clients[i].patch(
                    path, json={"summary": f"round {rnd} thread {i}"}, headers={"If-Match": etag}
                )

            answers = together(2, work)
            statuses = sorted(a.status_code for a in answers)
            assert statuses == [200, 412], [a.text for a in answers]
            winner = next(a for a in answers if a.status_code == 200)
            loser = next(a for a in answers if a.status_code == 412)
            assert problem(loser)["code"] == "precondition_failed"
            stored = clients[0].get(path).json()
            assert stored["summary"] == winner.json()["summary"]
            assert problem(loser)["current_version"] == stored["version"]
    finally:
        for c in clients:
            c.close()


def test_require_if_match_answers_428_without_it(server_factory: ServerFactory) -> None:
    strict = server_factory(env={"CONFLICTDB_REQUIRE_IF_MATCH": "true"})
    with strict.client() as client:
        event = create(client, "REQUIRED")  # creating needs no If-Match
        path = f"/v1/events/{event['id']}"
        put = event_body("REQUIRED", summary="put")
        for r in (
            client.patch(path, json={"summary": "no tag"}),
            client.put(path, json=put),
            client.delete(path),
        ):
            assert r.status_code == 428, (r.request.method, r.text)
            assert problem(r)["code"] == "precondition_required"
        unchanged = client.get(path)
        assert unchanged.json()["summary"] == event["summary"]
        assert unchanged.json()["version"] == event["version"]

        patched = client.patch(
            path, json={"summary": "tagged"}, headers={"If-Match": strong_etag(unchanged)}
        )
        assert patched.status_code == 200, patched.text
        replaced = client.put(path, json=put, headers={"If-Match": strong_etag(patched)})
        assert replaced.status_code == 200, replaced.text
        deleted = client.delete(path, headers={"If-Match": strong_etag(replaced)})
        assert deleted.status_code == 204, deleted.text


def test_case_variant_creates_make_one_actor_and_one_source(server: LiveServer) -> None:
    n = 20
    spellings = ["Case Actor X", "CASE ACTOR X", "case actor x"]
    sources = ["Case Source X", "CASE SOURCE X", "case source x"]
    clients = [server.client() for _ in range(n)]
    try:
        for path, names, extra, query in (
            ("/v1/actors", spellings, {"actor_type": 2}, "case actor x"),
            ("/v1/sources", sources, {"kind": "monitor"}, "case source x"),
        ):

            def work(
                i: int, path: str = path, names: list[str] = names, extra: dict[str, Any] = extra
            ) -> httpx.Response:
                return clients[i].post(path, json={"name": names[i % len(names)], **extra})

            answers = together(n, work)
            statuses = Counter(a.status_code for a in answers)
            assert statuses == {201: 1, 409: n - 1}, (path, statuses, answers[0].text)
            for a in answers:
                if a.status_code == 409:
                    assert problem(a)["code"] == "duplicate"
            listed = clients[0].get(path, params={"q": query})
            assert listed.status_code == 200, listed.text
            assert len(listed.json()["items"]) == 1, listed.json()
    finally:
        for c in clients:
            c.close()


def test_concurrent_events_with_one_new_inline_place_share_it(server: LiveServer) -> None:
    n = 20

    def work(i: int) -> httpx.Response:
        with server.client() as client:
            return client.post("/v1/events", json=event_body(f"KAFR-{i}", place=KAFR_TEST))

    answers = together(n, work)
    assert [a.status_code for a in answers] == [201] * n, [
        a.text for a in answers if a.status_code != 201
    ]
    place_ids = {a.json()["place"]["id"] for a in answers}
    assert len(place_ids) == 1, place_ids
    with server.client(write=False) as client:
        stored = {client.get(f"/v1/events/{a.json()['id']}").json()["place"]["id"] for a in answers}
        assert stored == place_ids
        places = client.get("/v1/places", params={"q": "Kafr Test"}).json()["items"]
    assert [p["id"] for p in places] == list(place_ids), places


def test_repeated_delete_204_once_then_404(server: LiveServer) -> None:
    n = 10
    with server.client() as client:
        event = create(client, "DELETE-RACE")
        keep = create(client, "DELETE-KEEP")
    path = f"/v1/events/{event['id']}"

    def work(i: int) -> httpx.Response:
        with server.client() as client:
            return client.delete(path)

    answers = together(n, work)
    statuses = Counter(a.status_code for a in answers)
    assert statuses == {204: 1, 404: n - 1}, (statuses, [a.text for a in answers])
    for a in answers:
        if a.status_code == 404:
            assert problem(a)["code"] == "not_found"
    with server.client(write=False) as client:
        assert client.get(path).status_code == 404
        changed, deleted, _ = sync_until(
            client, lambda _, d: event["id"] in [x["event_id"] for x in d], view="ids", limit=2
        )
    assert [d["event_id"] for d in deleted].count(event["id"]) == 1, deleted
    changed_ids = [c["id"] for c in changed]
    assert event["id"] not in changed_ids
    assert keep["id"] in changed_ids


def test_patches_racing_a_delete_never_answer_5xx(server: LiveServer) -> None:
    # Issue 10: a PATCH racing a DELETE of the same event gave a 500 (stale data). Each PATCH
    # now either lands before the delete (200) or finds the event gone (404).
    rounds, patchers = 5, 4
    seen: Counter[int] = Counter()
    for r in range(rounds):
        with server.client() as client:
            event = create(client, f"PATCH-DELETE-{r}")
        path = f"/v1/events/{event['id']}"

        def work(i: int, path: str = path) -> httpx.Response:
            with server.client() as client:
                if i == 0:
                    return client.delete(path)
                return client.patch(path, json={"notes": f"patch {i}"})

        answers = together(patchers + 1, work)
        seen.update(a.status_code for a in answers)
        assert answers[0].status_code == 204, answers[0].text
        assert {a.status_code for a in answers[1:]} <= {200, 404}, [a.text for a in answers]
        with server.client(write=False) as client:
            assert client.get(path).status_code == 404
    print(f"\n[{'sqlite' if server.is_sqlite else 'postgresql'}] PATCH vs DELETE: {dict(seen)}")


def test_ids_are_never_reused(server: LiveServer) -> None:
    with server.client() as client:
        first = create(client, "REUSE-1")
        assert client.delete(f"/v1/events/{first['id']}").status_code == 204
        # The same natural key again: a new event, with a new id.
        second = create(client, "REUSE-1")
        assert second["id"] > first["id"], (first["id"], second["id"])
        assert second["version"] == 1
        r = client.get(f"/v1/events/{second['id']}/revisions")
        assert r.status_code == 200, r.text
        revisions = r.json()
        assert [rev["version"] for rev in revisions] == [1], revisions
        assert {rev["event_id"] for rev in revisions} == {second["id"]}
        assert client.get(f"/v1/events/{first['id']}").status_code == 404
        changed, deleted, _ = sync_until(
            client,
            lambda c, d: (
                first["id"] in [x["event_id"] for x in d] and second["id"] in [x["id"] for x in c]
            ),
            view="ids",
        )
    deleted_ids = [d["event_id"] for d in deleted]
    assert first["id"] in deleted_ids
    assert second["id"] not in deleted_ids
    changed_ids = [c["id"] for c in changed]
    assert second["id"] in changed_ids and first["id"] not in changed_ids


def test_mixed_load_never_answers_5xx_but_503_with_retry_after(server: LiveServer) -> None:
    with server.client() as client:
        ids = [create(client, f"LOAD-{i}")["id"] for i in range(10)]
    deadline = [0.0]  # set when every thread has its client and is ready

    def start_clock() -> None:
        deadline[0] = time.monotonic() + LOAD_SECONDS

    ready = threading.Barrier(LOAD_THREADS, action=start_clock)
    lock = threading.Lock()
    statuses: Counter[str] = Counter()
    bad: list[str] = []
    writes = [0, 0]  # sent, succeeded

    def work(t: int) -> None:
        rng = random.Random(t)
        with server.client(timeout=60.0) as client:
            ready.wait(timeout=60)
            n = 0
            while time.monotonic() < deadline[0]:
                n += 1
                roll = rng.random()
                write = roll >= 0.9
                try:
                    if roll < 0.45:
                        r = client.get("/v1/events", params={"limit": 20})
                    elif roll < 0.9:
                        r = client.get(f"/v1/events/{rng.choice(ids)}")
                    elif roll < 0.95:
                        r = client.patch(
                            f"/v1/events/{rng.choice(ids)}", json={"summary": f"load {t} {n}"}
                        )
                    else:
                        r = client.post("/v1/events", json=event_body(f"LOAD-{t}-{n}"))
                except httpx.TransportError as exc:
                    with lock:
                        statuses["transport_error"] += 1
                        bad.append(f"{t}/{n}: {exc!r}")
                        writes[0] += write
                    continue
                with lock:
                    statuses[str(r.status_code)] += 1
                    writes[0] += write
                    writes[1] += write and 200 <= r.status_code < 300
                    if r.status_code >= 500 and r.status_code != 503:
                        bad.append(f"{r.request.method} {r.request.url.path}: {r.text[:300]}")
                    if r.status_code == 503 and not r.headers.get("retry-after"):
                        bad.append(f"503 without Retry-After: {r.request.url.path}")

    together(LOAD_THREADS, work, timeout=LOAD_SECONDS + 120)
    db = "sqlite" if server.is_sqlite else "postgresql"
    print(f"\n[{db}] load: {sum(statuses.values())} requests {dict(statuses)} writes {writes}")
    assert bad == [], bad[:20]
    assert writes[0] > 0
    assert writes[1] >= 0.95 * writes[0], writes
