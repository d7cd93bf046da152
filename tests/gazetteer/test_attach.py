"""Places attached to admin-1 units: by point where no name is given, the seed's "Lattakia",
API writes, admin2 variants."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.conftest import Api


async def total(api: Api, **params: Any) -> int:
    response = await api.get("/v1/events", params={"limit": 1, "total": "true", **params})
    assert response.status_code == 200, response.text
    return int(response.json()["total"])


# Three villages of As Suwayda governorate: enough points to teach a spelling of its name.
SWEIDA_VILLAGES = [
    ("Qanawat", 32.7569, 36.6173),
    ("Majadel", 32.9162, 36.551),
    ("Salkhad", 32.4921, 36.7111),
]


def event(external_id: str, place: dict[str, Any]) -> dict[str, Any]:
    return {
        "external_id": external_id,
        "date_start": "2016-05-01",
        "sub_event_type": "armed_clash",
        "summary": "clashes",
        "place": place,
    }


async def test_a_point_without_admin_names_gets_its_unit(api: Api) -> None:
    # Hama city's coordinates, and no admin1.
    body = event(
        "PIP-1",
        {
            "name": "Kafr Nabudah",
            "kind": "village",
            "country_code": "SY",
            "latitude": 35.13,
            "longitude": 36.75,
            "geo_precision": 1,
        },
    )
    response = await api.post("/v1/events", json=body)
    assert response.status_code == 201, response.text
    assert response.json()["place"]["admin1_code"] == "SY-HM"
    assert response.json()["place"]["admin1"] is None  # what was said stays as it was
    assert await total(api, admin1="Hamah Governorate") == 1
    # A coarse point (a region's centroid) decides nothing.
    coarse = event(
        "PIP-2",
        {
            "name": "Northern Syria",
            "kind": "region",
            "country_code": "SY",
            "latitude": 36.0,
            "longitude": 39.0,
            "geo_precision": 3,
        },
    )
    response = await api.post("/v1/events", json=coarse)
    assert response.status_code == 201, response.text
    assert response.json()["place"]["admin1_code"] is None
    # Moving a place moves it to its new unit.
    place_id = (await api.get("/v1/places", params={"q": "Kafr Nabudah"})).json()["items"][0]["id"]
    moved = await api.patch(f"/v1/places/{place_id}", json={"latitude": 35.93, "longitude": 36.63})
    assert moved.status_code == 200, moved.text
    assert moved.json()["admin1_code"] == "SY-ID"
    assert await total(api, admin1="Idleb") == 1
    assert await total(api, admin1="SY-HM") == 0


async def test_the_seed_reports_lattakia_is_latakia(seeded_api: Api) -> None:
    lattakia = await total(seeded_api, admin1="Lattakia")
    assert lattakia > 0
    for name in ("Latakia", "Latakia Governorate", "SY-LA", "al-Ladhiqiyah"):
        assert await total(seeded_api, admin1=name) == lattakia, name
    rows = (
        await seeded_api.get("/v1/aggregates", params={"group_by": "admin1", "country": "SY"})
    ).json()["rows"]
    latakia = [r for r in rows if r["admin1_code"] == "SY-LA"]
    assert len(latakia) == 1 and latakia[0]["admin1"] == "Latakia"
    assert latakia[0]["events"] == lattakia


async def test_admin2_filters_fold_variants(api: Api) -> None:
    for i, admin2 in enumerate(("Ar Rastan district", "Ar-Rastan")):
        place = {
            "name": f"Village {i}",
            "kind": "village",
            "country_code": "SY",
            "admin1": "Homs",
            "admin2": admin2,
        }
        response = await api.post("/v1/events", json=event(f"A2-{i}", place))
        assert response.status_code == 201, response.text
        assert response.json()["place"]["admin1_code"] == "SY-HI"
    for spelling in ("Ar Rastan", "ar-rastan", "Rastan", "Ar Rastan District"):
        assert await total(api, admin2=spelling) == 2, spelling
    assert await total(api, admin2="Tadmur") == 0


async def test_unknown_admin1_is_not_a_500(api: Api) -> None:
    assert await total(api, admin1="Nowhere at all") == 0
    response = await api.get("/v1/events", params={"geo_precision": 4})
    assert response.status_code == 422
    response = await api.get("/v1/aggregates", params={"type_of_violence": 0})
    assert response.status_code == 422


async def test_a_spelling_is_learned_from_its_points(api: Api) -> None:
    # ACLED's "As Sweida" (Natural Earth has As Suwayda', Es Sueida, ...): three villages of
    # As Suwayda governorate, written one at a time.
    for i, (name, lat, lon) in enumerate(SWEIDA_VILLAGES):
        place = {
            "name": name,
            "kind": "village",
            "country_code": "SY",
            "admin1": "As Sweida",
            "latitude": lat,
            "longitude": lon,
            "geo_precision": 1,
        }
        response = await api.post("/v1/events", json=event(f"SW-{i}", place))
        assert response.status_code == 201, response.text
        assert response.json()["place"]["admin1_code"] == "SY-SU"  # by its point
        # Before it is learned, the spelling finds what was given with it.
        assert await total(api, admin1="As Sweida") == i + 1
        learned = await api.get("/v1/admin-units/resolve", params={"name": "As Sweida"})
        assert learned.status_code == (200 if i == 2 else 404)
    unit = (await api.get("/v1/admin-units/SY-SU")).json()
    assert {"name": "As Sweida", "source": "points"} in unit["names"]
    assert await total(api, admin1="Sweida") == 3


async def _changed_since(api: Api, seq: int) -> tuple[list[int], int]:
    """Ids in /v1/changes after `seq` (every page), and the high-water mark."""
    ids: list[int] = []
    r = await api.get("/v1/changes", params={"view": "ids", "since_seq": seq, "limit": 1000})
    while True:
        assert r.status_code == 200, r.text
        body = r.json()
        ids += [c["id"] for c in body["changed"]]
        if not body.get("next_url"):
            return ids, int(body["high_water_seq"])
        r = await api.get(body["next_url"])


async def _position_after(api: Api, event_id: int) -> int:
    """A feed position after the event's last change (PostgreSQL's feed may lag: poll)."""
    for _ in range(100):
        ids, seq = await _changed_since(api, 0)
        if event_id in ids:
            break
        await asyncio.sleep(0.1)
    assert event_id not in (await _changed_since(api, seq))[0]
    return seq


async def _in_feed_after(api: Api, event_id: int, seq: int) -> None:
    """The event is in /v1/changes after `seq` (polled: the feed may lag a moment)."""
    for _ in range(100):
        if event_id in (await _changed_since(api, seq))[0]:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"event {event_id} not in the feed after {seq}")


async def test_a_spelling_added_moves_its_places_events_into_the_feed(api: Api) -> None:
    """Adding a unit's spelling attaches the places that carry it: their events now show the
    unit's code, so a follower of /v1/changes must see them again."""
    made = await api.post(
        "/v1/events",
        json=event(
            "FEED-ADM",
            {
                "name": "Feedtown",
                "kind": "town",
                "country_code": "SY",
                "admin1": "Feedland Province",
            },
        ),
    )
    assert made.status_code == 201, made.text
    event_id = made.json()["id"]
    assert made.json()["place"]["admin1_code"] is None
    seq = await _position_after(api, event_id)
    added = await api.post("/v1/admin-units/SY-HM/names", json={"name": "Feedland Province"})
    assert added.status_code == 201, added.text
    got = await api.get(f"/v1/events/{event_id}")
    assert got.json()["place"]["admin1_code"] == "SY-HM"
    assert got.json()["version"] == made.json()["version"]  # not an edit of the event
    await _in_feed_after(api, event_id, seq)


async def test_a_spelling_learned_later_moves_earlier_events_into_the_feed(api: Api) -> None:
    """An event whose place carries a spelling the gazetteer does not know yet (no point to
    locate it by) shows no unit; once later places teach the spelling, the earlier place is
    relabelled (its events now show the unit's code), so a follower of /v1/changes must see
    that event again."""
    spelling = "Jabal al-Arab Feed"
    earlier = {"name": "Dhibin", "kind": "village", "country_code": "SY", "admin1": spelling}
    made = await api.post("/v1/events", json=event("LEARN-0", earlier))
    assert made.status_code == 201, made.text
    event_id = made.json()["id"]
    assert made.json()["place"]["admin1_code"] is None
    seq = await _position_after(api, event_id)
    for i, (name, lat, lon) in enumerate(SWEIDA_VILLAGES):
        place = {
            "name": name,
            "kind": "village",
            "country_code": "SY",
            "admin1": spelling,
            "latitude": lat,
            "longitude": lon,
            "geo_precision": 1,
        }
        response = await api.post("/v1/events", json=event(f"LEARN-{i + 1}", place))
        assert response.status_code == 201, response.text
    got = await api.get(f"/v1/events/{event_id}")
    assert got.json()["place"]["admin1_code"] == "SY-SU"  # learned from the three points
    assert got.json()["version"] == made.json()["version"]  # not an edit of the event
    await _in_feed_after(api, event_id, seq)
