"""GET /v1/maps/boundaries?level=admin1: the gazetteer's outlines, per country or bounding box."""

from __future__ import annotations

from shapely.geometry import Point, shape

from tests.conftest import Api

URL = "/v1/maps/boundaries"


async def test_a_countrys_admin1_outlines(api: Api) -> None:
    r = await api.get(URL, params={"level": "admin1", "country": "sy"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/geo+json")
    features = r.json()["features"]
    codes = {f["properties"]["code"] for f in features}
    # Syria's 14 governorates, and Natural Earth's UNDOF zone on the Golan.
    assert len([c for c in codes if c.startswith("SY-") and "~" not in c]) == 14
    assert {f["properties"]["iso_a2"] for f in features} == {"SY"}
    hama = next(f for f in features if f["properties"]["code"] == "SY-HM")
    assert hama["properties"]["name"] == "Hama"
    assert shape(hama["geometry"]).contains(Point(36.75, 35.13))  # Hama city
    # The units listed are those the gazetteer knows: the same codes group the events.
    units = await api.get("/v1/events", params={"admin1": "SY-HM"})
    assert units.status_code == 200


async def test_a_bbox_takes_the_units_it_meets(api: Api) -> None:
    r = await api.get(URL, params={"level": "admin1", "bbox": "36.0,35.5,36.5,36.0"})
    assert r.status_code == 200, r.text
    codes = {f["properties"]["code"] for f in r.json()["features"]}
    assert {"SY-HM", "SY-ID", "SY-LA"} <= codes
    assert all(c.startswith(("SY-", "TR-")) for c in codes), codes
    narrowed = await api.get(
        URL, params={"level": "admin1", "bbox": "36.0,35.5,36.5,36.0", "country": "TR"}
    )
    assert {f["properties"]["iso_a2"] for f in narrowed.json()["features"]} <= {"TR"}


async def test_admin1_needs_a_country_or_a_bbox_and_stays_small(api: Api) -> None:
    r = await api.get(URL, params={"level": "admin1"})
    assert r.status_code == 422
    r = await api.get(URL, params={"level": "admin1", "bbox": "-180,-90,180,90"})
    assert r.status_code == 422 and r.json()["code"] == "too_many_units"
    r = await api.get(URL, params={"level": "admin1", "country": "Syria"})
    assert r.status_code == 422
    r = await api.get(URL, params={"country": "SY"})  # countries are not narrowed
    assert r.status_code == 422
