"""ACLED CSV imports: both layouts, normalization, re-imports, updates, deletion lists, bad rows."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from app.cli import cli
from tests.conftest import Api, shared_file
from tests.imports.support import FIXTURES, counts, event_id, query, run_file, versions

CURRENT = FIXTURES / "acled-current.csv"


async def get_event(api: Api, external_id: str, dataset: str = "acled") -> dict[str, Any]:
    response = await api.get(f"/v1/events/{event_id(api.database_url, dataset, external_id)}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def roles(event: dict[str, Any]) -> list[tuple[str, str]]:
    return [(a["role"], a["name"]) for a in event["actors"]]


async def test_current_layout_is_normalized(api: Api) -> None:
    report = await run_file(api.database_url, CURRENT, "acled")
    assert (report.committed, report.inserted, report.rejected) == (True, 6, 0)

    clash = await get_event(api, "TST1")
    assert clash["sub_event_type"]["code"] == "armed_clash"
    assert (clash["date_start"], clash["date_end"], clash["date_precision"]) == (
        "2022-03-01",
        "2022-03-01",
        "day",
    )
    # Associated actors are split into actors of their own, in the file's order.
    assert roles(clash) == [
        ("initiator", "Military Forces of Testland (2020-)"),
        ("initiator_support", "Police Forces of Testland (2020-)"),
        ("initiator_support", "Testland Militia"),
        ("target", "North Front"),
        ("target_support", "Hill Brigade"),
        ("target_support", "River Brigade"),
    ]
    # One source list, two sources: a claim each, relayed by ACLED.
    assert [(c["source"]["name"], c["via_source"]["name"], c["kind"]) for c in clash["claims"]] == [
        ("Reuters", "ACLED", "occurrence"),
        ("SOHR", "ACLED", "occurrence"),
    ]
    # ACLED's one conservative figure: the floor and the best estimate, no upper bound.
    assert (clash["fatalities_low"], clash["fatalities_best"], clash["fatalities_high"]) == (
        4,
        4,
        None,
    )
    assert clash["place"]["name"] == "Qalaat al-Madiq"
    assert (clash["place"]["admin1"], clash["place"]["admin2"]) == ("Hama", "As Suqaylabiyah")
    assert clash["place"]["country_code"] == "SY"
    assert clash["geo_precision"] == 1
    assert clash["summary"].startswith("On 1 March 2022, the army clashed")
    assert clash["extras"]["inter1"] == 1 and clash["extras"]["inter2"] == 2
    assert clash["extras"]["source_scale"] == "International-Subnational"
    assert clash["extras"]["timestamp"] == 1646400000
    assert clash["extras"]["country"] == "Syria"

    protest = await get_event(api, "TST2")
    # ACLED's test file spells it "Demostrations"; stored under the right name.
    assert protest["extras"]["disorder_type"] == "Demonstrations"
    assert protest["tags"] == ["crowd size=no report"]
    assert roles(protest) == [("initiator", "Protesters (Syria)")]

    shelling = await get_event(api, "TST3")
    assert shelling["date_precision"] == "week"
    assert shelling["civilian_targeting"] is True
    # Same location, same place; the same actor name, the same actor.
    assert shelling["place"]["id"] == clash["place"]["id"]
    assert shelling["actors"][0]["actor_id"] == clash["actors"][0]["actor_id"]

    force = await get_event(api, "TST4")
    # "protestors" is a spelling variant; text inter labels as the live API sends them.
    assert force["sub_event_type"]["code"] == "excessive_force_against_protesters"
    assert force["date_precision"] == "month"
    assert (force["extras"]["inter1"], force["extras"]["inter2"]) == (1, 6)
    assert force["extras"]["disorder_type"] == "Political violence; Demonstrations"

    kosovo = await get_event(api, "TST5")
    assert kosovo["place"]["country_code"] == "XK"
    assert kosovo["tags"] == ["crowd size=around 200", "teachers"]

    arrest = await get_event(api, "TST6")
    assert arrest["summary"].endswith(
        "police arrested two men in Aleppo.\nThey were released the next day."
    )

    # Places nest: country > admin1 > admin2 > location, each found again by natural key.
    path = query(api.database_url, "SELECT path FROM places WHERE id = :i", i=clash["place"]["id"])[
        0
    ][0]
    ids = [int(p) for p in path.strip("/").split("/")]
    kinds = [
        query(api.database_url, "SELECT kind, name FROM places WHERE id = :i", i=i)[0] for i in ids
    ]
    assert [tuple(k) for k in kinds] == [
        ("country", "Syria"),
        ("province", "Hama"),
        ("district", "As Suqaylabiyah"),
        ("town", "Qalaat al-Madiq"),
    ]
    actors = query(api.database_url, "SELECT count(*) FROM actors")[0][0]
    assert actors == 11


async def test_pre_2021_layout(api: Api) -> None:
    await run_file(api.database_url, CURRENT, "acled")
    report = await run_file(api.database_url, FIXTURES / "acled-old-layout.csv", "acled")
    assert (report.committed, report.inserted, report.rejected) == (True, 3, 0)
    old = await get_event(api, "OLD1")
    assert old["date_start"] == "2020-05-09"
    assert (await get_event(api, "OLD2"))["date_start"] == "2019-12-28"
    third = await get_event(api, "OLD3")
    assert third["date_start"] == "2020-01-01"
    # No `iso` on that row: `iso3` gives the country.
    assert third["place"]["country_code"] == "SY"
    # Columns the current layout dropped stay with the event.
    assert (old["extras"]["data_id"], old["extras"]["event_id_no_cnty"]) == ("7041111", "1111")
    # Actors and places are shared across files.
    clash = await get_event(api, "TST1")
    assert old["actors"][0]["actor_id"] == clash["actors"][0]["actor_id"]
    assert old["place"]["id"] == clash["place"]["id"]


async def test_same_file_twice_changes_nothing(api: Api) -> None:
    await run_file(api.database_url, CURRENT, "acled")
    before, tables = versions(api.database_url), counts(api.database_url)
    report = await run_file(api.database_url, CURRENT, "acled")
    assert (report.inserted, report.updated, report.unchanged) == (0, 0, 6)
    assert versions(api.database_url) == before
    assert counts(api.database_url) == tables


async def test_newer_file_updates_what_changed(api: Api, tmp_path: Path) -> None:
    await run_file(api.database_url, CURRENT, "acled")
    before = {row[1]: row for row in versions(api.database_url)}
    claims_before = counts(api.database_url)["claims"]

    with CURRENT.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        if row["event_id_cnty"] == "TST1":
            row["fatalities"] = "6"
            row["notes"] = "On 1 March 2022, clashes near Qalaat al-Madiq left 6 dead."
        if row["event_id_cnty"] == "TST2":
            row["tags"] = "crowd size=around 50"
    newer = tmp_path / "acled-newer.csv"
    with newer.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)

    report = await run_file(api.database_url, newer, "acled")
    assert (report.inserted, report.updated, report.unchanged) == (0, 2, 4)
    after = {row[1]: row for row in versions(api.database_url)}
    for key in ("TST3", "TST4", "TST5", "TST6"):
        assert after[key] == before[key]
    assert after["TST1"][3] == 2 and after["TST1"][4] > before["TST1"][4]
    clash = await get_event(api, "TST1")
    assert clash["fatalities_best"] == 6
    assert clash["summary"].endswith("left 6 dead.")
    assert len(clash["claims"]) == 2  # rewritten, not duplicated
    assert counts(api.database_url)["claims"] == claims_before
    assert (await get_event(api, "TST2"))["tags"] == ["crowd size=around 50"]
    revisions = query(
        api.database_url,
        "SELECT operation, version FROM event_revisions WHERE event_id = :i",
        i=clash["id"],
    )
    assert [tuple(r) for r in revisions] == [("import", 2)]


async def test_deletion_list_leaves_tombstones(api: Api) -> None:
    await run_file(api.database_url, CURRENT, "acled")
    gone = event_id(api.database_url, "acled", "TST2")
    report = await run_file(api.database_url, FIXTURES / "acled-deletions.csv", "acled-deletions")
    assert (report.committed, report.deleted, report.unchanged) == (True, 2, 1)
    assert (await api.get(f"/v1/events/{gone}")).status_code == 404
    tombstones = query(
        api.database_url,
        "SELECT external_id, event_id, deleted_at FROM event_tombstones ORDER BY external_id",
    )
    assert [(t[0], t[1]) for t in tombstones] == [("TST2", gone), ("TST6", tombstones[1][1])]
    assert str(tombstones[0][2]).startswith("2022-04-15 05:20:00")

    again = await run_file(api.database_url, FIXTURES / "acled-deletions.csv", "acled-deletions")
    assert (again.deleted, again.unchanged) == (0, 3)

    deleted_feed = (await api.get("/acled/deleted/read")).json()["data"]
    assert sorted(d["event_id_cnty"] for d in deleted_feed) == ["TST2", "TST6"]

    # The events come back, with new ids, if a file has them again. The old ids stay deleted
    # (a client that held them learns it from /v1/changes); ACLED's deleted list drops the keys.
    back = await run_file(api.database_url, CURRENT, "acled")
    assert (back.inserted, back.unchanged) == (2, 4)
    assert query(api.database_url, "SELECT count(*) FROM event_tombstones")[0][0] == 2
    assert event_id(api.database_url, "acled", "TST2") > gone
    assert (await api.get("/acled/deleted/read")).json()["data"] == []
    feed = (await api.get("/v1/changes", params={"view": "ids"})).json()
    assert gone in [d["event_id"] for d in feed["deleted"]]
    assert gone not in [c["id"] for c in feed["changed"]]


EXPECTED_REJECTS = [
    (5, "latitude", "95.5", "impossible coordinates"),
    (6, "sub_event_type", "Drone swarm", "unknown type"),
    (7, "event_date", "2022-13-45", "unparseable date"),
    (8, "external_id", "BAD1", "duplicate key within the file (first at line 2)"),
    (9, "inter1", "9", "unknown actor type"),
    (10, "iso", "999", "unknown country"),
    (11, "fatalities", "-3", "fatalities must be between 0"),
]


def assert_rejects(problems: list[Any]) -> None:
    got = [(p.line, p.column, p.value, p.reason) for p in problems]
    assert len(got) == len(EXPECTED_REJECTS), got
    for (line, column, value, reason), want in zip(got, EXPECTED_REJECTS, strict=True):
        assert (line, column, value) == want[:3]
        assert reason.startswith(want[3]), reason


async def test_bad_rows_all_or_nothing(api: Api) -> None:
    report = await run_file(api.database_url, FIXTURES / "acled-bad-rows.csv", "acled")
    assert report.committed is False
    assert_rejects(report.rejects)
    assert report.inserted == 0
    assert counts(api.database_url)["events"] == 0
    # Nothing at all was written: not even the places and actors of the valid rows.
    assert counts(api.database_url)["places"] == 0
    assert counts(api.database_url)["actors"] == 0


async def test_bad_rows_partial(api: Api) -> None:
    report = await run_file(
        api.database_url, FIXTURES / "acled-bad-rows.csv", "acled", partial=True
    )
    assert report.committed is True
    assert_rejects(report.rejects)
    assert report.inserted == 3
    ids = query(api.database_url, "SELECT external_id FROM events ORDER BY external_id")
    assert [r[0] for r in ids] == ["BAD1", "BAD2", "BAD9"]


async def test_cli_writes_rejects_file(api: Api, tmp_path: Path) -> None:
    runner = CliRunner()
    rejects = tmp_path / "rejects.csv"
    args = [
        "import",
        str(FIXTURES / "acled-bad-rows.csv"),
        "--format",
        "acled",
        "--database-url",
        api.database_url,
        "--progress",
        "none",
    ]
    strict = await asyncio.to_thread(runner.invoke, cli, [*args, "--rejects", str(rejects)])
    assert strict.exit_code == 2, strict.output
    assert "committed=false" in strict.stdout
    assert counts(api.database_url)["events"] == 0

    partial = await asyncio.to_thread(
        runner.invoke, cli, [*args, "--partial", "--rejects", str(rejects)]
    )
    assert partial.exit_code == 0, partial.output
    assert "inserted=3" in partial.stdout and "rejected=7" in partial.stdout
    with rejects.open(newline="") as fh:
        written = list(csv.DictReader(fh))
    assert [(int(r["line"]), r["column"], r["value"]) for r in written] == [
        e[:3] for e in EXPECTED_REJECTS
    ]
    assert all(r["severity"] == "reject" and r["reason"] for r in written)


async def test_not_an_acled_file(api: Api) -> None:
    runner = CliRunner()
    result = await asyncio.to_thread(
        runner.invoke,
        cli,
        [
            "import",
            str(FIXTURES / "events.json"),
            "--format",
            "acled",
            "--database-url",
            api.database_url,
        ],
    )
    assert result.exit_code == 1
    assert "import failed" in result.output


async def test_acleds_own_test_file(api: Api) -> None:
    path = shared_file("acled/acled-dummy-2022h1.csv")
    report = await run_file(api.database_url, path, "acled")
    assert (report.committed, report.inserted, report.rejected, len(report.warnings)) == (
        True,
        9000,
        0,
        0,
    )
    extras = [
        e if isinstance(e, dict) else json.loads(e)
        for (e,) in query(api.database_url, "SELECT extras FROM events")
    ]
    disorder = [e["disorder_type"] for e in extras]
    assert disorder.count("Demonstrations") == 4978  # all spelled "Demostrations" in the file
    assert "Demostrations" not in disorder
    # Associated actors were split: no actor name holds a ';'.
    assert query(api.database_url, "SELECT count(*) FROM actors WHERE name LIKE '%;%'")[0][0] == 0
    # One claim per distinct source per event.
    with path.open(newline="", encoding="utf-8") as fh:
        sources = sum(
            len({s.strip() for s in r["source"].split(";") if s.strip()})
            for r in csv.DictReader(fh)
        )
    assert counts(api.database_url)["claims"] == sources

    before = versions(api.database_url)
    again = await run_file(api.database_url, path, "acled")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 9000)
    assert versions(api.database_url) == before


async def test_extras_outside_the_json_rules_are_rejected(api: Api, tmp_path: Path) -> None:
    """The parser vouches for a row's extras without walking them (`_plain_extras`) only where
    nothing can break the JSON rules: an integer read from digits beyond 2**53 - 1, or extras
    too big once serialized, still reject the row, at its line; the largest safe integer and
    a long but storable cell do not."""
    with CURRENT.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        columns = list(reader.fieldnames or [])
        base = next(reader)
    cases = {
        "UNSAFE1": {"interaction": str(2**53)},
        "UNSAFE2": {"timestamp": str(2**53)},
        "UNSAFE3": {"region": "x" * 70_000},
        "UNSAFE4": {"extra_column": "y" * 70_000},
        "SAFE1": {"interaction": str(2**53 - 1), "timestamp": str(2**53 - 1)},
        "SAFE2": {"region": "x" * 9_000, "extra_column": "y" * 1_000},
    }
    path = tmp_path / "extras.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=[*columns, "extra_column"])
        writer.writeheader()
        for key, change in cases.items():
            writer.writerow({**base, "extra_column": "", **change, "event_id_cnty": key})
    report = await run_file(api.database_url, path, "acled", partial=True)
    assert report.committed and report.inserted == 2
    rejected = {p.external_id: (p.line, p.column) for p in report.rejects}
    assert rejected == {f"UNSAFE{i}": (i + 1, "extras") for i in range(1, 5)}, report.rejects
    safe = await get_event(api, "SAFE1")
    assert safe["extras"]["interaction"] == 2**53 - 1
    assert safe["extras"]["timestamp"] == 2**53 - 1
    assert len((await get_event(api, "SAFE2"))["extras"]["region"]) == 9_000


async def test_rows_at_one_place_keep_what_they_say_differently(api: Api, tmp_path: Path) -> None:
    """Rows that name one place (one natural key) with other coordinates or another spelling
    keep what differs in extras, whichever batch they are in and however often a place repeats
    (the loader works the differences out once per place and row values), so that an export
    gives each row back as it was."""
    with CURRENT.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        columns = list(reader.fieldnames or [])
        base = next(reader)
    moved = {"latitude": "35.5", "longitude": "36.5"}
    rows = {
        "P1": {},
        "P2": moved,
        "P3": {},
        "P4": moved,
        "P5": {"location": base["location"].upper()},
        "P6": moved,
    }
    path = tmp_path / "one-place.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        for key, change in rows.items():
            writer.writerow({**base, **change, "event_id_cnty": key})
    report = await run_file(api.database_url, path, "acled", chunk_size=2)
    assert (report.committed, report.inserted) == (True, 6)
    said: dict[str, dict[str, Any]] = {}
    places = set()
    for key in rows:
        event = await get_event(api, key)
        places.add(event["place"]["id"])
        extras = event["extras"]
        said[key] = {k: extras[k] for k in ("latitude", "longitude", "location") if k in extras}
    assert len(places) == 1
    assert said == {
        "P1": {},
        "P2": {"latitude": 35.5, "longitude": 36.5},
        "P3": {},
        "P4": {"latitude": 35.5, "longitude": 36.5},
        "P5": {"location": base["location"].upper()},
        "P6": {"latitude": 35.5, "longitude": 36.5},
    }
    export = await api.get("/v1/events", params={"format": "csv", "dataset": "acled"})
    assert export.status_code == 200, export.text
    exported = {r["event_id_cnty"]: r for r in csv.DictReader(io.StringIO(export.text))}
    assert {k: (r["latitude"], r["location"]) for k, r in exported.items()} == {
        "P1": ("35.4128", base["location"]),
        "P2": ("35.5000", base["location"]),
        "P3": ("35.4128", base["location"]),
        "P4": ("35.5000", base["location"]),
        "P5": ("35.4128", base["location"].upper()),
        "P6": ("35.5000", base["location"]),
    }
