"""Alembic driven from code: config from pyproject.toml, the URL passed in (no alembic.ini)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.ext.asyncio import AsyncSession

ROOT = Path(__file__).resolve().parents[2]


def alembic_config(database_url: str) -> Config:
    cfg = Config(toml_file=str(ROOT / "pyproject.toml"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.attributes["database_url"] = database_url
    return cfg


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


async def load_reference(session: AsyncSession) -> str:
    """The reference data every database needs beside its schema: the event types and the
    admin-1 units (idempotent). What `conflictdb migrate` loads after the migrations."""
    from app.gazetteer.service import load_gazetteer
    from app.taxonomy.service import load_taxonomy

    changed = await load_taxonomy(session)
    gazetteer = await session.run_sync(lambda s: load_gazetteer(s.connection()))
    return f"taxonomy: {changed} rows added or changed\n{gazetteer}"


def migrate(database_url: str) -> str:
    """`conflictdb migrate`: every migration, then `load_reference` in one transaction."""
    from app.core.db import make_engine, make_sessionmaker

    upgrade(database_url)

    async def _load() -> str:
        engine = make_engine(database_url)
        try:
            async with make_sessionmaker(engine)() as session, session.begin():
                return await load_reference(session)
        finally:
            await engine.dispose()

    return asyncio.run(_load())


def downgrade(database_url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(database_url), revision)


def check(database_url: str) -> None:
    """Raise if the models and the migrations disagree."""
    command.check(alembic_config(database_url))


def revision(database_url: str, message: str, rev_id: str | None = None) -> None:
    command.revision(
        alembic_config(database_url), message=message, autogenerate=True, rev_id=rev_id
    )
