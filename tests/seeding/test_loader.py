"""The seed loader: a first load creates, a second changes nothing, an edit updates only itself."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.core.db import make_engine, make_sessionmaker, make_sync_engine
from app.models import Base
from app.seeding.files import SeedFileError
from app.seeding.loader import DEFAULT_SEEDS_DIR, SeedReport, load_seeds
from tests.conftest import Api

REPORT_DIR = DEFAULT_SEEDS_DIR / "report-2015-10-08"


async def _load(url: str, seeds_dir: Path = DEFAULT_SEEDS_DIR) -> SeedReport:
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            return await load_seeds(session, seeds_dir)
    finally:
        await engine.dispose()


def _snapshot(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in key order: equal snapshots mean no row changed."""
    engine = make_sync_engine(url)
    with engine.connect() as conn:
        rows = {
            t.name: [tuple(r) for r in conn.execute(select(t).order_by(*t.primary_key.columns))]
            for t in Base.metadata.sorted_tables
        }
    engine.dispose()
    return rows


def _copy_seeds(tmp_path: Path) -> Path:
    target = tmp_path / "seeds"
    shutil.copytree(REPORT_DIR, target / REPORT_DIR.name)
    return target


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


async def test_first_load_creates_everything(api: Api) -> None:
    report = await _load(api.database_url)
    assert report.count("events", "created") == 14
    assert report.count("sources", "created") == 21
    assert report.count("actors", "created") == 13
    assert report.count("places", "created") == 11
    assert report.count("documents", "created") == 1
    assert report.count("campaigns", "created") == 3
    assert report.count("campaign_claims", "created") == 7
    assert report.total("updated") == report.total("unchanged") == 0
    assert "events" in str(report) and "14 created" in str(report)
    assert api.count("events") == 14


async def test_second_load_changes_no_row(seeded_api: Api) -> None:
    before = _snapshot(seeded_api.database_url)
    report = await _load(seeded_api.database_url)
    assert not report.changed, str(report)
    assert report.total("created") == report.total("updated") == 0
    assert report.count("events", "unchanged") == 14
    assert report.count("campaign_claims", "unchanged") == 7
    after = _snapshot(seeded_api.database_url)
    assert after == before  # row counts, contents, updated_at and event versions alike
    body = (await seeded_api.get("/v1/events?limit=1000", headers=seeded_api.read_auth)).json()
    assert {e["version"] for e in body["items"]} == {1}


async def test_an_edited_entry_updates_only_itself(seeded_api: Api, tmp_path: Path) -> None:
    seeds = _copy_seeds(tmp_path)
    folder = seeds / REPORT_DIR.name
    _edit(folder / "events.yaml", "        low: 10\n", "        low: 9\n")
    _edit(folder / "sources.yaml", 'Head ("chief")', 'Director ("chief")')
    report = await _load(seeded_api.database_url, seeds)
    assert report.count("events", "updated") == 1
    assert report.count("events", "unchanged") == 13
    assert report.count("sources", "updated") == 1
    assert report.total("created") == 0
    body = (
        await seeded_api.get(
            "/v1/events", params={"source": "Al-Watan"}, headers=seeded_api.read_auth
        )
    ).json()
    (event,) = body["items"]
    assert event["version"] == 2
    assert event["territory_changes"][0]["low"] == 9
    again = await _load(seeded_api.database_url, seeds)
    assert not again.changed, str(again)


async def test_a_bad_reference_is_refused(api: Api, tmp_path: Path) -> None:
    seeds = _copy_seeds(tmp_path)
    _edit(seeds / REPORT_DIR.name / "events.yaml", "place: caspian-sea\n", "place: atlantis\n")
    with pytest.raises(SeedFileError, match="atlantis"):
        await _load(api.database_url, seeds)
    assert api.count("events") == 0  # the caller's transaction rolled back
