"""Formats through HTTP: JSON fields, ACLED/UCDP CSV with HXL, GeoJSON, NDJSON, Accept, ETag."""

from __future__ import annotations

import csv
import io
import json

import pytest

from tests.conftest import Api
from tests.factories import create_actor, create_campaign, create_source
from tests.support import assert_problem, error_locs

pytestmark = pytest.mark.asyncio

ACLED_HEADER = (
    "event_id_cnty,event_date,year,time_precision,disorder_type,event_type,sub_event_type,actor1,"
    "assoc_actor_1,inter1,actor2,assoc_actor_2,inter2,interaction,civilian_targeting,iso,region,"
    "country,admin1,admin2,admin3,location,latitude,longitude,geo_precision,source,source_scale,"
    "notes,fatalities,tags,timestamp"
)


@pytest.fixture
async def corpus(api: Api) -> dict[str, int]:
    url = api.database_url
    ids = {
        "russia": create_actor(url, "Military Forces of Russia (2000-)", 8),
        "syria": create_actor(url, "Military Forces of Syria (2000-)", 1),
        "nusra": create_actor(url, "Al-Nusra Front", 2),
        "civ": create_actor(url, "Civilians (Syria)", 7),
        "sohr": create_source(url, "SOHR", "monitor"),
        "afp": create_source(url, "AFP", "news_agency"),
        "camp": create_campaign(url, "Russian air campaign"),
    }
    body = {
        "external_id": "F-1",
        "date_start": "2015-10-08",
        "sub_event_type": "air_drone_strike",
        "summary": "Russian and Syrian aircraft struck Nusra positions, killing civilians.",
        "place": {
            "name": "Kafr Nabudah",
            "kind": "village",
            "country_code": "SY",
            "admin1": "Hama",
            "admin2": "As Suqaylabiyah",
            "latitude": 35.4513456,
            "longitude": 36.5012345,
            "geo_precision": 1,
        },
        "actors": [
            {"actor_id": ids["russia"], "role": "initiator"},
            {"actor_id": ids["syria"], "role": "initiator_support"},
            {"actor_id": ids["nusra"], "role": "target"},
            {"actor_id": ids["civ"], "role": "target"},
        ],
        "claims": [
            {"source_id": ids["sohr"], "assertion": "strikes"},
            {"source_id": ids["afp"], "assertion": "strikes"},
            {"source_id": ids["sohr"], "assertion": "deaths"},
        ],
        "fatalities_low": 10,
        "fatalities_best": 12,
        "fatalities_high": 15,
        "civilian_targeting": True,
        "tags": ["airstrike", "russia"],
        "campaign_ids": [ids["camp"]],
    }
    r = await api.post("/v1/events", json=body)
    assert r.status_code == 201, r.text
    ids["f1"] = r.json()["id"]
    r = await api.post(
        "/v1/events",
        json={
            "external_id": "F-2",
            "date_start": "2015-10-01",
            "date_end": "2015-10-31",
            "date_precision": "month",
            "sub_event_type": "peaceful_protest",
            "summary": "Protests, no place.",
            "actors": [{"actor_id": ids["civ"], "role": "initiator"}],
        },
    )
    assert r.status_code == 201, r.text
    ids["f2"] = r.json()["id"]
    return ids


def _csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


async def test_acled_csv(api: Api, corpus: dict[str, int]) -> None:
    r = await api.get("/v1/events", params={"format": "csv", "sort": "date"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    rows = _csv(r.text)
    assert ",".join(rows[0]) == ACLED_HEADER and len(rows) == 3
    month, strike = (dict(zip(rows[0], row, strict=True)) for row in rows[1:])
    assert strike["event_id_cnty"] == "conflictdb-F-1"
    assert strike["event_date"] == "2015-10-08" and strike["year"] == "2015"
    assert strike["time_precision"] == "1"
    assert (strike["event_type"], strike["sub_event_type"]) == (
        "Explosions/Remote violence",
        "Air/drone strike",
    )
    assert strike["actor1"] == "Military Forces of Russia (2000-)"
    assert strike["assoc_actor_1"] == "Military Forces of Syria (2000-)"
    assert (strike["inter1"], strike["actor2"], strike["assoc_actor_2"]) == (
        "8",
        "Al-Nusra Front",
        "Civilians (Syria)",
    )
    assert (strike["inter2"], strike["interaction"]) == ("2", "28")
    assert strike["civilian_targeting"] == "Civilians targeted"
    assert (strike["iso"], strike["country"], strike["region"]) == ("760", "Syria", "Middle East")
    assert (strike["admin1"], strike["admin2"], strike["location"]) == (
        "Hama",
        "As Suqaylabiyah",
        "Kafr Nabudah",
    )
    assert (strike["latitude"], strike["longitude"], strike["geo_precision"]) == (
        "35.4513",
        "36.5012",
        "1",
    )
    assert strike["source"] == "AFP; SOHR"
    assert strike["fatalities"] == "12" and strike["tags"] == "airstrike; russia"
    assert int(strike["timestamp"]) > 1_700_000_000
    # Month precision: the middle of the month, precision 3; one actor: interaction code then 0.
    assert (month["event_date"], month["time_precision"]) == ("2015-10-16", "3")
    assert (month["actor2"], month["inter2"], month["interaction"], month["fatalities"]) == (
        "",
        "0",
        "70",
        "0",
    )


async def test_hxl_row_and_accept(api: Api, corpus: dict[str, int]) -> None:
    r = await api.get("/v1/events", params={"hxl": "true"}, headers={"Accept": "text/csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = _csv(r.text)
    hxl = dict(zip(rows[0], rows[1], strict=True))
    assert hxl["event_id_cnty"] == "#event+code" and hxl["latitude"] == "#geo+lat"
    assert hxl["fatalities"] == "#affected+killed" and len(rows) == 4


async def test_ucdp_csv(api: Api, corpus: dict[str, int]) -> None:
    r = await api.get("/v1/events", params={"format": "csv", "shape": "ucdp", "sort": "date"})
    rows = _csv(r.text)
    assert rows[0][:4] == ["id", "year", "active_year", "type_of_violence"] and len(rows[0]) == 41
    strike = dict(zip(rows[0], rows[2], strict=True))
    assert (
        strike["side_a"] == "Military Forces of Russia (2000-)"
        and strike["side_b"] == "Al-Nusra Front"
    )
    assert (strike["low"], strike["best"], strike["high"]) == ("10", "12", "15")
    assert (strike["date_prec"], strike["type_of_violence"], strike["where_prec"]) == (
        "1",
        "3",
        "1",
    )
    assert strike["adm_1"] == "Hama" and strike["country"] == "Syria"


async def test_geojson_and_ndjson(api: Api, corpus: dict[str, int]) -> None:
    r = await api.get(
        "/v1/events", headers={"Accept": "application/geo+json"}, params={"sort": "id"}
    )
    assert r.headers["content-type"].startswith("application/geo+json")
    fc = r.json()
    assert fc["type"] == "FeatureCollection" and len(fc["features"]) == 2
    point, nowhere = fc["features"]
    assert point["geometry"] == {"type": "Point", "coordinates": [36.5012345, 35.4513456]}
    assert point["properties"]["external_id"] == "F-1" and nowhere["geometry"] is None
    assert point["properties"]["sources"] == ["SOHR", "AFP"]
    r = await api.get("/v1/events", params={"format": "ndjson", "sort": "id"})
    assert r.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(x) for x in r.text.splitlines()]
    assert [x["external_id"] for x in lines] == ["F-1", "F-2"]
    assert lines[0]["campaigns"] == ["Russian air campaign"]
    assert {(a["name"], a["role"]) for a in lines[0]["actors"]} >= {("Al-Nusra Front", "target")}
    # An explicit limit caps an export; filters apply.
    r = await api.get("/v1/events", params={"format": "ndjson", "limit": 1, "sort": "id"})
    assert len(r.text.splitlines()) == 1
    r = await api.get("/v1/events", params={"format": "ndjson", "country": "SY"})
    assert len(r.text.splitlines()) == 1


async def test_export_is_every_row(api: Api, corpus: dict[str, int]) -> None:
    for i in range(120):
        r = await api.post(
            "/v1/events",
            json={
                "external_id": f"X{i}",
                "date_start": "2016-03-01",
                "sub_event_type": "armed_clash",
                "summary": "x",
            },
        )
        assert r.status_code == 201
    r = await api.get("/v1/events", params={"format": "csv"})
    assert len(_csv(r.text)) == 1 + 122
    page = (await api.get("/v1/events")).json()
    assert len(page["items"]) == 100 and page["next_cursor"]


@pytest.mark.parametrize("sort", ["updated_at", "-updated_at", "date", "-fatalities", "-id"])
async def test_every_sort_exports_every_row(api: Api, corpus: dict[str, int], sort: str) -> None:
    # An ACLED export sorted by updated_at selected updated_at twice (as the sort key and as
    # ACLED's timestamp): PostgreSQL's COPY failed after the 200 had gone out, a cut-off file.
    listed = (await api.get("/v1/events", params={"limit": 1000})).json()["items"]
    for fmt in ("csv", "ndjson"):
        r = await api.get("/v1/events", params={"format": fmt, "sort": sort})
        assert r.status_code == 200
        lines = r.text.splitlines()
        assert len(lines) == len(listed) + (1 if fmt == "csv" else 0), r.text[-300:]


async def test_accept_negotiation(api: Api, corpus: dict[str, int]) -> None:
    r = await api.get("/v1/events", headers={"Accept": "application/xml"})
    assert_problem(r, 406, "not_acceptable")
    r = await api.get(
        "/v1/events", params={"format": "json"}, headers={"Accept": "application/xml"}
    )
    assert r.status_code == 200
    r = await api.get("/v1/events", headers={"Accept": "text/html,application/xml;q=0.9,*/*;q=0.8"})
    assert r.headers["content-type"] == "application/json"
    r = await api.get("/v1/events", headers={"Accept": "application/json;q=0.5, text/csv"})
    assert r.headers["content-type"].startswith("text/csv")
    body = assert_problem(
        await api.get("/v1/events", params={"format": "xml"}), 422, "validation_error"
    )
    assert ["query", "format"] in error_locs(body)


async def test_fields(api: Api, corpus: dict[str, int]) -> None:
    r = await api.get("/v1/events", params={"fields": "id,date_start", "sort": "id"})
    assert r.json()["items"] == [
        {"id": corpus["f1"], "date_start": "2015-10-08"},
        {"id": corpus["f2"], "date_start": "2015-10-01"},
    ]
    r = await api.get("/v1/events", params=[("fields", "actors"), ("fields", "external_id")])
    item = r.json()["items"][0]
    assert set(item) == {"actors", "external_id"}
    body = assert_problem(
        await api.get("/v1/events", params={"fields": "id,bogus"}), 422, "validation_error"
    )
    assert error_locs(body) == [["query", "fields"]]
    body = assert_problem(
        await api.get("/v1/events", params={"contry": "SY"}), 422, "validation_error"
    )


async def test_etag_and_304(api: Api, corpus: dict[str, int]) -> None:
    r = await api.get("/v1/events")
    etag = r.headers["etag"]
    assert etag.startswith('W/"')
    again = await api.get("/v1/events", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    one = await api.get(f"/v1/events/{corpus['f1']}", headers={"If-None-Match": etag})
    assert one.status_code == 200 and one.headers["etag"] != etag
    await api.patch(f"/v1/events/{corpus['f1']}", json={"summary": "changed"})
    changed = await api.get("/v1/events", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    # Streams carry no ETag (their body is never held whole).
    assert "etag" not in (await api.get("/v1/events", params={"format": "csv"})).headers
