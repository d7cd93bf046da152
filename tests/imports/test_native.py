"""The project's own shape (EventCreate) as JSON or NDJSON: what POST /v1/events takes, in bulk."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import Api
from tests.factories import create_actor, create_source
from tests.imports.support import FIXTURES, counts, event_id, query, run_file, versions


def arrange(url: str) -> None:
    create_actor(url, "Test Air Force", 8)
    create_actor(url, "Test Army", 1)
    create_actor(url, "Test Rebels", 2, aliases=["The Rebels"])
    create_source(url, "Test Agency")


async def get_event(api: Api, external_id: str) -> dict[str, Any]:
    response = await api.get(f"/v1/events/{event_id(api.database_url, 'reports', external_id)}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_ndjson_then_json(api: Api) -> None:
    arrange(api.database_url)
    report = await run_file(api.database_url, FIXTURES / "events.ndjson", "ndjson")
    assert (report.committed, report.inserted, report.rejected) == (True, 3, 0)

    strike = await get_event(api, "R1")
    assert strike["place"]["name"] == "Kafr Nabudah"
    assert [(a["role"], a["name"]) for a in strike["actors"]] == [
        ("initiator", "Test Air Force"),
        ("target", "Test Rebels"),
    ]
    [claim] = strike["claims"]
    [casualty] = strike["casualties"]
    assert casualty["claim_id"] == claim["id"]  # the claim_ref was resolved
    assert (casualty["low"], casualty["best"], casualty["high"]) == (2, 3, 5)
    assert strike["tags"] == ["air campaign"]
    clashes = await get_event(api, "R2")
    assert (clashes["date_end"], clashes["date_precision"]) == ("2015-10-09", "range")
    assert clashes["place"]["id"] == strike["place"]["id"]

    # No external_id in the file: one is made from the content, the same every time.
    made = query(api.database_url, "SELECT external_id FROM events WHERE external_id LIKE 'h%'")
    assert len(made) == 1

    before = versions(api.database_url)
    # The same events as a JSON array: nothing changes.
    again = await run_file(api.database_url, FIXTURES / "events.json", "json")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 3)
    assert versions(api.database_url) == before


async def test_changed_event_is_replaced(api: Api, tmp_path: Path) -> None:
    arrange(api.database_url)
    await run_file(api.database_url, FIXTURES / "events.ndjson", "ndjson")
    lines = (FIXTURES / "events.ndjson").read_text().splitlines()
    first = json.loads(lines[0])
    first["fatalities_best"] = 4
    first["casualties"][0]["best"] = 4
    first["actors"][1]["actor"] = "The Rebels"  # an alias: the same actor
    changed = tmp_path / "changed.ndjson"
    changed.write_text("\n".join([json.dumps(first), *lines[1:]]) + "\n")

    report = await run_file(api.database_url, changed, "ndjson")
    assert (report.inserted, report.updated, report.unchanged) == (0, 1, 2)
    strike = await get_event(api, "R1")
    assert strike["version"] == 2
    assert strike["fatalities_best"] == 4
    assert [c["best"] for c in strike["casualties"]] == [4]
    assert strike["actors"][1]["name"] == "Test Rebels"
    assert counts(api.database_url)["claims"] == 1


async def test_rejects_name_the_field(api: Api, tmp_path: Path) -> None:
    arrange(api.database_url)
    rows = [
        {"dataset": "reports", "external_id": "OK1", "date_start": "2015-10-08",
         "sub_event_type": "armed_clash", "summary": "A valid event."},
        {"dataset": "reports", "external_id": "BAD1", "date_start": "2015-10-08",
         "sub_event_type": "armed_clash", "summary": "x",
         "fatalities_low": 5, "fatalities_best": 2},
        {"dataset": "reports", "external_id": "BAD2", "date_start": "2015-10-08",
         "sub_event_type": "armed_clash", "summary": "x",
         "actors": [{"actor": "Nobody At All", "role": "initiator"}]},
        {"dataset": "reports", "external_id": "BAD3", "date_start": "2015-10-08",
         "sub_event_type": "armed_clash", "summary": "x", "colour": "red"},
    ]  # fmt: skip
    path = tmp_path / "events.ndjson"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n{not json\n")

    report = await run_file(api.database_url, path, "ndjson")
    assert report.committed is False
    got = sorted((p.line, p.column, p.value) for p in report.rejects)
    assert got == [
        (2, "", ""),  # low > best is a model-level rule: no single field
        (3, "actors.0.actor", "Nobody At All"),
        (4, "colour", "red"),
        (6, "", ""),
    ]
    reasons = {p.line: p.reason for p in report.rejects}
    assert "must not exceed" in reasons[2]
    assert "no actor is named or aliased" in reasons[3]
    assert reasons[6].startswith("invalid JSON")
    assert counts(api.database_url)["events"] == 0

    partial = await run_file(api.database_url, path, "ndjson", partial=True)
    assert (partial.committed, partial.inserted, partial.rejected) == (True, 1, 4)
    assert [r[0] for r in query(api.database_url, "SELECT external_id FROM events")] == ["OK1"]
