"""The rate limits (app/core/ratelimit.py) cover the services' paths: 429 with Retry-After."""

from __future__ import annotations

from tests.conftest import mint_keys, truncate_all
from tests.ratelimit.test_ratelimit import limited_app, limits


async def test_429_with_retry_after_on_every_service_path(database_url: str) -> None:
    truncate_all(database_url)
    _, key = mint_keys(database_url)
    config = limits(rate_limit_per_key="3/hour", rate_limit_anonymous="3/hour")
    async with limited_app(database_url, config) as [client]:
        token = await client.post(
            "/oauth/token", data={"grant_type": "password", "username": "a", "password": key}
        )
        assert token.status_code == 200, token.text
        bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
        for _ in range(3):  # the access token has a budget of its own
            assert (await client.get("/api/acled/read", headers=bearer)).status_code == 200
        limited = await client.get("/api/acled/read", headers=bearer)
        assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
        # UCDP's header and HAPI's app_identifier are the key's: they share its budget (3),
        # not the address's (the token request used 1 of that).
        ucdp = {"x-ucdp-access-token": key}
        hapi = "/api/v2/coordination-context/conflict-events"
        assert (await client.get("/api/gedevents/25.1", headers=ucdp)).status_code == 200
        assert (await client.get(hapi, params={"app_identifier": key})).status_code == 200
        by_header = await client.get(hapi, headers={"X-HDX-HAPI-APP-IDENTIFIER": key})
        assert by_header.status_code == 200
        assert by_header.headers["RateLimit-Remaining"] == "0"
        for refused in (
            await client.get(hapi, params={"app_identifier": key}),
            await client.get("/api/gedevents/25.1", headers=ucdp),
        ):
            assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
        anonymous = await client.get("/v1/events")
        assert anonymous.status_code == 200
        assert anonymous.headers["RateLimit-Remaining"] == "1"
