"""/v1/claims: who said what about an event or a campaign, with every reference checked."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api
from tests.factories import create_campaign, create_source
from tests.support import assert_problem, error_locs, insert_event


async def create(api: Api, **body: Any) -> dict[str, Any]:
    response = await api.post("/v1/claims", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def test_claim_round_trip(api: Api) -> None:
    url = api.database_url
    event_id = insert_event(url)
    source_id = create_source(url, "Military source in Sahl al-Ghab", kind="military")
    afp_id = create_source(url, "AFP")
    doc = await api.post("/v1/documents", json={"title": "AFP wire", "publisher_id": afp_id})
    response = await api.post(
        "/v1/claims",
        json={
            "event_id": event_id,
            "source": "military source in sahl al-ghab",
            "via_source_id": afp_id,
            "document_id": doc.json()["id"],
            "kind": "occurrence",
            "grade": "weak",
            "assertion": "Russian strikes hit at least three villages",
            "quote": "Russian air strikes had targeted at least three villages there",
            "claimed_on": "2015-10-08",
            "attributes": {"villages": {"low": 3}, "targets": ["rebels"]},
        },
    )
    assert response.status_code == 201, response.text
    claim = response.json()
    assert response.headers["location"] == f"/v1/claims/{claim['id']}"
    assert claim["source"] == {
        "id": source_id,
        "name": "Military source in Sahl al-Ghab",
        "kind": "military",
    }
    assert claim["via_source"] == {"id": afp_id, "name": "AFP", "kind": "news_agency"}
    assert claim["stance"] == "asserts"
    assert claim["attributes"] == {"villages": {"low": 3}, "targets": ["rebels"]}
    assert claim["event_id"] == event_id and claim["campaign_id"] is None
    assert (await api.get(f"/v1/claims/{claim['id']}")).json() == claim


async def test_claim_about_a_campaign(api: Api) -> None:
    campaign_id = create_campaign(api.database_url, "Russian air campaign in Syria")
    source_id = create_source(api.database_url, "US Department of State", kind="government")
    claim = await create(
        api,
        campaign_id=campaign_id,
        source_id=source_id,
        kind="targeting",
        assertion="More than 90% of Russian strikes did not target ISIL",
    )
    assert claim["campaign_id"] == campaign_id and claim["event_id"] is None


async def test_shape_errors_are_422(api: Api) -> None:
    event_id = insert_event(api.database_url)
    source_id = create_source(api.database_url, "SOHR", kind="monitor")
    cases = [
        {"source_id": source_id, "assertion": "x"},  # about nothing
        {"event_id": event_id, "assertion": "x"},  # no source
        {"event_id": event_id, "source_id": source_id, "source": "SOHR", "assertion": "x"},
        {"event_id": event_id, "source_id": source_id, "assertion": ""},
        {"event_id": event_id, "source_id": source_id, "assertion": "x", "grade": "likely"},
        {"event_id": event_id, "source_id": source_id, "assertion": "x", "attributes": [1]},
    ]
    for body in cases:
        assert_problem(await api.post("/v1/claims", json=body), 422, "validation_error")
    nan = await api.post(
        "/v1/claims",
        content=(
            f'{{"event_id": {event_id}, "source_id": {source_id}, "assertion": "x",'
            ' "attributes": {"share": NaN}}'
        ),
        headers={**api.auth, "content-type": "application/json"},
    )
    assert_problem(nan, 422, "validation_error")
    assert api.count("claims") == 0


async def test_missing_references_are_422_on_their_field(api: Api) -> None:
    event_id = insert_event(api.database_url)
    source_id = create_source(api.database_url, "SOHR", kind="monitor")
    ok = {"event_id": event_id, "source_id": source_id, "assertion": "13 killed"}
    cases = {
        "event_id": {**ok, "event_id": 999},
        "campaign_id": {**ok, "campaign_id": 999},
        "source_id": {**ok, "source_id": 999},
        "source": {**{k: v for k, v in ok.items() if k != "source_id"}, "source": "Nobody"},
        "via_source_id": {**ok, "via_source_id": 999},
        "via_source": {**ok, "via_source": "Nobody"},
        "document_id": {**ok, "document_id": 999},
        "disputes_claim_id": {**ok, "disputes_claim_id": 999},
    }
    for field, body in cases.items():
        response = await api.post("/v1/claims", json=body)
        assert error_locs(assert_problem(response, 422, "validation_error")) == [["body", field]]
    assert api.count("claims") == 0


async def test_patch_and_disputes(api: Api) -> None:
    url = api.database_url
    event_id = insert_event(url)
    moscow = create_source(url, "Russian Ministry of Defence", kind="government")
    washington = create_source(url, "US Department of State", kind="government")
    afp = create_source(url, "AFP")
    first = await create(
        api,
        event_id=event_id,
        source_id=moscow,
        via_source_id=afp,
        kind="targeting",
        assertion="Strikes hit terrorist positions",
    )
    second = await create(
        api,
        event_id=event_id,
        source_id=washington,
        kind="targeting",
        stance="disputes",
        assertion="Strikes hit moderate rebels",
        disputes_claim_id=first["id"],
    )
    assert second["disputes_claim_id"] == first["id"]

    patched = await api.patch(
        f"/v1/claims/{first['id']}", json={"grade": "contested", "via_source": None}
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["grade"] == "contested"
    assert patched.json()["via_source"] is None
    assert patched.json()["assertion"] == "Strikes hit terrorist positions"

    by_name = await api.patch(f"/v1/claims/{first['id']}", json={"source": "AFP"})
    assert by_name.json()["source"]["id"] == afp

    itself = await api.patch(f"/v1/claims/{first['id']}", json={"disputes_claim_id": first["id"]})
    assert error_locs(assert_problem(itself, 422, "validation_error")) == [
        ["body", "disputes_claim_id"]
    ]
    about_nothing = await api.patch(f"/v1/claims/{first['id']}", json={"event_id": None})
    assert_problem(about_nothing, 422, "validation_error")
    no_source = await api.patch(f"/v1/claims/{first['id']}", json={"source_id": None})
    assert_problem(no_source, 422, "validation_error")
    gone = await api.patch(f"/v1/claims/{first['id']}", json={"event_id": 999})
    assert error_locs(assert_problem(gone, 422, "validation_error")) == [["body", "event_id"]]
    assert_problem(await api.patch("/v1/claims/999", json={}), 404, "not_found")


async def test_list_filters_and_pages(api: Api) -> None:
    url = api.database_url
    clash, strike = insert_event(url), insert_event(url)
    sohr = create_source(url, "SOHR", kind="monitor")
    afp = create_source(url, "AFP")
    made = [
        await create(api, event_id=clash, source_id=sohr, kind="casualties", assertion="13"),
        await create(api, event_id=clash, source_id=afp, assertion="clashes", grade="fair"),
        await create(api, event_id=strike, source_id=sohr, assertion="strikes", grade="weak"),
    ]
    ids = [c["id"] for c in made]

    def listed(response: Any) -> list[int]:
        assert response.status_code == 200, response.text
        return [c["id"] for c in response.json()["items"]]

    assert listed(await api.get("/v1/claims", params={"event_id": clash})) == ids[:2]
    assert listed(await api.get("/v1/claims", params={"source_id": sohr})) == [ids[0], ids[2]]
    assert listed(await api.get("/v1/claims", params={"kind": "casualties"})) == [ids[0]]
    assert listed(await api.get("/v1/claims", params={"grade": ["fair", "weak"]})) == ids[1:]
    first = await api.get("/v1/claims", params={"limit": 2, "total": "true"})
    assert first.json()["total"] == 3
    second = await api.get(first.json()["next_url"])
    assert listed(first) + listed(second) == ids
    assert second.json()["next_url"] is None
    assert_problem(await api.get("/v1/claims?grade=likely"), 422, "validation_error")


async def test_delete_and_auth(api: Api) -> None:
    event_id = insert_event(api.database_url)
    source_id = create_source(api.database_url, "SOHR", kind="monitor")
    claim = await create(api, event_id=event_id, source_id=source_id, assertion="x")
    body = {"event_id": event_id, "source_id": source_id, "assertion": "y"}
    assert_problem(await api.post("/v1/claims", json=body, headers={}), 401, "missing_api_key")
    forbidden = await api.delete(f"/v1/claims/{claim['id']}", headers=api.read_auth)
    assert_problem(forbidden, 403, "forbidden")
    assert api.count("claims") == 1

    assert (await api.delete(f"/v1/claims/{claim['id']}")).status_code == 204
    assert_problem(await api.get(f"/v1/claims/{claim['id']}"), 404, "not_found")
    assert_problem(await api.delete(f"/v1/claims/{claim['id']}"), 404, "not_found")
    assert_problem(await api.get("/v1/claims/x"), 422, "validation_error")
