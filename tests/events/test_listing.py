"""The list and GET /v1/events/{id} build events from Core rows (JSON written by PostgreSQL
there); both must equal the ORM path (`serialize.event_dict`, which writes answer and revisions
keep), to the type and to the ETag."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session

from app.core.config import sync_database_url
from app.core.etag import etag_of
from app.events.repository import FULL_LOAD
from app.events.serialize import event_dict
from app.models import Event
from tests.conftest import Api
from tests.events.test_endpoints import strike, world  # noqa: F401 (a fixture)

pytestmark = pytest.mark.asyncio


async def test_list_items_equal_single_reads(seeded_api: Api) -> None:
    items = (await seeded_api.get("/v1/events", params={"limit": 1000})).json()["items"]
    assert len(items) > 5
    assert any(i["casualties"] for i in items) and any(i["claims"] for i in items)
    orm = _orm_bodies(seeded_api.database_url)
    assert set(orm) == {item["id"] for item in items}
    for item in items:
        one = await seeded_api.get(f"/v1/events/{item['id']}")
        assert one.status_code == 200
        single = one.json()
        assert _typed(item) == _typed(single) == _typed(orm[item["id"]]), item["id"]
        assert one.headers["etag"] == etag_of(orm[item["id"]])


def _orm_bodies(database_url: str) -> dict[int, dict[str, Any]]:
    """Every event as the ORM path writes it (what a write answers and a revision keeps)."""
    engine = create_engine(sync_database_url(database_url))
    with Session(engine) as session:
        events = session.scalars(select(Event).options(*FULL_LOAD)).all()
        bodies = {e.id: event_dict(e) for e in events}
    engine.dispose()
    return bodies


async def test_fields_subset_equals_full(seeded_api: Api) -> None:
    full = (await seeded_api.get("/v1/events", params={"limit": 1000})).json()["items"]
    wanted = ["territory_changes", "id", "place", "tags"]
    part = (
        await seeded_api.get("/v1/events", params={"limit": 1000, "fields": ",".join(wanted)})
    ).json()["items"]
    assert part == [{k: f[k] for k in wanted} for f in full]
    assert list(part[0]) == wanted


def _typed(value: Any) -> Any:
    """The value with every number tagged by its JSON kind: 36 and 36.0 differ here."""
    if isinstance(value, dict):
        return {k: _typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_typed(v) for v in value]
    if isinstance(value, float):
        return ("float", value)
    return value


@pytest.mark.usefixtures("world")
async def test_list_writes_values_as_the_single_read(api: Api) -> None:
    """The edges of the list's JSON (built by PostgreSQL there): whole-degree coordinates stay
    floats, tags sort by code point, timestamps with microseconds keep all six digits, and
    free-form JSON comes back as it went in."""
    body = strike(
        external_id="T-edges",
        campaigns=["Russian air campaign in Syria"],
        tags=["b-tag", "B-tag", "\u00e9-tag", "a-tag"],
        extras={"nested": {"list": [1, 2.5, "x", None, True]}, "big": 2**53 - 1},
    )
    body["place"] = {**body["place"], "latitude": 36.0, "longitude": 37.0}
    created = await api.post("/v1/events", json=body)
    assert created.status_code == 201, created.text
    event_id = created.json()["id"]
    engine = create_engine(sync_database_url(api.database_url))
    with engine.begin() as conn:  # a stored time with microseconds, as imports write them
        conn.execute(
            text("UPDATE events SET created_at = :t WHERE id = :id"),
            {"t": dt.datetime(2015, 10, 8, 12, 0, 0, 120000, tzinfo=dt.UTC), "id": event_id},
        )
    engine.dispose()
    [item] = (await api.get("/v1/events", params={"sort": "-id", "limit": 1})).json()["items"]
    single = (await api.get(f"/v1/events/{event_id}")).json()
    orm = _orm_bodies(api.database_url)[event_id]
    assert _typed(item) == _typed(single) == _typed(orm)
    assert item["place"]["latitude"] == 36.0 and isinstance(item["place"]["latitude"], float)
    assert item["tags"] == sorted(body["tags"])
    assert item["created_at"] == "2015-10-08T12:00:00.120000Z"
    assert item["extras"] == body["extras"]
