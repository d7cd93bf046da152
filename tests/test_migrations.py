"""Migrations on a fresh database: upgrade, `alembic check`, a real downgrade, upgrade again."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from app.core.config import sync_database_url
from app.core.migrations import check, downgrade, upgrade
from app.models import Base
from tests.conftest import IN_CI, PG_ADMIN_URL, _pg_available

MODEL_TABLES = {table.name for table in Base.metadata.sorted_tables}
# Alembic keeps its (then empty) version table at base; PostGIS owns spatial_ref_sys.
SURVIVES_DOWNGRADE = {"alembic_version", "spatial_ref_sys"}


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of its own, not the shared migrated one."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'fresh.sqlite3'}"
        return
    problem = _pg_available()
    if problem:
        if IN_CI:
            pytest.fail(f"PostgreSQL is unreachable under CI=true: {problem}")
        pytest.skip(f"PostgreSQL unreachable: {problem}")
    name = f"conflictdb_migrations_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


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
