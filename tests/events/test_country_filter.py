"""country= follows the event's place through every change (the code is copied onto the event
by triggers: migration 0014 on PostgreSQL, 0016 on SQLite)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import create_engine, text

from app.core.config import sync_database_url
from tests.conftest import Api
from tests.events.test_endpoints import strike, world  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.asyncio, pytest.mark.usefixtures("world")]


async def in_country(api: Api, code: str) -> list[str]:
    response = await api.get("/v1/events", params={"country": code, "limit": 100})
    assert response.status_code == 200, response.text
    return sorted(i["external_id"] for i in response.json()["items"])


def _place(name: str, country: str) -> dict[str, Any]:
    return {
        "name": name,
        "kind": "town",
        "country_code": country,
        "latitude": 34.0,
        "longitude": 36.0,
    }


async def test_country_follows_the_place(api: Api) -> None:
    first = await api.post(
        "/v1/events", json=strike(external_id="C-1", place=_place("Qusayr", "SY"))
    )
    assert first.status_code == 201, first.text
    second = await api.post(
        "/v1/events", json=strike(external_id="C-2", place=_place("Baalbek", "LB"))
    )
    assert second.status_code == 201, second.text
    assert await in_country(api, "SY") == ["C-1"]
    assert await in_country(api, "LB") == ["C-2"]

    # A place whose country changes takes its events along (through the API)...
    qusayr = first.json()["place"]["id"]
    moved = await api.patch(f"/v1/places/{qusayr}", json={"country_code": "LB"})
    assert moved.status_code == 200, moved.text
    assert await in_country(api, "SY") == []
    assert await in_country(api, "LB") == ["C-1", "C-2"]

    # ...and through SQL written by hand.
    engine = create_engine(sync_database_url(api.database_url))
    with engine.begin() as conn:
        conn.execute(text("UPDATE places SET country_code = 'SY' WHERE id = :id"), {"id": qusayr})
    engine.dispose()
    assert await in_country(api, "SY") == ["C-1"]

    # An event moved to another place takes that place's country.
    baalbek = second.json()["place"]["id"]
    event = first.json()["id"]
    patched = await api.patch(f"/v1/events/{event}", json={"place_id": baalbek})
    assert patched.status_code == 200, patched.text
    assert await in_country(api, "SY") == []
    assert await in_country(api, "LB") == ["C-1", "C-2"]
    # Aggregates filter the same way.
    agg = await api.get("/v1/aggregates", params={"country": "LB", "interval": "year"})
    assert agg.status_code == 200, agg.text
    assert sum(r["events"] for r in agg.json()["rows"]) == 2
