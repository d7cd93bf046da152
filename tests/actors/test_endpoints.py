"""/v1/actors: CRUD, unique names and aliases, resolution, pages."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError

from app.actors import repository as actor_repository
from tests.conftest import Api
from tests.factories import create_actor
from tests.support import (
    assert_problem,
    error_locs,
    insert_event,
    insert_event_actor,
)

HTS = {
    "name": "Hay'at Tahrir al-Sham",
    "actor_type": 2,
    "country_code": "sy",
    "description": "Jihadist coalition in north-west Syria.",
    "aliases": ["HTS", "Tahrir al-Sham"],
}


async def create(api: Api, **body: Any) -> dict[str, Any]:
    response = await api.post("/v1/actors", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def test_create_and_get_round_trip(api: Api) -> None:
    qaeda = await create(api, name="Al-Qaeda", actor_type=2)
    response = await api.post(
        "/v1/actors", json={**HTS, "parent_id": qaeda["id"], "affiliation": "Syrian affiliate"}
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert response.headers["location"] == f"/v1/actors/{created['id']}"
    assert created["name"] == "Hay'at Tahrir al-Sham"
    assert created["country_code"] == "SY"
    assert created["actor_type_name"] == "Rebel group"
    assert created["aliases"] == ["HTS", "Tahrir al-Sham"]
    assert created["parent"] == {"id": qaeda["id"], "name": "Al-Qaeda"}
    assert created["affiliation"] == "Syrian affiliate"

    fetched = await api.get(f"/v1/actors/{created['id']}")
    assert fetched.status_code == 200
    assert fetched.json() == created


async def test_get_missing_is_404_and_non_integer_id_is_422(api: Api) -> None:
    assert_problem(await api.get("/v1/actors/999"), 404, "not_found")
    body = assert_problem(await api.get("/v1/actors/abc"), 422, "validation_error")
    assert error_locs(body) == [["path", "actor_id"]]


async def test_invalid_input_is_422_and_leaves_nothing(api: Api) -> None:
    before = api.count("actors")
    response = await api.post(
        "/v1/actors", json={"name": "X", "actor_type": 9, "country_code": "XX", "colour": "red"}
    )
    body = assert_problem(response, 422, "validation_error")
    assert {tuple(loc) for loc in error_locs(body)} == {
        ("body", "actor_type"),
        ("body", "country_code"),
        ("body", "colour"),
    }
    assert api.count("actors") == before


async def test_names_and_aliases_are_unique_ignoring_case(api: Api) -> None:
    await create(api, **HTS)
    before = (api.count("actors"), api.count("actor_aliases"))
    attempts = [
        {"name": "HAY'AT  TAHRIR AL-SHAM", "actor_type": 2},  # the name, shouted and spaced
        {"name": "hts", "actor_type": 2},  # another actor's alias as a name
        {"name": "Jabhat Fateh al-Sham", "actor_type": 2, "aliases": ["tahrir al-sham"]},
        {"name": "Jabhat Fateh al-Sham", "actor_type": 2, "aliases": ["Hay'at Tahrir al-Sham"]},
    ]
    for body in attempts:
        assert_problem(await api.post("/v1/actors", json=body), 409, "duplicate")
    assert (api.count("actors"), api.count("actor_aliases")) == before


async def test_repeated_aliases_and_the_own_name_are_not_stored_twice(api: Api) -> None:
    actor = await create(
        api, name="Syrian Army", actor_type=1, aliases=["SAA", "saa", "syrian army"]
    )
    assert actor["aliases"] == ["SAA"]


async def test_resolve_by_name_or_alias(api: Api) -> None:
    actor = await create(api, **HTS)
    for name in ["hts", "  Tahrir   al-Sham ", "HAY'AT TAHRIR AL-SHAM"]:
        response = await api.get("/v1/actors/resolve", params={"name": name})
        assert response.status_code == 200, response.text
        assert response.json()["id"] == actor["id"]
    missing = await api.get("/v1/actors/resolve", params={"name": "Jaysh al-Izza"})
    assert_problem(missing, 404, "not_found")
    assert_problem(await api.get("/v1/actors/resolve"), 422, "validation_error")


async def test_patch_changes_only_given_fields_and_replaces_aliases(api: Api) -> None:
    actor = await create(api, **HTS)
    response = await api.patch(
        f"/v1/actors/{actor['id']}", json={"aliases": ["HTS", "Jabhat al-Nusra"]}
    )
    assert response.status_code == 200, response.text
    patched = response.json()
    assert patched["aliases"] == ["HTS", "Jabhat al-Nusra"]
    assert patched["description"] == HTS["description"]
    assert patched["country_code"] == "SY"
    assert api.count("actor_aliases") == 2

    # The dropped alias is free again; the kept ones still resolve.
    await create(api, name="Tahrir al-Sham", actor_type=3)
    resolved = await api.get("/v1/actors/resolve", params={"name": "nusra"})
    assert resolved.status_code == 404
    resolved = await api.get("/v1/actors/resolve", params={"name": "jabhat al-nusra"})
    assert resolved.json()["id"] == actor["id"]

    cleared = await api.patch(f"/v1/actors/{actor['id']}", json={"country_code": None})
    assert cleared.json()["country_code"] is None
    assert_problem(
        await api.patch(f"/v1/actors/{actor['id']}", json={"name": None}), 422, "validation_error"
    )


async def test_patch_rename_onto_another_actors_alias_is_409(api: Api) -> None:
    await create(api, **HTS)
    other = await create(api, name="Ahrar al-Sham", actor_type=2)
    response = await api.patch(f"/v1/actors/{other['id']}", json={"name": "HTS"})
    assert_problem(response, 409, "duplicate")
    assert (await api.get(f"/v1/actors/{other['id']}")).json()["name"] == "Ahrar al-Sham"


async def test_affiliation_cycles_and_missing_parents_are_422(api: Api) -> None:
    qaeda = await create(api, name="Al-Qaeda", actor_type=2)
    hts = await create(api, **HTS, parent_id=qaeda["id"])
    cycle = await api.patch(f"/v1/actors/{qaeda['id']}", json={"parent_id": hts["id"]})
    assert error_locs(assert_problem(cycle, 422, "validation_error")) == [["body", "parent_id"]]
    itself = await api.patch(f"/v1/actors/{qaeda['id']}", json={"parent_id": qaeda["id"]})
    assert_problem(itself, 422, "validation_error")
    missing = await api.post("/v1/actors", json={"name": "X", "actor_type": 2, "parent_id": 999})
    assert error_locs(assert_problem(missing, 422, "validation_error")) == [["body", "parent_id"]]


async def test_delete(api: Api) -> None:
    qaeda = await create(api, name="Al-Qaeda", actor_type=2)
    hts = await create(api, **HTS, parent_id=qaeda["id"])
    response = await api.delete(f"/v1/actors/{qaeda['id']}")
    assert response.status_code == 204
    assert_problem(await api.get(f"/v1/actors/{qaeda['id']}"), 404, "not_found")
    assert (await api.get(f"/v1/actors/{hts['id']}")).json()["parent"] is None

    await api.delete(f"/v1/actors/{hts['id']}")
    assert api.count("actor_aliases") == 0
    assert_problem(await api.delete(f"/v1/actors/{hts['id']}"), 404, "not_found")


async def test_delete_an_actor_in_an_event_is_409_in_use(api: Api) -> None:
    actor = await create(api, **HTS)
    event_id = insert_event(api.database_url)
    insert_event_actor(api.database_url, event_id, actor["id"])
    body = assert_problem(await api.delete(f"/v1/actors/{actor['id']}"), 409, "in_use")
    assert "event roles" in body["detail"]
    assert (await api.get(f"/v1/actors/{actor['id']}")).status_code == 200


async def test_writes_need_a_write_key(api: Api) -> None:
    actor = await create(api, **HTS)
    anonymous = await api.post("/v1/actors", json={"name": "X", "actor_type": 1}, headers={})
    assert_problem(anonymous, 401, "missing_api_key")
    read_only = await api.post(
        "/v1/actors", json={"name": "X", "actor_type": 1}, headers=api.read_auth
    )
    assert_problem(read_only, 403, "forbidden")
    patch = await api.patch(f"/v1/actors/{actor['id']}", json={"name": "Y"}, headers={})
    assert_problem(patch, 401, "missing_api_key")
    delete = await api.delete(f"/v1/actors/{actor['id']}", headers=api.read_auth)
    assert_problem(delete, 403, "forbidden")
    assert api.count("actors") == 1
    assert (await api.get(f"/v1/actors/{actor['id']}")).json()["name"] == HTS["name"]


async def test_list_filters_by_name_or_alias(api: Api) -> None:
    hts = await create(api, **HTS)
    await create(api, name="Syrian Arab Army", actor_type=1, aliases=["SAA"])
    response = await api.get("/v1/actors", params={"q": "tahrir"})
    assert [a["id"] for a in response.json()["items"]] == [hts["id"]]
    by_alias = await api.get("/v1/actors", params={"q": "ht"})
    assert [a["id"] for a in by_alias.json()["items"]] == [hts["id"]]
    by_type = await api.get("/v1/actors", params={"actor_type": [1, 3]})
    assert [a["name"] for a in by_type.json()["items"]] == ["Syrian Arab Army"]
    assert_problem(await api.get("/v1/actors", params={"qq": "x"}), 422, "validation_error")


async def test_pages_follow_next_cursor_through_all_actors(api: Api) -> None:
    ids = [(await create(api, name=f"Brigade {i}", actor_type=2))["id"] for i in range(7)]
    seen: list[int] = []
    url: str | None = "/v1/actors?limit=3&total=true"
    pages = 0
    while url:
        response = await api.get(url)
        assert response.status_code == 200, response.text
        page = response.json()
        assert page["total"] == 7
        seen += [a["id"] for a in page["items"]]
        url = page["next_url"]
        if url:
            assert response.headers["link"] == f'<{url}>; rel="next"'
            assert page["next_cursor"] in url
        else:
            assert page["next_cursor"] is None and "link" not in response.headers
        pages += 1
    assert seen == ids
    assert pages == 3
    assert (await api.get("/v1/actors")).json()["total"] is None


async def test_limit_out_of_range_and_tampered_cursor(api: Api) -> None:
    for limit in (0, 1001):
        response = await api.get("/v1/actors", params={"limit": limit})
        assert error_locs(assert_problem(response, 422, "validation_error")) == [["query", "limit"]]
    for _ in range(3):
        await create(api, name=f"Group {_}", actor_type=2)
    cursor = (await api.get("/v1/actors", params={"limit": 1})).json()["next_cursor"]
    tampered = cursor[:-2] + ("AA" if not cursor.endswith("AA") else "BB")
    response = await api.get("/v1/actors", params={"cursor": tampered})
    assert_problem(response, 400, "invalid_cursor")
    assert_problem(await api.get("/v1/actors?cursor=garbage"), 400, "invalid_cursor")


# ---- one key space for names and aliases (fold_name; actor_name_keys, migration 0009) ----


async def test_case_and_unicode_variants_of_a_name_are_409(api: Api) -> None:
    await create(api, name="Case Actor X", actor_type=2)
    await create(api, name="Forces Spéciales", actor_type=1, aliases=["Straße Brigade"])
    for name in [
        "CASE ACTOR X",
        "case  actor x",
        "FORCES SPÉCIALES",  # SQLite's lower() would not fold "É"
        "Forces Spe\u0301ciales",  # "é" as "e" and a combining accent
        "STRASSE BRIGADE",  # another actor's alias, "ß" folded as "ss"
    ]:
        body = assert_problem(
            await api.post("/v1/actors", json={"name": name, "actor_type": 2}), 409, "duplicate"
        )
        assert "already names another actor" in body["detail"]
    assert api.count("actors") == 2


async def test_an_alias_may_not_be_another_actors_name_or_alias(api: Api) -> None:
    hts = await create(api, **HTS)
    other = await create(api, name="Ahrar al-Sham", actor_type=2, aliases=["Ahrar"])
    for aliases in (["HAY'AT TAHRIR AL-SHAM"], ["hts"], ["Harakat Ahrar", "TAHRIR AL-SHAM"]):
        response = await api.patch(f"/v1/actors/{other['id']}", json={"aliases": aliases})
        assert_problem(response, 409, "duplicate")
    response = await api.patch(f"/v1/actors/{hts['id']}", json={"name": "AHRAR"})
    assert_problem(response, 409, "duplicate")
    assert (await api.get(f"/v1/actors/{other['id']}")).json()["aliases"] == ["Ahrar"]


async def test_name_and_alias_may_trade_places(api: Api) -> None:
    actor = await create(api, name="Jabhat al-Nusra", actor_type=2, aliases=["Nusra Front"])
    response = await api.patch(
        f"/v1/actors/{actor['id']}", json={"name": "Nusra Front", "aliases": ["Jabhat al-Nusra"]}
    )
    assert response.status_code == 200, response.text
    assert response.json()["aliases"] == ["Jabhat al-Nusra"]
    # Renamed to one of its own aliases: the alias goes, being the name now.
    renamed = await api.patch(f"/v1/actors/{actor['id']}", json={"name": "JABHAT AL-NUSRA"})
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["aliases"] == []
    resolved = await api.get("/v1/actors/resolve", params={"name": "jabhat al-nusra"})
    assert resolved.json()["id"] == actor["id"]
    assert (await api.get("/v1/actors/resolve", params={"name": "Nusra Front"})).status_code == 404


async def test_lookups_by_name_or_alias_in_any_case(api: Api) -> None:
    actor = await create(api, name="Forces Spéciales", actor_type=1, aliases=["Straße Brigade"])
    for name in ["FORCES SPÉCIALES", "forces spe\u0301ciales", "STRASSE BRIGADE", "straße brigade"]:
        response = await api.get("/v1/actors/resolve", params={"name": name})
        assert response.status_code == 200, (name, response.text)
        assert response.json()["id"] == actor["id"]
    listed = await api.get("/v1/actors", params={"q": "SPÉCIALES"})
    assert [a["id"] for a in listed.json()["items"]] == [actor["id"]]
    listed = await api.get("/v1/actors", params={"q": "STRASSE"})
    assert [a["id"] for a in listed.json()["items"]] == [actor["id"]]
    # Events by an actor's alias, in another case.
    event_id = insert_event(api.database_url)
    insert_event_actor(api.database_url, event_id, actor["id"])
    events = await api.get("/v1/events", params={"actor": "STRASSE BRIGADE"})
    assert [e["id"] for e in events.json()["items"]] == [event_id]


async def test_a_deleted_actors_names_are_free_again(api: Api) -> None:
    actor = await create(api, **HTS)
    assert (await api.delete(f"/v1/actors/{actor['id']}")).status_code == 204
    assert api.count("actor_name_keys") == 0
    again = await create(api, name="HTS", actor_type=2, aliases=["hay'at tahrir al-sham"])
    assert again["id"] > actor["id"]


async def test_the_database_refuses_a_clash_the_service_missed(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two requests racing past the check: the unique indexes answer, as a 409 naming the name."""
    await create(api, **HTS)

    async def nothing_taken(*_args: Any, **_kw: Any) -> list[str]:
        return []

    monkeypatch.setattr(actor_repository, "names_taken", nothing_taken)
    for body in [
        {"name": "HAY'AT TAHRIR AL-SHAM", "actor_type": 2},  # actors.name_key
        {"name": "hts", "actor_type": 2},  # another actor's alias: actor_name_keys
        {"name": "Jabhat Fateh al-Sham", "actor_type": 2, "aliases": ["Tahrir al-Sham"]},
    ]:
        detail = assert_problem(await api.post("/v1/actors", json=body), 409, "duplicate")
        assert repr(body["name"]) in detail["detail"]
    assert api.count("actors") == 1
    # Written past the services altogether: only actor_name_keys sees these clashes.
    with pytest.raises(IntegrityError):
        create_actor(api.database_url, "hts")
    with pytest.raises(IntegrityError):
        create_actor(api.database_url, "Jaysh al-Fateh", aliases=["HAY'AT TAHRIR AL-SHAM"])
    assert api.count("actors") == 1
