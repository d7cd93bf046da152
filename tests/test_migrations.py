"""Migrations on a fresh database: upgrade, `alembic check`, a real downgrade, upgrade again."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from app.core.config import sync_database_url
from app.core.db import make_engine, make_sessionmaker
from app.core.migrations import check, downgrade, upgrade
from app.models import Base
from app.taxonomy.service import load_taxonomy
from tests.conftest import drop_pg_database, make_api, new_pg_database

MODEL_TABLES = {table.name for table in Base.metadata.sorted_tables}
# Alembic keeps its (then empty) version table at base; PostGIS owns spatial_ref_sys.
SURVIVES_DOWNGRADE = {"alembic_version", "spatial_ref_sys"}


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of its own, not the shared migrated one."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'fresh.sqlite3'}"
        return
    url = new_pg_database("conflictdb_migrations_")
    try:
        yield url
    finally:
        drop_pg_database(url)


def table_names(url: str) -> set[str]:
    engine = create_engine(sync_database_url(url))
    try:
        with engine.connect() as conn:
            return set(inspect(conn).get_table_names())
    finally:
        engine.dispose()


def row_counts(url: str) -> dict[str, int]:
    engine = create_engine(sync_database_url(url))
    try:
        with engine.connect() as conn:
            return {
                name: conn.execute(text(f'SELECT count(*) FROM "{name}"')).scalar_one()
                for name in sorted(inspect(conn).get_table_names())
            }
    finally:
        engine.dispose()


def test_upgrade_check_downgrade_upgrade(fresh_url: str) -> None:
    upgrade(fresh_url)
    assert table_names(fresh_url) >= MODEL_TABLES
    # A model change without a migration fails here.
    check(fresh_url)

    downgrade(fresh_url)
    assert table_names(fresh_url) <= SURVIVES_DOWNGRADE

    upgrade(fresh_url)
    assert table_names(fresh_url) >= MODEL_TABLES
    check(fresh_url)


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {
        k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CONFLICTDB_DATABASE_URL"}
    }
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_cli_migrate_twice_changes_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"

    first = run_cli("migrate", "--database-url", url, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    after_first = row_counts(url)
    assert set(after_first) >= MODEL_TABLES
    assert after_first["alembic_version"] == 1

    second = run_cli("migrate", "--database-url", url, cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert row_counts(url) == after_first


# ---- 0009: folded name keys, AUTOINCREMENT ----

TIMESTAMP = "2015-10-08 00:00:00"


def execute(url: str, *statements: str) -> None:
    engine = create_engine(sync_database_url(url))
    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.execute(text(statement))
    finally:
        engine.dispose()


def old_event(event_id: int, summary: str) -> str:
    return (
        "INSERT INTO events (id, dataset, external_id, date_start, date_end, date_precision, "
        "sub_event_type_code, summary, civilian_targeting, version, created_at, updated_at) "
        f"VALUES ({event_id}, 'conflictdb', 'OLD-{event_id}', '2015-10-08', '2015-10-08', 'day', "
        f"'armed_clash', '{summary}', false, 1, '{TIMESTAMP}', '{TIMESTAMP}')"
    )


async def test_0009_on_sqlite_keeps_data_triggers_and_never_reuses_ids(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'before-0009.sqlite3'}"
    upgrade(url, "0008")
    engine = make_engine(url)
    async with make_sessionmaker(engine)() as session, session.begin():
        await load_taxonomy(session)
    await engine.dispose()
    execute(
        url,
        old_event(1, "Shelling of Latamneh"),
        old_event(2, "Ambush near Morek"),
        old_event(3, "Air strikes on Kafr Nabudah"),
        # Event 3 deleted, and event 5 long before: only their tombstones remember the ids.
        "DELETE FROM events WHERE id = 3",
        "INSERT INTO event_tombstones (event_id, dataset, external_id, deleted_at) "
        f"VALUES (3, 'conflictdb', 'OLD-3', '{TIMESTAMP}'), "
        f"(5, 'conflictdb', 'OLD-5', '{TIMESTAMP}')",
        "INSERT INTO actors (id, name, actor_type, created_at, updated_at) "
        f"VALUES (1, 'Forces Spéciales', 1, '{TIMESTAMP}', '{TIMESTAMP}')",
        "INSERT INTO actor_aliases (actor_id, alias, alias_key) "
        "VALUES (1, 'Straße Brigade', 'strasse brigade')",
        "INSERT INTO sources (name, kind, created_at, updated_at) "
        f"VALUES ('AFP', 'news_agency', '{TIMESTAMP}', '{TIMESTAMP}')",
    )

    upgrade(url)
    check(url)
    engine = create_engine(sync_database_url(url))
    with engine.connect() as conn:
        triggers = set(
            conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars()
        )
        indexes = set(
            conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'index'")).scalars()
        )
        tables = conn.execute(
            text("SELECT name, sql FROM sqlite_master WHERE name IN ('events', 'actors')")
        ).all()
        names = conn.execute(text("SELECT name_key, actor_id FROM actor_name_keys")).all()
        assert conn.execute(text("SELECT count(*) FROM events")).scalar_one() == 2
    engine.dispose()
    assert {"events_fts_ai", "events_fts_ad", "events_fts_au"} <= triggers
    assert {"actors_name_key_ai", "actor_aliases_key_ai", "actor_aliases_key_ad"} <= triggers
    # Hand-made indexes that reflection cannot rebuild came back too.
    assert {"ix_events_fatalities_sort", "ix_places_lat_lon", "ix_actors_name_key"} <= indexes
    assert all("AUTOINCREMENT" in sql for _name, sql in tables)
    assert sorted(names) == [("forces spéciales", 1), ("strasse brigade", 1)]

    async for api in make_api(url):
        body = {
            "external_id": "NEW-1",
            "date_start": "2015-10-09",
            "sub_event_type": "armed_clash",
            "summary": "Clashes in Latamneh after the shelling",
        }
        response = await api.post("/v1/events", json=body)
        assert response.status_code == 201, response.text
        assert response.json()["id"] > 5
        found = await api.get("/v1/events", params={"q": "latamneh"})
        assert sorted(e["external_id"] for e in found.json()["items"]) == ["NEW-1", "OLD-1"]
        resolved = await api.get("/v1/actors/resolve", params={"name": "STRASSE BRIGADE"})
        assert resolved.json()["id"] == 1
        clash = await api.post(
            "/v1/actors", json={"name": "FORCES SPE\u0301CIALES", "actor_type": 1}
        )
        assert clash.status_code == 409, clash.text


def test_0009_stops_on_names_that_fold_alike_and_changes_nothing(fresh_url: str) -> None:
    upgrade(fresh_url, "0008")
    execute(
        fresh_url,
        "INSERT INTO actors (id, name, actor_type) VALUES (1, 'Free Syrian Army', 2), "
        "(2, 'FREE  SYRIAN ARMY', 2), (3, 'FSA', 2), (4, 'Jaysh al-Islam', 2)",
        "INSERT INTO actor_aliases (actor_id, alias, alias_key) VALUES (4, 'fsa', 'fsa')",
        "INSERT INTO sources (name, kind) VALUES ('Agence Spéciale', 'news_agency'), "
        "('AGENCE SPÉCIALE', 'news_agency')",
    )
    with pytest.raises(RuntimeError) as raised:
        upgrade(fresh_url)
    message = str(raised.value)
    assert "'free syrian army' is the name of actor 1" in message
    assert "and the name of actor 2 ('FREE  SYRIAN ARMY')" in message
    assert "'fsa' is the name of actor 3 ('FSA') and an alias of actor 4 ('fsa')" in message
    assert "sources: 'Agence Spéciale' (id 1), 'AGENCE SPÉCIALE' (id 2)" in message
    engine = create_engine(sync_database_url(fresh_url))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == "0008"
        assert "name_key" not in {c["name"] for c in inspect(conn).get_columns("actors")}
    engine.dispose()
