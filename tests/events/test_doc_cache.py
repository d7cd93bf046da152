"""The list reuses each event's JSON while the event's change_seq stays (app/core/doccache.py).

A kept event must never outlive a change it shows: after each kind of write through the API
(a rename of what an event shows, an edit of the event, a claim added, a deletion), the list,
read again, equals the single reads of its events. A repeat of the list writes no event again;
an edit writes that event only.
"""

from __future__ import annotations

from typing import Any

from app.core.doccache import ENTRY_OVERHEAD, DocCache
from tests.conftest import Api, make_api
from tests.writes.support import full_event_body

# Past the response cache (app/core/cache.py): every list below runs its query.
NO_CACHE = {"Cache-Control": "no-cache"}


def doc_cache(api: Api) -> DocCache:
    cache: DocCache = api.client._transport.app.state.doc_cache  # type: ignore[attr-defined]
    return cache


async def listed(api: Api) -> list[dict[str, Any]]:
    r = await api.get("/v1/events", params={"limit": 1000}, headers=NO_CACHE)
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


async def assert_list_is_fresh(api: Api) -> dict[int, dict[str, Any]]:
    """The list, read again, equals the single read of each of its events; by id."""
    items = await listed(api)
    assert items
    for item in items:
        single = await api.get(f"/v1/events/{item['id']}", headers=NO_CACHE)
        assert item == single.json(), item["id"]
    return {item["id"]: item for item in items}


async def post(api: Api, path: str, body: dict[str, Any]) -> dict[str, Any]:
    r = await api.post(path, json=body)
    assert r.status_code == 201, r.text
    created: dict[str, Any] = r.json()
    return created


async def test_a_kept_event_follows_every_change_it_shows(seeded_api: Api) -> None:
    api = seeded_api
    made = {
        kind: (await post(api, f"/v1/{kind}", body))["id"]
        for kind, body in (
            ("actors", {"name": "Kept Brigade", "actor_type": 2}),
            ("sources", {"name": "Kept Monitor", "kind": "monitor"}),
            ("campaigns", {"name": "Kept Offensive"}),
        )
    }
    body = full_event_body("KEPT-1", 1, place="Kept Village")
    body["actors"].append({"actor": "Kept Brigade", "role": "target"})
    body["claims"][0]["source"] = "Kept Monitor"
    body["campaigns"] = ["Kept Offensive"]
    event = await post(api, "/v1/events", body)
    made["places"] = event["place"]["id"]
    other = await post(api, "/v1/events", full_event_body("KEPT-2", 2, place="Kept Town"))
    await assert_list_is_fresh(api)
    assert doc_cache(api).hits == 0
    await assert_list_is_fresh(api)
    assert doc_cache(api).hits > 0  # the second list reused what the first wrote

    for kind, new_name in (
        ("actors", "Kept Brigade Renamed"),
        ("sources", "Kept Monitor Renamed"),
        ("campaigns", "Kept Offensive Renamed"),
        ("places", "Kept Village Renamed"),
    ):
        r = await api.patch(f"/v1/{kind}/{made[kind]}", json={"name": new_name})
        assert r.status_code == 200, (kind, r.text)
        shown = (await assert_list_is_fresh(api))[event["id"]]
        names = {a["name"] for a in shown["actors"]} | {shown["place"]["name"]}
        names |= {c["source"]["name"] for c in shown["claims"]}
        names |= {c["name"] for c in shown["campaigns"]}
        assert new_name in names, kind

    r = await api.patch(f"/v1/places/{made['places']}", json={"latitude": 35.9})
    assert r.status_code == 200, r.text
    assert (await assert_list_is_fresh(api))[event["id"]]["place"]["latitude"] == 35.9

    r = await api.patch(f"/v1/events/{event['id']}", json={"summary": "Kept, then edited."})
    assert r.status_code == 200, r.text
    assert (await assert_list_is_fresh(api))[event["id"]]["summary"] == "Kept, then edited."

    claim = {"event_id": event["id"], "source": "Kept Monitor Renamed", "assertion": "A kept claim"}
    await post(api, "/v1/claims", claim)
    claims = (await assert_list_is_fresh(api))[event["id"]]["claims"]
    assert "A kept claim" in [c["assertion"] for c in claims]

    r = await api.delete(f"/v1/events/{other['id']}")
    assert r.status_code in (200, 204), r.text
    assert other["id"] not in await assert_list_is_fresh(api)


async def test_a_repeated_list_writes_only_the_changed_events(seeded_api: Api) -> None:
    api = seeded_api
    cache = doc_cache(api)
    first = await listed(api)
    n = len(first)
    assert n >= 2 and (cache.hits, cache.misses) == (0, n)
    assert await listed(api) == first
    assert (cache.hits, cache.misses) == (n, n)
    edited = first[1]["id"]
    r = await api.patch(f"/v1/events/{edited}", json={"summary": "Only this one changed."})
    assert r.status_code == 200, r.text
    again = await listed(api)
    assert (cache.hits, cache.misses) == (2 * n - 1, n + 1)
    assert [e["summary"] for e in again if e["id"] == edited] == ["Only this one changed."]
    assert [e for e in again if e["id"] != edited] == [e for e in first if e["id"] != edited]


async def test_without_the_cache_the_list_is_the_same(seeded_api: Api) -> None:
    kept = await listed(seeded_api)
    async for api in make_api(seeded_api.database_url, doc_cache_max_bytes=0):
        assert api.client._transport.app.state.doc_cache is None  # type: ignore[attr-defined]
        assert await listed(api) == kept


def test_the_cache_keeps_at_most_its_bytes() -> None:
    cache = DocCache(max_bytes=10 * (100 + ENTRY_OVERHEAD))
    for rid in range(100):
        cache.put("shape", rid, 1, b"x" * 100)
    kept = [rid for rid in range(100) if cache.take("shape", [(rid, 1)]) != [None]]
    assert kept == list(range(90, 100))  # the least recently used went first
    cache.put("shape", 1000, 1, b"x" * (11 * (100 + ENTRY_OVERHEAD)))  # past the bound: not kept
    assert cache.take("shape", [(1000, 1), (99, 1), (99, 2)]) == [None, b"x" * 100, None]


def test_a_taken_document_is_kept_longest_and_a_replaced_one_counted_once() -> None:
    entry = 100 + ENTRY_OVERHEAD
    cache = DocCache(max_bytes=3 * entry)
    for rid in (1, 2, 3):
        cache.put("shape", rid, 1, b"x" * 100)
    assert cache.take("shape", [(1, 1)]) == [b"x" * 100]  # 1 is now the most recently used
    cache.put("shape", 4, 1, b"x" * 100)  # one must go: 2, the least recently used
    assert cache.take("shape", [(2, 1), (1, 1), (3, 1), (4, 1)]) == [None] + [b"x" * 100] * 3
    # A new change_seq replaces the entry: its bytes are counted once, nothing else goes.
    for _ in range(5):
        cache.put("shape", 3, 2, b"y" * 100)
    assert (len(cache), cache.size) == (3, 3 * entry)
    assert cache.take("shape", [(1, 1), (3, 2), (4, 1)]) == [b"x" * 100, b"y" * 100, b"x" * 100]
