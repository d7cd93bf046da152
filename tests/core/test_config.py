"""Database URLs as users paste them map onto our drivers."""

from __future__ import annotations

import pytest

from app.core.config import Settings, sync_database_url


@pytest.mark.parametrize(
    ("given", "async_url", "sync_url"),
    [
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        (
            "postgresql+asyncpg://u@h/db",
            "postgresql+asyncpg://u@h/db",
            "postgresql+psycopg://u@h/db",
        ),
        ("sqlite:///x.db", "sqlite+aiosqlite:///x.db", "sqlite+pysqlite:///x.db"),
    ],
)
def test_urls(given: str, async_url: str, sync_url: str) -> None:
    assert Settings(database_url=given).database_url == async_url
    assert sync_database_url(given) == sync_url
