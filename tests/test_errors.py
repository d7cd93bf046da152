"""One error shape: RFC 9457 problem+json, FastAPI's own 404/405/422 and the key checks included."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Query
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field

from app.auth.dependencies import WriteKey
from app.core.config import Settings
from app.main import create_app
from tests.conftest import mint_keys, truncate_all

PROBLEM_FIELDS = {"type", "title", "status", "code", "detail", "instance"}
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# Write routes deliberately open to anonymous callers (none so far); each one needs a reason.
OPEN_WRITE_ROUTES: set[tuple[str, str]] = set()


class ProbeBody(BaseModel):
    name: str = Field(min_length=1)
    count: int


def add_probe_routes(app: FastAPI) -> None:
    """Routes that exercise FastAPI's own validation, whatever the domain routes look like today."""

    @app.get("/_probe/query")
    async def probe_query(limit: int = Query(ge=1, le=10)) -> dict[str, int]:
        return {"limit": limit}

    @app.post("/_probe/body")
    async def probe_body(body: ProbeBody) -> dict[str, str]:
        return {"name": body.name}

    @app.post("/_probe/write")
    async def probe_write(_key: WriteKey) -> dict[str, str]:
        return {"status": "written"}


def write_routes(app: FastAPI) -> list[tuple[str, str]]:
    return sorted(
        (method, route.path)
        for route in app.routes
        if isinstance(route, APIRoute) and route.path.startswith("/v1/")
        for method in route.methods & WRITE_METHODS
        if (method, route.path) not in OPEN_WRITE_ROUTES
    )


def concrete_path(path: str) -> str:
    """A template path with every parameter filled: auth is checked before the path is resolved."""
    return "/".join("1" if part.startswith("{") else part for part in path.split("/"))


@dataclass
class Client:
    app: FastAPI
    http: httpx.AsyncClient
    write_key: str
    read_key: str


async def client_for(database_url: str, **settings: Any) -> AsyncIterator[Client]:
    truncate_all(database_url)
    app = create_app(Settings(database_url=database_url, **settings))
    add_probe_routes(app)
    write, read = mint_keys(database_url)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield Client(app=app, http=http, write_key=write, read_key=read)


@pytest.fixture
async def client(database_url: str) -> AsyncIterator[Client]:
    async for c in client_for(database_url):
        yield c


@pytest.fixture
async def closed_client(database_url: str) -> AsyncIterator[Client]:
    """Reads need a key too (CONFLICTDB_READ_REQUIRES_KEY=true)."""
    async for c in client_for(database_url, read_requires_key=True):
        yield c


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert set(body) >= PROBLEM_FIELDS, body
    assert body["status"] == status
    assert body["code"] == code
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    assert body["instance"] == response.request.url.path
    return body


async def test_unknown_route_is_a_problem_404(client: Client) -> None:
    response = await client.http.get("/v1/no-such-thing")
    body = assert_problem(response, 404, "not_found")
    assert "/v1/no-such-thing" in body["detail"]


async def test_wrong_method_is_a_problem_405(client: Client) -> None:
    response = await client.http.delete("/healthz")
    assert_problem(response, 405, "method_not_allowed")
    assert "GET" in response.headers["allow"]


async def test_bad_query_is_a_problem_422_with_errors(client: Client) -> None:
    response = await client.http.get("/_probe/query", params={"limit": "lots"})
    body = assert_problem(response, 422, "validation_error")
    assert body["errors"] == [
        {"loc": ["query", "limit"], "msg": body["errors"][0]["msg"], "type": "int_parsing"}
    ]


async def test_out_of_range_query_is_a_422_not_clamped(client: Client) -> None:
    response = await client.http.get("/_probe/query", params={"limit": "11"})
    body = assert_problem(response, 422, "validation_error")
    assert [e["loc"] for e in body["errors"]] == [["query", "limit"]]


async def test_bad_body_is_a_problem_422_listing_each_field(client: Client) -> None:
    response = await client.http.post("/_probe/body", json={"name": "", "count": "x"})
    body = assert_problem(response, 422, "validation_error")
    errors = body["errors"]
    assert {tuple(e["loc"]) for e in errors} == {("body", "name"), ("body", "count")}
    for error in errors:
        assert set(error) == {"loc", "msg", "type"}
        assert isinstance(error["msg"], str) and error["msg"]
        assert isinstance(error["type"], str) and error["type"]


async def test_malformed_json_is_a_problem_422(client: Client) -> None:
    response = await client.http.post(
        "/_probe/body", content=b'{"name": ', headers={"content-type": "application/json"}
    )
    body = assert_problem(response, 422, "validation_error")
    assert body["errors"][0]["type"] == "json_invalid"


async def test_write_without_key_is_401_with_challenge(client: Client) -> None:
    response = await client.http.post("/_probe/write")
    assert_problem(response, 401, "missing_api_key")
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_write_with_unknown_key_is_401(client: Client) -> None:
    response = await client.http.post(
        "/_probe/write", headers={"Authorization": "Bearer cdb_deadbeef_not-a-real-key"}
    )
    assert_problem(response, 401, "invalid_api_key")


async def test_write_with_read_only_key_is_403(client: Client) -> None:
    response = await client.http.post("/_probe/write", headers={"X-API-Key": client.read_key})
    assert_problem(response, 403, "forbidden")


@pytest.mark.parametrize("header", ["authorization", "x-api-key"])
async def test_write_key_is_accepted_in_either_header(client: Client, header: str) -> None:
    value = f"Bearer {client.write_key}" if header == "authorization" else client.write_key
    response = await client.http.post("/_probe/write", headers={header: value})
    assert response.status_code == 200, response.text


async def test_closed_reads_need_a_key(closed_client: Client) -> None:
    anonymous = await closed_client.http.get("/v1/event-types")
    assert_problem(anonymous, 401, "missing_api_key")
    with_key = await closed_client.http.get(
        "/v1/event-types", headers={"Authorization": f"Bearer {closed_client.read_key}"}
    )
    assert with_key.status_code == 200, with_key.text


async def test_every_v1_write_route_needs_a_write_key(client: Client) -> None:
    """Whatever write routes exist: anonymous is 401, a read-only key is 403."""
    failures = []
    for method, path in write_routes(client.app):
        url = concrete_path(path)
        anonymous = await client.http.request(method, url)
        read_only = await client.http.request(
            method, url, headers={"Authorization": f"Bearer {client.read_key}"}
        )
        if anonymous.status_code != 401 or read_only.status_code != 403:
            failures.append(f"{method} {path}: {anonymous.status_code}/{read_only.status_code}")
            continue
        assert_problem(anonymous, 401, "missing_api_key")
        assert_problem(read_only, 403, "forbidden")
    assert not failures, "write routes not guarded (anonymous/read-only): " + ", ".join(failures)
