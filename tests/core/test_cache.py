"""The exact response cache (app/core/cache.py), on both databases, through HTTP.

A repeat is a hit only while the data is unchanged: a write through the API, or from outside
the app (another connection: an import, the CLI, a user's SQL), makes the next read a miss that
shows the change. A 304 on a hit runs no query but the version probe. Credentials are part of
the key. With Redis, the answers of one app are hits in another (PostgreSQL).
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import psycopg
import pytest
import redis.asyncio as aioredis
from sqlalchemy import event

from app.core.cache import cache_namespace
from app.core.config import Settings
from app.main import create_app
from tests.conftest import Api, make_api, mint_keys, truncate_all
from tests.events.test_endpoints import strike
from tests.events.test_endpoints import world as world
from tests.support import insert_event

pytestmark = pytest.mark.asyncio

REDIS_URL = os.environ.get("CONFLICTDB_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
LIST = "/v1/events?limit=1000&fields=id"


async def until_hit(client: Any, url: str, **kw: Any) -> httpx.Response:
    """GET until the answer comes from the cache. On PostgreSQL any commit on the server (other
    databases included) is a new version, so a first repeat may miss; ten in a row cannot."""
    for _ in range(10):
        r = await client.get(url, **kw)
        assert r.status_code == 200, r.text
        if r.headers["x-cache"] == "hit":
            return r
    raise AssertionError(f"{url}: ten repeats and no cache hit")


def ids(response: httpx.Response) -> set[int]:
    return {item["id"] for item in response.json()["items"]}


@pytest.mark.usefixtures("world")
async def test_a_repeat_is_a_hit_until_an_api_write(api: Api) -> None:
    first = await api.get(LIST)
    assert first.status_code == 200 and first.headers["x-cache"] in {"miss", "hit"}
    hit = await until_hit(api, LIST)
    assert hit.content == first.content and hit.headers["etag"] == first.headers["etag"]

    created = await api.post("/v1/events", json=strike(), headers=api.auth)
    assert created.status_code == 201, created.text
    after = await api.get(LIST)
    assert after.headers["x-cache"] == "miss"
    assert ids(after) == ids(first) | {created.json()["id"]}

    patched = await api.patch(
        f"/v1/events/{created.json()['id']}",
        json={"notes": "changed"},
        headers={**api.auth, "If-Match": "*"},
    )
    assert patched.status_code == 200, patched.text
    one = f"/v1/events/{created.json()['id']}"
    await until_hit(api, one)
    again = await api.patch(one, json={"notes": "again"}, headers={**api.auth, "If-Match": "*"})
    assert again.status_code == 200
    read = await api.get(one)
    assert read.headers["x-cache"] == "miss" and read.json()["notes"] == "again"


async def test_a_write_from_outside_the_app_is_seen(api: Api) -> None:
    """An import or a user's SQL commits on another connection: no hook of ours runs, and the
    next read still misses."""
    before = await until_hit(api, LIST)
    new_id = insert_event(api.database_url)
    after = await api.get(LIST)
    assert after.headers["x-cache"] == "miss"
    assert ids(after) == ids(before) | {new_id}
    assert (await until_hit(api, LIST)).content == after.content


@pytest.fixture
async def counted(database_url: str) -> AsyncIterator[tuple[httpx.AsyncClient, list[str]]]:
    """A client on an app whose statements are recorded."""
    truncate_all(database_url)
    app = create_app(Settings(database_url=database_url))
    statements: list[str] = []
    async with app.router.lifespan_context(app):
        engine = app.state.engine.sync_engine
        if engine.dialect.name == "postgresql":
            # Recorded by psycopg's cursors: the hot paths and the probe run SQL on psycopg's
            # connection itself, which SQLAlchemy's events do not see.
            class Recording(psycopg.AsyncCursor[Any]):
                async def execute(self, query: Any, *args: Any, **kw: Any) -> Any:
                    statements.append(str(query))
                    return await super().execute(query, *args, **kw)

            def on_connect(dbapi_connection: Any, _record: Any) -> None:
                dbapi_connection.driver_connection.cursor_factory = Recording

            for recorded in (app.state.engine, app.state.read_engine):
                event.listen(recorded.sync_engine, "connect", on_connect)
                await recorded.dispose()  # every connection from now on is recorded
        else:

            def record(*args: Any) -> None:
                statements.append(str(args[2]))

            event.listen(engine, "before_cursor_execute", record)
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c, statements


async def test_revalidation_on_a_hit_runs_no_query(
    counted: tuple[httpx.AsyncClient, list[str]],
) -> None:
    client, statements = counted
    insert_event(str(client._transport.app.state.settings.database_url))  # type: ignore[attr-defined]
    hit = await until_hit(client, LIST)
    etag = hit.headers["etag"]
    for _ in range(10):
        statements.clear()
        r = await client.get(LIST, headers={"If-None-Match": etag})
        assert r.status_code == 304 and r.content == b""
        assert r.headers["etag"] == etag
        if r.headers["x-cache"] == "hit":
            break
    else:
        raise AssertionError("no 304 from the cache in ten tries")
    # Only the data-version probe ran: no events query.
    assert len(statements) == 1, statements
    assert "snapshot" in statements[0] or "data_version" in statements[0]

    statements.clear()
    miss = await client.get(LIST, headers={"If-None-Match": etag, "Cache-Control": "no-cache"})
    assert miss.status_code == 304 and miss.headers["x-cache"] == "miss"
    assert any("events" in s for s in statements)


async def test_credentials_are_part_of_the_key(database_url: str) -> None:
    truncate_all(database_url)
    async for api in make_api(database_url, read_requires_key=True):
        read = {"X-API-Key": api.read_key}
        await until_hit(api, LIST, headers=read)
        wrong = await api.get(LIST, headers={"X-API-Key": "cdb_" + "0" * 40})
        assert wrong.status_code == 401 and wrong.headers.get("x-cache") != "hit"
        anonymous = await api.get(LIST)
        assert anonymous.status_code == 401
        other = {"X-API-Key": api.write_key}
        first = await api.get(LIST, headers=other)
        assert first.status_code == 200 and first.headers["x-cache"] == "miss"


async def test_errors_and_the_feed_are_not_cached(api: Api) -> None:
    for _ in range(3):
        bad = await api.get("/v1/events?limit=0")
        assert bad.status_code == 422 and "x-cache" in bad.headers
        assert bad.headers["x-cache"] == "miss"
        feed = await api.get("/v1/changes")
        assert feed.status_code == 200 and "x-cache" not in feed.headers


@pytest.fixture
async def redis_prefix() -> AsyncIterator[None]:
    client = aioredis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        await client.ping()
    except Exception as exc:
        pytest.fail(f"Redis at {REDIS_URL} is needed by this test: {exc}")
    yield
    await client.aclose()


@contextlib.asynccontextmanager
async def redis_apps(database_url: str, n: int) -> AsyncIterator[list[httpx.AsyncClient]]:
    """`n` apps (workers, or replicas) on one database and one Redis, a client on each."""
    apps = [create_app(Settings(database_url=database_url, redis_url=REDIS_URL)) for _ in range(n)]
    async with contextlib.AsyncExitStack() as stack:
        for app in apps:
            await stack.enter_async_context(app.router.lifespan_context(app))
        yield [
            await stack.enter_async_context(
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
                    base_url="http://testserver",
                )
            )
            for app in apps
        ]


@pytest.mark.usefixtures("redis_prefix", "world")
async def test_redis_shares_answers_between_apps(database_url: str) -> None:
    """Two apps (two workers, or two replicas) on one database and one Redis. PostgreSQL's
    versions are the server's snapshots, the same for both: b answers from a's entry. SQLite's
    are counted per process: b never takes a's entry (each keeps its own), and both stay exact."""
    sharing = database_url.startswith("postgresql")
    write, _ = mint_keys(database_url)
    marker = uuid.uuid4().hex
    url = f"{LIST}&q=nothing{marker}"
    async with redis_apps(database_url, 2) as (a, b):
        await until_hit(a, url)
        if sharing:
            for _ in range(10):
                await a.get(url)
                shared = await b.get(url)
                if shared.headers["x-cache"] == "hit":
                    break
            else:
                raise AssertionError("app b never answered from app a's entry")
        else:
            assert (await b.get(url)).headers["x-cache"] == "miss"
            await until_hit(b, url)
            assert (await a.get(url)).headers["x-cache"] == "hit"  # each its own entry
        created = await b.post(
            "/v1/events",
            json=strike(notes=f"nothing{marker}"),
            headers={"Authorization": f"Bearer {write}"},
        )
        assert created.status_code == 201, created.text
        seen = await a.get(url)
        assert seen.headers["x-cache"] == "miss"
        assert ids(seen) == {created.json()["id"]}


@pytest.mark.usefixtures("world")
async def test_expiring_oauth_tokens_bypass_the_cache(api: Api) -> None:
    """An access token's answer depends on the clock (it expires): never cached."""
    token = await api.client.post(
        "/oauth/token",
        data={
            "grant_type": "password",
            "client_id": "acled",
            "username": "analyst@example.org",
            "password": api.read_key,
        },
    )
    assert token.status_code == 200, token.text
    bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
    url = "/api/acled/read?limit=5"
    for _ in range(3):
        r = await api.get(url, headers=bearer)
        assert r.status_code == 200, r.text
        assert "x-cache" not in r.headers
    keyed = {"Authorization": f"Bearer {api.read_key}"}
    await until_hit(api, "/v1/events?limit=5", headers=keyed)  # a key does not expire


async def _drop_shared_entries(database_url: str) -> None:
    client = aioredis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        prefix = f"conflictdb:cache:{cache_namespace(database_url)}:"
        async for name in client.scan_iter(match=prefix + "*"):
            await client.delete(name)
    finally:
        await client.aclose()


@pytest.mark.usefixtures("redis_prefix", "world")
async def test_with_redis_a_process_answers_from_its_own_memory(database_url: str) -> None:
    """The memory tier in front of Redis: with the shared entries gone, a repeat is still a hit
    (this process's copy, at the current version)."""
    url = f"{LIST}&q=nothing{uuid.uuid4().hex}"
    async with redis_apps(database_url, 1) as (client,):
        # PostgreSQL's version moves with any commit on the server: a repeat may miss.
        for _ in range(10):
            await until_hit(client, url)
            await _drop_shared_entries(database_url)
            if (await client.get(url)).headers["x-cache"] == "hit":
                break
        else:
            raise AssertionError("no hit once Redis lost the entry: no memory tier")


@pytest.mark.usefixtures("redis_prefix", "world")
async def test_a_stale_entry_in_memory_is_passed_over_for_redis(database_url: str) -> None:
    """App a keeps an answer in memory; a write makes it stale; app b stores the new answer in
    Redis. a's next read shows the write, never a's stale copy: on PostgreSQL it is b's entry (a
    hit), on SQLite (versions counted per process, never shared) a miss that reads it."""
    sharing = database_url.startswith("postgresql")
    write, _ = mint_keys(database_url)
    marker = uuid.uuid4().hex
    url = f"{LIST}&q=nothing{marker}"
    async with redis_apps(database_url, 2) as (a, b):
        assert ids(await until_hit(a, url)) == set()
        created = await b.post(
            "/v1/events",
            json=strike(notes=f"nothing{marker}"),
            headers={"Authorization": f"Bearer {write}"},
        )
        assert created.status_code == 201, created.text
        for _ in range(10):
            await until_hit(b, url)
            seen = await a.get(url)
            assert ids(seen) == {created.json()["id"]}
            if not sharing:
                assert seen.headers["x-cache"] == "miss"
                break
            if seen.headers["x-cache"] == "hit":
                break
        else:
            raise AssertionError("app a never answered from app b's newer entry")
