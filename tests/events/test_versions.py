"""Versions, revisions, ETags and If-Match, stable child ids, claims with figures, the feed.

In process (the real-server concurrency and crash tests are in tests/writes/).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.conftest import Api, make_api, truncate_all
from tests.events.test_endpoints import strike
from tests.events.test_endpoints import world as world
from tests.support import assert_problem

pytestmark = pytest.mark.asyncio


async def _create(api: Api, **overrides: Any) -> tuple[dict[str, Any], str]:
    r = await api.post("/v1/events", json=strike(**overrides))
    assert r.status_code == 201, r.text
    return r.json(), r.headers["etag"]


async def _feed(api: Api, since_seq: int | None) -> dict[str, Any]:
    params: dict[str, Any] = {"view": "ids"}
    if since_seq is not None:
        params["since_seq"] = since_seq
    r = await api.get("/v1/changes", params=params)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


@pytest.mark.usefixtures("world")
async def test_strong_etag_if_none_match_and_if_match(api: Api) -> None:
    event, etag = await _create(api)
    assert not etag.startswith("W/")
    got = await api.get(f"/v1/events/{event['id']}")
    assert got.headers["etag"] == etag
    again = await api.get(f"/v1/events/{event['id']}", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""

    ok = await api.patch(
        f"/v1/events/{event['id']}",
        json={"notes": "first"},
        headers={**api.auth, "If-Match": etag},
    )
    assert ok.status_code == 200, ok.text
    assert ok.headers["etag"] != etag and ok.json()["version"] == 2
    stale = await api.patch(
        f"/v1/events/{event['id']}",
        json={"notes": "second"},
        headers={**api.auth, "If-Match": etag},
    )
    body = assert_problem(stale, 412, "precondition_failed")
    assert body["current_version"] == 2 and body["current_etag"] == ok.headers["etag"]
    now = (await api.get(f"/v1/events/{event['id']}")).json()
    assert now["notes"] == "first" and now["version"] == 2
    # A weak tag never matches If-Match; `*` matches any current version.
    weak = await api.delete(
        f"/v1/events/{event['id']}", headers={**api.auth, "If-Match": "W/" + ok.headers["etag"]}
    )
    assert_problem(weak, 412, "precondition_failed")
    put = await api.put(
        f"/v1/events/{event['id']}",
        json=strike(summary="S2"),
        headers={**api.auth, "If-Match": etag},
    )
    assert_problem(put, 412, "precondition_failed")
    star = await api.delete(f"/v1/events/{event['id']}", headers={**api.auth, "If-Match": "*"})
    assert star.status_code == 204
    gone = await api.delete(f"/v1/events/{event['id']}")
    assert_problem(gone, 404, "not_found")


@pytest.fixture
async def strict_api(database_url: str) -> AsyncIterator[Api]:
    truncate_all(database_url)
    async for api in make_api(database_url, require_if_match=True):
        yield api


async def test_if_match_required_by_setting(strict_api: Api) -> None:
    api = strict_api
    from tests.factories import create_actor, create_source

    create_actor(api.database_url, "Military Forces of Russia (2015-)", 8, ["Russian air force"])
    create_actor(api.database_url, "Rebels (Syria)", 2, ["rebels"])
    for name in ("Military source in Sahl al-Ghab", "AFP", "SOHR"):
        create_source(api.database_url, name)
    event, etag = await _create(api)
    url = f"/v1/events/{event['id']}"
    assert_problem(await api.patch(url, json={"notes": "x"}), 428, "precondition_required")
    assert_problem(await api.put(url, json=strike()), 428, "precondition_required")
    assert_problem(await api.delete(url), 428, "precondition_required")
    ok = await api.patch(url, json={"notes": "x"}, headers={**api.auth, "If-Match": etag})
    assert ok.status_code == 200
    assert (await api.get(url)).json()["version"] == 2


@pytest.mark.usefixtures("world")
async def test_every_child_edit_bumps_version_once_and_reaches_the_feed(api: Api) -> None:
    event, etag = await _create(api)
    url = f"/v1/events/{event['id']}"
    seen_versions = [event["version"]]

    async def step(action: Any) -> None:
        nonlocal etag
        before = await _feed(api, None)
        response = await action()
        assert response.status_code in (200, 201, 204), response.text
        after = await api.get(url)
        body = after.json()
        assert body["version"] == seen_versions[-1] + 1, body["version"]
        assert after.headers["etag"] != etag
        etag = after.headers["etag"]
        seen_versions.append(body["version"])
        # PostgreSQL's feed lags while any transaction on the server runs: wait for it.
        feed = await _feed(api, before["high_water_seq"])
        for _ in range(100):
            if feed["changed"]:
                break
            await asyncio.sleep(0.1)
            feed = await _feed(api, before["high_water_seq"])
        assert [c["id"] for c in feed["changed"]] == [event["id"]]
        assert feed["high_water_seq"] > before["high_water_seq"]

    claim_body = {
        "event_id": event["id"],
        "source": "SOHR",
        "assertion": "two civilians killed",
        "casualties": [
            {
                "outcome": "killed",
                "casualty_group": "civilians",
                "low": 2,
                "best": 2,
                "high": 4,
                "qualifier": "at least two",
            }
        ],
    }
    created: dict[str, Any] = {}

    async def add_claim() -> Any:
        r = await api.post("/v1/claims", json=claim_body)
        created.update(r.json())
        return r

    await step(add_claim)
    assert created["casualties"][0]["best"] == 2 and created["version"] == 1
    figure_id = created["casualties"][0]["id"]

    async def change_figure() -> Any:
        return await api.patch(
            f"/v1/claims/{created['id']}",
            json={"casualties": [{"id": figure_id, "outcome": "killed", "best": 3, "high": 4}]},
        )

    await step(change_figure)
    claim = (await api.get(f"/v1/claims/{created['id']}")).json()
    assert claim["casualties"][0]["id"] == figure_id and claim["casualties"][0]["best"] == 3
    assert claim["version"] == 2
    in_event = [c for c in (await api.get(url)).json()["casualties"] if c["id"] == figure_id]
    assert in_event and in_event[0]["best"] == 3

    async def drop_actor() -> Any:
        return await api.patch(url, json={"actors": [{"actor": "rebels", "role": "target"}]})

    await step(drop_actor)

    async def delete_claim() -> Any:
        return await api.delete(f"/v1/claims/{created['id']}")

    await step(delete_claim)
    revisions = (await api.get(f"{url}/revisions")).json()
    versions = [r["version"] for r in revisions]
    assert versions == list(range(1, seen_versions[-1] + 1))
    assert revisions[-1]["snapshot"]["version"] == seen_versions[-1]


@pytest.mark.usefixtures("world")
async def test_put_keeps_the_ids_of_records_that_stay(api: Api) -> None:
    event, _ = await _create(api)
    url = f"/v1/events/{event['id']}"
    claim_ids = [c["id"] for c in event["claims"]]
    figure_ids = [c["id"] for c in event["casualties"]]
    # The same body again, without ids: the same content keeps its records.
    same = await api.put(url, json=strike())
    assert same.status_code == 200, same.text
    assert [c["id"] for c in same.json()["claims"]] == claim_ids
    assert [c["id"] for c in same.json()["casualties"]] == figure_ids
    # Ids sent back keep their records even when their content changes.
    body = strike()
    body["claims"][0]["id"] = claim_ids[0]
    body["claims"][0]["assertion"] = "Russian strikes hit four villages"
    body["claims"][1]["id"] = claim_ids[1]
    body["casualties"][0]["id"] = figure_ids[0]
    body["casualties"][0]["best"] = 14
    body["casualties"][0]["high"] = 14
    changed = await api.put(url, json=body)
    assert changed.status_code == 200, changed.text
    out = changed.json()
    assert [c["id"] for c in out["claims"]] == claim_ids
    assert out["claims"][0]["assertion"] == "Russian strikes hit four villages"
    assert [(c["id"], c["best"]) for c in out["casualties"]] == [(figure_ids[0], 14)]
    # The body's fatalities_best (13) was sent back as read: the claims' new account stands.
    assert out["fatalities_best"] == 14
    # A claim left out is deleted; an id that is not one of the event's is a 422.
    body["fatalities_best"] = out["fatalities_best"]  # as read back (13 now would be a 422)
    body["claims"] = body["claims"][1:]
    body["casualties"][0].pop("claim_ref")
    body["casualties"][0]["claim_id"] = claim_ids[1]
    fewer = await api.put(url, json=body)
    assert [c["id"] for c in fewer.json()["claims"]] == [claim_ids[1]]
    body["claims"][0]["id"] = 999_999
    bad = assert_problem(await api.put(url, json=body), 422, "validation_error")
    assert bad["errors"][0]["loc"] == ["body", "claims", 0, "id"]
    assert (await api.get(url)).json()["version"] == 4


@pytest.mark.usefixtures("world")
async def test_claims_without_an_event_cannot_carry_figures(api: Api) -> None:
    r = await api.post(
        "/v1/claims",
        json={"campaign_id": 1, "source": "SOHR", "assertion": "x", "casualties": [{"best": 1}]},
    )
    assert_problem(r, 422, "validation_error")


@pytest.mark.usefixtures("world")
async def test_campaign_links_are_event_changes(api: Api) -> None:
    event, _ = await _create(api)
    url = f"/v1/events/{event['id']}"
    before = await _feed(api, None)
    made = await api.post(
        "/v1/campaigns", json={"name": "Hama offensive", "event_ids": [event["id"]]}
    )
    assert made.status_code == 201, made.text
    linked = (await api.get(url)).json()
    assert [c["name"] for c in linked["campaigns"]] == ["Hama offensive"]
    assert linked["version"] == 2
    campaign = f"/v1/campaigns/{made.json()['id']}"
    unlinked = await api.patch(campaign, json={"event_ids": []})
    assert unlinked.status_code == 200, unlinked.text
    assert (await api.get(url)).json()["version"] == 3
    feed = await _feed(api, before["high_water_seq"])
    for _ in range(100):
        if feed["changed"]:
            break
        await asyncio.sleep(0.1)
        feed = await _feed(api, before["high_water_seq"])
    assert [c["id"] for c in feed["changed"]] == [event["id"]]
    revisions = (await api.get(f"{url}/revisions")).json()
    assert [r["version"] for r in revisions] == [1, 2, 3]


@pytest.mark.usefixtures("world")
@pytest.mark.parametrize(
    ("path", "patch"),
    [
        ("/v1/actors?limit=1", {"description": "x"}),
        ("/v1/sources?limit=1", {"description": "x"}),
        ("/v1/places?limit=1", {"admin2": "x"}),
        ("/v1/campaigns?limit=1", {"description": "x"}),
    ],
)
async def test_if_match_on_the_other_records(api: Api, path: str, patch: dict[str, Any]) -> None:
    await _create(api)
    first = (await api.get(path)).json()["items"][0]
    url = f"{path.split('?')[0]}/{first['id']}"
    got = await api.get(url)
    etag = got.headers["etag"]
    assert not etag.startswith("W/")
    again = await api.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    ok = await api.patch(url, json=patch, headers={**api.auth, "If-Match": etag})
    assert ok.status_code == 200, ok.text
    assert ok.headers["etag"] != etag
    assert ok.headers["etag"] == (await api.get(url)).headers["etag"]
    stale = await api.patch(url, json=patch, headers={**api.auth, "If-Match": etag})
    body = assert_problem(stale, 412, "precondition_failed")
    assert body["current_etag"] == ok.headers["etag"]
    refused = await api.delete(url, headers={**api.auth, "If-Match": etag})
    assert_problem(refused, 412, "precondition_failed")
    assert (await api.get(url)).status_code == 200


@pytest.mark.usefixtures("world")
async def test_patch_date_end_null_means_the_start_day(api: Api) -> None:
    # Schemathesis found it: a 500 (None compared with a date) on both databases.
    event, _ = await _create(api)
    r = await api.patch(
        f"/v1/events/{event['id']}", json={"date_end": None, "date_precision": "range"}
    )
    assert r.status_code == 200, r.text
    assert r.json()["date_end"] == r.json()["date_start"]


@pytest.mark.usefixtures("world")
async def test_a_figure_the_claims_give_is_not_overwritten_by_a_2xx(api: Api) -> None:
    """Where claims give a killed figure the event's figure is theirs (app/claims/figures.py):
    a write that sets another is refused (422, nothing written), never answered 2xx and dropped."""
    event, _ = await _create(api)
    url = f"/v1/events/{event['id']}"
    assert event["fatalities_best"] == 13
    bad = assert_problem(
        await api.patch(url, json={"fatalities_best": 40}), 422, "validation_error"
    )
    assert bad["errors"][0]["loc"] == ["body", "fatalities_best"]
    assert bad["errors"][0]["type"] == "figure_from_claims"
    after = (await api.get(url)).json()
    assert (after["version"], after["fatalities_best"]) == (event["version"], 13)
    # A create whose own figure disagrees with its claims' is refused alike; null leaves it to them.
    body = strike(external_id="figures-2")
    body["fatalities_best"] = 99
    bad = assert_problem(await api.post("/v1/events", json=body), 422, "validation_error")
    assert bad["errors"][0]["loc"] == ["body", "fatalities_best"]
    body["fatalities_low"] = body["fatalities_best"] = body["fatalities_high"] = None
    ok = await api.post("/v1/events", json=body)
    assert ok.status_code == 201, ok.text
    assert ok.json()["fatalities_best"] == 13
    # Without a killed figure in its claims, the event's own figure is what a PATCH sets.
    plain = strike(external_id="figures-3")
    plain["casualties"] = []
    made = await api.post("/v1/events", json=plain)
    assert made.status_code == 201, made.text
    set_ = await api.patch(
        f"/v1/events/{made.json()['id']}", json={"fatalities_best": 40, "fatalities_high": 40}
    )
    assert set_.status_code == 200, set_.text
    assert set_.json()["fatalities_best"] == 40
