"""The gazetteer on the two real files: UCDP's Syria GED and ACLED's test file, imported once.

Every expected number is counted here from the CSV files themselves. Data: UCDP GED (CC BY 4.0;
Sundberg & Melander 2013, Högbladh 2019); ACLED's dummy file as acledR ships it (not copied).
"""

from __future__ import annotations

import csv
import functools
import gzip
from collections import Counter
from collections.abc import AsyncIterator
from importlib.resources import files
from pathlib import Path
from typing import Any

import orjson
import pytest
from shapely.geometry import Point, shape

from tests.conftest import Api, make_api, shared_file, truncate_all
from tests.imports.support import run_file

UCDP = "ucdp/ged-syria-2016-01-to-2019-11.csv"
ACLED = "acled/acled-dummy-2022h1.csv"
# Each governorate's spellings: UCDP's, ACLED's, Natural Earth's, common English ones, the code.
SPELLINGS = {
    "SY-HM": ["Hama", "Hamah", "Hamah Governorate", "Ḥamāh", "SY-HM"],
    "SY-LA": ["Lattakia", "Latakia", "Latakia Governorate", "SY-LA"],
    "SY-ID": ["Idleb", "Idlib", "Idlib Governorate", "SY-ID"],
    "SY-DR": ["Daraa", "Dar'a", "Dara", "Daraa Governorate", "SY-DR"],
    "SY-RA": ["Raqqa", "Ar Raqqah", "Ar Raqqa", "Ar Raqqah Governorate", "SY-RA"],
    "SY-HA": ["Hasakah", "Al Hasakah", "Al Hasakeh", "Al Hasakah Governorate", "SY-HA"],
    "SY-RD": ["Rif Dimashq", "Rural Damascus", "Rif Dimashq Governorate", "SY-RD"],
    "SY-SU": ["Suwayda", "As Suwayda", "As Sweida", "As Suwayda Governorate", "SY-SU"],
}
BBOX = (36.0, 35.5, 36.5, 36.0)


def read(relative: str) -> list[dict[str, str]]:
    path = shared_file(relative)
    with path.open(newline="", encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def data_files() -> tuple[Path, Path]:
    return shared_file(UCDP), shared_file(ACLED)


@pytest.fixture(scope="module")
async def loaded(database_url: str, data_files: tuple[Path, Path]) -> AsyncIterator[Api]:
    """Both files imported once for the module (the importer, as the CLI runs it)."""
    truncate_all(database_url)
    for path, fmt in zip(data_files, ("ucdp", "acled"), strict=True):
        report = await run_file(database_url, path, fmt)
        assert report.committed, report
    async for api in make_api(database_url):
        yield api


async def total(api: Api, **params: Any) -> int:
    response = await api.get("/v1/events", params={"limit": 1, "total": "true", **params})
    assert response.status_code == 200, response.text
    return int(response.json()["total"])


async def groups(api: Api, **params: Any) -> list[dict[str, Any]]:
    response = await api.get("/v1/aggregates", params=params)
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()["rows"]
    return rows


def precise(row: dict[str, str]) -> bool:
    return row["where_prec"] in {"1", "2"}


@functools.cache
def outlines() -> dict[str, Any]:
    units = orjson.loads(gzip.decompress((files("app.geodata") / "admin1.json.gz").read_bytes()))
    return {
        u["code"]: shape(orjson.loads(u["geometry"]))
        for u in units["units"]
        if u["country"] == "SY"
    }


def shipped_unit(row: dict[str, str]) -> str | None:
    point = Point(float(row["longitude"]), float(row["latitude"]))
    found = [code for code, geom in outlines().items() if geom.covers(point)]
    return found[0] if len(found) == 1 else None


def ucdp_syria() -> list[dict[str, str]]:
    return [r for r in read(UCDP) if r["country"] == "Syria"]


def acled_syria() -> list[dict[str, str]]:
    return [r for r in read(ACLED) if r["country"] == "Syria"]


async def test_syria_admin1_groups_are_the_governorates(loaded: Api) -> None:
    rows = await groups(loaded, country="SY", group_by="admin1")
    by_code = {r["admin1_code"]: r for r in rows}
    # 14 governorates (and the events the files give no governorate for), no duplicates.
    codes = [r["admin1_code"] for r in rows]
    assert len(codes) == len(set(codes))
    named = sorted(c for c in codes if c is not None)
    assert len(named) == 14 and all(c.startswith("SY-") for c in named), named
    assert len(rows) == 15
    unknown = by_code[None]
    assert unknown["admin1"] is None
    # Every Syrian event counted once.
    assert sum(r["events"] for r in rows) == len(ucdp_syria()) + len(acled_syria())
    # Each governorate holds UCDP's rows with its adm_1 plus ACLED's with its admin1 (file counts).
    ucdp = Counter(r["adm_1"] for r in ucdp_syria())
    acled = Counter(r["admin1"] for r in acled_syria())
    # UCDP rows without adm_1 but with a precise point (where_prec 1, 2) go by the point,
    # located here with shapely on the shipped outlines; coarser ones stay unknown.
    pointed = Counter(shipped_unit(r) for r in ucdp_syria() if not r["adm_1"] and precise(r))
    assert unknown["events"] == sum(1 for r in ucdp_syria() if not r["adm_1"] and not precise(r))
    hama = by_code["SY-HM"]
    assert hama["admin1"] == "Hama"
    assert ucdp["Hamah Governorate"] == 1386 and acled["Hama"] == 14  # the figures
    assert hama["events"] == ucdp["Hamah Governorate"] + acled["Hama"] + pointed["SY-HM"]
    pairs = {
        "SY-LA": ("Latakia Governorate", "Lattakia"),
        "SY-ID": ("Idlib Governorate", "Idleb"),
        "SY-HL": ("Aleppo Governorate", "Aleppo"),
        "SY-HA": ("Al Hasakah Governorate", "Al Hasakeh"),
        "SY-RD": ("Rif Dimashq Governorate", "Rural Damascus"),
        "SY-SU": ("As Suwayda Governorate", "As Sweida"),
        "SY-DR": ("Daraa Governorate", "Dara"),
        "SY-RA": ("Ar Raqqah Governorate", "Ar Raqqa"),
        "SY-DY": ("Deir ez Zor Governorate", "Deir ez Zor"),
        "SY-TA": ("Tartus Governorate", "Tartus"),
    }
    for code, (u, a) in pairs.items():
        assert by_code[code]["events"] == ucdp[u] + acled[a] + pointed[code], code


async def test_every_spelling_finds_the_same_unit(loaded: Api) -> None:
    ucdp = Counter(r["adm_1"] for r in ucdp_syria())
    acled = Counter(r["admin1"] for r in acled_syria())
    expected = {
        "SY-HM": ucdp["Hamah Governorate"] + acled["Hama"],
        "SY-LA": ucdp["Latakia Governorate"] + acled["Lattakia"],
        "SY-ID": ucdp["Idlib Governorate"] + acled["Idleb"],
        "SY-DR": ucdp["Daraa Governorate"] + acled["Dara"],
        "SY-RA": ucdp["Ar Raqqah Governorate"] + acled["Ar Raqqa"],
        "SY-HA": ucdp["Al Hasakah Governorate"] + acled["Al Hasakeh"],
        "SY-RD": ucdp["Rif Dimashq Governorate"] + acled["Rural Damascus"],
        "SY-SU": ucdp["As Suwayda Governorate"] + acled["As Sweida"],
    }
    pointed = Counter(shipped_unit(r) for r in ucdp_syria() if not r["adm_1"] and precise(r))
    for code, names in SPELLINGS.items():
        expected[code] += pointed[code]
        for name in names:
            assert await total(loaded, admin1=name) == expected[code], (code, name)
    # Aggregates and exports share the filter.
    [row] = await groups(loaded, admin1="Hamah Governorate", group_by="admin1")
    assert (row["admin1_code"], row["events"]) == ("SY-HM", expected["SY-HM"])
    response = await loaded.get("/v1/events", params={"admin1": "Hamah", "format": "ndjson"})
    assert response.status_code == 200
    assert len(response.text.splitlines()) == expected["SY-HM"]


async def test_the_place_shows_its_unit(loaded: Api) -> None:
    response = await loaded.get(
        "/v1/events", params={"admin1": "Latakia", "dataset": "ucdp", "limit": 5}
    )
    items = response.json()["items"]
    assert items and {i["place"]["admin1_code"] for i in items} == {"SY-LA"}
    assert {i["place"]["admin1"] for i in items} == {"Latakia Governorate"}  # as UCDP says


async def test_the_bbox_finds_every_event_of_the_file(loaded: Api) -> None:
    west, south, east, north = BBOX
    inside = [
        r
        for r in ucdp_syria()
        if west <= float(r["longitude"]) <= east and south <= float(r["latitude"]) <= north
    ]
    assert len(inside) == 796  # the figure
    bbox = ",".join(str(v) for v in BBOX)
    assert await total(loaded, bbox=bbox, dataset="ucdp") == len(inside)
    # Coarse rows (a district or governorate, where_prec 3 and 4) keep the file's coordinates.
    coarse = [r for r in inside if r["where_prec"] in {"3", "4"}]
    assert coarse
    assert await total(loaded, bbox=bbox, dataset="ucdp", geo_precision=3) == sum(
        1 for r in inside if r["where_prec"] not in {"1", "2"}
    )
    # The coarse rows are on the map: the grid counts them too.
    response = await loaded.get("/v1/maps/grid", params={"bbox": bbox, "dataset": "ucdp"})
    assert response.status_code == 200
    assert response.json()["events"] == len(inside)


async def test_type_of_violence_filter_and_group(loaded: Api) -> None:
    rows = ucdp_syria()
    by_type = Counter(int(r["type_of_violence"]) for r in rows)
    for tov, n in by_type.items():
        assert await total(loaded, type_of_violence=tov) == n
    grouped = await groups(loaded, group_by="type_of_violence", dataset="ucdp")
    assert {r["type_of_violence"]: r["events"] for r in grouped} == dict(by_type)
    # ACLED's rows have no UCDP coding: one group of null beside UCDP's three.
    everything = await groups(loaded, group_by="type_of_violence")
    assert {r["type_of_violence"] for r in everything} == {None, 1, 2, 3}
    dyads = Counter(int(r["dyad_new_id"]) for r in rows)
    dyad, n = dyads.most_common(1)[0]
    assert await total(loaded, dyad_id=dyad) == n
    conflicts = Counter(int(r["conflict_new_id"]) for r in rows)
    grouped = await groups(loaded, group_by="conflict_id", dataset="ucdp")
    assert {r["conflict_id"]: r["events"] for r in grouped} == dict(conflicts)
    fatal = sum(int(r["best"]) for r in rows if r["type_of_violence"] == "3")
    [one_sided] = await groups(loaded, type_of_violence=3)
    assert one_sided["events"] == by_type[3] and one_sided["fatalities_best"] == fatal


async def test_acled_api_serves_acled_coded_rows_unless_asked(loaded: Api) -> None:
    acled = acled_syria()
    ucdp = ucdp_syria()
    params = {"country": "Syria", "limit": 0, "fields": "event_id_cnty"}
    response = await loaded.get("/acled/acled/read", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["count"] == len(acled)
    assert {r["event_id_cnty"] for r in body["data"]} == {r["event_id_cnty"] for r in acled}
    # Every dataset: counted (with_total), not listed.
    counted = {**params, "limit": 1, "with_total": "true"}
    everything = await loaded.get("/acled/acled/read", params={**counted, "all_datasets": "true"})
    assert everything.json()["total_count"] == len(acled) + len(ucdp)
    default = await loaded.get("/acled/acled/read", params=counted)
    assert default.json()["total_count"] == len(acled)
    bad = await loaded.get("/acled/acled/read", params={**params, "all_datasets": "maybe"})
    assert bad.status_code == 400
    # ACLED's current path, for OAuth clients (a credential is always needed there).
    api_path = await loaded.get("/api/acled/read", params=params, headers=loaded.read_auth)
    assert api_path.status_code == 200, api_path.text
    assert api_path.json()["count"] == len(acled)


async def test_top_governorates_and_the_rest(loaded: Api) -> None:
    everything = await groups(loaded, country="SY", group_by="admin1")
    ranked = sorted(everything, key=lambda r: -r["events"])
    rows = await groups(loaded, country="SY", group_by="admin1", top=3)
    kept = [(r["admin1"], r["admin1_code"], r["events"]) for r in rows if r["admin1"] != "other"]
    assert kept == [(r["admin1"], r["admin1_code"], r["events"]) for r in ranked[:3]]
    [other] = [r for r in rows if r["admin1"] == "other"]
    assert other["admin1_code"] == "other"
    assert other["events"] == sum(r["events"] for r in ranked[3:])


async def test_a_spelling_added_by_an_analyst(loaded: Api) -> None:
    # SOHR writes "Damascus countryside"; neither file nor Natural Earth does.
    ucdp = Counter(r["adm_1"] for r in ucdp_syria())
    acled = Counter(r["admin1"] for r in acled_syria())
    expected = ucdp["Rif Dimashq Governorate"] + acled["Rural Damascus"]
    assert await total(loaded, admin1="Damascus countryside") == 0
    body = {"name": "Damascus countryside"}
    assert (await loaded.client.post("/v1/admin-units/SY-RD/names", json=body)).status_code == 401
    added = await loaded.post("/v1/admin-units/SY-RD/names", json=body)
    assert added.status_code == 201, added.text
    assert {"name": "Damascus countryside", "source": "api"} in added.json()["names"]
    assert await total(loaded, admin1="Damascus countryside") == expected
    assert await total(loaded, admin1="damascus  COUNTRYSIDE") == expected
    again = await loaded.post("/v1/admin-units/SY-RD/names", json=body)
    assert again.status_code == 201  # already its name: nothing changes
    # A spelling of another unit is refused, and changes nothing.
    taken = await loaded.post("/v1/admin-units/SY-RD/names", json={"name": "Damascus"})
    assert taken.status_code == 409 and taken.json()["code"] == "duplicate"
    assert await total(loaded, admin1="Damascus") == ucdp["Damascus Governorate"]
    missing = await loaded.post("/v1/admin-units/SY-ZZ/names", json=body)
    assert missing.status_code == 404
