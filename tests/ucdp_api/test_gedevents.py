"""UCDP's API at /api/gedevents/{version}: the real Syria file in and out, every filter, paging
to the end, 401 without the token header; rows equal to the UCDP export of the same events."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any
from urllib.parse import parse_qs, urlsplit

from app.exports.ucdp import COLUMNS
from tests.conftest import Api, shared_file
from tests.imports.support import run_file
from tests.support import insert_event

URL = "/api/gedevents/25.1"
FLOATS = {"latitude", "longitude"}


def token(api: Api) -> dict[str, str]:
    return {"x-ucdp-access-token": api.read_key}


def same(row: dict[str, Any], text: dict[str, str]) -> bool:
    """A JSON row of the API against a CSV row (the file's or the export's), column by column."""
    for name in COLUMNS:
        value, expected = row[name], text[name]
        if value is None:
            ok = expected == ""
        elif name in FLOATS:
            ok = float(expected) == value
        else:
            ok = str(value) == expected
        if not ok:
            return False
    return True


async def page(api: Api, **params: Any) -> dict[str, Any]:
    response = await api.get(URL, params=params, headers=token(api))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"TotalCount", "TotalPages", "PreviousPageUrl", "NextPageUrl", "Result"}
    return body


async def every_row(api: Api, **params: Any) -> list[dict[str, Any]]:
    """Follow NextPageUrl from page 0 until it is "" (what UCDP's R clients do)."""
    body = await page(api, page=0, **params)
    rows = list(body["Result"])
    pages = 1
    while body["NextPageUrl"] != "":
        parts = urlsplit(body["NextPageUrl"])
        response = await api.get(parts.path + "?" + parts.query, headers=token(api))
        assert response.status_code == 200, response.text
        body = response.json()
        rows += body["Result"]
        pages += 1
    assert pages == max(body["TotalPages"], 1)
    assert len(rows) == body["TotalCount"]
    return rows


def ids(rows: list[dict[str, Any]]) -> set[str]:
    return {str(r["id"]) for r in rows}


async def export(api: Api, **params: Any) -> dict[str, dict[str, str]]:
    params = {"format": "csv", "shape": "ucdp", **params}
    response = await api.get("/v1/events", params=params)
    assert response.status_code == 200, response.text
    return {r["id"]: r for r in csv.DictReader(io.StringIO(response.text))}


async def test_the_syria_file_through_the_ucdp_api(api: Api) -> None:
    path = shared_file("ucdp/ged-syria-2016-01-to-2019-11.csv")
    with path.open(newline="", encoding="utf-8-sig") as fh:
        file_rows = {r["id"]: r for r in csv.DictReader(fh)}
    assert (await run_file(api.database_url, path, "ucdp")).committed

    # No token, a wrong one: UCDP's 401
    for headers in ({}, {"x-ucdp-access-token": "cdb_deadbeef_nope"}):
        refused = await api.get(URL, params={"pagesize": 1}, headers=headers)
        assert refused.status_code == 401
        assert "API token" in refused.json()["Message"]
    assert (await api.get(URL, headers={"x-ucdp-access-token": ""})).status_code == 401

    # Paging to the end, 1,000 at a time: every row once, and each one as the file has it
    rows = await every_row(api, pagesize=1000)
    assert len(rows) == len(file_rows) == 16566
    assert ids(rows) == set(file_rows)
    bad = [r["id"] for r in rows if not same(r, file_rows[str(r["id"])])]
    assert bad == []
    assert all(isinstance(r["id"], int) and isinstance(r["best"], int) for r in rows)
    assert all(isinstance(r["latitude"], float) for r in rows)

    # ... and as the UCDP export of the same events has it (the last month's, to stay quick)
    exported = await export(api, date_from="2019-11-01")
    assert set(exported) == {k for k, r in file_rows.items() if r["date_end"] >= "2019-11-01"}
    assert len(exported) > 100
    by_id = {str(r["id"]): r for r in rows}
    assert [k for k, r in exported.items() if not same(by_id[k], r)] == []

    # Page 0 is the first page, page 1 the second (0-based, as UCDP's API)
    first = await page(api, pagesize=7, page=0)
    second = await page(api, pagesize=7, page=1)
    assert first["Result"] == rows[:7] and second["Result"] == rows[7:14]
    assert first["PreviousPageUrl"] == ""
    assert parse_qs(urlsplit(second["PreviousPageUrl"]).query)["page"] == ["0"]
    assert parse_qs(urlsplit(first["NextPageUrl"]).query)["page"] == ["1"]
    assert first["TotalPages"] == -(-16566 // 7)
    beyond = await page(api, pagesize=1000, page=17)
    assert beyond["Result"] == [] and beyond["NextPageUrl"] == ""
    # No page given: the first; any version: the same data
    assert (await api.get("/api/gedevents/19.1?pagesize=7", headers=token(api))).json()[
        "Result"
    ] == rows[:7]

    # Each filter, against the file
    def where(test: Any) -> set[str]:
        return {k for k, r in file_rows.items() if test(r)}

    async def selected(**params: Any) -> set[str]:
        return ids(await every_row(api, pagesize=1000, **params))

    assert (await page(api, Country="652", pagesize=1))["TotalCount"] == 16566
    assert (await page(api, Country="365", pagesize=1))["TotalCount"] == 0
    assert (await page(api, Country="365,652", pagesize=1))["TotalCount"] == 16566

    def in_month(r: dict[str, str]) -> bool:
        return r["date_start"] >= "2018-03-01" and r["date_end"] <= "2018-03-31"

    month = await selected(StartDate="2018-03-01", EndDate="2018-03-31")
    assert month == where(in_month) and 0 < len(month) < 2000
    assert await selected(startdate="2019-11-15") == where(
        lambda r: r["date_start"] >= "2019-11-15"
    )

    violence = await page(api, TypeOfViolence="2,3", pagesize=1)
    assert violence["TotalCount"] == len(where(lambda r: r["type_of_violence"] in {"2", "3"}))
    assert 0 < violence["TotalCount"] < 16566
    three = await selected(TypeOfViolence="3", EndDate="2016-06-30")
    assert three == where(lambda r: r["type_of_violence"] == "3" and r["date_end"] <= "2016-06-30")

    def in_box(r: dict[str, str]) -> bool:
        return 35.0 <= float(r["latitude"]) <= 35.3 and 36.0 <= float(r["longitude"]) <= 36.5

    boxed = await selected(Geography="35.3 36.5,35 36")
    assert boxed == where(in_box) and 0 < len(boxed) < 16566

    dyad = min({r["dyad_new_id"] for r in file_rows.values()}, key=int)
    assert await selected(Dyad=dyad) == where(lambda r: r["dyad_new_id"] == dyad)
    side_b = sorted({r["side_b_new_id"] for r in file_rows.values()}, key=int)[-1]
    assert await selected(Actor=side_b) == where(
        lambda r: side_b in (r["side_a_new_id"], r["side_b_new_id"])
    )
    assert len(where(lambda r: side_b in (r["side_a_new_id"], r["side_b_new_id"]))) > 0
    assert await selected(Id="214797,214804,1") == {"214797", "214804"}
    # Unknown filters are ignored, as UCDP does
    assert (await page(api, Foo="bar", pagesize=1))["TotalCount"] == 16566


BAD = [
    ({"pagesize": "1001"}, "pagesize"),
    ({"pagesize": "0"}, "pagesize"),
    ({"page": "-1"}, "page"),
    ({"page": "x"}, "page"),
    ({"StartDate": "2016-13-01"}, "StartDate"),
    ({"EndDate": "yesterday"}, "EndDate"),
    ({"TypeOfViolence": "4"}, "TypeOfViolence"),
    ({"Country": "Syria"}, "Country"),
    ({"Dyad": "1.5"}, "Dyad"),
    ({"Geography": "35 36"}, "Geography"),
    ({"Geography": "nan nan,1 1"}, "Geography"),
    ({"Actor": "\x00"}, "NUL"),
]


async def test_bad_requests_are_answered_with_a_message(api: Api) -> None:
    for params, word in BAD:
        response = await api.get(URL, params=params, headers=token(api))
        assert response.status_code == 400, (params, response.text)
        assert word in response.json()["Message"], params
    response = await api.get("/api/gedevents/latest", headers=token(api))
    assert response.status_code == 404 and "version" in response.json()["Message"]


async def test_events_of_other_datasets_as_the_ucdp_export_shows_them(seeded_api: Api) -> None:
    api = seeded_api
    # No state actor: non-state (2); civilians targeted: one-sided (3)
    insert_event(api.database_url, external_id="UCDP-T2")
    insert_event(api.database_url, external_id="UCDP-T3", civilian_targeting=True)
    rows = await every_row(api, pagesize=4)
    exported = await export(api)
    assert len(rows) == len(exported) >= 10
    assert [r["id"] for r in rows if not same(r, exported[str(r["id"])])] == []
    # Computed columns filter on the value shown: type_of_violence, the place's coordinates
    for code in (1, 2, 3):
        chosen = await every_row(api, pagesize=1000, TypeOfViolence=str(code))
        assert ids(chosen) == {k for k, r in exported.items() if r["type_of_violence"] == str(code)}
    assert {r["type_of_violence"] for r in exported.values()} == {"1", "2", "3"}
    located = {k: r for k, r in exported.items() if r["latitude"]}
    lat = sorted(float(r["latitude"]) for r in located.values())[len(located) // 2]
    boxed = await every_row(api, pagesize=1000, Geography=f"{lat} -180,90 180")
    assert ids(boxed) == {k for k, r in located.items() if float(r["latitude"]) >= lat}
    assert 0 < len(boxed) < len(located)
    assert dt.date.fromisoformat(rows[0]["date_start"])
