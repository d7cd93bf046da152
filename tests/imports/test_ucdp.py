"""UCDP GED imports: columns by name, ranges kept, precisions mapped, fatality ranges repaired."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any

from tests.conftest import Api, shared_file
from tests.imports.support import FIXTURES, counts, event_id, query, run_file, versions

EXCERPT = FIXTURES / "ucdp-syria-excerpt.csv"


async def get_event(api: Api, external_id: str) -> dict[str, Any]:
    response = await api.get(f"/v1/events/{event_id(api.database_url, 'ucdp', external_id)}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_excerpt_is_normalized(api: Api) -> None:
    report = await run_file(api.database_url, EXCERPT, "ucdp")
    assert (report.committed, report.inserted, report.rejected) == (True, 6, 0)

    first = await get_event(api, "214797")
    assert first["sub_event_type"]["code"] == "armed_clash"  # state-based
    assert [(a["role"], a["name"]) for a in first["actors"]] == [
        ("initiator", "Government of Syria"),
        ("target", "Syrian insurgents"),
    ]
    assert [a["actor_type"] for a in first["actors"]] == [1, 2]
    assert (first["fatalities_low"], first["fatalities_best"], first["fatalities_high"]) == (
        4,
        4,
        4,
    )
    assert first["place"]["name"] == "Teir Maaleh village"
    assert first["place"]["kind"] == "village"
    assert first["geo_precision"] == 1
    assert [
        (c["source"]["name"], c["via_source"]["name"], c["claimed_on"]) for c in first["claims"]
    ] == [("SOHR", "UCDP GED", "2015-01-01")]
    # Every column the event's own fields don't hold is kept, typed, for a lossless export.
    assert first["extras"]["conflict_new_id"] == 299
    assert first["extras"]["where_prec"] == 1
    assert first["extras"]["source_headline"].startswith("14 shells hit Dahya al-Assad")

    # A range stays a range: 11 to 25 January, known to the month (date_prec 4).
    ranged = await get_event(api, "223796")
    assert (ranged["date_start"], ranged["date_end"], ranged["date_precision"]) == (
        "2016-01-11",
        "2016-01-25",
        "month",
    )
    # Only the country is known (where_prec 6): the country itself is the place.
    year = await get_event(api, "233200")
    assert (year["date_start"], year["date_end"], year["date_precision"]) == (
        "2016-01-01",
        "2016-12-31",
        "year",
    )
    assert (year["place"]["kind"], year["place"]["country_code"], year["geo_precision"]) == (
        "country",
        "SY",
        3,
    )
    one_sided = await get_event(api, "215936")
    assert one_sided["sub_event_type"]["code"] == "attack"
    assert one_sided["civilian_targeting"] is True
    assert one_sided["actors"][-1]["name"] == "Civilians (Syria)"
    assert one_sided["actors"][-1]["actor_type"] == 7

    # low 1, best 2, high 1: loaded with the range widened, reported, the raw values kept.
    widened = await get_event(api, "313676")
    assert (widened["fatalities_low"], widened["fatalities_best"], widened["fatalities_high"]) == (
        1,
        2,
        2,
    )
    assert (widened["extras"]["low"], widened["extras"]["high"]) == (1, 1)
    [warning] = report.warnings
    assert (warning.line, warning.column, warning.value, warning.external_id) == (
        3,
        "high",
        "low=1 best=2 high=1",
        "313676",
    )
    assert warning.reason.startswith("low <= best <= high fails")


async def test_column_order_does_not_matter(api: Api) -> None:
    await run_file(api.database_url, EXCERPT, "ucdp")
    before = versions(api.database_url)
    # The same rows with the columns reversed: the same events, so nothing to write.
    report = await run_file(api.database_url, FIXTURES / "ucdp-syria-excerpt-reordered.csv", "ucdp")
    assert (report.inserted, report.updated, report.unchanged) == (0, 0, 6)
    assert versions(api.database_url) == before


def starts_with_id(path: Path, line: int, external_id: str) -> bool:
    with path.open(encoding="utf-8", newline="") as fh:
        for number, text in enumerate(fh, 1):
            if number == line:
                return text.startswith(f"{external_id},")
    return False


async def test_syria_file(api: Api) -> None:
    path = shared_file("ucdp/ged-syria-2016-01-to-2019-11.csv")
    report = await run_file(api.database_url, path, "ucdp")
    assert (report.committed, report.inserted, report.rejected) == (True, 16566, 0)
    # The 101 rows where low <= best <= high fails are loaded widened, each with a warning.
    assert len(report.warnings) == 101
    assert {w.external_id for w in report.warnings} >= {"313676", "219459"}
    assert all(starts_with_id(path, w.line, w.external_id or "") for w in report.warnings[:20])
    multi_day = query(api.database_url, "SELECT count(*) FROM events WHERE date_end > date_start")
    assert multi_day[0][0] == 1086
    broken = query(
        api.database_url,
        "SELECT count(*) FROM events WHERE fatalities_low > fatalities_best "
        "OR fatalities_best > fatalities_high",
    )
    assert broken[0][0] == 0

    before = versions(api.database_url)
    again = await run_file(api.database_url, path, "ucdp")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 16566)
    assert versions(api.database_url) == before


async def test_myanmar_file(api: Api) -> None:
    path = shared_file("ucdp/ged191-myanmar-bangladesh.csv")
    report = await run_file(api.database_url, path, "ucdp")
    assert (report.committed, report.inserted, report.rejected) == (True, 3194, 0)
    assert len(report.warnings) == 6
    # Text fields hold newlines here: a problem's line is the file's physical line.
    for warning in report.warnings:
        assert starts_with_id(path, warning.line, warning.external_id or ""), warning
    assert (
        query(api.database_url, "SELECT count(*) FROM events WHERE date_end > date_start")[0][0]
        == 571
    )
    codes = {
        r[0]
        for r in query(
            api.database_url, "SELECT DISTINCT country_code FROM places WHERE kind = 'country'"
        )
    }
    assert codes == {"MM", "BD"}
    # Rows that name no source office: UCDP itself vouches, with its citation as the quote.
    recorded = query(
        api.database_url,
        "SELECT count(*) FROM claims c JOIN sources s ON s.id = c.source_id "
        "WHERE s.name = 'UCDP GED'",
    )
    assert recorded[0][0] == 2604
    assert counts(api.database_url)["events"] == 3194


def last_analyze(url: str) -> dict[str, Any]:
    rows = query(
        url,
        "SELECT relname, least(last_analyze, last_vacuum) FROM pg_stat_user_tables "
        "WHERE relname IN ('events', 'event_actors', 'claims')",
    )
    return {name: at for name, at in rows}


async def test_a_big_import_refreshes_the_planners_statistics(api: Api) -> None:
    """On PostgreSQL an import writing >= 10,000 events ANALYZEs what it wrote (a page of 100
    events over 1M freshly imported ones took 294 ms without statistics, 21 ms with them) and
    VACUUMs it after the commit (index-only scans); a smaller one leaves that to autovacuum.
    SQLite is left without statistics."""
    url = api.database_url
    is_pg = url.startswith("postgresql")
    started = dt.datetime.now(dt.UTC)
    small = await run_file(url, shared_file("ucdp/ged191-myanmar-bangladesh.csv"), "ucdp")
    assert small.committed and small.inserted == 3194
    assert "analyze" not in small.phases
    big = await run_file(url, shared_file("ucdp/ged-syria-2016-01-to-2019-11.csv"), "ucdp")
    assert big.committed and big.inserted == 16566
    if not is_pg:
        assert "analyze" not in big.phases
        assert query(url, "SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'") == [
            (0,)
        ]
        return
    assert "analyze" in big.phases and "vacuum" in big.phases
    # The statistics collector reports a finished backend's counters within a moment.
    for _ in range(50):
        seen = last_analyze(url)
        if all(at is not None and at >= started for at in seen.values()):
            break
        await asyncio.sleep(0.1)
    assert len(seen) == 3
    assert all(at is not None and at >= started for at in seen.values()), seen
