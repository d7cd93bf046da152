"""A page of /acled/acled/read reuses each event's record while its change_seq stays
(app/core/doccache.py; PostgreSQL, where a page is read at once).

Held equal, after each change through the API, to the same events streamed by the exporter
(`limit=0`: every row, never kept), and shown changed where the change shows.
"""

from __future__ import annotations

from typing import Any

from app.core.doccache import DocCache
from tests.acled_api import corpus
from tests.conftest import Api
from tests.imports.support import event_id

READ = "/acled/acled/read"
# Past the response cache (app/core/cache.py): every read below runs its query.
NO_CACHE = {"Cache-Control": "no-cache"}


async def read(api: Api, **params: Any) -> list[dict[str, Any]]:
    r = await api.get(READ, params=params, headers=NO_CACHE)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["count"] == len(body["data"])
    data: list[dict[str, Any]] = body["data"]
    return data


async def page_equals_stream(api: Api, **params: Any) -> list[dict[str, Any]]:
    page = await read(api, limit=100, **params)
    assert page == await read(api, limit=0, **params)
    return page


async def test_a_kept_record_follows_every_change_it_shows(api: Api) -> None:
    await corpus.build(api)
    cache: DocCache = api.client._transport.app.state.doc_cache  # type: ignore[attr-defined]
    on_pg = "postgresql" in api.database_url
    first = await page_equals_stream(api)
    assert [r["event_id_cnty"] for r in first] == corpus.ORDER
    assert cache.hits == 0
    assert await page_equals_stream(api) == first
    assert cache.hits == (len(first) if on_pg else 0)
    # Kept per shape: labels or numbers, a few fields.
    await page_equals_stream(api, inter_num=1)
    await page_equals_stream(api, fields="event_id_cnty|actor1|notes")

    actors = (await api.get("/v1/actors", params={"q": "Hezbollah"})).json()["items"]
    [hezbollah] = [a for a in actors if a["name"] == corpus.HEZBOLLAH]
    r = await api.patch(f"/v1/actors/{hezbollah['id']}", json={"name": "Hezbollah (Lebanon)"})
    assert r.status_code == 200, r.text
    renamed = await page_equals_stream(api)
    assert any("Hezbollah (Lebanon)" in (r["assoc_actor_1"] or "") for r in renamed)
    assert any(
        "Hezbollah (Lebanon)" in (r["assoc_actor_1"] or "")
        for r in await page_equals_stream(api, fields="event_id_cnty|assoc_actor_1")
    )

    syr = event_id(api.database_url, "acled", "SYR1001")
    r = await api.patch(f"/v1/events/{syr}", json={"summary": "Kept, then edited."})
    assert r.status_code == 200, r.text
    edited = await page_equals_stream(api)
    assert [r["notes"] for r in edited if r["event_id_cnty"] == "SYR1001"] == ["Kept, then edited."]

    r = await api.delete(f"/v1/events/{syr}")
    assert r.status_code in (200, 204), r.text
    assert "SYR1001" not in [r["event_id_cnty"] for r in await page_equals_stream(api)]
