"""Full-text search (q): web-search syntax on both databases; user text never breaks the query."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event

from app.events import reads
from tests.conftest import Api, make_api, truncate_all
from tests.support import assert_problem

pytestmark = pytest.mark.asyncio

TEXTS = {
    "S1": ("Russian air strikes hit villages in the Sahl al-Ghab plain", None),
    "S2": ("Clashes north of Hama", "Rebels said the strikes killed 13 soldiers"),
    "S3": ("Protest in Idlib against the regime", None),
    "S4": ("Shelling of Latakia countryside", "Reported by state media"),
}


@pytest.fixture
async def corpus(api: Api) -> None:
    for ext, (summary, notes) in TEXTS.items():
        body = {
            "external_id": ext,
            "date_start": "2016-01-01",
            "sub_event_type": "armed_clash",
            "summary": summary,
            "notes": notes,
        }
        r = await api.post("/v1/events", json=body)
        assert r.status_code == 201, r.text


async def found(api: Api, q: str, **params: Any) -> list[str]:
    r = await api.get("/v1/events", params={"q": q, **params})
    assert r.status_code == 200, (q, r.text)
    return sorted(e["external_id"] for e in r.json()["items"])


async def test_words_stems_phrases_or_not(api: Api, corpus: None) -> None:
    assert await found(api, "strike") == ["S1", "S2"]  # stemmed, summary and notes
    assert await found(api, "STRIKES villages") == ["S1"]  # all words
    assert await found(api, '"air strikes"') == ["S1"]
    assert await found(api, '"strikes air"') == []
    assert await found(api, "protest or shelling") == ["S3", "S4"]
    assert await found(api, "strikes -rebels") == ["S1"]
    assert await found(api, "the hama") == ["S2"]  # stop words do not count
    assert await found(api, "killed", date_from="2016-01-01") == ["S2"]  # combines with filters
    assert await found(api, "nothing-like-this") == []


@pytest.mark.parametrize(
    "q",
    [
        '"',
        '""',
        "*",
        "NEAR(",
        "a AND",
        "OR",
        "-",
        "--x",
        ":",
        "^x",
        "(",
        ")",
        "{}",
        "'",
        "\\",
        "summary:foo",
        "NOT NOT",
        "the",
        "&|!",
        "x" * 200,
        "ü é ß",
        "مدينة",
    ],
)
async def test_any_text_is_answered(api: Api, corpus: None, q: str) -> None:
    r = await api.get("/v1/events", params={"q": q})
    assert r.status_code == 200, (q, r.text)


async def test_bad_q_is_422(api: Api) -> None:
    assert_problem(await api.get("/v1/events", params={"q": "a\x00b"}), 422, "validation_error")
    assert_problem(await api.get("/v1/events", params={"q": "x" * 201}), 422, "validation_error")
    assert_problem(await api.get("/v1/events", params={"actor": "a\x00"}), 422, "validation_error")


async def test_many_matches_walk_the_orders_index_with_the_same_pages(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite pages of many matches test the order's index rows against the matches
    (`+events.id IN (...)`); the pages are the same as when each match is looked up by id."""
    truncate_all(database_url)
    async for api in make_api(database_url, cache_enabled=False):  # every page runs its SQL
        await _walk_and_look_up(api, monkeypatch)


async def _walk_and_look_up(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    for n in range(24):
        body = {
            "external_id": f"M{n}",
            "date_start": f"2016-01-{1 + n % 9:02d}",  # ties on the date: id breaks them
            "sub_event_type": "armed_clash",
            "summary": ["Air strikes on the plain", "Rebels shelled a village", "Protest"][n % 3],
            "notes": "strike reported" if n % 4 == 0 else None,
        }
        r = await api.post("/v1/events", json=body)
        assert r.status_code == 201, r.text
    engine = api.client._transport.app.state.engine.sync_engine  # type: ignore[attr-defined]
    sent: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: sent.append(str(a[2])))

    async def pages(q: str, sort: str) -> list[str]:
        seen: list[str] = []
        params: dict[str, Any] = {"q": q, "sort": sort, "limit": 4}
        while True:
            body = (await api.get("/v1/events", params=params)).json()
            seen += [e["external_id"] for e in body["items"]]
            if body["next_cursor"] is None:
                return seen
            params["cursor"] = body["next_cursor"]

    for q in ("strike", "strike -rebels", "strike or protest", "village"):
        for sort in ("-date", "date", "id", "-id"):
            monkeypatch.setattr(reads, "MEMBERSHIP_FROM", 10**9)
            looked_up = await pages(q, sort)
            sent.clear()
            monkeypatch.setattr(reads, "MEMBERSHIP_FROM", 1)
            walked = await pages(q, sort)
            assert walked == looked_up and walked, (q, sort)
            if engine.dialect.name == "sqlite":
                assert any("+events.id IN" in s for s in sent), (q, sort)
