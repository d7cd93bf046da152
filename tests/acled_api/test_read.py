"""GET /acled/acled/read over HTTP: ACLED's filter grammar, paging, fields, formats, envelope."""

from __future__ import annotations

import csv
import io
import time
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from typing import Any

import pytest

from app.acled.format import COLUMNS
from tests.acled_api import corpus
from tests.conftest import Api, make_api, truncate_all

READ = "/acled/acled/read"


@pytest.fixture(scope="module")
async def acled(database_url: str) -> AsyncIterator[Api]:
    """The corpus, built once per database for this module (the tests here only read)."""
    truncate_all(database_url)
    async for api in make_api(database_url):
        await corpus.build(api)
        yield api


async def read(api: Api, **params: Any) -> dict[str, Any]:
    response = await api.get(READ, params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    return body


async def ids(api: Api, **params: Any) -> list[str]:
    return [row["event_id_cnty"] for row in (await read(api, **params))["data"]]


async def test_envelope_and_rows_in_acleds_shape(acled: Api) -> None:
    body = await read(acled)
    assert body["status"] == 200 and body["success"] is True
    assert body["messages"] == []
    assert body["count"] == 6 and "total_count" not in body
    assert isinstance(body["last_update"], int) and body["last_update"] > 1_600_000_000
    assert [r["event_id_cnty"] for r in body["data"]] == corpus.ORDER
    row = body["data"][2]
    assert list(row) == list(COLUMNS)
    assert row == row | {
        "event_id_cnty": "SYR1001",
        "event_date": "2015-10-08",
        "year": 2015,
        "time_precision": 1,
        "disorder_type": "Political violence",
        "event_type": "Battles",
        "sub_event_type": "Armed clash",
        "actor1": corpus.SYRIA_ARMY,
        "assoc_actor_1": corpus.HEZBOLLAH,
        "inter1": "State forces",
        "actor2": corpus.REBELS,
        "assoc_actor_2": None,
        "inter2": "Rebel group",
        "interaction": "State forces-Rebel group",
        "civilian_targeting": None,
        "iso": 760,
        "region": "Middle East",
        "country": "Syria",
        "admin1": "Hama",
        "admin2": None,
        "location": "Kafr Nabudah",
        "latitude": 35.4167,
        "longitude": 36.5,
        "geo_precision": 1,
        "source": "SOHR",
        "source_scale": "National",
        "fatalities": 13,
        "tags": "offensive",
    }
    assert isinstance(row["timestamp"], int) and abs(row["timestamp"] - time.time()) < 3600
    # Numbers are numbers and blanks are null, never "".
    assert all(value != "" for r in body["data"] for value in r.values())


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        # = with | lists, on names, numbers and codes; text ignores case
        ({"country": "Syria|Turkey"}, ["TUR2002", "TUR2001", "SYR1001", "SYR1003", "SYR1002"]),
        ({"country": "lebanon"}, ["conflictdb-X-1"]),
        ({"iso": "792"}, ["TUR2002", "TUR2001"]),
        ({"region": "11"}, corpus.ORDER),
        ({"region": "Europe"}, []),
        ({"event_id_cnty": "SYR1001|conflictdb-X-1"}, ["SYR1001", "conflictdb-X-1"]),
        ({"event_date": "2015-10-08"}, ["SYR1001"]),
        # a week is recorded at its middle day (2015-10-03..09 -> 06)
        ({"event_date": "2015-10-06"}, ["SYR1003"]),
        ({"year": "2015"}, corpus.ORDER),
        ({"time_precision": "2"}, ["SYR1003"]),
        ({"time_precision": "3"}, ["conflictdb-X-1"]),
        ({"event_type": "Protests"}, ["TUR2002", "TUR2001"]),
        ({"sub_event_type": "Air/drone strike"}, ["SYR1002"]),
        ({"disorder_type": "Strategic developments"}, ["conflictdb-X-1"]),
        ({"actor1": corpus.SYRIA_ARMY}, ["SYR1001", "SYR1003"]),
        ({"actor2": corpus.SYRIA_ARMY}, ["conflictdb-X-1"]),
        ({"assoc_actor_1": corpus.HEZBOLLAH}, ["SYR1001"]),
        ({"inter1": "1"}, ["SYR1001", "SYR1003"]),
        ({"inter1": "State forces"}, ["SYR1001", "SYR1003"]),
        ({"inter2": "0"}, ["TUR2001"]),
        ({"inter2": "1|7"}, ["TUR2002", "SYR1002", "conflictdb-X-1"]),
        ({"interaction": "12"}, ["SYR1001", "SYR1003"]),
        ({"interaction": "60"}, ["TUR2001"]),
        ({"interaction": "Protesters only"}, ["TUR2001"]),
        ({"interaction": "16|78"}, ["TUR2002", "SYR1002"]),
        ({"civilian_targeting": "Civilians targeted"}, ["SYR1002"]),
        ({"admin1": "Hama"}, ["SYR1001", "SYR1002"]),
        ({"location": "Istanbul"}, ["TUR2001"]),
        ({"latitude": "35.4167"}, ["SYR1001"]),
        ({"geo_precision": "1"}, corpus.ORDER),
        ({"source": "AFP"}, ["SYR1003", "SYR1002"]),
        ({"source_scale": "National"}, ["SYR1001"]),
        ({"tags": "offensive"}, ["SYR1001", "SYR1002"]),
        ({"fatalities": "0"}, ["TUR2002", "TUR2001", "SYR1003", "conflictdb-X-1"]),
        # comparisons
        ({"fatalities": "5", "fatalities_where": ">"}, ["SYR1001"]),
        ({"fatalities": "5", "fatalities_where": ">="}, ["SYR1001", "SYR1002"]),
        (
            {"fatalities": "5", "fatalities_where": "<"},
            ["TUR2002", "TUR2001", "SYR1003", "conflictdb-X-1"],
        ),
        (
            {"fatalities": "0", "fatalities_where": "<="},
            ["TUR2002", "TUR2001", "SYR1003", "conflictdb-X-1"],
        ),
        ({"event_date": "2015-10-08", "event_date_where": ">"}, ["TUR2002", "TUR2001"]),
        ({"latitude": "39", "latitude_where": ">"}, ["TUR2002", "TUR2001"]),
        # BETWEEN: the two ends of |, inclusive; a week's event_date is the middle of the week
        (
            {"event_date": "2015-10-01|2015-10-08", "event_date_where": "BETWEEN"},
            ["SYR1001", "SYR1003", "SYR1002"],
        ),
        (
            {"event_date": "2015-09-01|2015-09-30", "event_date_where": "between"},
            ["conflictdb-X-1"],
        ),
        ({"fatalities": "1|13", "fatalities_where": "BETWEEN"}, ["SYR1001", "SYR1002"]),
        # LIKE: SQL wildcards, or a substring when there is none; any case
        ({"actor1": "military%", "actor1_where": "LIKE"}, ["SYR1001", "SYR1003", "SYR1002"]),
        ({"actor1": "forces of russia", "actor1_where": "like"}, ["SYR1002"]),
        ({"sub_event_type": "protest", "sub_event_type_where": "LIKE"}, ["TUR2002", "TUR2001"]),
        ({"notes": "ankara|idlib", "notes_where": "LIKE"}, ["TUR2002", "TUR2001", "SYR1003"]),
        ({"event_id_cnty": "TUR%", "event_id_cnty_where": "LIKE"}, ["TUR2002", "TUR2001"]),
        ({"event_date": "2015-11%", "event_date_where": "LIKE"}, ["TUR2002"]),
        ({"tags": "russian", "tags_where": "LIKE"}, ["SYR1002"]),
        # several columns AND; :OR: ORs two columns
        ({"country": "Syria", "fatalities": "0"}, ["SYR1003"]),
        ({"country": "Lebanon:OR:fatalities=13"}, ["SYR1001", "conflictdb-X-1"]),
        # the sync filter: timestamp means >= by default
        ({"timestamp": "1000000000"}, corpus.ORDER),
        ({"timestamp": "4000000000"}, []),
        ({"timestamp": "4000000000", "timestamp_where": "<"}, corpus.ORDER),
        ({"timestamp": "2015-10-01"}, corpus.ORDER),
    ],
)
async def test_filters(acled: Api, params: dict[str, str], expected: list[str]) -> None:
    assert await ids(acled, **params) == expected


async def test_fields_pick_and_order_the_columns(acled: Api) -> None:
    body = await read(acled, fields="fatalities|event_id_cnty", event_id_cnty="SYR1001")
    assert body["data"] == [{"fatalities": 13, "event_id_cnty": "SYR1001"}]


async def test_limit_and_page_walk_the_same_order(acled: Api) -> None:
    pages = [await ids(acled, limit=2, page=p) for p in (1, 2, 3, 4)]
    assert pages == [corpus.ORDER[0:2], corpus.ORDER[2:4], corpus.ORDER[4:6], []]
    assert await ids(acled, limit=4) == corpus.ORDER[:4]
    assert await ids(acled, limit=0) == corpus.ORDER
    assert await ids(acled, limit=0, page=3) == corpus.ORDER


async def test_with_total_counts_every_page(acled: Api) -> None:
    body = await read(acled, limit=2, page=2, with_total="true", country="Syria")
    assert (body["count"], body["total_count"]) == (1, 3)


async def test_inter_num_gives_numeric_codes(acled: Api) -> None:
    rows = (await read(acled, inter_num=1, fields="event_id_cnty|inter1|inter2|interaction"))[
        "data"
    ]
    by_id = {r.pop("event_id_cnty"): r for r in rows}
    assert by_id["SYR1001"] == {"inter1": 1, "inter2": 2, "interaction": 12}
    assert by_id["TUR2001"] == {"inter1": 6, "inter2": 0, "interaction": 60}
    labels = (await read(acled, event_id_cnty="TUR2001"))["data"][0]
    assert (labels["inter1"], labels["inter2"], labels["interaction"]) == (
        "Protesters",
        None,
        "Protesters only",
    )


async def test_monadic_gives_one_row_per_actor(acled: Api) -> None:
    fields = "event_id_cnty|actor1|assoc_actor_1|inter1|actor2|assoc_actor_2|inter2|interaction"
    body = await read(
        acled,
        export_type="monadic",
        inter_num="1",
        fields=fields,
        event_id_cnty="SYR1001|TUR2001",
        with_total="1",
    )
    assert body["data"] == [
        {
            "event_id_cnty": "TUR2001",
            "actor1": corpus.PROTESTERS,
            "assoc_actor_1": None,
            "inter1": 6,
            "actor2": None,
            "assoc_actor_2": None,
            "inter2": 0,
            "interaction": 60,
        },
        {
            "event_id_cnty": "SYR1001",
            "actor1": corpus.SYRIA_ARMY,
            "assoc_actor_1": corpus.HEZBOLLAH,
            "inter1": 1,
            "actor2": None,
            "assoc_actor_2": None,
            "inter2": 0,
            "interaction": 12,
        },
        {
            "event_id_cnty": "SYR1001",
            "actor1": corpus.REBELS,
            "assoc_actor_1": None,
            "inter1": 2,
            "actor2": None,
            "assoc_actor_2": None,
            "inter2": 0,
            "interaction": 12,
        },
    ]
    assert (body["count"], body["total_count"]) == (3, 3)


async def test_csv_has_acleds_columns(acled: Api) -> None:
    response = await acled.get(READ, params={"_format": "csv", "inter_num": "1"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["event_id_cnty"] for r in rows] == corpus.ORDER
    assert list(rows[0]) == list(COLUMNS)
    syr = rows[2]
    assert (syr["latitude"], syr["inter1"], syr["interaction"], syr["assoc_actor_2"]) == (
        "35.4167",
        "1",
        "12",
        "",
    )
    narrow = await acled.get(
        READ, params={"_format": "csv", "fields": "event_id_cnty|country", "limit": "1"}
    )
    assert narrow.text.splitlines() == ["event_id_cnty,country", "TUR2002,Turkey"]


def xml_rows(text: str) -> tuple[ET.Element, list[dict[str, str | None]]]:
    root = ET.fromstring(text)
    data = root.find("data")
    assert data is not None
    return root, [{field.tag: field.text for field in row} for row in data]


def as_xml_text(value: Any) -> str | None:
    """What the XML carries for a JSON value: null is an empty element."""
    return None if value is None else str(value)


async def test_xml_carries_the_json_envelope_and_rows(acled: Api) -> None:
    params = {"with_total": "1", "limit": "4", "fields": "event_id_cnty|latitude|notes|actor2"}
    body = await read(acled, **params)
    response = await acled.get(READ, params={**params, "_format": "xml"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    root, rows = xml_rows(response.text)
    assert root.tag == "response"
    assert (root.findtext("status"), root.findtext("success")) == ("200", "true")
    assert root.findtext("count") == "4" and root.findtext("total_count") == "6"
    assert root.findtext("last_update") == str(body["last_update"])
    assert rows == [{k: as_xml_text(v) for k, v in row.items()} for row in body["data"]]
    assert [list(r) for r in rows] == [["event_id_cnty", "latitude", "notes", "actor2"]] * 4
    assert any(r["actor2"] is None for r in rows)  # a null stays distinguishable from ""


async def test_acleds_read_dot_format_paths(acled: Api) -> None:
    """`/acled/read.csv?` is how ACLED's documentation asks for CSV: the same as _format."""
    params = {"fields": "event_id_cnty|country", "country": "Syria"}
    as_param = await acled.get(READ, params={**params, "_format": "csv"})
    as_path = await acled.get(READ + ".csv", params=params)
    assert as_path.status_code == 200, as_path.text
    assert as_path.text == as_param.text and as_path.text.startswith("event_id_cnty,country\n")
    assert len(as_path.text.splitlines()) == 4
    txt = await acled.get(READ + ".txt", params=params)
    assert txt.headers["content-type"].startswith("text/plain") and txt.text == as_param.text
    json_body = (await acled.get(READ + ".json", params=params)).json()
    assert json_body == await read(acled, **params)
    xml = await acled.get(READ + ".xml", params={**params, "_format": "XML"})
    assert [r["event_id_cnty"] for r in xml_rows(xml.text)[1]] == [
        r["event_id_cnty"] for r in json_body["data"]
    ]
    countries = await acled.get("/acled/country/read.xml", params={"iso": "760"})
    _, rows = xml_rows(countries.text)
    assert [(r["country"], r["iso3"]) for r in rows] == [("Syria", "SYR")]
    clash = await acled.get(READ + ".csv", params={"_format": "json"})
    assert clash.status_code == 400
    assert "read.csv" in clash.json()["error"][0]["message"]
    assert (await acled.get(READ + ".pdf")).status_code == 404


async def test_actor_country_region_and_actortype_lists(acled: Api) -> None:
    actors = (await acled.get("/acled/actor/read", params={"actor_name": "Hezbollah"})).json()
    assert actors["data"] == [
        {
            "actor_name": "Hezbollah",
            "first_event_date": "2015-09-15",
            "last_event_date": "2015-10-08",
            "event_count": 2,
        }
    ]
    busy = (
        await acled.get("/acled/actor/read", params={"event_count": "2", "with_total": "1"})
    ).json()
    assert {a["actor_name"] for a in busy["data"]} == {
        corpus.SYRIA_ARMY,
        corpus.REBELS,
        corpus.HEZBOLLAH,
        corpus.PROTESTERS,
    }
    assert busy["total_count"] == 4
    countries = (await acled.get("/acled/country/read", params={"iso": "760|792"})).json()
    assert countries["data"] == [
        {
            "country": "Syria",
            "iso": 760,
            "iso3": "SYR",
            "first_event_date": "2015-10-01",
            "last_event_date": "2015-10-08",
            "event_count": 3,
        },
        {
            "country": "Turkey",
            "iso": 792,
            "iso3": "TUR",
            "first_event_date": "2015-10-10",
            "last_event_date": "2015-11-02",
            "event_count": 2,
        },
    ]
    regions = (await acled.get("/acled/region/read")).json()
    assert regions["data"] == [
        {
            "region": 11,
            "region_name": "Middle East",
            "first_event_date": "2015-09-15",
            "last_event_date": "2015-11-02",
            "event_count": 6,
        }
    ]
    types = (await acled.get("/acled/actortype/read", params={"actor_type_id": "1"})).json()
    assert types["data"][0] | {"event_count": 0} == {
        "actor_type_id": 1,
        "actor_type_name": "State forces",
        "first_event_date": "2015-09-15",
        "last_event_date": "2015-11-02",
        "event_count": 0,
    }
    assert types["data"][0]["event_count"] == 4
