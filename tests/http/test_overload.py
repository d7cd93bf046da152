"""Overload: beyond max_concurrent_requests a request is a 503 with Retry-After at once.

The real middleware, around a route that waits until the test lets it go, so the requests in
flight are known exactly; /healthz is never refused.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from app.core.config import Settings
from app.core.http import OverloadMiddleware
from tests.conftest import Api

pytestmark = pytest.mark.asyncio


async def test_the_request_past_the_limit_is_a_503_and_the_next_one_passes() -> None:
    release = asyncio.Event()
    both_in = asyncio.Event()
    started = 0

    async def slow(scope: Scope, receive: Receive, send: Send) -> None:
        nonlocal started
        started += 1
        if started == 2:
            both_in.set()
        if scope["path"] != "/healthz":
            await release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    app = OverloadMiddleware(slow, Settings(max_concurrent_requests=2))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        held = [asyncio.create_task(client.get(f"/v1/events?{i}")) for i in range(2)]
        await asyncio.wait_for(both_in.wait(), 5)
        refused = await client.get("/v1/events")
        assert refused.status_code == 503
        assert refused.headers["retry-after"] == "1"
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["code"] == "overloaded"
        health = asyncio.create_task(client.get("/healthz"))
        await asyncio.sleep(0.05)
        release.set()
        assert [r.status_code for r in await asyncio.gather(*held)] == [200, 200]
        assert (await health).status_code == 200
        assert (await client.get("/v1/events")).status_code == 200
    assert started == 4


async def test_updated_since_out_of_range_is_a_422(api: Api) -> None:
    r = await api.get("/v1/events", params={"updated_since": "0001-01-01T00:00:00+14:00"})
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["loc"] == ["query", "updated_since"]
