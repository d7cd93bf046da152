"""Ids are never reused: a row created after a delete gets a larger id (SQLite AUTOINCREMENT)."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api
from tests.imports.support import FIXTURES, query, run_file


async def created_id(api: Api, path: str, body: dict[str, Any]) -> int:
    response = await api.post(path, json=body)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def event(external_id: str) -> dict[str, Any]:
    return {
        "external_id": external_id,
        "date_start": "2015-10-08",
        "sub_event_type": "armed_clash",
        "summary": f"Clashes north of Hama ({external_id})",
    }


async def test_a_deleted_events_id_is_not_given_again(api: Api) -> None:
    await created_id(api, "/v1/events", event("E-1"))
    newest = await created_id(api, "/v1/events", event("E-2"))
    assert (await api.delete(f"/v1/events/{newest}")).status_code == 204

    after = await created_id(api, "/v1/events", event("E-3"))
    assert after > newest
    # The new event has only its own history, not the deleted one's.
    revisions = await api.get(f"/v1/events/{after}/revisions")
    assert revisions.status_code == 200, revisions.text
    assert [r["operation"] for r in revisions.json()] == ["create"]


async def test_deleted_ids_of_other_records_are_not_given_again(api: Api) -> None:
    for path, body in [
        ("/v1/actors", {"name": "Brigade", "actor_type": 2}),
        ("/v1/sources", {"name": "Agency", "kind": "news_agency"}),
        ("/v1/places", {"name": "Hama", "kind": "province", "country_code": "SY"}),
        ("/v1/campaigns", {"name": "Offensive"}),
    ]:
        first = await created_id(api, path, body)
        assert (await api.delete(f"{path}/{first}")).status_code == 204, path
        assert await created_id(api, path, body) > first, path


async def test_an_import_does_not_reuse_deleted_ids_either(api: Api) -> None:
    """The importer reserves ids itself (paths are made of them): past any id ever used."""
    deleted = {}
    for table, path, body in [
        ("actors", "/v1/actors", {"name": "Brigade", "actor_type": 2}),
        ("sources", "/v1/sources", {"name": "Agency", "kind": "news_agency"}),
        ("places", "/v1/places", {"name": "Hama", "kind": "province", "country_code": "SY"}),
    ]:
        deleted[table] = await created_id(api, path, body)
        assert (await api.delete(f"{path}/{deleted[table]}")).status_code == 204
    report = await run_file(api.database_url, FIXTURES / "acled-current.csv", "acled")
    assert report.committed, report
    for table, gone in deleted.items():
        [(smallest, count)] = query(api.database_url, f"SELECT min(id), count(*) FROM {table}")
        assert count > 0, table
        assert smallest > gone, table
