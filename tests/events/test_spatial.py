"""Spatial filters through HTTP: bbox, radius, polygon, distance order; same on both databases."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from tests.conftest import Api
from tests.support import assert_problem, error_locs

pytestmark = pytest.mark.asyncio

R_KM = 6371.0087714
CENTRE = (35.0, 36.0)


def destination(lat: float, lon: float, bearing_deg: float, km: float) -> tuple[float, float]:
    """The point `km` away on the sphere, along a bearing."""
    d, b = km / R_KM, math.radians(bearing_deg)
    p1, l1 = math.radians(lat), math.radians(lon)
    p2 = math.asin(math.sin(p1) * math.cos(d) + math.cos(p1) * math.sin(d) * math.cos(b))
    l2 = l1 + math.atan2(
        math.sin(b) * math.sin(d) * math.cos(p1), math.cos(d) - math.sin(p1) * math.sin(p2)
    )
    return math.degrees(p2), (math.degrees(l2) + 540) % 360 - 180


POINTS: dict[str, tuple[float, float]] = {
    "N_in": destination(*CENTRE, 0, 9.9),
    "N_out": destination(*CENTRE, 0, 10.1),
    "E_in": destination(*CENTRE, 90, 9.95),
    "E_out": destination(*CENTRE, 90, 10.05),
    "SW_in": destination(*CENTRE, 225, 9.9),
    "far": (36.2, 37.1),
    # On the bbox edges (in) and a hair outside (out).
    "edge_w": (34.5, 35.5),
    "edge_n": (35.5, 36.2),
    "hair_w": (34.5, 35.4999),
    "hair_n": (35.5001, 36.2),
    # Either side of the antimeridian.
    "fiji_e": (-17.0, 179.5),
    "fiji_w": (-17.0, -179.5),
    "fiji_mid": (-17.0, 170.0),
}


@pytest.fixture
async def places(api: Api) -> dict[str, int]:
    ids: dict[str, int] = {}
    for i, (name, (lat, lon)) in enumerate(POINTS.items()):
        body = {
            "external_id": name,
            "date_start": f"2016-01-{i + 1:02d}",
            "sub_event_type": "armed_clash",
            "summary": f"clash at {name}",
            "place": {
                "name": f"P {name}",
                "kind": "village",
                "country_code": "FJ" if name.startswith("fiji") else "SY",
                "latitude": lat,
                "longitude": lon,
            },
        }
        r = await api.post("/v1/events", json=body)
        assert r.status_code == 201, r.text
        ids[name] = r.json()["id"]
    r = await api.post(
        "/v1/events",
        json={
            "external_id": "nowhere",
            "date_start": "2016-02-01",
            "sub_event_type": "armed_clash",
            "summary": "no coordinates",
        },
    )
    assert r.status_code == 201, r.text
    return ids


async def names(api: Api, **params: Any) -> list[str]:
    params.setdefault("limit", 1000)
    r = await api.get("/v1/events", params=params)
    assert r.status_code == 200, r.text
    return sorted(e["external_id"] for e in r.json()["items"])


async def test_radius_near_the_edge(api: Api, places: dict[str, int]) -> None:
    lat, lon = CENTRE
    assert await names(api, lat=lat, lon=lon, radius_km=10) == ["E_in", "N_in", "SW_in"]
    assert "far" in await names(api, lat=lat, lon=lon, radius_km=200)
    # Combined with other filters (AND).
    assert await names(api, lat=lat, lon=lon, radius_km=10, date_to="2016-01-02") == ["N_in"]


async def test_bbox_edges_and_antimeridian(api: Api, places: dict[str, int]) -> None:
    assert await names(api, bbox="35.5,34.5,36.2,35.5") == [
        "E_in",
        "E_out",
        "N_in",
        "N_out",
        "SW_in",
        "edge_n",
        "edge_w",
    ]
    assert await names(api, bbox="179,-18,-179,-16") == ["fiji_e", "fiji_w"]
    assert await names(api, bbox="-180,-90,180,90", country="FJ") == [
        "fiji_e",
        "fiji_mid",
        "fiji_w",
    ]


async def test_polygon_edges_and_holes(api: Api, places: dict[str, int]) -> None:
    square = [[35.5, 34.5], [36.2, 34.5], [36.2, 35.5], [35.5, 35.5], [35.5, 34.5]]
    hole = [[35.8, 34.8], [35.8, 35.2], [36.15, 35.2], [36.15, 34.8], [35.8, 34.8]]
    poly = {"type": "Polygon", "coordinates": [square]}
    inside_square = ["E_in", "E_out", "N_in", "N_out", "SW_in", "edge_n", "edge_w"]
    assert await names(api, polygon=json.dumps(poly)) == inside_square
    with_hole = {"type": "Polygon", "coordinates": [square, hole]}
    got = await names(api, polygon=json.dumps(with_hole))
    assert got == ["edge_n", "edge_w"], got
    multi = {
        "type": "MultiPolygon",
        "coordinates": [[hole], [[[179, -18], [180, -18], [180, -16], [179, -16], [179, -18]]]],
    }
    assert await names(api, polygon=json.dumps(multi)) == [
        "E_in",
        "E_out",
        "N_in",
        "N_out",
        "SW_in",
        "fiji_e",
    ]
    feature = {"type": "Feature", "properties": {}, "geometry": poly}
    assert await names(api, polygon=json.dumps(feature)) == inside_square


async def test_sort_by_distance_pages(api: Api, places: dict[str, int]) -> None:
    lat, lon = CENTRE
    seen: list[tuple[str, float]] = []
    r = await api.get(
        "/v1/events",
        params={"lat": lat, "lon": lon, "radius_km": 200, "sort": "distance", "limit": 2},
    )
    while True:
        assert r.status_code == 200, r.text
        body = r.json()
        seen += [(e["external_id"], e["distance_km"]) for e in body["items"]]
        if not body["next_cursor"]:
            break
        r = await api.client.get(body["next_url"])
    distances = [d for _, d in seen]
    assert distances == sorted(distances)
    assert [n for n, _ in seen][:2] == ["N_in", "SW_in"]
    assert len(seen) == 10 and seen[-1][0] == "far"
    assert abs(dict(seen)["N_in"] - 9.9) < 1e-6
    # Without a radius: every event with coordinates, nearest first; fields narrows the items.
    r = await api.get(
        "/v1/events",
        params={"lat": lat, "lon": lon, "sort": "distance", "fields": "external_id,distance_km"},
    )
    items = r.json()["items"]
    assert len(items) == len(POINTS) and set(items[0]) == {"external_id", "distance_km"}


@pytest.mark.parametrize(
    ("params", "loc"),
    [
        ({"bbox": "1,2,3"}, ["query", "bbox"]),
        ({"bbox": "a,b,c,d"}, ["query", "bbox"]),
        ({"bbox": "0,10,1,5"}, ["query", "bbox"]),
        ({"bbox": "0,0,200,1"}, ["query", "bbox"]),
        ({"bbox": "nan,0,1,1"}, ["query", "bbox"]),
        ({"polygon": "{not json"}, ["query", "polygon"]),
        ({"polygon": '{"type": "Point", "coordinates": [1, 2]}'}, ["query", "polygon"]),
        (
            {
                "polygon": '{"type": "Polygon", '
                '"coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}'
            },
            ["query", "polygon"],
        ),
        ({"polygon": '{"type": "Polygon", "coordinates": [[[0, 0], [1]]]}'}, ["query", "polygon"]),
        (
            {"polygon": '{"type": "Polygon", "coordinates": [[[0, 0], [500, 0], [0, 1], [0, 0]]]}'},
            ["query", "polygon"],
        ),
        ({"lat": 100, "lon": 0, "radius_km": 1}, ["query", "lat"]),
        ({"lat": 1, "lon": 2, "radius_km": -1}, ["query", "radius_km"]),
    ],
)
async def test_bad_geometry_is_422_with_loc(
    api: Api, params: dict[str, Any], loc: list[str]
) -> None:
    body = assert_problem(await api.get("/v1/events", params=params), 422, "validation_error")
    assert loc in error_locs(body)


@pytest.mark.parametrize(
    "params",
    [
        {"lat": 1},
        {"lat": 1, "lon": 2},
        {"radius_km": 5},
        {"sort": "distance"},
        {"lon": 3, "sort": "distance"},
    ],
)
async def test_incomplete_centre_is_422(api: Api, params: dict[str, Any]) -> None:
    assert_problem(await api.get("/v1/events", params=params), 422, "validation_error")
