"""Helpers for the domain tests: problem+json assertions, event rows written directly.

Events are inserted with SQLAlchemy because POST /v1/events is not there yet.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import httpx
from sqlalchemy.orm import Session

from app.core.db import make_sync_engine
from app.models import Event, EventActor, TerritoryChange

_serial = itertools.count(1)


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """An RFC 9457 body with this status and stable `code`; returns the body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["code"] == code, body
    return body


def error_locs(body: dict[str, Any]) -> list[list[str | int]]:
    return [e["loc"] for e in body["errors"]]


def _write(url: str, obj: Any) -> int:
    engine = make_sync_engine(url)
    with Session(engine) as session, session.begin():
        session.add(obj)
        session.flush()
        new_id = int(obj.id)
    engine.dispose()
    return new_id


def insert_event(url: str, **overrides: Any) -> int:
    """An armed clash on 8 October 2015 unless overridden; returns its id."""
    day = overrides.pop("date_start", dt.date(2015, 10, 8))
    values: dict[str, Any] = {
        "dataset": "conflictdb",
        "external_id": f"TEST{next(_serial)}",
        "date_start": day,
        "date_end": day,
        "date_precision": "day",
        "sub_event_type_code": "armed_clash",
        "summary": "Clashes north of Hama.",
    }
    values.update(overrides)
    return _write(url, Event(**values))


def insert_event_actor(url: str, event_id: int, actor_id: int, role: str = "initiator") -> int:
    return _write(url, EventActor(event_id=event_id, actor_id=actor_id, role=role))


def insert_territory_change(url: str, event_id: int, place_id: int) -> int:
    return _write(url, TerritoryChange(event_id=event_id, place_id=place_id))
