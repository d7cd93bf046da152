"""Round trip on the real files: import -> export (GET /v1/events?format=csv) -> import.

The export is imported again under another dataset name, then every event of the first import
is compared with its twin: dates, type, place, fatalities, actors in their roles, sources, tags,
text and the dataset-specific extras.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from tests.conftest import Api, shared_file
from tests.imports.support import query, run_file


def projection(url: str, dataset: str) -> dict[str, dict[str, Any]]:
    """Each event of `dataset` as plain data, keyed by external_id; no ids, no timestamps."""
    events = query(
        url,
        "SELECT e.id, e.external_id, e.date_start, e.date_end, e.date_precision, "
        "e.sub_event_type_code, e.geo_precision, e.summary, e.notes, e.civilian_targeting, "
        "e.fatalities_low, e.fatalities_best, e.fatalities_high, e.extras, "
        "p.name, p.kind, p.country_code, p.admin1, p.admin2, p.latitude, p.longitude "
        "FROM events e LEFT JOIN places p ON p.id = e.place_id WHERE e.dataset = :d",
        d=dataset,
    )
    actors: dict[int, list[tuple[str, str]]] = {}
    for event_id, role, name in query(
        url,
        "SELECT ea.event_id, ea.role, a.name FROM event_actors ea JOIN actors a "
        "ON a.id = ea.actor_id JOIN events e ON e.id = ea.event_id WHERE e.dataset = :d "
        "ORDER BY ea.event_id, ea.id",
        d=dataset,
    ):
        actors.setdefault(event_id, []).append((role, name))
    sources: dict[int, list[str]] = {}
    for event_id, name in query(
        url,
        "SELECT c.event_id, s.name FROM claims c JOIN sources s ON s.id = c.source_id "
        "JOIN events e ON e.id = c.event_id WHERE e.dataset = :d ORDER BY c.event_id, c.id",
        d=dataset,
    ):
        sources.setdefault(event_id, []).append(name)
    tags: dict[int, list[str]] = {}
    for event_id, tag in query(
        url,
        "SELECT t.event_id, t.tag FROM event_tags t JOIN events e ON e.id = t.event_id "
        "WHERE e.dataset = :d ORDER BY t.event_id, t.tag",
        d=dataset,
    ):
        tags.setdefault(event_id, []).append(tag)
    out = {}
    for row in events:
        extras = row.extras if isinstance(row.extras, dict) else json.loads(row.extras or "null")
        out[row.external_id] = {
            "dates": (str(row.date_start), str(row.date_end), row.date_precision),
            "type": row.sub_event_type_code,
            "geo_precision": row.geo_precision,
            "text": (row.summary, row.notes),
            "civilian_targeting": bool(row.civilian_targeting),
            "fatalities": (row.fatalities_low, row.fatalities_best, row.fatalities_high),
            "place": (row.name, row.kind, row.country_code, row.admin1, row.admin2),
            "coordinates": (row.latitude, row.longitude),
            "actors": actors.get(row.id, []),
            # As a set: the exports list an event's sources alphabetically, not in file order.
            "sources": sorted(sources.get(row.id, [])),
            "tags": tags.get(row.id, []),
            "extras": extras,
        }
    return out


def differences(first: dict[str, Any], second: dict[str, Any]) -> dict[str, int]:
    """How many events differ, per compared field (extras per key)."""
    assert first.keys() == second.keys()
    diff: dict[str, int] = {}
    for key, a in first.items():
        b = second[key]
        for name in a:
            if name == "extras":
                xa, xb = a[name] or {}, b[name] or {}
                for k in set(xa) | set(xb):
                    if xa.get(k) != xb.get(k):
                        diff[f"extras.{k}"] = diff.get(f"extras.{k}", 0) + 1
            elif a[name] != b[name]:
                diff[name] = diff.get(name, 0) + 1
    return diff


async def export(api: Api, shape: str, dataset: str, path: Path) -> Path:
    response = await api.get(
        "/v1/events", params={"format": "csv", "shape": shape, "dataset": dataset}
    )
    assert response.status_code == 200, response.text[:500]
    await asyncio.to_thread(path.write_bytes, response.content)
    return path


async def test_ucdp_round_trip(api: Api, tmp_path: Path) -> None:
    source = shared_file("ucdp/ged-syria-2016-01-to-2019-11.csv")
    first = await run_file(api.database_url, source, "ucdp")
    exported = await export(api, "ucdp", "ucdp", tmp_path / "ucdp.csv")
    second = await run_file(api.database_url, exported, "ucdp", dataset="ucdp_again")
    assert (second.committed, second.inserted, second.rejected) == (True, first.inserted, 0)
    assert len(second.warnings) == len(first.warnings)
    assert (
        differences(
            projection(api.database_url, "ucdp"), projection(api.database_url, "ucdp_again")
        )
        == {}
    )


async def test_acled_round_trip(api: Api, tmp_path: Path) -> None:
    source = shared_file("acled/acled-dummy-2022h1.csv")
    first = await run_file(api.database_url, source, "acled")
    exported = await export(api, "acled", "acled", tmp_path / "acled.csv")
    second = await run_file(api.database_url, exported, "acled", dataset="acled_again")
    assert (second.committed, second.inserted, second.rejected) == (True, first.inserted, 0)
    diff = differences(
        projection(api.database_url, "acled"), projection(api.database_url, "acled_again")
    )
    # Dates, types, places, fatalities, actors, sources, tags, text, and what the import kept
    # in extras (ACLED's inter codes and disorder type, the row's own coordinates): identical.
    # `timestamp` is exported as the time the row last changed here (what `timestamp>=` syncs
    # need), so the second import records that instead of ACLED's.
    assert set(diff) == {"extras.timestamp"}, diff
