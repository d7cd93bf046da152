"""Imports attach places to the gazetteer's admin-1 units and keep coarse coordinates.

Slices of the real UCDP Syria file (CC BY 4.0; Sundberg & Melander 2013, Högbladh 2019) are
written to a temporary file; the expected values are read from those rows.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from sqlalchemy import delete

from app.core.db import make_sync_engine
from app.gazetteer.service import load_gazetteer
from app.models import AdminUnit, AdminUnitName
from tests.conftest import Api, shared_file
from tests.imports.support import FIXTURES, event_id, query, run_file
from tests.imports.test_native import arrange

UCDP = "ucdp/ged-syria-2016-01-to-2019-11.csv"


def ucdp_rows() -> tuple[list[str], list[dict[str, str]]]:
    with shared_file(UCDP).open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


def write(path: Path, header: list[str], rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, header)
        writer.writeheader()
        writer.writerows(rows)
    return path


def village_then_governorate(
    rows: list[dict[str, str]],
) -> tuple[dict[str, str], dict[str, str]]:
    """A village's row in Latakia (its governorate becomes a parent place, without
    coordinates) and a row placed only at the governorate (where_prec 4)."""
    village = next(
        r for r in rows if r["adm_1"] == "Latakia Governorate" and r["where_prec"] == "1"
    )
    governorate = next(
        r
        for r in rows
        if r["where_prec"] == "4" and r["where_coordinates"] == "Latakia Governorate"
    )
    return village, governorate


async def get_event(api: Api, dataset: str, external_id: str) -> dict[str, Any]:
    response = await api.get(f"/v1/events/{event_id(api.database_url, dataset, external_id)}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_governorate_row_keeps_its_coordinates(api: Api, tmp_path: Path) -> None:
    header, rows = ucdp_rows()
    # The governorate's row comes in a later import.
    village, governorate = village_then_governorate(rows)
    first = await run_file(api.database_url, write(tmp_path / "a.csv", header, [village]), "ucdp")
    assert first.committed
    second = await run_file(
        api.database_url, write(tmp_path / "b.csv", header, [governorate]), "ucdp"
    )
    assert second.committed and second.inserted == 1
    event = await get_event(api, "ucdp", governorate["id"])
    place = event["place"]
    assert (place["latitude"], place["longitude"]) == (
        float(governorate["latitude"]),
        float(governorate["longitude"]),
    )
    assert place["admin1_code"] == "SY-LA"
    assert event["geo_precision"] == 3
    # UCDP's own coding is kept on the event.
    stored = query(
        api.database_url,
        "SELECT type_of_violence, conflict_id, dyad_id FROM events WHERE external_id = :e",
        e=governorate["id"],
    )
    assert tuple(stored[0]) == (
        int(governorate["type_of_violence"]),
        int(governorate["conflict_new_id"]),
        int(governorate["dyad_new_id"]),
    )
    # Both imports again: nothing changes.
    again = await run_file(
        api.database_url, write(tmp_path / "c.csv", header, [village, governorate]), "ucdp"
    )
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)


async def test_every_level_of_a_ucdp_place_gets_the_unit(api: Api, tmp_path: Path) -> None:
    header, rows = ucdp_rows()
    picked = [r for r in rows if r["adm_1"] == "Hamah Governorate"][:20]
    report = await run_file(api.database_url, write(tmp_path / "h.csv", header, picked), "ucdp")
    assert report.committed and report.phases["gazetteer"] >= 0
    places = query(
        api.database_url,
        "SELECT kind, admin1, admin1_code FROM places WHERE country_code = 'SY' "
        "AND kind != 'country'",
    )
    assert places and {p.admin1_code for p in places} == {"SY-HM"}
    assert {p.admin1 for p in places} == {"Hamah Governorate"}  # as the file spells it


async def test_a_json_import_attaches_its_places(api: Api) -> None:
    arrange(api.database_url)
    report = await run_file(api.database_url, FIXTURES / "events.ndjson", "ndjson")
    assert report.committed
    strike = await get_event(api, "reports", "R1")
    assert strike["place"]["admin1"] == "Hama"
    assert strike["place"]["admin1_code"] == "SY-HM"


async def test_an_import_into_a_schema_without_the_units_attaches_nothing(
    api: Api, tmp_path: Path
) -> None:
    """A database migrated without `load_reference` has no units: the import commits, and no
    name is learned for a unit that is not there (it failed on the foreign key)."""
    header, rows = ucdp_rows()
    rows = rows[:300]  # 19 governorates' names, each carried by several places
    engine = make_sync_engine(api.database_url)
    with engine.begin() as conn:
        conn.execute(delete(AdminUnitName))
        conn.execute(delete(AdminUnit))
    try:
        report = await run_file(api.database_url, write(tmp_path / "a.csv", header, rows), "ucdp")
        assert report.committed and report.inserted == len(rows), report.rejects[:3]
        assert query(api.database_url, "SELECT count(*) FROM admin_unit_names") == [(0,)]
        attached = "SELECT count(*) FROM places WHERE admin1_code IS NOT NULL"
        assert query(api.database_url, attached) == [(0,)]
    finally:
        with engine.begin() as conn:
            load_gazetteer(conn)
        engine.dispose()


async def test_a_later_import_that_relabels_a_place_brings_its_events_back(
    api: Api, tmp_path: Path
) -> None:
    """A coarse row (where_prec 5: not located by its point) under a spelling the gazetteer
    does not know shows no unit; a later import whose precise rows teach that spelling
    relabels the earlier place, so the earlier event must be in /v1/changes again."""
    header, rows = ucdp_rows()
    spelling = "Latakia Feed Province"
    coarse = next(r for r in rows if r["adm_1"] == "Latakia Governorate" and r["where_prec"] == "5")
    places = {
        r["where_coordinates"]: r
        for r in rows
        if r["adm_1"] == "Latakia Governorate" and r["where_prec"] == "1"
    }
    precise = list(places.values())  # one row a place: each place votes once
    assert len(precise) >= 3
    first = await run_file(
        api.database_url,
        write(tmp_path / "a.csv", header, [{**coarse, "adm_1": spelling}]),
        "ucdp",
    )
    assert first.committed
    earlier = await get_event(api, "ucdp", coarse["id"])
    assert earlier["place"]["admin1_code"] is None
    since = (await api.get("/v1/changes", params={"view": "ids", "limit": 1000})).json()
    seq = int(since["high_water_seq"])
    assert earlier["id"] in [c["id"] for c in since["changed"]]
    relabelled = [{**r, "adm_1": spelling} for r in precise[:3]]
    second = await run_file(api.database_url, write(tmp_path / "b.csv", header, relabelled), "ucdp")
    assert second.committed and second.inserted == 3
    again = await get_event(api, "ucdp", coarse["id"])
    assert again["place"]["admin1_code"] == "SY-LA"
    assert again["version"] == earlier["version"]
    after = await api.get("/v1/changes", params={"view": "ids", "since_seq": seq, "limit": 1000})
    assert earlier["id"] in [c["id"] for c in after.json()["changed"]]


async def test_an_import_that_gives_a_place_coordinates_brings_its_events_back(
    api: Api, tmp_path: Path
) -> None:
    """A village's row makes its governorate a parent place without coordinates; an event
    entered through the API shows that governorate; a later row placed at the governorate
    gives it coordinates, which the earlier event then shows: it must be in /v1/changes again."""
    header, rows = ucdp_rows()
    village, governorate = village_then_governorate(rows)
    first = await run_file(api.database_url, write(tmp_path / "a.csv", header, [village]), "ucdp")
    assert first.committed
    [parent] = query(
        api.database_url,
        "SELECT id FROM places WHERE kind = 'province' AND name = 'Latakia Governorate'",
    )
    created = await api.post(
        "/v1/events",
        json={
            "external_id": "LATAKIA-1",
            "date_start": "2016-02-01",
            "sub_event_type": "armed_clash",
            "summary": "Clashes somewhere in Latakia",
            "place_id": parent.id,
        },
    )
    assert created.status_code == 201, created.text
    earlier = created.json()
    assert earlier["place"]["latitude"] is None
    since = (await api.get("/v1/changes", params={"view": "ids", "limit": 1000})).json()
    seq = int(since["high_water_seq"])
    second = await run_file(
        api.database_url, write(tmp_path / "b.csv", header, [governorate]), "ucdp"
    )
    assert second.committed and second.inserted == 1
    response = await api.get(f"/v1/events/{earlier['id']}")
    again = response.json()
    assert (again["place"]["latitude"], again["place"]["longitude"]) == (
        float(governorate["latitude"]),
        float(governorate["longitude"]),
    )
    assert again["version"] == earlier["version"]
    after = await api.get("/v1/changes", params={"view": "ids", "since_seq": seq, "limit": 1000})
    assert earlier["id"] in [c["id"] for c in after.json()["changed"]]
