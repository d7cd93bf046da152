"""Query-string models read by app/core/querymodel.py, through HTTP, on both databases.

The query string is read as FastAPI reads a `Query()` model (every value of a list field, the
last of any other, unknown names refused with a 422 located under "query"), and the OpenAPI
document lists every field of each route's model as a query parameter.
"""

from __future__ import annotations

from typing import Any

import pytest

from app.core.config import Settings
from app.core.querymodel import routes_with_models
from app.main import create_app
from tests.conftest import Api
from tests.events.test_endpoints import strike
from tests.events.test_endpoints import world as world

pytestmark = pytest.mark.asyncio

NO_CACHE = {"Cache-Control": "no-cache"}


def _errors(body: dict[str, Any]) -> list[tuple[list[Any], str]]:
    return [(e["loc"], e["type"]) for e in body["errors"]]


async def test_an_unknown_name_is_a_422_located_in_the_query(api: Api) -> None:
    r = await api.get("/v1/events", params={"limit": 5, "bogus": "1"})
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert _errors(r.json()) == [(["query", "bogus"], "extra_forbidden")]
    # Repeated, it is still one error on that name.
    r = await api.get("/v1/events?bogus=1&bogus=2")
    assert _errors(r.json()) == [(["query", "bogus"], "extra_forbidden")]


async def test_a_bad_value_is_a_422_on_its_field(api: Api) -> None:
    r = await api.get("/v1/events", params={"limit": "many", "date_from": "soon"})
    assert r.status_code == 422, r.text
    assert {tuple(loc) for loc, _ in _errors(r.json())} == {
        ("query", "limit"),
        ("query", "date_from"),
    }


@pytest.mark.usefixtures("world")
async def test_a_list_takes_every_value_a_scalar_the_last(api: Api) -> None:
    for n in range(3):
        created = await api.post(
            "/v1/events", json=strike(external_id=f"QM-{n}", notes=f"strike {n}")
        )
        assert created.status_code == 201, created.text
    r = await api.get("/v1/events?limit=1&limit=2", headers=NO_CACHE)
    assert r.status_code == 200, r.text
    assert len(r.json()["items"]) == 2
    r = await api.get("/v1/events?fields=id&fields=notes", headers=NO_CACHE)
    assert r.status_code == 200, r.text
    assert {frozenset(item) for item in r.json()["items"]} == {frozenset({"id", "notes"})}


async def test_the_openapi_lists_each_models_fields(api: Api) -> None:
    app = api.client._transport.app  # type: ignore[attr-defined]
    spec = (await api.get("/openapi.json")).json()
    checked = 0
    for path, methods, models in routes_with_models(app):
        for method in methods:
            operation = spec["paths"][path][method.lower()]
            query = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
            for model in models:
                assert set(model.model_fields) <= query, (path, model.__name__)
                checked += 1
    # Every route declaring one (app/*/endpoints.py): the events list, actors, places, ...
    assert checked >= 15


async def test_each_apps_openapi_is_its_own(api: Api) -> None:
    """The parameters FastAPI documents once a model are copied into each app's document: a
    change to one app's document (a deployment's customization) does not show in another's."""
    first = create_app(Settings(database_url=api.database_url)).openapi()
    [param] = [p for p in first["paths"]["/v1/events"]["get"]["parameters"] if p["name"] == "q"]
    param["description"] = "changed in one app"
    second = create_app(Settings(database_url=api.database_url)).openapi()
    [other] = [p for p in second["paths"]["/v1/events"]["get"]["parameters"] if p["name"] == "q"]
    assert other["description"] != "changed in one app"
