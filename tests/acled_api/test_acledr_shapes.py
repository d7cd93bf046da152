"""acledR 1.0.1's requests, as its source builds them (R is not needed to replay them).

From github.com/dtacled/acledR at 1.0.1 (NEWS: "Fixes bugs related to API change for :OR:
operator"), R/acled_api.R, R/acled_deletions_api.R and R/acled_auth.R:
- token: httr2::req_oauth_password(client = oauth_client("acled", "https://acleddata.com/oauth/
  token")): a form POST with grant_type=password, username, password, client_id=acled;
  `acled_token()` sends the same fields as multipart/form-data.
- data (route "oauth"): paste0("https://acleddata.com/api/acled/read?_format=json",
  "&export_type=monadic" if monadic, "&country=" + countries (spaces as %20) collapsed with
  ":OR:", "&event_date=<start>|<end>&event_date_where=BETWEEN",
  "&timestamp_where=%3E%3D&timestamp=<date or unix>" if timestamp,
  "&event_type=" + TOUPPER(types) collapsed with ":OR:", "&population=true|full" unless none,
  "&inter_num=0|1", ..., "&limit=0"), with Authorization: Bearer.
- deletions: "https://acleddata.com/api/deleted/read?_format=json&deleted_timestamp_where=%3E%3D
  &deleted_timestamp=<unix>&limit=0".
The URLs below are those strings with acleddata.com replaced by the server.
"""

from __future__ import annotations

from typing import Any

from tests.conftest import Api


async def bearer(api: Api, multipart: bool = False) -> dict[str, str]:
    fields = {
        "username": "analyst@example.org",
        "password": api.read_key,
        "grant_type": "password",
        "client_id": "acled",
    }
    if multipart:  # acled_token(): httr2::req_body_multipart
        response = await api.client.post(
            "/oauth/token", files={k: (None, v) for k, v in fields.items()}
        )
    else:
        response = await api.client.post("/oauth/token", data=fields)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 86400
    return {"Authorization": f"Bearer {body['access_token']}"}


async def replay(api: Api, url: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = await api.client.get(url, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True and body["count"] == len(body["data"])
    data: list[dict[str, Any]] = body["data"]
    return data


async def test_acledr_1_0_1_requests(seeded_api: Api) -> None:
    api = seeded_api
    headers = await bearer(api)
    assert await bearer(api, multipart=True) != headers
    everything = await replay(api, "/api/acled/read?_format=json&limit=0", headers)
    assert len(everything) >= 10
    countries = {r["country"] for r in everything}
    assert {"Syria", "Turkey", "Russia"} <= countries

    # acled_api(email, password, country = c("Syria", "Turkey"), start_date, end_date)
    two = await replay(
        api,
        "/api/acled/read?_format=json&country=Syria:OR:Turkey"
        "&event_date=2015-10-01|2015-10-31&event_date_where=BETWEEN&inter_num=0&limit=0",
        headers,
    )
    assert two == [
        r
        for r in everything
        if r["country"] in {"Syria", "Turkey"} and "2015-10-01" <= r["event_date"] <= "2015-10-31"
    ]
    assert two and {r["country"] for r in two} <= {"Syria", "Turkey"}
    assert isinstance(two[0]["inter1"], str)  # inter_num=0: text labels

    # monadic, numeric inter codes, event types upper-cased, population, a timestamp as a date
    monadic = await replay(
        api,
        "/api/acled/read?_format=json&export_type=monadic&country=Syria"
        "&event_date=2015-01-01|2015-12-31&event_date_where=BETWEEN"
        "&timestamp_where=%3E%3D&timestamp=2015-01-01"
        "&event_type=BATTLES:OR:EXPLOSIONS/REMOTE%20VIOLENCE&population=true&inter_num=1&limit=0",
        headers,
    )
    syrian = [
        r
        for r in everything
        if r["country"] == "Syria" and r["event_type"] in {"Battles", "Explosions/Remote violence"}
    ]
    assert syrian and len(monadic) == len(syrian) + sum(1 for r in syrian if r["actor2"])
    assert all(isinstance(r["inter1"], int) and r["actor2"] is None for r in monadic)
    full = await replay(
        api, "/api/acled/read?_format=json&country=Syria&population=full&limit=0", headers
    )
    assert full == [r for r in everything if r["country"] == "Syria"]

    # The older key route's shape, still sent by scripts: country=A:OR:country=B&country_where==
    older = await replay(
        api,
        "/api/acled/read?_format=json&country=Syria:OR:country=Russia&country_where=%3D&limit=0",
        headers,
    )
    assert older == [r for r in everything if r["country"] in {"Syria", "Russia"}]

    # acled_update(): timestamps as Unix seconds, then the deletions
    newest = max(r["timestamp"] for r in everything)
    since = await replay(
        api,
        f"/api/acled/read?_format=json&timestamp_where=%3E%3D&timestamp={newest}&inter_num=0&limit=0",
        headers,
    )
    assert since and all(r["timestamp"] >= newest for r in since)
    victim = await api.get("/v1/events", params={"limit": 1})
    gone = victim.json()["items"][0]
    assert (await api.delete(f"/v1/events/{gone['id']}")).status_code == 204
    deleted = await replay(
        api,
        "/api/deleted/read?_format=json&deleted_timestamp_where=%3E%3D&deleted_timestamp=0&limit=0",
        headers,
    )
    assert [d["event_id_cnty"] for d in deleted] == [f"{gone['dataset']}-{gone['external_id']}"]

    # Without a token: ACLED's 401 (httr2 then reports the error)
    refused = await api.client.get("/api/acled/read?_format=json&limit=0")
    assert refused.status_code == 401 and refused.json()["success"] is False
    assert isinstance(refused.json()["error"], list)
