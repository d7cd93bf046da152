"""The SQL of a hot read's statement, kept per process for requests with the same filters.

Building a list page's statement costs more Python than PostgreSQL spends running it: the
filters' conditions, the order and seek, the page's join (SQLAlchemy constructs and their
column collections), then its cache key and bound parameters (`core/db.compiled_sql`): ~0.6 ms
of the first page's ~3.3 ms in process (py-spy), more with a bbox or a radius. The statement is
a function of the request's validated filters alone (the dialect and PostGIS are fixed for an
app), so requests with the same filters (a dashboard's polls, a page a client comes back to)
reuse the SQL and parameters built for the first of them.

Not a result cache: every request still runs its statement and reads its rows fresh; only the
building is skipped. A request with other filters (values, order, cursor) is built anew.
Bounded in bytes per process, least recently used out.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from cachetools import LRUCache
from sqlalchemy import Executable
from sqlalchemy.ext.asyncio import AsyncConnection

from app.core.db import compiled_sql

Compiled = tuple[str, dict[str, Any]]

# Per process. An entry is its SQL (~1-3 KB for a list page) and values (a polygon's can reach
# 60 KB): measured by their text, so a few large ones cannot hold many megabytes each.
MAX_BYTES = 16 * 1024 * 1024
ENTRY_OVERHEAD = 300


def _size(value: Compiled) -> int:
    sql, params = value
    return len(sql) + sum(len(str(v)) for v in params.values()) + ENTRY_OVERHEAD


class StatementMemo:
    """Compiled statements (SQL, parameters) by a key that determines them."""

    def __init__(self, max_bytes: int = MAX_BYTES) -> None:
        self._entries: LRUCache[Hashable, Compiled] = LRUCache(max_bytes, getsizeof=_size)
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable, build: Callable[[], Compiled]) -> Compiled:
        """The statement kept under `key`, or `build()`'s, kept. `build` raising keeps nothing."""
        found = self._entries.get(key)
        if found is not None:
            self.hits += 1
            return found
        self.misses += 1
        built = build()
        if _size(built) <= self._entries.maxsize:
            self._entries[key] = built
        return built


Kept = tuple[StatementMemo, Hashable]


def compiled_once(
    conn: AsyncConnection, build: Callable[[], Executable], kept: Kept | None
) -> Compiled:
    """PostgreSQL: `build()`'s SQL and psycopg parameters (`core/db.compiled_sql`); with `kept`
    (a memo and a key that determines the statement), built and compiled once per key."""

    def compiled() -> Compiled:
        return compiled_sql(conn, build())

    return kept[0].get(kept[1], compiled) if kept is not None else compiled()
