"""`last_update` of GET /acled/acled/read: Unix seconds of the latest edit or deletion.

A page (limit 1..5000) on PostgreSQL reads it in the statement of the page's ids; other reads
(limit=0, SQLite) in a statement of its own. Both are held to the stamps the API itself shows:
the events' `updated_at` and the deleted feed's `deleted_timestamp`.
"""

from __future__ import annotations

import asyncio
import datetime as dt

from tests.acled_api import corpus
from tests.conftest import Api

READ = "/acled/acled/read"


async def stamps(api: Api) -> list[int]:
    """last_update of a page, of a one-row page and of a read of everything (limit=0)."""
    out = []
    for params in ({"limit": 3}, {"event_id_cnty": "SYR1001"}, {"limit": 0}):
        response = await api.get(READ, params=params)
        assert response.status_code == 200, response.text
        out.append(response.json()["last_update"])
    return out


async def latest_edit(api: Api) -> int:
    items = (await api.get("/v1/events", params={"limit": 1000})).json()["items"]
    return max(int(dt.datetime.fromisoformat(e["updated_at"]).timestamp()) for e in items)


async def test_last_update_is_the_latest_edit_then_the_latest_deletion(api: Api) -> None:
    ids = await corpus.build(api)
    edited = await latest_edit(api)
    assert await stamps(api) == [edited] * 3

    await asyncio.sleep(1.1)  # the deletion falls in a later second than every edit
    response = await api.delete(f"/v1/events/{ids['SYR1002']}")
    assert response.status_code == 204, response.text
    deleted = (await api.get("/acled/deleted/read")).json()["data"]
    assert len(deleted) == 1
    stamp = deleted[0]["deleted_timestamp"]
    assert stamp > edited
    assert await stamps(api) == [stamp] * 3
