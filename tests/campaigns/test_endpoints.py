"""/v1/campaigns: campaigns with their events and the claims made about them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tests.conftest import Api
from tests.factories import create_actor, create_source
from tests.support import assert_problem, error_locs, insert_event

AIR_CAMPAIGN = "Russian air campaign in Syria"


async def create(api: Api, **body: Any) -> dict[str, Any]:
    response = await api.post("/v1/campaigns", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def test_campaign_with_events_and_claims(api: Api) -> None:
    url = api.database_url
    russia = create_actor(url, "Military Forces of Russia", actor_type=8)
    later = insert_event(url, date_start=dt.date(2015, 10, 8), summary="Strikes on Sahl al-Ghab")
    earlier = insert_event(url, date_start=dt.date(2015, 9, 30), summary="First Russian strikes")
    response = await api.post(
        "/v1/campaigns",
        json={
            "name": AIR_CAMPAIGN,
            "description": "Air strikes in support of the Syrian government.",
            "start_date": "2015-09-30",
            "initiator_actor_id": russia,
            "event_ids": [later, earlier],
        },
    )
    assert response.status_code == 201, response.text
    campaign = response.json()
    assert response.headers["location"] == f"/v1/campaigns/{campaign['id']}"
    assert campaign["initiator"] == {"id": russia, "name": "Military Forces of Russia"}
    assert campaign["events"] == [
        {"id": earlier, "date_start": "2015-09-30", "summary": "First Russian strikes"},
        {"id": later, "date_start": "2015-10-08", "summary": "Strikes on Sahl al-Ghab"},
    ]
    assert campaign["event_count"] == 2
    assert campaign["claims"] == []

    state = create_source(url, "US Department of State", kind="government")
    claim = await api.post(
        "/v1/claims",
        json={
            "campaign_id": campaign["id"],
            "source_id": state,
            "kind": "targeting",
            "assertion": "More than 90% of strikes did not target ISIL",
            "attributes": {"share_not_isil": 0.9},
        },
    )
    assert claim.status_code == 201, claim.text
    fetched = (await api.get(f"/v1/campaigns/{campaign['id']}")).json()
    assert len(fetched["claims"]) == 1
    assert fetched["claims"][0]["source"] == {
        "id": state,
        "name": "US Department of State",
        "kind": "government",
    }
    assert fetched["claims"][0]["attributes"] == {"share_not_isil": 0.9}
    assert fetched["events"] == campaign["events"]


async def test_invalid_campaigns_leave_nothing_behind(api: Api) -> None:
    event_id = insert_event(api.database_url)
    await create(api, name=AIR_CAMPAIGN)
    before = (api.count("campaigns"), api.count("campaign_events"))
    duplicate = await api.post("/v1/campaigns", json={"name": AIR_CAMPAIGN.upper()})
    assert_problem(duplicate, 409, "duplicate")
    missing_event = await api.post(
        "/v1/campaigns", json={"name": "Hama offensive", "event_ids": [event_id, 999]}
    )
    assert error_locs(assert_problem(missing_event, 422, "validation_error")) == [
        ["body", "event_ids", 1]
    ]
    missing_actor = await api.post(
        "/v1/campaigns", json={"name": "Hama offensive", "initiator_actor_id": 42}
    )
    assert error_locs(assert_problem(missing_actor, 422, "validation_error")) == [
        ["body", "initiator_actor_id"]
    ]
    backwards = await api.post(
        "/v1/campaigns",
        json={"name": "Hama offensive", "start_date": "2015-10-08", "end_date": "2015-10-01"},
    )
    assert_problem(backwards, 422, "validation_error")
    assert (api.count("campaigns"), api.count("campaign_events")) == before


async def test_patch(api: Api) -> None:
    url = api.database_url
    a, b, c = (insert_event(url) for _ in range(3))
    campaign = await create(api, name="Hama offensive", start_date="2015-10-07", event_ids=[a, b])
    patched = await api.patch(
        f"/v1/campaigns/{campaign['id']}",
        json={"event_ids": [b, c], "description": "Ground offensive in northern Hama."},
    )
    assert patched.status_code == 200, patched.text
    assert [e["id"] for e in patched.json()["events"]] == [b, c]
    assert patched.json()["name"] == "Hama offensive"
    assert patched.json()["start_date"] == "2015-10-07"
    assert api.count("campaign_events") == 2

    backwards = await api.patch(f"/v1/campaigns/{campaign['id']}", json={"end_date": "2015-10-01"})
    assert error_locs(assert_problem(backwards, 422, "validation_error")) == [["body", "end_date"]]
    other = await create(api, name=AIR_CAMPAIGN)
    clash = await api.patch(f"/v1/campaigns/{other['id']}", json={"name": "hama OFFENSIVE"})
    assert_problem(clash, 409, "duplicate")
    unlinked = await api.patch(f"/v1/campaigns/{campaign['id']}", json={"event_ids": []})
    assert unlinked.json()["events"] == [] and unlinked.json()["event_count"] == 0
    assert_problem(await api.patch("/v1/campaigns/999", json={}), 404, "not_found")


async def test_list(api: Api) -> None:
    event_id = insert_event(api.database_url)
    air = await create(api, name=AIR_CAMPAIGN, event_ids=[event_id])
    hama = await create(api, name="Hama offensive")
    third = await create(api, name="Latakia offensive")
    page = (await api.get("/v1/campaigns", params={"limit": 2, "total": "true"})).json()
    assert [c["id"] for c in page["items"]] == [air["id"], hama["id"]]
    assert page["items"][0]["event_count"] == 1 and "events" not in page["items"][0]
    assert page["total"] == 3
    rest = (await api.get(page["next_url"])).json()
    assert [c["id"] for c in rest["items"]] == [third["id"]] and rest["next_url"] is None
    offensives = (await api.get("/v1/campaigns", params={"q": "OFFENSIVE"})).json()
    assert [c["id"] for c in offensives["items"]] == [hama["id"], third["id"]]
    with_event = (await api.get("/v1/campaigns", params={"event_id": event_id})).json()
    assert [c["id"] for c in with_event["items"]] == [air["id"]]
    assert_problem(await api.get("/v1/campaigns?cursor=zzz"), 400, "invalid_cursor")


async def test_delete(api: Api) -> None:
    event_id = insert_event(api.database_url)
    campaign = await create(api, name=AIR_CAMPAIGN, event_ids=[event_id])
    assert (await api.delete(f"/v1/campaigns/{campaign['id']}")).status_code == 204
    assert_problem(await api.get(f"/v1/campaigns/{campaign['id']}"), 404, "not_found")
    assert api.count("events") == 1 and api.count("campaign_events") == 0

    claimed = await create(api, name="Hama offensive")
    source_id = create_source(api.database_url, "SOHR", kind="monitor")
    claim = await api.post(
        "/v1/claims",
        json={"campaign_id": claimed["id"], "source_id": source_id, "assertion": "began"},
    )
    assert claim.status_code == 201
    assert_problem(await api.delete(f"/v1/campaigns/{claimed['id']}"), 409, "in_use")
    assert api.count("claims") == 1


async def test_writes_need_a_write_key(api: Api) -> None:
    body = {"name": AIR_CAMPAIGN}
    assert_problem(await api.post("/v1/campaigns", json=body, headers={}), 401, "missing_api_key")
    assert_problem(
        await api.post("/v1/campaigns", json=body, headers=api.read_auth), 403, "forbidden"
    )
    assert api.count("campaigns") == 0


async def test_campaign_names_are_unique_ignoring_case_beyond_ascii(api: Api) -> None:
    campaign = await create(api, name="Opération Spéciale")
    for name in ["OPÉRATION SPÉCIALE", "ope\u0301ration  spe\u0301ciale"]:
        assert_problem(await api.post("/v1/campaigns", json={"name": name}), 409, "duplicate")
    other = await create(api, name="Operation Dawn")
    rename = await api.patch(f"/v1/campaigns/{other['id']}", json={"name": "OPÉRATION spéciale"})
    assert_problem(rename, 409, "duplicate")
    listed = await api.get("/v1/campaigns", params={"q": "SPÉCIALE"})
    assert [c["id"] for c in listed.json()["items"]] == [campaign["id"]]
    assert api.count("campaigns") == 2
