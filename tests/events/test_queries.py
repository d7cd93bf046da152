"""The event query list: filters, combinations, keyset pages, totals, cursors."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api
from tests.factories import create_actor, create_campaign, create_source

pytestmark = pytest.mark.asyncio

HAMA = {"name": "Hama", "kind": "province", "country_code": "SY", "admin1": "Hama"}


async def _place(api: Api, body: dict[str, Any]) -> int:
    r = await api.post(
        "/v1/events",
        json={
            "external_id": f"P-{body['name']}",
            "date_start": "2000-01-01",
            "sub_event_type": "other",
            "summary": "anchor",
            "place": body,
        },
    )
    assert r.status_code == 201, r.text
    return int(r.json()["place"]["id"])


@pytest.fixture
async def corpus(api: Api) -> dict[str, Any]:
    url = api.database_url
    ids = {
        "syria": create_actor(
            url, "Military Forces of Syria (2000-)", 1, ["regime forces", "the army"]
        ),
        "russia": create_actor(url, "Military Forces of Russia (2015-)", 8, ["Russian warplanes"]),
        "nusra": create_actor(url, "Al-Nusra Front", 2),
        "sohr": create_source(url, "Syrian Observatory for Human Rights", "monitor"),
        "tv": create_source(url, "Syrian state TV", "state_media"),
        "campaign": create_campaign(url, "Russian air campaign"),
    }
    hama = await _place(api, HAMA)
    ids["hama"] = hama
    specs = [
        ("E1", "2015-10-01", "air_drone_strike", "russia", "nusra", 5, "Latakia", "SY", None, "tv"),
        ("E2", "2015-10-05", "armed_clash", "syria", "nusra", 24, "Hama", "SY", hama, "sohr"),
        (
            "E3",
            "2015-10-08",
            "government_regains_territory",
            "syria",
            "nusra",
            0,
            "Hama",
            "SY",
            hama,
            "sohr",
        ),
        ("E4", "2015-10-08", "air_drone_strike", "russia", "syria", 32, "Idlib", "SY", None, "tv"),
        (
            "E5",
            "2016-02-01",
            "shelling_artillery_missile_attack",
            "syria",
            "nusra",
            None,
            "Aleppo",
            "SY",
            None,
            "sohr",
        ),
        ("E6", "2015-10-06", "airspace_violation", "russia", None, None, "Hatay", "TR", None, "tv"),
    ]
    for ext, date, sub, a1, a2, fat, admin1, cc, parent, src in specs:
        actors = [{"actor_id": ids[a1], "role": "initiator"}]
        if a2:
            actors.append({"actor_id": ids[a2], "role": "target"})
        body = {
            "external_id": ext,
            "date_start": date,
            "sub_event_type": sub,
            "summary": f"event {ext} in {admin1}"
            + (" with Nusra positions hit" if a2 == "nusra" else ""),
            "place": {
                "name": f"Village {ext}",
                "kind": "village",
                "country_code": cc,
                "admin1": admin1,
                "parent_id": parent,
            },
            "actors": actors,
            "fatalities_best": fat,
            "claims": [
                {
                    "source_id": ids[src],
                    "assertion": "it happened",
                    "grade": "fair" if src == "sohr" else "weak",
                }
            ],
            "campaign_ids": [ids["campaign"]] if a1 == "russia" else [],
            "tags": ["offensive"] if ext in {"E2", "E3"} else [],
        }
        r = await api.post("/v1/events", json=body)
        assert r.status_code == 201, r.text
    return ids


async def ext_ids(api: Api, **params: Any) -> list[str]:
    params.setdefault("limit", 1000)
    r = await api.get("/v1/events", params=params)
    assert r.status_code == 200, r.text
    return sorted(e["external_id"] for e in r.json()["items"] if e["external_id"].startswith("E"))


async def test_filters(api: Api, corpus: dict[str, Any]) -> None:
    assert await ext_ids(api, date_from="2015-10-05", date_to="2015-10-08") == [
        "E2",
        "E3",
        "E4",
        "E6",
    ]
    assert await ext_ids(api, date_from="2016-01-01") == ["E5"]
    assert await ext_ids(api, sub_event_type=["air_drone_strike", "airspace_violation"]) == [
        "E1",
        "E4",
        "E6",
    ]
    assert await ext_ids(api, event_type="battles") == ["E2", "E3"]
    assert await ext_ids(api, actor="regime forces") == ["E2", "E3", "E4", "E5"]
    assert await ext_ids(api, actor="the army", actor_role="target") == ["E4"]
    assert await ext_ids(api, actor=str(corpus["russia"])) == ["E1", "E4", "E6"]
    assert await ext_ids(api, country="TR") == ["E6"]
    assert await ext_ids(api, admin1=["Hama", "Idlib"]) == ["E2", "E3", "E4"]
    assert await ext_ids(api, place_id=corpus["hama"]) == ["E2", "E3"]
    assert await ext_ids(api, fatalities_min=5, fatalities_max=30) == ["E1", "E2"]
    assert await ext_ids(api, source="Syrian state TV") == ["E1", "E4", "E6"]
    assert await ext_ids(api, claim_grade="fair") == ["E2", "E3", "E5"]
    assert await ext_ids(api, source_kind="state_media") == ["E1", "E4", "E6"]
    assert await ext_ids(api, campaign=corpus["campaign"]) == ["E1", "E4", "E6"]
    assert await ext_ids(api, tag="offensive") == ["E2", "E3"]
    assert await ext_ids(api, q="NUSRA positions") == ["E1", "E2", "E3", "E5"]
    # all combined: AND across parameters, OR within one
    assert await ext_ids(
        api,
        actor="regime forces",
        admin1=["Hama", "Aleppo"],
        date_to="2015-12-31",
        fatalities_min=1,
    ) == ["E2"]


async def test_keyset_pages_cover_everything_once(api: Api, corpus: dict[str, Any]) -> None:
    for sort in ("-date", "date", "id", "-fatalities", "updated_at"):
        seen: list[int] = []
        r = await api.get("/v1/events", params={"limit": 2, "sort": sort, "total": "true"})
        total = r.json()["total"]
        while True:
            body = r.json()
            seen += [e["id"] for e in body["items"]]
            if not body["next_cursor"]:
                assert "link" not in r.headers
                break
            assert r.headers["link"] == f'<{body["next_url"]}>; rel="next"'
            r = await api.client.get(body["next_url"])
            assert r.status_code == 200, (sort, r.text)
        assert len(seen) == len(set(seen)) == total == 7, sort
    dates = [
        e["date_start"]
        for e in (await api.get("/v1/events", params={"sort": "-date"})).json()["items"]
    ]
    assert dates == sorted(dates, reverse=True)


async def test_total_only_on_request(api: Api, corpus: dict[str, Any]) -> None:
    assert (await api.get("/v1/events")).json()["total"] is None
    assert (await api.get("/v1/events", params={"total": "true", "country": "SY"})).json()[
        "total"
    ] == 6


@pytest.mark.parametrize("cursor", ["garbage", "eyJ4IjoxfQ", "a" * 300, "%%%", ""])
async def test_bad_cursor_is_400(api: Api, corpus: dict[str, Any], cursor: str) -> None:
    r = await api.get("/v1/events", params={"cursor": cursor})
    if cursor == "":
        assert r.status_code == 200
        return
    assert r.status_code == 400, r.text
    assert r.json()["code"] == "invalid_cursor"


async def test_tampered_or_replayed_cursor_is_400(api: Api, corpus: dict[str, Any]) -> None:
    token = (await api.get("/v1/events", params={"limit": 1})).json()["next_cursor"]
    flipped = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    assert (await api.get("/v1/events", params={"cursor": flipped, "limit": 1})).status_code == 400
    r = await api.get("/v1/events", params={"cursor": token, "country": "TR"})
    assert r.status_code == 400 and r.json()["code"] == "invalid_cursor"


@pytest.mark.parametrize("limit", [0, 1001, -1, "x"])
async def test_limit_out_of_range_is_422(api: Api, limit: Any) -> None:
    r = await api.get("/v1/events", params={"limit": limit})
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"] == ["query", "limit"]
