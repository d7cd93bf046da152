"""Rate limits: 429 problem+json with Retry-After and RateLimit headers, per key and per address."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
import redis.asyncio as aioredis

from app.core.config import Settings
from app.core.ratelimit import RateLimitSettings, install_rate_limits
from app.main import create_app
from tests.conftest import IN_CI, mint_keys

REDIS_URL = os.environ.get("CONFLICTDB_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
URL = "/v1/events?limit=1"


@asynccontextmanager
async def limited_app(
    url: str, config: RateLimitSettings, *addresses: str
) -> AsyncIterator[list[httpx.AsyncClient]]:
    """One app with `config`, and a client per client address (default one, 127.0.0.1)."""
    app = create_app(Settings(database_url=url))
    limiter = install_rate_limits(app, config=config)
    clients = [
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=(address, 50000)),
            base_url="http://testserver",
        )
        for address in addresses or ("127.0.0.1",)
    ]
    try:
        async with app.router.lifespan_context(app):
            yield clients
    finally:
        for client in clients:
            await client.aclose()
        await limiter.aclose()


def limits(**kw: object) -> RateLimitSettings:
    base: dict[str, object] = {
        "rate_limit_per_key": "1000/hour",
        "rate_limit_anonymous": "1000/hour",
        "redis_url": None,
    }
    return RateLimitSettings(**{**base, **kw})


def assert_rate_headers(response: httpx.Response, limit: int, remaining: int) -> None:
    assert response.headers["RateLimit-Limit"] == str(limit)
    assert response.headers["RateLimit-Remaining"] == str(remaining)
    assert 1 <= int(response.headers["RateLimit-Reset"]) <= 3600


def assert_429(response: httpx.Response, limit: int) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == 429 and body["code"] == "rate_limited"
    assert 1 <= int(response.headers["Retry-After"]) <= 3600
    assert_rate_headers(response, limit, 0)


async def test_anonymous_limit_then_429(database_url: str) -> None:
    async with limited_app(database_url, limits(rate_limit_anonymous="3/hour")) as [client]:
        for i in range(3):
            response = await client.get(URL)
            assert response.status_code == 200, response.text
            assert_rate_headers(response, 3, 2 - i)
        assert_429(await client.get(URL), 3)
        # Liveness is never limited.
        health = await client.get("/healthz")
        assert health.status_code == 200
        assert "RateLimit-Limit" not in health.headers


async def test_anonymous_budget_is_per_address(database_url: str) -> None:
    config = limits(rate_limit_anonymous="2/hour")
    async with limited_app(database_url, config, "10.0.0.1", "10.0.0.2") as [one, two]:
        for _ in range(2):
            assert (await one.get(URL)).status_code == 200
        assert_429(await one.get(URL), 2)
        response = await two.get(URL)
        assert response.status_code == 200
        assert_rate_headers(response, 2, 1)


async def test_each_key_has_its_own_budget(database_url: str) -> None:
    write, read = mint_keys(database_url)
    config = limits(rate_limit_per_key="2/hour", rate_limit_anonymous="1/hour")
    async with limited_app(database_url, config) as [client]:
        for i in range(2):
            response = await client.get(URL, headers={"Authorization": f"Bearer {write}"})
            assert response.status_code == 200
            assert_rate_headers(response, 2, 1 - i)
        assert_429(await client.get(URL, headers={"Authorization": f"Bearer {write}"}), 2)
        # The same key in another place (X-API-Key, ACLED's ?key=) is the same budget.
        assert_429(await client.get(URL, headers={"X-API-Key": write}), 2)
        assert_429(await client.get(f"/acled/acled/read?key={write}"), 2)
        # Another key, and anonymous requests from the same address, are counted apart.
        response = await client.get(URL, headers={"X-API-Key": read})
        assert response.status_code == 200
        assert_rate_headers(response, 2, 1)
        response = await client.get(URL)
        assert response.status_code == 200
        assert_rate_headers(response, 1, 0)
        # A refused write is refused before authentication or its body is looked at.
        refused = await client.post(
            "/v1/events", json={}, headers={"Authorization": f"Bearer {write}"}
        )
        assert_429(refused, 2)


async def test_disabled_sends_no_headers(database_url: str) -> None:
    config = limits(rate_limit_anonymous="1/hour", rate_limit_enabled=False)
    async with limited_app(database_url, config) as [client]:
        for _ in range(3):
            response = await client.get(URL)
            assert response.status_code == 200
            assert "RateLimit-Limit" not in response.headers


@pytest.fixture
async def redis_prefix() -> AsyncIterator[str]:
    client = aioredis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        await client.ping()
    except Exception as exc:
        await client.aclose()
        if IN_CI:
            pytest.fail(f"Redis is unreachable under CI=true: {exc}")
        pytest.skip(f"Redis unreachable: {exc}")
    prefix = f"conflictdb-test-{uuid.uuid4().hex}"
    try:
        yield prefix
    finally:
        keys = [k async for k in client.scan_iter(match=f"{prefix}*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


async def test_redis_counters_are_shared_by_instances(database_url: str, redis_prefix: str) -> None:
    """Two app instances (two workers, or two replicas) on one Redis share one budget."""
    write, _ = mint_keys(database_url)
    config = limits(
        rate_limit_per_key="3/hour",
        rate_limit_anonymous="2/hour",
        redis_url=REDIS_URL,
        rate_limit_prefix=redis_prefix,
    )
    auth = {"Authorization": f"Bearer {write}"}
    async with (
        limited_app(database_url, config) as [first],
        limited_app(database_url, config) as [second],
    ):
        assert (await first.get(URL, headers=auth)).status_code == 200
        assert (await second.get(URL, headers=auth)).status_code == 200
        response = await first.get(URL, headers=auth)
        assert response.status_code == 200
        assert_rate_headers(response, 3, 0)
        assert_429(await second.get(URL, headers=auth), 3)
        assert_429(await first.get(URL, headers=auth), 3)

        assert (await second.get(URL)).status_code == 200
        assert (await first.get(URL)).status_code == 200
        assert_429(await second.get(URL), 2)

    client = aioredis.Redis.from_url(REDIS_URL)
    try:
        stored = [k.decode() async for k in client.scan_iter(match=f"{redis_prefix}*")]
    finally:
        await client.aclose()
    assert stored, "the counters should be in Redis"
    assert not any(write in k for k in stored), "the key itself must never be stored"


async def test_unreachable_redis_lets_requests_through(database_url: str) -> None:
    config = limits(rate_limit_anonymous="1/hour", redis_url="redis://127.0.0.1:1/0")
    async with limited_app(database_url, config) as [client]:
        for _ in range(2):
            response = await client.get(URL)
            assert response.status_code == 200
            assert "RateLimit-Limit" not in response.headers


def test_openapi_documents_429_and_problem() -> None:
    app = create_app(Settings(database_url="sqlite+aiosqlite:///:memory:"))
    install_rate_limits(app, config=limits())
    document = app.openapi()
    assert "Problem" in document["components"]["schemas"]
    limited = document["paths"]["/v1/events"]["get"]["responses"]["429"]
    assert set(limited["content"]) == {"application/problem+json"}
    assert {"Retry-After", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"} <= set(
        limited["headers"]
    )
    assert "429" not in document["paths"]["/healthz"]["get"]["responses"]
