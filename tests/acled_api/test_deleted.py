"""/acled/deleted/read: the tombstones DELETE /v1/events/{id} leaves, for incremental sync."""

from __future__ import annotations

import time

from tests.acled_api import corpus
from tests.conftest import Api

DELETED = "/acled/deleted/read"


async def test_deleted_feed_after_delete(api: Api) -> None:
    before = int(time.time()) - 1
    ids = await corpus.build(api)
    assert (await api.get(DELETED)).json()["data"] == []
    for event_id in ("SYR1002", "conflictdb-X-1"):
        response = await api.delete(f"/v1/events/{ids[event_id]}")
        assert response.status_code == 204, response.text

    body = (await api.get(DELETED, params={"with_total": "true"})).json()
    assert body["status"] == 200 and body["success"] is True
    assert (body["count"], body["total_count"]) == (2, 2)
    assert {r["event_id_cnty"] for r in body["data"]} == {"SYR1002", "conflictdb-X-1"}
    for row in body["data"]:
        assert set(row) == {"event_id_cnty", "deleted_timestamp"}
        assert isinstance(row["deleted_timestamp"], int)
        assert before <= row["deleted_timestamp"] <= time.time() + 1

    # deleted_timestamp means >= by default; _where picks another operator.
    later = (await api.get(DELETED, params={"deleted_timestamp": str(before + 3600)})).json()
    assert later["data"] == []
    since = (await api.get(DELETED, params={"deleted_timestamp": str(before)})).json()
    assert since["count"] == 2
    older = await api.get(
        DELETED, params={"deleted_timestamp": str(before), "deleted_timestamp_where": "<"}
    )
    assert older.json()["data"] == []
    one = await api.get(DELETED, params={"event_id_cnty": "SYR1002", "limit": "1"})
    assert [r["event_id_cnty"] for r in one.json()["data"]] == ["SYR1002"]
    like = await api.get(
        DELETED, params={"event_id_cnty": "conflictdb%", "event_id_cnty_where": "LIKE"}
    )
    assert [r["event_id_cnty"] for r in like.json()["data"]] == ["conflictdb-X-1"]

    # The sync recipe: changed rows since T, minus the deleted ids.
    rows = (await api.get("/acled/acled/read", params={"timestamp": str(before)})).json()["data"]
    assert [r["event_id_cnty"] for r in rows] == ["TUR2002", "TUR2001", "SYR1001", "SYR1003"]
    csv_text = (await api.get(DELETED, params={"_format": "csv"})).text
    assert csv_text.splitlines()[0] == "event_id_cnty,deleted_timestamp"
    assert len(csv_text.splitlines()) == 3
