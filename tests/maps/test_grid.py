"""GET /v1/maps/grid and GET /v1/maps/boundaries, on the seed report, both databases."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api
from tests.support import assert_problem


def _cells(body: dict[str, Any]) -> dict[tuple[float, ...], dict[str, Any]]:
    return {tuple(c["bounds"]): c for c in body["cells"]}


async def test_grid_counts_the_events_with_coordinates(seeded_api: Api) -> None:
    r = await seeded_api.get("/v1/maps/grid", params={"cell": 1})
    assert r.status_code == 200, r.text
    body = r.json()
    listed = (await seeded_api.get("/v1/events", params={"limit": 100})).json()["items"]
    located = [e for e in listed if e["place"] and e["place"]["latitude"] is not None]
    # Erdogan's statement has no place, the airspace violation's place no coordinates.
    assert body["events"] == len(located) == 12
    cells = _cells(body)
    hama_latakia = cells[(36.0, 35.0, 37.0, 36.0)]
    # Jeb al-Ahmar, Sahl al-Ghab and Hama province (state TV's 32 dead, Al-Watan's villages).
    assert hama_latakia["events"] == 4
    assert hama_latakia["fatalities_best"] == 32
    assert hama_latakia["geo_precision"] == 3
    brussels = cells[(4.0, 50.0, 5.0, 51.0)]
    assert (brussels["events"], brussels["geo_precision"]) == (2, 1)
    assert brussels["lon"] == pytest.approx(4.3517)
    assert brussels["lat"] == pytest.approx(50.8503)
    # The Observatory's "at least 13 ... and 11": low = best = 24, no upper bound: the cell's
    # high stays open (null, counted in open_high), as in /v1/aggregates.
    damascus = cells[(36.0, 33.0, 37.0, 34.0)]
    assert (damascus["fatalities_low"], damascus["fatalities_best"]) == (24, 24)
    assert (damascus["fatalities_high"], damascus["open_high"]) == (None, 1)
    assert damascus["figures"] >= 1
    # A cell whose figures are all bounded keeps its high.
    bounded = [c for c in cells.values() if c["figures"] and not c["open_high"]]
    assert bounded and all(c["fatalities_high"] is not None for c in bounded)


async def test_grid_filters_mirror_the_event_list(seeded_api: Api) -> None:
    for params in (
        {"admin1": "Hama"},
        {"actor": "regime forces"},
        {"source": "Syrian Observatory for Human Rights"},
        {"date_from": "2015-09-30", "date_to": "2015-10-02"},
        {"q": "helicopter"},
        {"country": "BE"},
        {"bbox": "35.9,35.0,36.8,35.8"},
        {"event_type": "battles"},
    ):
        grid = (await seeded_api.get("/v1/maps/grid", params={"cell": 0.5, **params})).json()
        listed = (await seeded_api.get("/v1/events", params={"limit": 100, **params})).json()
        located = [e for e in listed["items"] if e["place"] and e["place"]["latitude"] is not None]
        assert grid["events"] == len(located), params


async def test_smaller_cells_split_the_counts(seeded_api: Api) -> None:
    coarse = (await seeded_api.get("/v1/maps/grid", params={"cell": 10})).json()
    fine = (await seeded_api.get("/v1/maps/grid", params={"cell": 0.01})).json()
    assert coarse["events"] == fine["events"] == 12
    assert len(fine["cells"]) > len(coarse["cells"])
    for cell in fine["cells"]:
        west, south, east, north = cell["bounds"]
        assert east - west == pytest.approx(0.01)
        assert west <= cell["lon"] <= east and south <= cell["lat"] <= north


@pytest.mark.parametrize(
    "params",
    [
        {"cell": 0},
        {"cell": -1},
        {"cell": 91},
        {"cell": "x"},
        {"cell": 1, "bbox": "1,2,3"},
        {"cell": 1, "contry": "SY"},
        {"cell": 1, "date_from": "2015-10-09", "date_to": "2015-10-01"},
    ],
)
async def test_bad_grid_input_is_a_422(api: Api, params: dict[str, Any]) -> None:
    assert_problem(await api.get("/v1/maps/grid", params=params), 422, "validation_error")


async def test_too_many_cells_is_a_422(seeded_api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.maps import service

    monkeypatch.setattr(service, "MAX_CELLS", 3)
    r = await seeded_api.get("/v1/maps/grid", params={"cell": 0.01})
    assert_problem(r, 422, "too_many_cells")


async def test_boundaries_are_every_country_with_iso_codes(api: Api) -> None:
    r = await api.get("/v1/maps/boundaries")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/geo+json")
    assert r.headers["Cache-Control"] == "public, max-age=86400"
    features = r.json()["features"]
    assert len(features) >= 170
    by_code = {f["properties"]["iso_a2"]: f for f in features}
    syria = by_code["SY"]
    assert syria["properties"]["iso_a3"] == "SYR"
    assert syria["geometry"]["type"] in {"Polygon", "MultiPolygon"}
    detailed = (await api.get("/v1/maps/boundaries", params={"scale": "50m"})).json()
    assert len(detailed["features"]) > len(features)
    assert_problem(
        await api.get("/v1/maps/boundaries", params={"scale": "10m"}), 422, "validation_error"
    )


def test_the_shipped_geojson_is_the_topojson_decoded() -> None:
    from app.geodata import boundaries

    for scale in ("110m", "50m"):
        assert boundaries.countries(scale) == boundaries.build(scale), scale


@pytest.mark.parametrize("value", [-179.99, -1.5, -2.0, -0.3, 0.0, 0.7, 3.0, 179.99])
def test_sqlite_floor_without_math_functions(value: float) -> None:
    import math

    from sqlalchemy import Float, create_engine, literal, select

    from app.maps.repository import _floor

    engine = create_engine("sqlite://")
    with engine.connect() as conn:
        got = conn.execute(select(_floor(literal(value, Float), "sqlite"))).scalar_one()
    engine.dispose()
    assert got == math.floor(value)
