"""/v1/places: CRUD, natural-key duplicates, nesting, `within`, moving subtrees."""

from __future__ import annotations

from typing import Any

import pytest

from app.places import service as place_service
from app.places.repository import find_by_natural_key
from tests.conftest import Api
from tests.support import (
    assert_problem,
    error_locs,
    insert_event,
    insert_territory_change,
)


async def create(api: Api, **body: Any) -> dict[str, Any]:
    body.setdefault("country_code", "SY")
    response = await api.post("/v1/places", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def syria(api: Api) -> dict[str, dict[str, Any]]:
    """Syria > Hama > al-Ghab plain > Kafr Nabudah, and Idlib beside Hama."""
    country = await create(api, name="Syria", kind="country")
    hama = await create(api, name="Hama", kind="province", parent_id=country["id"])
    idlib = await create(api, name="Idlib", kind="province", parent_id=country["id"])
    ghab = await create(api, name="al-Ghab", kind="plain", admin1="Hama", parent_id=hama["id"])
    town = await create(
        api,
        name="Kafr Nabudah",
        kind="town",
        admin1="Hama",
        admin2="Al-Suqaylabiyah",
        latitude=35.4,
        longitude=36.5,
        geo_precision=1,
        parent_id=ghab["id"],
    )
    return {"syria": country, "hama": hama, "idlib": idlib, "ghab": ghab, "town": town}


def ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.text
    return [p["id"] for p in response.json()["items"]]


async def test_create_and_get_round_trip_with_ancestors(api: Api) -> None:
    p = await syria(api)
    town = p["town"]
    assert town["country_code"] == "SY"
    assert (town["latitude"], town["longitude"], town["geo_precision"]) == (35.4, 36.5, 1)
    assert town["parent"] == {"id": p["ghab"]["id"], "name": "al-Ghab"}
    assert [a["name"] for a in town["ancestors"]] == ["Syria", "Hama", "al-Ghab"]
    fetched = await api.get(f"/v1/places/{town['id']}")
    assert fetched.status_code == 200
    assert fetched.json() == town
    assert p["syria"]["parent"] is None and p["syria"]["ancestors"] == []


async def test_within_lists_descendants_at_any_depth(api: Api) -> None:
    p = await syria(api)
    inside_hama = await api.get("/v1/places", params={"within": p["hama"]["id"]})
    assert ids(inside_hama) == [p["ghab"]["id"], p["town"]["id"]]
    inside_syria = await api.get("/v1/places", params={"within": p["syria"]["id"]})
    assert len(ids(inside_syria)) == 4
    assert ids(await api.get("/v1/places", params={"within": p["town"]["id"]})) == []
    missing = await api.get("/v1/places", params={"within": 999})
    assert error_locs(assert_problem(missing, 422, "validation_error")) == [["query", "within"]]


async def test_filters(api: Api) -> None:
    p = await syria(api)
    await create(api, name="Baghdad", kind="city", country_code="IQ")
    provinces = await api.get("/v1/places", params={"kind": ["province", "plain"]})
    assert ids(provinces) == [p["hama"]["id"], p["idlib"]["id"], p["ghab"]["id"]]
    assert len(ids(await api.get("/v1/places", params={"country_code": "iq"}))) == 1
    assert ids(await api.get("/v1/places", params={"q": "NABU"})) == [p["town"]["id"]]
    assert ids(await api.get("/v1/places", params={"admin1": "Hama"})) == [
        p["ghab"]["id"],
        p["town"]["id"],
    ]
    assert_problem(await api.get("/v1/places?kind=planet"), 422, "validation_error")


async def test_duplicate_natural_key_is_409_and_leaves_nothing(api: Api) -> None:
    await create(api, name="Latamneh", kind="town", admin1="Hama")
    before = api.count("places")
    again = await api.post(
        "/v1/places",
        json={"name": " LATAMNEH ", "kind": "town", "country_code": "sy", "admin1": "hama"},
    )
    assert_problem(again, 409, "duplicate")
    assert api.count("places") == before
    # Another kind is another place.
    await create(api, name="Latamneh", kind="military_site", admin1="Hama")


async def test_invalid_places_are_422(api: Api) -> None:
    before = api.count("places")
    half = await api.post(
        "/v1/places", json={"name": "X", "kind": "town", "country_code": "SY", "latitude": 35}
    )
    assert_problem(half, 422, "validation_error")
    bad = await api.post(
        "/v1/places",
        json={"name": "X", "kind": "town", "country_code": "ZZ", "longitude": 200, "latitude": 1},
    )
    body = assert_problem(bad, 422, "validation_error")
    assert {tuple(loc) for loc in error_locs(body)} == {
        ("body", "country_code"),
        ("body", "longitude"),
    }
    orphan = await api.post(
        "/v1/places", json={"name": "X", "kind": "town", "country_code": "SY", "parent_id": 42}
    )
    assert error_locs(assert_problem(orphan, 422, "validation_error")) == [["body", "parent_id"]]
    assert api.count("places") == before


async def test_moving_a_place_moves_everything_inside_it(api: Api) -> None:
    p = await syria(api)
    moved = await api.patch(f"/v1/places/{p['ghab']['id']}", json={"parent_id": p["idlib"]["id"]})
    assert moved.status_code == 200, moved.text
    assert moved.json()["parent"]["name"] == "Idlib"
    town = (await api.get(f"/v1/places/{p['town']['id']}")).json()
    assert [a["name"] for a in town["ancestors"]] == ["Syria", "Idlib", "al-Ghab"]
    assert ids(await api.get("/v1/places", params={"within": p["hama"]["id"]})) == []
    assert ids(await api.get("/v1/places", params={"within": p["idlib"]["id"]})) == [
        p["ghab"]["id"],
        p["town"]["id"],
    ]
    detached = await api.patch(f"/v1/places/{p['ghab']['id']}", json={"parent_id": None})
    assert detached.json()["ancestors"] == []
    town = (await api.get(f"/v1/places/{p['town']['id']}")).json()
    assert [a["name"] for a in town["ancestors"]] == ["al-Ghab"]


async def test_a_place_cannot_move_inside_itself(api: Api) -> None:
    p = await syria(api)
    for target in (p["town"], p["hama"]):
        response = await api.patch(
            f"/v1/places/{p['hama']['id']}", json={"parent_id": target["id"]}
        )
        assert error_locs(assert_problem(response, 422, "validation_error")) == [
            ["body", "parent_id"]
        ]
    town = (await api.get(f"/v1/places/{p['town']['id']}")).json()
    assert [a["name"] for a in town["ancestors"]] == ["Syria", "Hama", "al-Ghab"]


async def test_patch_fields_and_natural_key(api: Api) -> None:
    p = await syria(api)
    renamed = await api.patch(
        f"/v1/places/{p['town']['id']}", json={"name": "Kafr Nbuda", "admin3": "Kafr Nbuda"}
    )
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["name"] == "Kafr Nbuda"
    assert renamed.json()["latitude"] == 35.4
    clash = await api.patch(f"/v1/places/{p['idlib']['id']}", json={"name": "HAMA"})
    assert_problem(clash, 409, "duplicate")
    unpaired = await api.patch(f"/v1/places/{p['town']['id']}", json={"latitude": None})
    assert_problem(unpaired, 422, "validation_error")
    cleared = await api.patch(
        f"/v1/places/{p['town']['id']}", json={"latitude": None, "longitude": None}
    )
    assert cleared.json()["latitude"] is None
    assert_problem(
        await api.patch(f"/v1/places/{p['town']['id']}", json={"kind": None}),
        422,
        "validation_error",
    )


async def test_delete_refuses_places_in_use(api: Api) -> None:
    p = await syria(api)
    body = assert_problem(await api.delete(f"/v1/places/{p['ghab']['id']}"), 409, "in_use")
    assert "places inside it" in body["detail"]

    event_id = insert_event(api.database_url, place_id=p["town"]["id"])
    assert_problem(await api.delete(f"/v1/places/{p['town']['id']}"), 409, "in_use")
    insert_territory_change(api.database_url, event_id, p["idlib"]["id"])
    body = assert_problem(await api.delete(f"/v1/places/{p['idlib']['id']}"), 409, "in_use")
    assert "territory changes" in body["detail"]

    spare = await create(api, name="Mhardeh", kind="town", parent_id=p["hama"]["id"])
    assert (await api.delete(f"/v1/places/{spare['id']}")).status_code == 204
    assert_problem(await api.get(f"/v1/places/{spare['id']}"), 404, "not_found")
    assert api.count("places") == 5


async def test_writes_need_a_write_key(api: Api) -> None:
    body = {"name": "Hama", "kind": "city", "country_code": "SY"}
    assert_problem(await api.post("/v1/places", json=body, headers={}), 401, "missing_api_key")
    read_only = await api.post("/v1/places", json=body, headers=api.read_auth)
    assert_problem(read_only, 403, "forbidden")
    assert api.count("places") == 0


async def test_pages(api: Api) -> None:
    created = [(await create(api, name=f"Village {i}", kind="village"))["id"] for i in range(5)]
    seen: list[int] = []
    url: str | None = "/v1/places?limit=2&kind=village"
    while url:
        response = await api.get(url)
        seen += ids(response)
        url = response.json()["next_url"]
    assert seen == created
    tampered = await api.get("/v1/places", params={"cursor": "eyJhZnRlcl9pZCI6MX0.AAAA"})
    assert_problem(tampered, 400, "invalid_cursor")
    assert_problem(await api.get("/v1/places?limit=5000"), 422, "validation_error")


async def test_natural_keys_fold_beyond_ascii(api: Api) -> None:
    await create(api, name="Tell Abyaḍ", kind="town", admin1="Raqqa")
    await create(api, name="Straße", kind="neighbourhood", admin1="Hama")
    for name, kind, admin1 in [
        ("TELL ABYAḌ", "town", "RAQQA"),
        ("STRASSE", "neighbourhood", "hama"),
    ]:
        body = {"name": name, "kind": kind, "country_code": "SY", "admin1": admin1}
        assert_problem(await api.post("/v1/places", json=body), 409, "duplicate")
    assert api.count("places") == 2


def event_at(external_id: str, place: dict[str, Any]) -> dict[str, Any]:
    return {
        "external_id": external_id,
        "date_start": "2015-10-08",
        "sub_event_type": "armed_clash",
        "summary": f"Clashes at {place['name']}",
        "place": place,
    }


async def test_inline_places_resolve_to_one_record(api: Api) -> None:
    village = {"name": "Kafr Nabudah", "kind": "village", "country_code": "SY", "admin1": "Hama"}
    first = await api.post("/v1/events", json=event_at("E-1", village))
    assert first.status_code == 201, first.text
    shouted = {**village, "name": "KAFR  NABUDAH", "admin1": "HAMA", "latitude": 35.43}
    shouted["longitude"] = 36.52
    second = await api.post("/v1/events", json=event_at("E-2", shouted))
    assert second.status_code == 201, second.text
    assert first.json()["place"]["id"] == second.json()["place"]["id"]
    assert api.count("places") == 1
    # The coordinates the first write lacked are filled in; the name stays as first written.
    place = (await api.get(f"/v1/places/{first.json()['place']['id']}")).json()
    assert (place["name"], place["latitude"]) == ("Kafr Nabudah", 35.43)


async def test_an_inline_place_created_meanwhile_is_used_not_duplicated(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A concurrent request commits the place between our look and our insert."""
    village = {"name": "Latamneh", "kind": "town", "country_code": "SY", "admin1": "Hama"}
    first = await api.post("/v1/events", json=event_at("E-1", village))
    assert first.status_code == 201, first.text
    looks = 0

    async def missed_once(session: Any, key: str) -> Any:
        nonlocal looks
        looks += 1
        return None if looks == 1 else await find_by_natural_key(session, key)

    monkeypatch.setattr(place_service, "find_by_natural_key", missed_once)
    second = await api.post("/v1/events", json=event_at("E-2", {**village, "name": "LATAMNEH"}))
    assert second.status_code == 201, second.text
    assert second.json()["place"]["id"] == first.json()["place"]["id"]
    assert looks == 2
    assert api.count("places") == 1
