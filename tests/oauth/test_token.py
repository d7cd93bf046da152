"""POST /oauth/token: a conflictdb key as the password, hashed tokens, rotation, OAuth errors."""

from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy import update
from sqlalchemy.orm import Session

from app.auth.service import revoke_key
from app.core.db import make_sync_engine
from app.models import OAuthToken
from app.models.base import utcnow
from tests.conftest import Api
from tests.imports.support import query

TOKEN = "/oauth/token"


async def password_grant(api: Api, key: str) -> dict[str, str]:
    response = await api.client.post(
        TOKEN,
        data={"grant_type": "password", "client_id": "acled", "username": "a@b.c", "password": key},
    )
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body: dict[str, str] = response.json()
    return body


async def read(api: Api, access: str) -> int:
    response = await api.client.get(
        "/api/acled/read", params={"limit": 1}, headers={"Authorization": f"Bearer {access}"}
    )
    return response.status_code


async def test_tokens_are_stored_as_hashes_and_refresh_rotates(api: Api) -> None:
    body = await password_grant(api, api.read_key)
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 86400 and body["refresh_token_expires_in"] == 14 * 86400
    stored = query(api.database_url, "SELECT kind, token_hash FROM oauth_tokens ORDER BY id")
    assert [r.kind for r in stored] == ["access", "refresh"]
    hashes = {r.token_hash for r in stored}
    assert hashes == {
        hashlib.sha256(body[k].encode()).hexdigest() for k in ("access_token", "refresh_token")
    }
    assert await read(api, body["access_token"]) == 200

    refreshed = await api.client.post(
        TOKEN, data={"grant_type": "refresh_token", "refresh_token": body["refresh_token"]}
    )
    assert refreshed.status_code == 200, refreshed.text
    pair = refreshed.json()
    assert pair["access_token"] != body["access_token"]
    assert await read(api, pair["access_token"]) == 200
    # The used refresh token is spent; the old access token lives out its day
    again = await api.client.post(
        TOKEN, data={"grant_type": "refresh_token", "refresh_token": body["refresh_token"]}
    )
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    assert await read(api, body["access_token"]) == 200
    # A refresh token is not an access token, nor the other way round
    assert await read(api, pair["refresh_token"]) == 401
    wrong_kind = await api.client.post(
        TOKEN, data={"grant_type": "refresh_token", "refresh_token": pair["access_token"]}
    )
    assert wrong_kind.status_code == 400

    # JSON bodies work too; revoking the key ends every token it obtained
    as_json = await api.client.post(
        TOKEN, json={"grant_type": "password", "username": "x", "password": api.write_key}
    )
    assert as_json.status_code == 200
    engine = make_sync_engine(api.database_url)
    with Session(engine) as session, session.begin():
        assert revoke_key(session, api.read_key) is not None
    engine.dispose()
    assert await read(api, pair["access_token"]) == 401
    dead = await api.client.post(
        TOKEN, data={"grant_type": "refresh_token", "refresh_token": pair["refresh_token"]}
    )
    assert dead.status_code == 400
    assert await read(api, as_json.json()["access_token"]) == 200


async def test_token_errors_in_oauths_shape(api: Api) -> None:
    cases = [
        ({"grant_type": "password", "username": "a", "password": "cdb_x_y"}, 400, "invalid_grant"),
        ({"grant_type": "password", "username": "a", "password": "nope"}, 400, "invalid_grant"),
        ({"grant_type": "password", "password": api.read_key}, 400, "invalid_request"),
        ({"grant_type": "password", "username": "a"}, 400, "invalid_request"),
        ({"username": "a", "password": api.read_key}, 400, "invalid_request"),
        ({"grant_type": "client_credentials"}, 400, "unsupported_grant_type"),
        ({"grant_type": "refresh_token"}, 400, "invalid_request"),
        ({"grant_type": "refresh_token", "refresh_token": "cdbrt_nope"}, 400, "invalid_grant"),
        (
            {"grant_type": "password", "client_id": "x", "username": "a", "password": "b"},
            401,
            "invalid_client",
        ),
        ({"grant_type": "password", "username": "a\x00", "password": "b"}, 400, "invalid_request"),
    ]
    for data, status, error in cases:
        response = await api.client.post(TOKEN, data=data)
        assert response.status_code == status, (data, response.text)
        body = response.json()
        assert body["error"] == error and body["error_description"], data
    for content, kind in (
        (b"{not json", "application/json"),
        (b"[1]", "application/json"),
        (b"grant_type=password", "text/plain"),
        (b"--x\r\nbroken", "multipart/form-data; boundary=x"),
    ):
        response = await api.client.post(TOKEN, content=content, headers={"content-type": kind})
        assert response.status_code == 400, response.text
        assert response.json()["error"] == "invalid_request"
    assert (await api.client.get(TOKEN)).status_code == 405
    assert query(api.database_url, "SELECT count(*) AS n FROM oauth_tokens")[0].n == 0


async def test_api_paths_need_a_credential_and_keep_acleds_shape(api: Api) -> None:
    for path in ("/api/acled/read", "/api/deleted/read", "/api/country/read", "/api/cast/read"):
        response = await api.client.get(path)
        assert response.status_code == 401, path
        assert response.headers["www-authenticate"].startswith("Bearer")
        body = response.json()
        assert body["success"] is False and body["error"][0]["message"]
        expired = await api.client.get(path, headers={"Authorization": "Bearer cdbat_unknown"})
        assert expired.status_code == 401 and "refresh" in expired.json()["error"][0]["message"]
    # A key works as a Bearer too; /acled stays open as before
    assert (await api.client.get("/api/actor/read", headers=api.read_auth)).status_code == 200
    assert (await api.client.get("/acled/acled/read")).status_code == 200
    bad = await api.client.get(
        "/api/acled/read", params={"country_where": "NEAR"}, headers=api.read_auth
    )
    assert bad.status_code == 400 and bad.json()["success"] is False
    cast = await api.client.get(
        "/api/cast/read.csv", params={"country": "Syria"}, headers=api.read_auth
    )
    assert cast.status_code == 200 and cast.text.startswith("country,admin1,month,year")
    unknown = await api.client.get(
        "/api/cast/read", params={"forecast": "1"}, headers=api.read_auth
    )
    assert unknown.status_code == 400


async def test_expired_tokens_are_forgotten_when_the_key_logs_in_again(api: Api) -> None:
    await password_grant(api, api.read_key)
    await password_grant(api, api.write_key)
    engine = make_sync_engine(api.database_url)
    with Session(engine) as session, session.begin():
        session.execute(update(OAuthToken).values(expires_at=utcnow() - dt.timedelta(seconds=1)))
    engine.dispose()
    body = await password_grant(api, api.read_key)
    kinds = query(api.database_url, "SELECT api_key_id, kind FROM oauth_tokens ORDER BY id")
    # The read key's two expired tokens are gone, the write key's stay until it logs in
    assert len(kinds) == 4 and len({r.api_key_id for r in kinds}) == 2
    assert await read(api, body["access_token"]) == 200


async def test_an_access_token_is_its_key_on_v1_too(api: Api) -> None:
    """A client that logged in the ACLED way can write and read /v1 with the same token: the
    key's rights, its revocation and the token's expiry all hold there."""
    writer = (await password_grant(api, api.write_key))["access_token"]
    reader = (await password_grant(api, api.read_key))["access_token"]
    source = {"name": "Token-made source", "kind": "news_agency"}

    created = await api.client.post(
        "/v1/sources", json=source, headers={"Authorization": f"Bearer {writer}"}
    )
    assert created.status_code == 201, created.text
    refused = await api.client.post(
        "/v1/sources",
        json={**source, "name": "Read-only try"},
        headers={"Authorization": f"Bearer {reader}"},
    )
    assert refused.status_code == 403, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    listed = await api.client.get("/v1/sources", headers={"Authorization": f"Bearer {reader}"})
    assert listed.status_code == 200
    names = {s["name"] for s in listed.json()["items"]}
    assert "Token-made source" in names and "Read-only try" not in names

    # Expired, or its key revoked: a 401 that says to refresh, as under /api.
    engine = make_sync_engine(api.database_url)
    with Session(engine) as session, session.begin():
        session.execute(update(OAuthToken).values(expires_at=utcnow() - dt.timedelta(seconds=1)))
    engine.dispose()
    expired = await api.client.post(
        "/v1/sources",
        json={**source, "name": "Too late"},
        headers={"Authorization": f"Bearer {writer}"},
    )
    assert expired.status_code == 401
    assert expired.json()["code"] == "invalid_token"
    assert "/oauth/token" in expired.text
    names = {r.name for r in query(api.database_url, "SELECT name FROM sources")}
    assert "Too late" not in names and "Read-only try" not in names
