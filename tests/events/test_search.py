"""Full-text search (q): web-search syntax on both databases; user text never breaks the query."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api
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
