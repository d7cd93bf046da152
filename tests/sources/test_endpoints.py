"""/v1/sources and /v1/documents: CRUD, unique names and titles, citations that block deletes."""

from __future__ import annotations

from typing import Any

import pytest

from app.sources import repository as source_repository
from tests.conftest import Api
from tests.support import assert_problem, error_locs, insert_event


async def create(api: Api, path: str, **body: Any) -> dict[str, Any]:
    response = await api.post(path, json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def test_source_round_trip_with_parent(api: Api) -> None:
    sohr = await create(
        api,
        "/v1/sources",
        name="Syrian Observatory for Human Rights",
        kind="monitor",
        country_code="gb",
        url="https://www.syriahr.com/en/",
        description="Britain-based monitor with a network of sources inside Syria.",
    )
    response = await api.post(
        "/v1/sources", json={"name": "Rami Abdel Rahman", "kind": "person", "parent_id": sohr["id"]}
    )
    assert response.status_code == 201, response.text
    person = response.json()
    assert response.headers["location"] == f"/v1/sources/{person['id']}"
    assert person["parent"] == {"id": sohr["id"], "name": "Syrian Observatory for Human Rights"}
    assert sohr["country_code"] == "GB"
    assert sohr["url"] == "https://www.syriahr.com/en/"
    fetched = await api.get(f"/v1/sources/{sohr['id']}")
    assert fetched.json() == sohr


async def test_source_names_are_unique_ignoring_case(api: Api) -> None:
    afp = await create(api, "/v1/sources", name="AFP", kind="news_agency")
    before = api.count("sources")
    again = await api.post("/v1/sources", json={"name": "afp", "kind": "newspaper"})
    assert_problem(again, 409, "duplicate")
    assert api.count("sources") == before
    other = await create(api, "/v1/sources", name="Reuters", kind="news_agency")
    rename = await api.patch(f"/v1/sources/{other['id']}", json={"name": "Afp"})
    assert_problem(rename, 409, "duplicate")
    # Renaming a source to its own name in another case is not a clash.
    same = await api.patch(f"/v1/sources/{afp['id']}", json={"name": "Afp"})
    assert same.status_code == 200 and same.json()["name"] == "Afp"


async def test_source_validation(api: Api) -> None:
    bad = await api.post(
        "/v1/sources",
        json={"name": "", "kind": "blog", "country_code": "QQ", "url": "ftp://x"},
    )
    body = assert_problem(bad, 422, "validation_error")
    assert {loc[1] for loc in error_locs(body)} == {"name", "kind", "country_code", "url"}
    orphan = await api.post("/v1/sources", json={"name": "X", "kind": "person", "parent_id": 9})
    assert error_locs(assert_problem(orphan, 422, "validation_error")) == [["body", "parent_id"]]
    assert api.count("sources") == 0


async def test_source_patch_and_cycles(api: Api) -> None:
    state = await create(api, "/v1/sources", name="State Department", kind="government")
    kirby = await create(
        api, "/v1/sources", name="John Kirby", kind="person", parent_id=state["id"]
    )
    patched = await api.patch(f"/v1/sources/{kirby['id']}", json={"country_code": "US"})
    assert patched.json()["country_code"] == "US"
    assert patched.json()["parent"]["id"] == state["id"]
    cycle = await api.patch(f"/v1/sources/{state['id']}", json={"parent_id": kirby["id"]})
    assert error_locs(assert_problem(cycle, 422, "validation_error")) == [["body", "parent_id"]]
    detached = await api.patch(f"/v1/sources/{kirby['id']}", json={"parent_id": None})
    assert detached.json()["parent"] is None
    assert_problem(
        await api.patch(f"/v1/sources/{kirby['id']}", json={"kind": None}),
        422,
        "validation_error",
    )
    assert_problem(await api.patch("/v1/sources/999", json={}), 404, "not_found")


async def test_list_sources(api: Api) -> None:
    ids = [
        (await create(api, "/v1/sources", name=name, kind=kind))["id"]
        for name, kind in [
            ("AFP", "news_agency"),
            ("Reuters", "news_agency"),
            ("SOHR", "monitor"),
            ("SANA", "state_media"),
        ]
    ]
    agencies = await api.get("/v1/sources", params={"kind": ["news_agency", "monitor"]})
    assert [s["id"] for s in agencies.json()["items"]] == ids[:3]
    assert [s["name"] for s in (await api.get("/v1/sources?q=san")).json()["items"]] == ["SANA"]
    seen: list[int] = []
    url: str | None = "/v1/sources?limit=3&total=true"
    while url:
        page = (await api.get(url)).json()
        assert page["total"] == 4
        seen += [s["id"] for s in page["items"]]
        url = page["next_url"]
    assert seen == ids
    assert_problem(await api.get("/v1/sources?cursor=abc"), 400, "invalid_cursor")


async def test_delete_source(api: Api) -> None:
    afp = await create(api, "/v1/sources", name="AFP", kind="news_agency")
    sohr = await create(api, "/v1/sources", name="SOHR", kind="monitor")
    await create(api, "/v1/documents", title="Wire story", publisher_id=afp["id"])
    event_id = insert_event(api.database_url)
    await create(api, "/v1/claims", event_id=event_id, source_id=sohr["id"], assertion="x")

    assert_problem(await api.delete(f"/v1/sources/{afp['id']}"), 409, "in_use")
    body = assert_problem(await api.delete(f"/v1/sources/{sohr['id']}"), 409, "in_use")
    assert "1 claims" in body["detail"]
    assert api.count("sources") == 2

    spare = await create(api, "/v1/sources", name="Spare", kind="other")
    assert (await api.delete(f"/v1/sources/{spare['id']}")).status_code == 204
    assert_problem(await api.get(f"/v1/sources/{spare['id']}"), 404, "not_found")


async def test_document_round_trip(api: Api) -> None:
    afp = await create(api, "/v1/sources", name="AFP", kind="news_agency")
    response = await api.post(
        "/v1/documents",
        json={
            "title": "Syria regime launches ground offensive backed by Russian strikes",
            "publisher_id": afp["id"],
            "published_on": "2015-10-08",
            "url": "https://www.afp.com/en/news/1",
            "language": "en",
        },
    )
    assert response.status_code == 201, response.text
    doc = response.json()
    assert response.headers["location"] == f"/v1/documents/{doc['id']}"
    assert doc["publisher"] == {"id": afp["id"], "name": "AFP", "kind": "news_agency"}
    assert doc["published_on"] == "2015-10-08"
    assert (await api.get(f"/v1/documents/{doc['id']}")).json() == doc

    patched = await api.patch(f"/v1/documents/{doc['id']}", json={"language": "fr"})
    assert patched.json()["language"] == "fr"
    assert patched.json()["title"] == doc["title"]


async def test_document_title_and_date_are_unique(api: Api) -> None:
    body = {"title": "Wire story", "published_on": "2015-10-08"}
    first = await create(api, "/v1/documents", **body)
    assert_problem(await api.post("/v1/documents", json=body), 409, "duplicate")
    other_day = await create(api, "/v1/documents", title="Wire story", published_on="2015-10-09")
    moved = await api.patch(f"/v1/documents/{other_day['id']}", json={"published_on": "2015-10-08"})
    assert_problem(moved, 409, "duplicate")
    # An unknown date is a value too: one undated "Wire story" only.
    await create(api, "/v1/documents", title="Wire story")
    assert_problem(await api.post("/v1/documents", json={"title": "Wire story"}), 409, "duplicate")
    assert api.count("documents") == 3
    assert (await api.get(f"/v1/documents/{first['id']}")).status_code == 200


async def test_document_validation_and_filters(api: Api) -> None:
    bad = await api.post(
        "/v1/documents", json={"title": "X", "publisher_id": 77, "language": "English"}
    )
    body = assert_problem(bad, 422, "validation_error")
    assert error_locs(body) == [["body", "language"]]
    missing = await api.post("/v1/documents", json={"title": "X", "publisher_id": 77})
    assert error_locs(assert_problem(missing, 422, "validation_error")) == [
        ["body", "publisher_id"]
    ]
    afp = await create(api, "/v1/sources", name="AFP", kind="news_agency")
    a = await create(
        api, "/v1/documents", title="A", publisher_id=afp["id"], published_on="2015-10-07"
    )
    b = await create(api, "/v1/documents", title="B", published_on="2015-10-08")
    by_publisher = await api.get("/v1/documents", params={"publisher_id": afp["id"]})
    assert [d["id"] for d in by_publisher.json()["items"]] == [a["id"]]
    by_date = await api.get("/v1/documents", params={"date_from": "2015-10-08"})
    assert [d["id"] for d in by_date.json()["items"]] == [b["id"]]


async def test_delete_document(api: Api) -> None:
    sohr = await create(api, "/v1/sources", name="SOHR", kind="monitor")
    doc = await create(api, "/v1/documents", title="Report")
    event_id = insert_event(api.database_url)
    await create(
        api,
        "/v1/claims",
        event_id=event_id,
        source_id=sohr["id"],
        document_id=doc["id"],
        assertion="x",
    )
    assert_problem(await api.delete(f"/v1/documents/{doc['id']}"), 409, "in_use")
    spare = await create(api, "/v1/documents", title="Spare")
    assert (await api.delete(f"/v1/documents/{spare['id']}")).status_code == 204
    assert api.count("documents") == 1


async def test_writes_need_a_write_key(api: Api) -> None:
    body = {"name": "AFP", "kind": "news_agency"}
    assert_problem(await api.post("/v1/sources", json=body, headers={}), 401, "missing_api_key")
    assert_problem(
        await api.post("/v1/sources", json=body, headers=api.read_auth), 403, "forbidden"
    )
    assert_problem(
        await api.post("/v1/documents", json={"title": "X"}, headers=api.read_auth),
        403,
        "forbidden",
    )
    assert api.count("sources") == api.count("documents") == 0


async def test_source_names_clash_beyond_ascii(api: Api) -> None:
    await create(api, "/v1/sources", name="Agence Spéciale de Presse", kind="news_agency")
    await create(api, "/v1/sources", name="Straße Zeitung", kind="newspaper")
    for name in [
        "AGENCE SPÉCIALE DE PRESSE",
        "agence spe\u0301ciale  de presse",
        "STRASSE ZEITUNG",
    ]:
        response = await api.post("/v1/sources", json={"name": name, "kind": "other"})
        assert_problem(response, 409, "duplicate")
    assert api.count("sources") == 2


async def test_the_unique_index_answers_a_clash_the_check_missed(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two requests racing past the check: the second is refused by sources.name_key."""
    afp = await create(api, "/v1/sources", name="AFP", kind="news_agency")
    other = await create(api, "/v1/sources", name="Reuters", kind="news_agency")

    async def not_taken(*_args: Any) -> bool:
        return False

    monkeypatch.setattr(source_repository, "source_name_taken", not_taken)
    body = assert_problem(
        await api.post("/v1/sources", json={"name": "afp", "kind": "newspaper"}), 409, "duplicate"
    )
    assert "'afp'" in body["detail"]
    rename = await api.patch(f"/v1/sources/{other['id']}", json={"name": "Afp"})
    assert_problem(rename, 409, "duplicate")
    assert (await api.get(f"/v1/sources/{afp['id']}")).json()["name"] == "AFP"
    assert api.count("sources") == 2


async def test_sources_are_found_by_name_in_any_case(api: Api) -> None:
    source = await create(api, "/v1/sources", name="Agence Spéciale de Presse", kind="news_agency")
    listed = await api.get("/v1/sources", params={"q": "SPÉCIALE"})
    assert [s["id"] for s in listed.json()["items"]] == [source["id"]]
    event = {
        "external_id": "SRC-1",
        "date_start": "2015-10-08",
        "sub_event_type": "armed_clash",
        "summary": "Clashes north of Hama",
        "claims": [{"source": "AGENCE SPE\u0301CIALE DE PRESSE", "assertion": "clashes reported"}],
    }
    response = await api.post("/v1/events", json=event)
    assert response.status_code == 201, response.text
    assert response.json()["claims"][0]["source"]["id"] == source["id"]
