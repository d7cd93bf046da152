"""Events through HTTP: nested create, read, replace, patch, delete, and every error status."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api
from tests.factories import create_actor, create_campaign, create_source

pytestmark = pytest.mark.asyncio


def strike(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "external_id": "T-1",
        "date_start": "2015-10-08",
        "sub_event_type": "air_drone_strike",
        "summary": "Russian air strikes on villages of the Sahl al-Ghab plain",
        "place": {
            "name": "Sahl al-Ghab",
            "kind": "plain",
            "country_code": "SY",
            "admin1": "Hama",
            "latitude": 35.68,
            "longitude": 36.32,
            "geo_precision": 2,
        },
        "actors": [
            {"actor": "Russian air force", "role": "initiator"},
            {"actor": "rebels", "role": "target", "status": "reported"},
        ],
        "claims": [
            {
                "ref": "afp",
                "source": "Military source in Sahl al-Ghab",
                "via_source": "AFP",
                "kind": "occurrence",
                "assertion": "Russian strikes hit at least three villages",
                "quote": "Russian air strikes had targeted at least three villages there",
                "grade": "weak",
            },
            {
                "ref": "sohr",
                "source": "SOHR",
                "kind": "casualties",
                "assertion": "13 regime fighters killed",
            },
        ],
        "casualties": [
            {
                "claim_ref": "sohr",
                "outcome": "killed",
                "casualty_group": "regime_forces",
                "low": 13,
                "best": 13,
                "qualifier": "at least 13",
            }
        ],
        "fatalities_low": 13,
        "fatalities_best": 13,
        "tags": ["russian-campaign"],
    }
    body.update(overrides)
    return body


@pytest.fixture
def world(api: Api) -> dict[str, int]:
    url = api.database_url
    return {
        "russia": create_actor(
            url,
            "Military Forces of Russia (2015-)",
            8,
            ["Russian air force", "Moscow's warplanes"],
            country_code="RU",
        ),
        "rebels": create_actor(url, "Rebels (Syria)", 2, ["rebels"], country_code="SY"),
        "syria": create_actor(
            url,
            "Military Forces of Syria (2000-)",
            1,
            ["regime forces", "Syrian army"],
            country_code="SY",
        ),
        "afp": create_source(url, "AFP", "news_agency"),
        "mil": create_source(url, "Military source in Sahl al-Ghab", "military"),
        "sohr": create_source(url, "SOHR", "monitor", country_code="GB"),
        "campaign": create_campaign(url, "Russian air campaign in Syria"),
    }


async def test_create_nested_and_read_back(api: Api, world: dict[str, int]) -> None:
    r = await api.post("/v1/events", json=strike(campaigns=["Russian air campaign in Syria"]))
    assert r.status_code == 201, r.text
    assert r.headers["location"] == f"/v1/events/{r.json()['id']}"
    got = (await api.get(f"/v1/events/{r.json()['id']}")).json()
    assert got["place"]["name"] == "Sahl al-Ghab" and got["place"]["admin1"] == "Hama"
    roles = {(a["name"], a["role"], a["status"]) for a in got["actors"]}
    assert roles == {
        ("Military Forces of Russia (2015-)", "initiator", "confirmed"),
        ("Rebels (Syria)", "target", "reported"),
    }
    by_source = {c["source"]["name"]: c for c in got["claims"]}
    assert by_source["Military source in Sahl al-Ghab"]["via_source"]["name"] == "AFP"
    assert by_source["Military source in Sahl al-Ghab"]["grade"] == "weak"
    [fig] = got["casualties"]
    assert (fig["low"], fig["best"], fig["high"], fig["qualifier"]) == (13, 13, None, "at least 13")
    assert fig["claim_id"] == by_source["SOHR"]["id"]
    assert got["campaigns"] == [{"id": world["campaign"], "name": "Russian air campaign in Syria"}]
    assert got["sub_event_type"]["acled_event_type"] == "Explosions/Remote violence"
    assert got["tags"] == ["russian-campaign"]


async def test_duplicate_natural_key_is_409_and_writes_nothing(
    api: Api, world: dict[str, int]
) -> None:
    assert (await api.post("/v1/events", json=strike())).status_code == 201
    before = (api.count("events"), api.count("claims"), api.count("places"))
    r = await api.post("/v1/events", json=strike(summary="another"))
    assert r.status_code == 409
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "duplicate"
    assert (api.count("events"), api.count("claims"), api.count("places")) == before


@pytest.mark.parametrize(
    ("override", "loc"),
    [
        ({"sub_event_type": "carpet_bombing"}, ["body", "sub_event_type"]),
        ({"actors": [{"actor": "Martians", "role": "initiator"}]}, ["body", "actors", 0, "actor"]),
        (
            {"casualties": [{"claim_ref": "nope", "best": 1}]},
            ["body", "casualties", 0, "claim_ref"],
        ),
        ({"place_id": 999999, "place": None}, ["body", "place_id"]),
        ({"fatalities_low": 20, "fatalities_best": 13}, ["body"]),
        ({"date_start": "2015-10-09", "date_end": "2015-10-01"}, ["body"]),
        ({"place": {"name": "X", "country_code": "ZZ"}}, ["body", "place", "country_code"]),
        (
            {"place": {"name": "X", "country_code": "SY", "latitude": 95, "longitude": 1}},
            ["body", "place", "latitude"],
        ),
    ],
)
async def test_rejected_write_is_422_with_location_and_leaves_nothing(
    api: Api, world: dict[str, int], override: dict[str, Any], loc: list[Any]
) -> None:
    before = {t: api.count(t) for t in ("events", "places", "claims", "event_actors")}
    r = await api.post("/v1/events", json=strike(**override))
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["code"] == "validation_error"
    assert any(e["loc"][: len(loc)] == loc for e in body["errors"]), body
    assert {t: api.count(t) for t in before} == before


async def test_auth(api: Api, world: dict[str, int]) -> None:
    r = await api.client.post("/v1/events", json=strike())
    assert r.status_code == 401 and r.json()["code"] == "missing_api_key"
    r = await api.client.post("/v1/events", json=strike(), headers={"X-API-Key": "cdb_00_bad"})
    assert r.status_code == 401 and r.json()["code"] == "invalid_api_key"
    r = await api.client.post("/v1/events", json=strike(), headers=api.read_auth)
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    assert api.count("events") == 0
    assert (await api.client.get("/v1/events")).status_code == 200


async def test_reads_can_be_closed(database_url: str) -> None:
    from tests.conftest import make_api, truncate_all

    truncate_all(database_url)
    async for closed in make_api(database_url, read_requires_key=True):
        assert (await closed.client.get("/v1/events")).status_code == 401
        assert (await closed.client.get("/v1/events", headers=closed.read_auth)).status_code == 200


async def test_replace_patch_delete(api: Api, world: dict[str, int]) -> None:
    created = (await api.post("/v1/events", json=strike())).json()
    eid = created["id"]
    r = await api.put(
        f"/v1/events/{eid}",
        json=strike(
            summary="revised", casualties=[], actors=[{"actor": "Syrian army", "role": "initiator"}]
        ),
    )
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["summary"] == "revised" and got["casualties"] == []
    assert [a["name"] for a in got["actors"]] == ["Military Forces of Syria (2000-)"]
    assert got["version"] == created["version"] + 1
    r = await api.patch(f"/v1/events/{eid}", json={"fatalities_best": 20, "fatalities_high": 30})
    assert r.status_code == 200 and r.json()["fatalities_best"] == 20
    r = await api.patch(f"/v1/events/{eid}", json={"fatalities_low": 25})
    assert r.status_code == 422
    assert (await api.get(f"/v1/events/{eid}")).json()["fatalities_low"] == 13
    r = await api.patch(f"/v1/events/{eid}", json={"bogus": 1})
    assert r.status_code == 422
    # A required field set to null: 422 at that field, nothing kept (the type was looked up
    # by no key before, answering "unknown sub-event type None").
    for field in ("sub_event_type", "summary", "date_start"):
        r = await api.patch(f"/v1/events/{eid}", json={field: None, "fatalities_best": 21})
        assert r.status_code == 422, r.text
        errors = [(e["loc"], e["msg"]) for e in r.json()["errors"]]
        assert errors == [(["body", field], "may not be null")]
    got = (await api.get(f"/v1/events/{eid}")).json()
    assert got["fatalities_best"] == 20
    assert got["sub_event_type"]["code"] == created["sub_event_type"]["code"]
    assert (await api.delete(f"/v1/events/{eid}")).status_code == 204
    r = await api.get(f"/v1/events/{eid}")
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    assert (await api.delete(f"/v1/events/{eid}")).status_code == 404
    assert api.count("claims") == 0 and api.count("casualty_figures") == 0


async def test_unknown_query_parameter_is_422(api: Api) -> None:
    r = await api.get("/v1/events", params={"contry": "SY"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"] == ["query", "contry"]


async def test_every_change_is_traceable(api: Api, world: dict[str, int]) -> None:
    eid = (await api.post("/v1/events", json=strike())).json()["id"]
    await api.patch(f"/v1/events/{eid}", json={"summary": "corrected"})
    r = await api.patch(f"/v1/events/{eid}", json={"fatalities_low": 99})  # rejected: nothing kept
    assert r.status_code == 422
    revs = (await api.get(f"/v1/events/{eid}/revisions")).json()
    assert [(r["version"], r["operation"]) for r in revs] == [(1, "create"), (2, "update")]
    assert revs[0]["snapshot"]["summary"].startswith("Russian air strikes")
    assert revs[1]["snapshot"]["summary"] == "corrected"
    assert revs[0]["api_key_id"] is not None
    assert (await api.delete(f"/v1/events/{eid}")).status_code == 204
    revs = (await api.get(f"/v1/events/{eid}/revisions")).json()
    assert revs[-1]["operation"] == "delete" and revs[-1]["snapshot"]["summary"] == "corrected"
    assert api.count("event_tombstones") == 1
    assert (await api.get("/v1/events/424242/revisions")).status_code == 404
