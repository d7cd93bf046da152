"""A list page's statement is built once per filter set and process (app/core/statements.py).

What is kept is the SQL, never the rows: a request with the same filters reuses the statement
and still reads the rows as they are now; any other value, order or cursor is built anew.
PostgreSQL only (SQLite's pages run through SQLAlchemy, which keeps its own compiled cache).
"""

from __future__ import annotations

from typing import Any

from app.core.statements import StatementMemo
from tests.conftest import Api
from tests.writes.support import full_event_body

NO_CACHE = {"Cache-Control": "no-cache"}  # past the response cache: every list runs its query


def memo(api: Api) -> StatementMemo:
    kept: StatementMemo = api.client._transport.app.state.statements  # type: ignore[attr-defined]
    return kept


async def page(api: Api, **params: Any) -> dict[str, Any]:
    r = await api.get("/v1/events", params=params, headers=NO_CACHE)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def ids(body: dict[str, Any]) -> list[int]:
    return [item["id"] for item in body["items"]]


async def test_the_same_filters_reuse_the_statement_and_read_fresh_rows(seeded_api: Api) -> None:
    api = seeded_api
    if not api.database_url.startswith("postgresql"):
        return
    kept = memo(api)
    first = await page(api, country="SY", limit=2)
    built = kept.misses
    again = await page(api, country="SY", limit=2)
    assert again == first
    assert (kept.misses, kept.hits) == (built, 1)  # reused, not built again

    # Other values, another statement: each page answers its own filters.
    other = await page(api, country="SY", limit=3)
    assert kept.misses == built + 1 and len(other["items"]) == 3
    assert (await page(api, country="IQ", limit=2))["items"] == []
    assert kept.misses == built + 2

    # A cursor is part of the filters: the next page is built for it and differs.
    second = await page(api, country="SY", limit=2, cursor=first["next_cursor"])
    assert set(ids(second)).isdisjoint(ids(first))
    assert await page(api, country="SY", limit=2, cursor=first["next_cursor"]) == second

    # The statement is kept, the rows are not: an event written since is read.
    r = await api.post("/v1/events", json=full_event_body("MEMO-1", 1, place="Memo Village"))
    assert r.status_code == 201, r.text
    newest = await page(api, limit=1)
    hits = kept.hits
    body = full_event_body("MEMO-2", 2, place="Memo Town")
    body["date_start"] = body["date_end"] = "2999-01-01"
    r = await api.post("/v1/events", json=body)
    assert r.status_code == 201, r.text
    after = await page(api, limit=1)
    assert kept.hits == hits + 1
    assert ids(after) == [r.json()["id"]] != ids(newest)


async def test_a_refused_cursor_keeps_nothing(seeded_api: Api) -> None:
    api = seeded_api
    if not api.database_url.startswith("postgresql"):
        return
    kept = memo(api)
    first = await page(api, country="SY", limit=2)
    # A cursor of these filters, replayed against others: a 400, each time, never kept.
    for _ in range(2):
        r = await api.get(
            "/v1/events",
            params={"country": "IQ", "limit": 2, "cursor": first["next_cursor"]},
            headers=NO_CACHE,
        )
        assert r.status_code == 400, r.text
    assert kept.hits == 0


async def acled(api: Api, **params: Any) -> list[str]:
    r = await api.get("/acled/acled/read", params=params, headers=NO_CACHE)
    assert r.status_code == 200, r.text
    return [row["event_id_cnty"] for row in r.json()["data"]]


async def test_an_acled_page_reuses_its_statement_for_the_same_query(seeded_api: Api) -> None:
    """The ACLED API's page statement: kept by its filters, page and the domains they read."""
    api = seeded_api
    if not api.database_url.startswith("postgresql"):
        return
    kept = memo(api)
    first = await acled(api, country="Syria", limit=2)
    built, hits = kept.misses, kept.hits
    assert await acled(api, country="Syria", limit=2) == first
    assert (kept.misses, kept.hits) == (built, hits + 1)
    second = await acled(api, country="Syria", limit=2, page=2)
    assert kept.misses == built + 1 and second and set(second).isdisjoint(first)
    assert await acled(api, country="Iraq", limit=2) == []
    assert kept.misses == built + 2
