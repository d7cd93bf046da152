"""HDX HAPI's conflict events at /api/v2/coordination-context/conflict-events, on ACLED's own
file: every parameter, JSON and CSV, and monthly sums equal to /v1/aggregates."""

from __future__ import annotations

import csv
import io
from collections import Counter
from typing import Any

import pycountry

from tests.conftest import Api, shared_file
from tests.imports.support import run_file

URL = "/api/v2/coordination-context/conflict-events"


async def rows(api: Api, **params: Any) -> list[dict[str, Any]]:
    response = await api.get(URL, params={"app_identifier": api.read_key, **params})
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


async def test_monthly_conflict_events_on_acleds_file(api: Api) -> None:
    path = shared_file("acled/acled-dummy-2022h1.csv")
    assert (await run_file(api.database_url, path, "acled")).committed
    with path.open(newline="", encoding="utf-8-sig") as fh:
        source = list(csv.DictReader(fh))

    # The identifier: a conflictdb key, as a parameter or in HAPI's header
    assert (await api.get(URL)).status_code == 401
    wrong = await api.get(URL, params={"app_identifier": "bXlhcHA6bWVAeC5vcmc="})
    assert wrong.status_code == 401 and "app_identifier" in wrong.json()["detail"]
    by_header = await api.get(
        URL, params={"admin_level": 0}, headers={"X-HDX-HAPI-APP-IDENTIFIER": api.read_key}
    )
    assert by_header.status_code == 200

    national = await rows(api, admin_level=0)
    assert national == by_header.json()["data"]
    # ACLED's file codes no event as civilian targeting (checked at the end with one that is)
    assert {r["event_type"] for r in national} == {"political_violence", "demonstration"}
    assert not any(r["civilian_targeting"].strip() for r in source)
    assert all(r["admin_level"] == 0 and r["admin1_name"] is None for r in national)

    # Monthly sums equal /v1/aggregates (by country and disorder type, month of date_start)
    aggregates = await api.get(
        "/v1/aggregates",
        params=[("interval", "month"), ("group_by", "country"), ("group_by", "disorder_type")],
    )
    assert aggregates.status_code == 200, aggregates.text
    expected: Counter[tuple[str, str, str, str]] = Counter()
    for a in aggregates.json()["rows"]:
        for word, event_type in (
            ("political violence", "political_violence"),
            ("demonstration", "demonstration"),
        ):
            if word in a["disorder_type"].lower():
                key = (a["country"], a["bucket"][:7], event_type)
                expected[(*key, "events")] += a["events"]
                expected[(*key, "fatalities")] += a["fatalities_best"] or 0
    shown: Counter[tuple[str, str, str, str]] = Counter()
    names = {}
    for r in national:
        if r["event_type"] == "civilian_targeting":
            continue
        names[r["location_code"]] = r["location_name"]
        key = (r["location_code"], r["reference_period_start"][:7], r["event_type"])
        shown[(*key, "events")] += r["events"]
        shown[(*key, "fatalities")] += r["fatalities"]
    assert sum(shown.values()) == sum(expected.values()) > 0
    # /v1/aggregates names countries by alpha-2, HAPI by alpha-3
    alpha3 = {k[0]: pycountry.countries.get(alpha_2=k[0]) for k in expected}
    assert shown == Counter(
        {(alpha3[k[0]].alpha_3 if alpha3[k[0]] else "XKX", *k[1:]): v for k, v in expected.items()}
    )
    assert names["SYR"] == "Syria"

    # location_code, event_type, start_date / end_date
    syria = await rows(api, admin_level=0, location_code="SYR")
    assert syria == [r for r in national if r["location_code"] == "SYR"] and syria
    assert sum(r["events"] for r in syria if r["event_type"] == "political_violence") == sum(
        1 for r in source if r["country"] == "Syria" and "Political violence" in r["disorder_type"]
    )
    demos = await rows(api, admin_level=0, event_type="demonstration")
    assert demos == [r for r in national if r["event_type"] == "demonstration"]
    spring = await rows(api, admin_level=0, start_date="2022-02-01", end_date="2022-03-31")
    assert {r["reference_period_start"][:7] for r in spring} == {"2022-02", "2022-03"}
    assert spring == [
        r for r in national if r["reference_period_start"][:7] in {"2022-02", "2022-03"}
    ]
    assert all(
        r["reference_period_end"] in {"2022-02-28T23:59:59", "2022-03-31T23:59:59"} for r in spring
    )
    # A month that ends after end_date is left out
    assert await rows(api, admin_level=0, start_date="2022-02-01", end_date="2022-02-27") == []

    # admin levels 1 and 2 sum back to the country; admin1_name / admin2_name select
    level1 = await rows(api, admin_level=1, location_code="SYR", event_type="political_violence")
    assert level1 and all(r["admin1_name"] and r["admin2_name"] is None for r in level1)
    assert sum(r["events"] for r in level1) == sum(
        r["events"] for r in syria if r["event_type"] == "political_violence"
    )
    aleppo = await rows(api, admin_level=1, location_code="SYR", admin1_name="aleppo")
    assert aleppo and {r["admin1_name"] for r in aleppo} == {"Aleppo"}
    level2 = await rows(api, admin_level=2, location_code="SYR", admin1_name="Aleppo")
    assert level2 and all(r["admin2_name"] for r in level2)
    assert sum(r["events"] for r in level2) == sum(r["events"] for r in aleppo)
    one = level2[0]["admin2_name"]
    only = await rows(api, admin_level=2, location_code="SYR", admin2_name=one)
    assert only and {r["admin2_name"] for r in only} == {one}
    assert await rows(api) == await rows(api, admin_level=2)

    # limit and offset page the same order; CSV holds the same rows
    assert await rows(api, admin_level=0, limit=5, offset=5) == national[5:10]
    response = await api.get(
        URL, params={"app_identifier": api.read_key, "admin_level": 0, "output_format": "csv"}
    )
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(response.text)))
    assert len(table) == len(national)
    assert [{k: ("" if v is None else str(v)) for k, v in r.items()} for r in national] == table


BAD = [
    ({"event_type": "battles"}, "event_type"),
    ({"admin_level": "3"}, "admin_level"),
    ({"limit": "10001"}, "limit"),
    ({"limit": "0"}, "limit"),
    ({"offset": "-1"}, "offset"),
    ({"start_date": "2022-13-01"}, "start_date"),
    ({"end_date": "soon"}, "end_date"),
    ({"output_format": "xml"}, "output_format"),
    ({"location_code": "SY"}, "location_code"),
    ({"admin1_name": "\x00"}, "NUL"),
]


async def test_bad_parameters_are_400(api: Api) -> None:
    for params, word in BAD:
        response = await api.get(URL, params={"app_identifier": api.read_key, **params})
        assert response.status_code == 400, (params, response.text)
        assert word in response.json()["detail"], params
