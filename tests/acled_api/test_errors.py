"""ACLED's error shape under /acled (and only there), and ACLED's legacy key + email auth."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from app.acled_api import service
from tests.conftest import Api, make_api, truncate_all
from tests.support import assert_problem

READ = "/acled/acled/read"


@pytest.fixture(scope="module")
async def open_api(database_url: str) -> AsyncIterator[Api]:
    truncate_all(database_url)
    async for api in make_api(database_url):
        yield api


@pytest.fixture
async def closed_api(database_url: str) -> AsyncIterator[Api]:
    truncate_all(database_url)
    async for api in make_api(database_url, read_requires_key=True):
        yield api


def assert_acled_error(response: httpx.Response, status: int, *words: str) -> str:
    """ACLED's body: status, success false, `error` a LIST of {message}; the same HTTP status."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert set(body) == {"status", "success", "error"}, body
    assert body["status"] == status and body["success"] is False
    [error] = body["error"]
    message: str = error["message"]
    for word in words:
        assert word in message, message
    return message


@pytest.mark.parametrize(
    ("path", "params", "words"),
    [
        (READ, {"contry": "Syria"}, ["unknown parameter", "contry"]),
        (READ, {"country": "Syria", "country_where": "~"}, ["country_where", "unknown operator"]),
        (READ, {"country": "Syria", "country_where": "NOT IN"}, ["unknown operator"]),
        (READ, {"fatalities": "lots"}, ["fatalities", "not an integer"]),
        (READ, {"fatalities": "1|2", "fatalities_where": ">"}, ["one value"]),
        (READ, {"event_date": "2015-10-01", "event_date_where": "BETWEEN"}, ["two values"]),
        (READ, {"event_date": "01/10/2015"}, ["not a date"]),
        (READ, {"latitude": "nan"}, ["not a number"]),
        (READ, {"iso": "9" * 30}, ["not an integer"]),
        (READ, {"timestamp": "9" * 12 + "9"}, ["timestamp"]),
        (READ, {"country_where": "LIKE"}, ["without a country value"]),
        (READ, {"country": "Syria:OR:fatalities=many"}, ["fatalities"]),
        (READ, {"fields": "event_id_cnty|nope"}, ["fields", "nope"]),
        (READ, {"_format": "yaml"}, ["_format", "yaml", "json, csv, xml, txt"]),
        (READ, {"export_type": "triadic"}, ["export_type"]),
        (READ, {"limit": "-1"}, ["limit"]),
        (READ, {"limit": "many"}, ["limit"]),
        (READ, {"page": "0"}, ["page"]),
        (READ, {"with_total": "maybe"}, ["with_total"]),
        (READ, {"country": "Syria\x00"}, ["NUL"]),
        ("/acled/deleted/read", {"deleted_timestamp": "yesterday"}, ["deleted_timestamp"]),
        ("/acled/deleted/read", {"country": "Syria"}, ["unknown parameter"]),
        ("/acled/actor/read", {"event_count": "x"}, ["event_count"]),
        ("/acled/country/read", {"iso3": "SYR", "iso3_where": "IN"}, ["unknown operator"]),
        ("/acled/region/read", {"region": "Middle East"}, ["region"]),
        ("/acled/actortype/read", {"fields": "actor_type_id"}, ["unknown parameter"]),
    ],
)
async def test_bad_requests_are_400_in_acleds_shape(
    open_api: Api, path: str, params: dict[str, str], words: list[str]
) -> None:
    assert_acled_error(await open_api.get(path, params=params), 400, *words)


async def test_unknown_route_and_method_under_the_prefix(open_api: Api) -> None:
    assert_acled_error(await open_api.get("/acled/nothing/read"), 404, "/acled/nothing/read")
    response = await open_api.client.post(READ)
    assert_acled_error(response, 405)
    assert "GET" in response.headers["allow"]


async def test_v1_keeps_problem_json(open_api: Api) -> None:
    assert_problem(await open_api.get("/v1/nothing"), 404, "not_found")
    assert_problem(await open_api.get("/v1/events", params={"limit": 0}), 422, "validation_error")


@pytest.mark.parametrize(
    "how",
    [
        {"params": {"key": "cdb_deadbeef_not-a-key", "email": "me@example.org"}},
        {"params": {"key": "not even the format"}},
        {"headers": {"Authorization": "Bearer cdb_deadbeef_not-a-key"}},
        {"headers": {"X-API-Key": "cdb_deadbeef_nope"}},
    ],
)
async def test_a_wrong_key_is_401_even_when_reads_are_open(
    open_api: Api, how: dict[str, Any]
) -> None:
    response = await open_api.client.get(READ, **how)
    assert_acled_error(response, 401, "unknown or revoked")
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_legacy_key_and_email_authenticate(open_api: Api) -> None:
    for params in ({"key": open_api.read_key, "email": "me@example.org"}, {}):
        response = await open_api.get(READ, params=params)
        assert response.status_code == 200, response.text


async def test_closed_reads_need_a_key(closed_api: Api) -> None:
    for path in ("/acled/acled/read", "/acled/deleted/read", "/acled/country/read"):
        assert_acled_error(await closed_api.get(path), 401, "needs an API key")
        ok = await closed_api.get(path, params={"key": closed_api.read_key, "email": "a@b.org"})
        assert ok.status_code == 200, ok.text
    bearer = await closed_api.get(READ, headers={"Authorization": f"Bearer {closed_api.read_key}"})
    assert bearer.status_code == 200, bearer.text
    # /v1 answers a missing key in its own shape.
    assert_problem(await closed_api.get("/v1/event-types"), 401, "missing_api_key")


async def test_an_unexpected_error_is_a_500_in_acleds_shape(
    open_api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*_args: Any) -> Any:
        raise RuntimeError("internal detail that must not leak")

    monkeypatch.setattr(service, "read_deleted", broken)
    response = await open_api.get("/acled/deleted/read")
    message = assert_acled_error(response, 500)
    assert "internal detail" not in message
