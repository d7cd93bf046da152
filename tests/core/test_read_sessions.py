"""Read sessions: psycopg keeps the statements it prepares (it discards every prepared statement
of a connection on ROLLBACK), so a page's JSON statement is planned once per connection, not on
every request (~2.6 ms of PostgreSQL's planning a page); on PostgreSQL they run in autocommit,
and the pool replaces connections the server dropped without a round trip to find out."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import func, select, text

from app.aggregates import repository as aggregates
from app.aggregates.repository import AGGREGATE_WORK_MEM
from app.core.config import Settings
from app.core.db import driver_result, driver_rows, make_sync_engine
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
        async with app.state.read_engine.connect() as conn:
            prepared = (
                await conn.execute(text("SELECT statement FROM pg_prepared_statements"))
            ).scalars()
            statements = list(prepared)
    assert any("FROM events" in s for s in statements), statements


async def test_a_list_read_holds_one_connection_at_a_time_with_or_without_a_key(
    database_url: str,
) -> None:
    """The list reads on a connection of its own, not a session that checks a key: the
    check's short session is closed before the read takes a connection, and a request
    without a key opens none. Sequential requests then need one pooled connection, on both
    databases."""
    truncate_all(database_url)
    _, read = mint_keys(database_url)
    app = create_app(Settings(database_url=database_url, cache_enabled=False))
    async with app.router.lifespan_context(app):
        pool = app.state.read_engine.sync_engine.pool
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            for headers in ({"Authorization": f"Bearer {read}"}, {}, {"X-API-Key": read}):
                for params in ({"country": "SY"}, {"limit": "1"}):
                    r = await client.get("/v1/events", params=params, headers=headers)
                    assert r.status_code == 200, r.text
            bad = await client.get("/v1/events", headers={"X-API-Key": "cdb_nope_nope"})
            assert bad.status_code == 401, bad.text
        assert (pool.checkedout(), pool.checkedin()) == (0, 1)


def _terminate_other_connections(database_url: str) -> int:
    """Ends every other connection to the test database, as a server restart would (each
    waited for, up to 5 s)."""
    engine = make_sync_engine(database_url)
    with engine.connect() as conn:
        ended = conn.execute(
            text(
                "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 5000))"
                " FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalar_one()
    engine.dispose()
    return int(ended)


async def test_a_read_after_the_server_dropped_the_pools_connections_is_answered(
    database_url: str,
) -> None:
    """The pool hands out no connection PostgreSQL has ended: a read after a restart (here
    pg_terminate_backend) is answered, not a 500, though nothing pings before each checkout."""
    if not database_url.startswith("postgresql"):
        return  # no server to drop SQLite's connections
    truncate_all(database_url)
    app = create_app(Settings(database_url=database_url, cache_enabled=False))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            first = await client.get("/v1/events")
            assert first.status_code == 200, first.text
            assert _terminate_other_connections(database_url) >= 1  # the pool's connection
            for _ in range(3):
                again = await client.get("/v1/events")
                assert again.status_code == 200, again.text
                assert again.json() == first.json()


async def test_read_sessions_run_each_statement_alone_and_statement_settings_hold(
    database_url: str,
) -> None:
    """PostgreSQL's read sessions are in autocommit (no BEGIN and COMMIT round trips): each
    statement its own transaction. What needs a transaction opens one: `SET LOCAL` (the
    aggregates' work_mem, the generic plans of `driver_rows`) holds for its statements and
    reaches nothing after them."""
    if not database_url.startswith("postgresql"):
        return  # SQLite's reads keep their transaction
    app = create_app(Settings(database_url=database_url, cache_enabled=False))
    async with app.router.lifespan_context(app):
        async with app.state.read_sessionmaker() as session:
            one = (await session.execute(text("SELECT now()"))).scalar_one()
            await asyncio.sleep(0.01)
            two = (await session.execute(text("SELECT now()"))).scalar_one()
            assert one != two  # now() is the transaction's start: two transactions
            default_mem = (await session.execute(text("SHOW work_mem"))).scalar_one()
            _, inside = await driver_result(
                session, "SELECT current_setting('work_mem')", {}, settings={"work_mem": "64MB"}
            )
            after = (await session.execute(text("SHOW work_mem"))).scalar_one()
            assert (inside, after) == ([("64MB",)], default_mem)
            rows = await driver_rows(
                session, "SELECT current_setting('plan_cache_mode')", {}, generic_plan=True
            )
            assert rows == [("force_generic_plan",)]
            mode = (await session.execute(text("SHOW plan_cache_mode"))).scalar_one()
            assert mode == "auto"
        async with app.state.sessionmaker() as session:  # in a transaction: the same holds
            rows = await driver_rows(
                session, "SELECT current_setting('plan_cache_mode')", {}, generic_plan=True
            )
            assert rows == [("force_generic_plan",)]
            mode = (await session.execute(text("SHOW plan_cache_mode"))).scalar_one()
            assert mode == "auto"
            _, rows = await driver_result(
                session, "SELECT current_setting('work_mem')", {}, settings={"work_mem": "64MB"}
            )
            assert rows == [("64MB",)]
            assert (await session.execute(text("SHOW work_mem"))).scalar_one() == default_mem


async def test_an_aggregate_on_a_read_session_runs_with_its_work_mem(database_url: str) -> None:
    """The aggregates' statement runs with AGGREGATE_WORK_MEM (hashing its groups instead of
    sorting every event) though read sessions are in autocommit, and the setting ends with it."""
    if not database_url.startswith("postgresql"):
        return  # no work_mem on SQLite
    app = create_app(Settings(database_url=database_url, cache_enabled=False))
    async with app.router.lifespan_context(app), app.state.read_sessionmaker() as session:
        seen = select(func.current_setting("work_mem").label("work_mem"))
        assert await aggregates.run(session, seen, 1) == [{"work_mem": AGGREGATE_WORK_MEM}]
        after = (await session.execute(text("SHOW work_mem"))).scalar_one()
        assert after != AGGREGATE_WORK_MEM


async def test_the_pools_take_their_size_from_the_settings_and_one_connection_serves_reads(
    database_url: str,
) -> None:
    """CONFLICTDB_POOL_SIZE and CONFLICTDB_POOL_MAX_OVERFLOW size both PostgreSQL pools (reads,
    writes). With one connection and no overflow, keyed and open reads of the list, of one
    event and of a session route are answered, one after the other: none holds two."""
    if not database_url.startswith("postgresql"):
        return  # SQLite's pools are its own (one writer, file connections for readers)
    truncate_all(database_url)
    _, read = mint_keys(database_url)
    settings = Settings(
        database_url=database_url, cache_enabled=False, pool_size=1, pool_max_overflow=0
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        for engine in (app.state.engine, app.state.read_engine):
            pool = engine.sync_engine.pool
            assert (pool.size(), pool._max_overflow) == (1, 0)
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver", timeout=20
        ) as client:
            for headers in ({"X-API-Key": read}, {}):
                for path in ("/v1/events", "/v1/actors", "/v1/events/1"):
                    r = await client.get(path, headers=headers)
                    assert r.status_code in (200, 404), (path, r.text)
    with pytest.raises(ValidationError):
        Settings(database_url=database_url, pool_size=0)
