"""Helpers for the import tests: run an import off the event loop, read what it wrote."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from app.core.config import sync_database_url
from app.imports.problems import ImportReport
from app.imports.service import ImportRequest, run_import

FIXTURES = Path(__file__).parent / "fixtures"
TABLES = (
    "events",
    "places",
    "actors",
    "sources",
    "claims",
    "event_actors",
    "event_tags",
    "event_tombstones",
    "event_revisions",
)


async def run_file(url: str, path: Path, fmt: str, **kw: Any) -> ImportReport:
    """An import as the CLI runs it (its own engine, its own transaction), in a thread."""
    return await asyncio.to_thread(run_import, url, ImportRequest(path, fmt, **kw))


def query(url: str, sql: str, **params: Any) -> list[Any]:
    engine = create_engine(sync_database_url(url))
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(sql), params).all())
    finally:
        engine.dispose()


def counts(url: str) -> dict[str, int]:
    return {t: int(query(url, f'SELECT count(*) FROM "{t}"')[0][0]) for t in TABLES}


def event_id(url: str, dataset: str, external_id: str) -> int:
    rows = query(
        url,
        "SELECT id FROM events WHERE dataset = :d AND external_id = :e",
        d=dataset,
        e=external_id,
    )
    assert rows, f"no event {dataset}/{external_id}"
    return int(rows[0][0])


def versions(url: str) -> list[tuple[Any, ...]]:
    """Every event's (key, version, updated_at): what a no-op import must leave alone."""
    return [
        tuple(r)
        for r in query(
            url,
            "SELECT dataset, external_id, id, version, updated_at, content_hash FROM events "
            "ORDER BY dataset, external_id",
        )
    ]


def schema(url: str) -> list[tuple[Any, ...]]:
    """Every index, constraint and trigger: what the big-load path drops and must restore."""
    if url.startswith("postgresql"):
        return sorted(
            tuple(r)
            for r in query(
                url,
                "SELECT tablename, indexname, indexdef FROM pg_indexes "
                "WHERE schemaname = current_schema() "
                "UNION ALL SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
                "FROM pg_constraint WHERE connamespace = current_schema()::regnamespace "
                "UNION ALL SELECT tgrelid::regclass::text, tgname, pg_get_triggerdef(oid) "
                "FROM pg_trigger WHERE NOT tgisinternal",
            )
        )
    return sorted(tuple(r) for r in query(url, "SELECT type, name, sql FROM sqlite_master"))
