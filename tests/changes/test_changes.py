"""The change feed through HTTP: changed and deleted since T, paged with no gaps."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.conftest import Api
from tests.support import assert_problem, error_locs

pytestmark = pytest.mark.asyncio


async def create(api: Api, ext: str, dataset: str = "conflictdb") -> int:
    r = await api.post(
        "/v1/events",
        json={
            "external_id": ext,
            "dataset": dataset,
            "date_start": "2016-01-01",
            "sub_event_type": "armed_clash",
            "summary": f"event {ext}",
        },
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


async def sync(api: Api, **params: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]], str]:
    """Follow next_url to the end, as a client would."""
    changed: list[dict[str, Any]] = []
    deleted: list[dict[str, Any]] = []
    r = await api.get("/v1/changes", params=params)
    while True:
        assert r.status_code == 200, r.text
        body = r.json()
        changed += body["changed"]
        deleted += body["deleted"]
        if not body["next_cursor"]:
            return changed, deleted, body["high_water_mark"]
        assert r.headers["link"] == f'<{body["next_url"]}>; rel="next"'
        r = await api.client.get(body["next_url"])


async def test_full_then_incremental_sync(api: Api) -> None:
    ids = [await create(api, f"C{i}") for i in range(7)]
    changed, deleted, mark = await sync(api, limit=3, view="ids")
    assert sorted(c["id"] for c in changed) == ids and deleted == []
    assert len({c["id"] for c in changed}) == len(changed)
    stamps = [c["updated_at"] for c in changed]
    assert stamps == sorted(stamps)
    # The mark lags the clock, so the next sync repeats recent rows (harmless) and misses none.
    later = dt.datetime.now(dt.UTC)
    assert dt.datetime.fromisoformat(mark) < later
    since = later.isoformat()
    await api.patch(f"/v1/events/{ids[2]}", json={"summary": "edited"})
    r = await api.delete(f"/v1/events/{ids[4]}")
    assert r.status_code == 204
    fresh = await create(api, "C-new")
    changed, deleted, _ = await sync(api, since=since, limit=1)
    assert sorted(c["id"] for c in changed) == sorted([ids[2], fresh])
    edited = next(c for c in changed if c["id"] == ids[2])
    assert edited["summary"] == "edited" and "actors" in edited  # full view by default
    assert [(d["event_id"], d["external_id"], d["dataset"]) for d in deleted] == [
        (ids[4], "C4", "conflictdb")
    ]
    assert dt.datetime.fromisoformat(deleted[0]["deleted_at"]) >= dt.datetime.fromisoformat(since)
    # Unix seconds work as well; a dataset filter narrows both lists.
    changed, deleted, _ = await sync(api, since=str(int(later.timestamp()) - 1), dataset="other")
    assert changed == [] and deleted == []


async def test_ties_on_timestamp_are_not_lost(api: Api) -> None:
    for i in range(5):
        await create(api, f"T{i}")
    # Same updated_at for all rows: pages still cover each once.
    from sqlalchemy import text

    from app.core.db import make_sync_engine

    engine = make_sync_engine(api.database_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE events SET updated_at = (SELECT min(updated_at) FROM events)"))
    engine.dispose()
    changed, _, _ = await sync(api, limit=2, view="ids")
    assert len(changed) == 5 and len({c["id"] for c in changed}) == 5


@pytest.mark.parametrize(
    ("params", "loc"),
    [
        ({"since": "yesterday"}, ["query", "since"]),
        ({"since": "-5"}, ["query", "since"]),
        ({"limit": 0}, ["query", "limit"]),
        ({"view": "nope"}, ["query", "view"]),
        ({"sinse": "1"}, ["query", "sinse"]),
    ],
)
async def test_bad_parameters(api: Api, params: dict[str, Any], loc: list[str]) -> None:
    body = assert_problem(await api.get("/v1/changes", params=params), 422, "validation_error")
    assert loc in error_locs(body)


async def test_bad_cursor(api: Api) -> None:
    for i in range(3):
        await create(api, f"K{i}")
    body = (await api.get("/v1/changes", params={"limit": 1})).json()
    assert_problem(
        await api.get("/v1/changes", params={"cursor": "garbage"}), 400, "invalid_cursor"
    )
    r = await api.get("/v1/changes", params={"cursor": body["next_cursor"], "since": "2000-01-01"})
    assert_problem(r, 400, "invalid_cursor")
    r = await api.get(
        "/v1/changes", params={"cursor": body["next_cursor"]}, headers={"If-None-Match": "x"}
    )
    assert r.status_code == 200 and r.headers["etag"]
