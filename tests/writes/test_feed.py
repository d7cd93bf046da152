"""The change feed and versions see every write, child edits included, through a real server.

An event's claims, the casualty figures a claim carries and its actor links are the event's:
changing one of them raises the event's `version` by exactly one, changes its ETag, moves
`updated_at`, adds a revision and puts the event in /v1/changes after the `high_water_seq` read
before. A follower paging /v1/changes by `since_seq` while four threads write misses nothing. A PUT
that sends the event's claims back (with their ids, or identical without) keeps the claim ids.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import httpx

from tests.writes.server import LiveServer, together
from tests.writes.support import (
    AL_WATAN,
    FEED_WAIT,
    RUSSIA,
    content,
    event_body,
    expected_content,
    full_event_body,
    strong_etag,
    sync_changes,
    sync_until,
    when,
)


def high_water(client: httpx.Client, since_seq: int = 0) -> int:
    """The feed's position now: page to the end from `since_seq`, keep `high_water_seq`."""
    _, _, last = sync_changes(client, view="ids", since_seq=since_seq, limit=1000)
    seq = last["high_water_seq"]
    assert isinstance(seq, int) and not isinstance(seq, bool) and seq >= 0, last
    return seq


def settled_high_water(client: httpx.Client, event_id: int) -> int:
    """A position after every change of the event so far: the feed from it lists the event only
    for a change still to come (on PostgreSQL the position may lag a moment behind: wait)."""
    deadline = time.monotonic() + FEED_WAIT
    while True:
        seq = high_water(client)
        changed, _, _ = sync_changes(client, view="ids", since_seq=seq)
        if event_id not in [c["id"] for c in changed]:
            return seq
        assert time.monotonic() < deadline, f"event {event_id} still after position {seq}"
        time.sleep(0.1)


def read_event(client: httpx.Client, event_id: int) -> tuple[dict[str, Any], str]:
    r = client.get(f"/v1/events/{event_id}")
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body, strong_etag(r)


def test_child_edits_raise_the_event_version_etag_revisions_and_feed(
    seeded_server: LiveServer,
) -> None:
    with seeded_server.client() as client:
        created = client.post("/v1/events", json=full_event_body("FEED-CHILD", 1))
        assert created.status_code == 201, created.text
        event_id = created.json()["id"]
        claim: dict[str, Any] = {}

        def step(name: str, change: Callable[[], None]) -> dict[str, Any]:
            seq = settled_high_water(client, event_id)
            before, etag_before = read_event(client, event_id)
            change()
            after, etag_after = read_event(client, event_id)
            assert after["version"] == before["version"] + 1, (name, before["version"], after)
            assert etag_after != etag_before, name
            assert when(after["updated_at"]) >= when(before["updated_at"]), name
            r = client.get(f"/v1/events/{event_id}/revisions")
            assert r.status_code == 200, r.text
            versions = [rev["version"] for rev in r.json()]
            assert versions.count(after["version"]) == 1, (name, versions)
            assert sorted(versions) == list(range(1, after["version"] + 1)), (name, versions)
            sync_until(
                client, lambda c, _: event_id in [x["id"] for x in c], view="ids", since_seq=seq
            )
            return after

        def add_claim() -> None:
            r = client.post(
                "/v1/claims",
                json={
                    "event_id": event_id,
                    "source": AL_WATAN,
                    "kind": "casualties",
                    "assertion": "two civilians killed",
                    "casualties": [
                        {
                            "outcome": "killed",
                            "casualty_group": "civilians",
                            "low": 1,
                            "best": 2,
                            "high": 3,
                            "qualifier": "at least two",
                        }
                    ],
                },
            )
            assert r.status_code == 201, r.text
            claim.update(r.json())

        after = step("POST /v1/claims", add_claim)
        got = client.get(f"/v1/claims/{claim['id']}")
        assert got.status_code == 200, got.text
        claim_etag = strong_etag(got)
        stored_claim = got.json()
        assert isinstance(stored_claim["version"], int)
        [figure] = stored_claim["casualties"]
        assert {k: figure[k] for k in ("outcome", "casualty_group", "low", "best", "high")} == {
            "outcome": "killed",
            "casualty_group": "civilians",
            "low": 1,
            "best": 2,
            "high": 3,
        }
        assert figure["qualifier"] == "at least two" and figure["actor_id"] is None
        assert [(f["claim_id"], f["best"]) for f in after["casualties"] if f["id"] == figure["id"]]
        assert claim["id"] in [c["id"] for c in after["claims"]]

        def change_figure() -> None:
            r = client.patch(
                f"/v1/claims/{claim['id']}",
                json={
                    "casualties": [
                        {
                            "id": figure["id"],
                            "outcome": "killed",
                            "casualty_group": "civilians",
                            "low": 1,
                            "best": 5,
                            "high": 6,
                            "qualifier": "five",
                        }
                    ]
                },
            )
            assert r.status_code == 200, r.text
            assert [f["id"] for f in r.json()["casualties"]] == [figure["id"]], r.text

        after = step("PATCH /v1/claims/{id} casualties", change_figure)
        figures = {f["id"]: f for f in after["casualties"]}
        assert figures[figure["id"]]["best"] == 5 and figures[figure["id"]]["high"] == 6
        again = client.get(f"/v1/claims/{claim['id']}")
        assert again.json()["casualties"][0]["best"] == 5
        assert strong_etag(again) != claim_etag

        def drop_actor() -> None:
            r = client.patch(
                f"/v1/events/{event_id}",
                json={"actors": [{"actor": RUSSIA, "role": "initiator"}]},
            )
            assert r.status_code == 200, r.text

        after = step("PATCH /v1/events/{id} actors", drop_actor)
        assert [(a["name"], a["role"]) for a in after["actors"]] == [(RUSSIA, "initiator")]


def test_a_follower_paging_by_since_seq_misses_no_write(server: LiveServer) -> None:
    writers, writes_each = 4, 12
    with server.client() as client:
        client.post("/v1/events", json=event_body("FOLLOW-PLACE")).raise_for_status()
        hw = high_water(client)
    acked: list[tuple[int, int, float]] = []  # event id, version, when acknowledged
    seen: dict[int, int] = {}  # event id -> highest version seen in the feed
    lock = threading.Lock()
    done = threading.Event()
    marks: list[int] = [hw]

    def poll(client: httpx.Client, since: int) -> int:
        changed, _, last = sync_changes(client, view="full", since_seq=since, limit=7)
        for item in changed:
            seen[item["id"]] = max(seen.get(item["id"], 0), item["version"])
        mark = last["high_water_seq"]
        assert isinstance(mark, int) and mark >= since, (since, last)
        marks.append(mark)
        return int(mark)

    def missing() -> list[tuple[int, int]]:
        with lock:
            return [(i, v) for i, v, _ in acked if seen.get(i, 0) < v]

    errors: list[BaseException] = []

    def follow() -> None:
        try:
            follow_feed()
        except BaseException as exc:  # reported by the test, not lost in the thread
            errors.append(exc)

    def follow_feed() -> None:
        position = hw
        with server.client(write=False) as client:
            while not done.is_set():
                position = poll(client, position)
                time.sleep(0.02)
            # After the last acknowledgement: until everything was seen, or FEED_WAIT.
            deadline = time.monotonic() + FEED_WAIT
            while True:
                position = poll(client, position)
                if not missing() or time.monotonic() > deadline:
                    return
                time.sleep(0.1)

    def write(t: int) -> None:
        mine: list[int] = []
        with server.client() as client:
            for i in range(writes_each):
                if i % 3 == 2:
                    event_id = mine[i % len(mine)]
                    r = client.patch(f"/v1/events/{event_id}", json={"notes": f"{t}-{i}"})
                    assert r.status_code == 200, r.text
                else:
                    r = client.post("/v1/events", json=event_body(f"FOLLOW-{t}-{i}"))
                    assert r.status_code == 201, r.text
                    mine.append(r.json()["id"])
                with lock:
                    acked.append((r.json()["id"], r.json()["version"], time.monotonic()))

    follower = threading.Thread(target=follow, daemon=True)
    follower.start()
    try:
        together(writers, write)
    finally:
        done.set()
        follower.join(timeout=FEED_WAIT + 60)
    assert not follower.is_alive()
    assert errors == [], errors
    missed = missing()
    print(
        f"\n[{'sqlite' if server.is_sqlite else 'postgresql'}] follower: {len(acked)} writes, "
        f"{len(marks)} polls, {len(missed)} missed"
    )
    assert len(acked) == writers * writes_each
    assert missed == [], f"acknowledged (event id, version) never seen in the feed: {missed}"
    assert marks == sorted(marks), "high_water_seq went back"


def _claim_in(read: dict[str, Any], ref: str | None, with_id: bool) -> dict[str, Any]:
    """A claim of GET /v1/events/{id} in the shape of a write body."""
    out: dict[str, Any] = {
        "source_id": read["source"]["id"],
        "kind": read["kind"],
        "stance": read["stance"],
        "grade": read["grade"],
        "assertion": read["assertion"],
        "quote": read["quote"],
        "claimed_on": read["claimed_on"],
        "document_id": read["document_id"],
        "attributes": read["attributes"],
    }
    if read["via_source"]:
        out["via_source_id"] = read["via_source"]["id"]
    if ref:
        out["ref"] = ref
    if with_id:
        out["id"] = read["id"]
    return out


def test_put_keeps_the_ids_of_the_claims_it_sends_back(seeded_server: LiveServer) -> None:
    body = full_event_body("KEEP-CLAIM-IDS", 1)
    refs = {c["assertion"]: c["ref"] for c in body["claims"]}
    with seeded_server.client() as client:
        created = client.post("/v1/events", json=body)
        assert created.status_code == 201, created.text
        event_id = created.json()["id"]
        claim_ids = {c["assertion"]: c["id"] for c in created.json()["claims"]}
        path = f"/v1/events/{event_id}"
        version = created.json()["version"]

        # 1. The claims as GET returned them, ids included.
        got, _ = read_event(client, event_id)
        echo = {
            **body,
            "claims": [_claim_in(c, refs[c["assertion"]], True) for c in got["claims"]],
        }
        r = client.put(path, json=echo)
        assert r.status_code == 200, r.text
        assert {c["assertion"]: c["id"] for c in r.json()["claims"]} == claim_ids
        assert content(r.json()) == expected_content(body)
        assert r.json()["version"] == version + 1

        # 2. Identical claims without ids.
        r = client.put(path, json=body)
        assert r.status_code == 200, r.text
        assert {c["assertion"]: c["id"] for c in r.json()["claims"]} == claim_ids
        stored, _ = read_event(client, event_id)
        assert {c["assertion"]: c["id"] for c in stored["claims"]} == claim_ids
        assert content(stored) == expected_content(body)


def test_renaming_what_an_event_shows_puts_it_back_in_the_feed(
    seeded_server: LiveServer,
) -> None:
    """An event shows its actors', place's, sources' and campaigns' names: renaming one changes
    the event's body (and strong ETag) without editing the event, so its version stays, and the
    event comes back in /v1/changes for a follower to fetch again."""
    with seeded_server.client() as client:
        made: dict[str, int] = {}
        for kind, body in (
            ("actors", {"name": "Feed Rename Brigade", "actor_type": 2}),
            ("sources", {"name": "Feed Rename Monitor", "kind": "monitor"}),
            ("campaigns", {"name": "Feed Rename Offensive"}),
        ):
            r = client.post(f"/v1/{kind}", json=body)
            assert r.status_code == 201, r.text
            made[kind] = r.json()["id"]
        event = full_event_body("FEED-RENAME", 1, place="Feed Rename Village")
        event["actors"].append({"actor": "Feed Rename Brigade", "role": "target"})
        event["claims"][0]["source"] = "Feed Rename Monitor"
        event["campaigns"] = ["Feed Rename Offensive"]
        created = client.post("/v1/events", json=event)
        assert created.status_code == 201, created.text
        event_id = created.json()["id"]
        made["places"] = created.json()["place"]["id"]
        bystander = client.post("/v1/events", json=full_event_body("FEED-RENAME-OTHER", 2))
        assert bystander.status_code == 201, bystander.text
        other_id = bystander.json()["id"]

        def shown(body: dict[str, Any]) -> set[str]:
            names = {a["name"] for a in body["actors"]}
            names |= {c["source"]["name"] for c in body["claims"]}
            names |= {c["name"] for c in body["campaigns"]}
            return names | {body["place"]["name"]}

        for kind, new_name in (
            ("actors", "Feed Renamed Brigade"),
            ("sources", "Feed Renamed Monitor"),
            ("campaigns", "Feed Renamed Offensive"),
            ("places", "Feed Renamed Village"),
        ):
            settled_high_water(client, event_id)
            seq = settled_high_water(client, other_id)  # after both events' changes so far
            before, etag_before = read_event(client, event_id)
            r = client.patch(f"/v1/{kind}/{made[kind]}", json={"name": new_name})
            assert r.status_code == 200, (kind, r.text)
            after, etag_after = read_event(client, event_id)
            assert new_name in shown(after), (kind, shown(after))
            assert etag_after != etag_before, kind
            assert after["version"] == before["version"], kind  # the event was not edited
            changed = sync_until(
                client, lambda c, _: event_id in [x["id"] for x in c], view="ids", since_seq=seq
            )[0]
            # Only the events that show the record come back.
            assert other_id not in [x["id"] for x in changed], kind
