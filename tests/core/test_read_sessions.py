"""Read sessions end with COMMIT, so psycopg keeps the statements it prepares (it discards every
prepared statement of a connection on ROLLBACK): a page's JSON statement is planned once per
connection, not on every request (~2.6 ms of PostgreSQL's planning a page)."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import text

from app.core.config import Settings
from app.main import create_app
from tests.conftest import mint_keys, truncate_all

pytestmark = pytest.mark.asyncio


async def test_a_read_keeps_the_statements_psycopg_prepared(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        return  # SQLite has no server-side prepared statements to keep
    truncate_all(database_url)
    _, read = mint_keys(database_url)
    app = create_app(Settings(database_url=database_url, cache_enabled=False))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            # Sequential requests share the pool's one connection; psycopg prepares a statement
            # on its fifth run there.
            for _ in range(7):
                r = await client.get(
                    "/v1/events",
                    params={"country": "SY"},
                    headers={"Authorization": f"Bearer {read}"},
                )
                assert r.status_code == 200, r.text
        async with app.state.engine.connect() as conn:
            prepared = (
                await conn.execute(text("SELECT statement FROM pg_prepared_statements"))
            ).scalars()
            statements = list(prepared)
    assert any("FROM events" in s for s in statements), statements
