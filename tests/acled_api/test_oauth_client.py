"""The real `acled` client (PyPI, 1.0.2) in its OAuth mode against `conflictdb serve`, both
databases: ACLED_USERNAME / ACLED_PASSWORD (a conflictdb key as the password), ACLED_API_HOST at
`{server}/api` and its token endpoint (a class attribute, hard-coded to acleddata.com) at
`{server}/oauth/token`. Then the access token expires on the server: the client's next call
gets a 401, refreshes once with its refresh token (rotated) and carries on.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import textwrap
import time
from typing import Any

import httpx
from sqlalchemy import update
from sqlalchemy.orm import Session

from app.core.db import make_sync_engine
from app.models import OAuthToken
from app.models.base import utcnow
from tests.acled_api.test_acled_client import fresh_url, server  # noqa: F401 (fixtures)
from tests.conftest import mint_keys

CLIENT_SCRIPT = textwrap.dedent(
    """
    import json, sys, warnings
    warnings.simplefilter("ignore")
    import acled.auth
    acled.auth.OAuthTokenAuth.TOKEN_ENDPOINT = sys.argv[1]
    acled.auth.CookieAuth.LOGIN_ENDPOINT = sys.argv[1] + "-no-cookie-login"
    from acled import AcledClient
    from acled.auth import OAuthTokenAuth
    from acled.exceptions import ApiError

    def events(rows):
        return [
            {
                "id": r["event_id_cnty"],
                "date": r["event_date"].isoformat(),
                "country": r["country"],
                "timestamp": int(r["timestamp"].timestamp()),
            }
            for r in rows
        ]

    client = AcledClient()  # ACLED_USERNAME / ACLED_PASSWORD from the environment
    auth = client._acled_data_client.auth
    assert isinstance(auth, OAuthTokenAuth), type(auth)
    data = client._acled_data_client
    out = {
        "all": events(client.get_data(limit=500)),
        "range": events(client.get_data(
            event_date="2015-10-01|2015-10-07",
            query_params={"event_date_where": "BETWEEN"},
            limit=500,
        )),
        "pipe": events(client.get_data(country="Syria|Turkey|Belgium", limit=500)),
        "or_columns": events(client.get_data(
            country="Syria:OR:country=Turkey:OR:country=Belgium", limit=500
        )),
        "or_values": events(client.get_data(country="Syria:OR:Turkey:OR:Belgium", limit=500)),
        "page1": events(client.get_data(limit=3, page=1)),
        "page2": events(client.get_data(limit=3, page=2)),
        "with_total": data._get("/acled/read", {"limit": "2", "with_total": "true"}),
        "without_total": data._get("/acled/read", {"limit": "2"}),
        "deleted": client.get_deleted_data(deleted_timestamp=0),
        "cast": client.get_cast_data(country="Syria"),
    }
    newest = max(r["timestamp"] for r in out["all"])
    out["since"] = events(client.get_data(
        timestamp=newest, query_params={"timestamp_where": ">="}, limit=500
    ))
    out["with_total"].pop("data")
    out["without_total"].pop("data")
    try:
        AcledClient(auth_method="oauth", username="me@example.org", password="cdb_00_wrong")
        out["bad_password"] = "accepted"
    except ApiError as exc:
        out["bad_password"] = str(exc)
    access, refresh = auth.get_tokens()
    print("@@" + json.dumps({"access": access, "refresh": refresh}), flush=True)
    sys.stdin.readline()  # meanwhile the server expires every access token
    out["after_expiry"] = events(client.get_data(country="Syria", limit=500))
    out["tokens_after"] = list(auth.get_tokens())
    print("@@" + json.dumps(out), flush=True)
    """
)


def expire_access_tokens(url: str) -> None:
    engine = make_sync_engine(url)
    with Session(engine) as session, session.begin():
        session.execute(
            update(OAuthToken)
            .where(OAuthToken.kind == "access")
            .values(expires_at=utcnow() - dt.timedelta(seconds=1))
        )
    engine.dispose()


def run_oauth_client(base: str, url: str, password: str) -> tuple[dict[str, Any], dict[str, Any]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACLED_")}
    env.update(
        ACLED_API_HOST=f"{base}/api",
        ACLED_USERNAME="analyst@example.org",
        ACLED_PASSWORD=password,
        ACLED_MAX_RETRIES="1",
        ACLED_RETRY_BACKOFF_FACTOR="0.05",
    )
    process = subprocess.Popen(
        [sys.executable, "-c", CLIENT_SCRIPT, f"{base}/oauth/token"],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        first_line = process.stdout.readline()
        while first_line and not first_line.startswith("@@"):  # the client logs to stdout
            first_line = process.stdout.readline()
        if not first_line:
            _, err = process.communicate(timeout=30)
            raise AssertionError(err[-3000:])
        first = json.loads(first_line[2:])
        expire_access_tokens(url)
        out, err = process.communicate("go\n", timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err[-3000:]
    [last] = [line for line in out.splitlines() if line.startswith("@@")]
    return first, json.loads(last[2:])


def test_the_acled_package_in_oauth_mode(fresh_url: str, server: str) -> None:  # noqa: F811
    _, read_key = mint_keys(fresh_url)
    write_key, _ = mint_keys(fresh_url)
    listed = httpx.get(f"{server}/v1/events", params={"limit": 100}).json()["items"]
    victim = next(e for e in listed if e["place"] and e["place"]["country_code"] == "BE")
    deleted_id = f"{victim['dataset']}-{victim['external_id']}"
    gone = httpx.delete(
        f"{server}/v1/events/{victim['id']}", headers={"Authorization": f"Bearer {write_key}"}
    )
    assert gone.status_code == 204, gone.text

    # One event edited after the others were loaded: what a sync by timestamp fetches
    time.sleep(1.1)
    edited = next(e for e in listed if e["place"] and e["place"]["country_code"] == "SY")
    patched = httpx.patch(
        f"{server}/v1/events/{edited['id']}",
        json={"notes": "edited for the sync"},
        headers={"Authorization": f"Bearer {write_key}"},
    )
    assert patched.status_code == 200, patched.text

    tokens, out = run_oauth_client(server, fresh_url, read_key)

    everything = out["all"]
    assert len(everything) == len(listed) - 1 >= 8
    assert deleted_id not in {e["id"] for e in everything}
    assert [e["date"] for e in everything] == sorted((e["date"] for e in everything), reverse=True)

    # A date range
    in_range = [e for e in everything if "2015-10-01" <= e["date"] <= "2015-10-07"]
    assert out["range"] == in_range and 0 < len(in_range) < len(everything)

    # Several countries, in the three spellings: |, :OR:country=, :OR:
    wanted = [e for e in everything if e["country"] in {"Syria", "Turkey", "Belgium"}]
    assert {"Syria", "Turkey"} <= {e["country"] for e in wanted}
    assert out["pipe"] == out["or_columns"] == out["or_values"] == wanted
    assert len(wanted) < len(everything)

    # Paging
    assert len(out["page1"]) == len(out["page2"]) == 3
    assert out["page1"] + out["page2"] == everything[:6]

    # Totals only when asked
    assert out["with_total"]["total_count"] == len(everything)
    assert out["with_total"]["count"] == 2 and out["with_total"]["success"] is True
    assert "total_count" not in out["without_total"]

    # Syncing by timestamp
    newest = max(e["timestamp"] for e in everything)
    assert out["since"] == [e for e in everything if e["timestamp"] >= newest]
    assert [e["id"] for e in out["since"]] == [f"{edited['dataset']}-{edited['external_id']}"]

    # The deleted feed
    assert [d["event_id_cnty"] for d in out["deleted"]] == [deleted_id]
    assert abs(out["deleted"][0]["deleted_timestamp"] - time.time()) < 600

    # CAST: no forecasts, no error
    assert out["cast"] == []

    # A wrong password is refused at the token endpoint (400 invalid_grant)
    assert "400" in out["bad_password"], out["bad_password"]

    # After the server expired the access token: one 401, one refresh, the same answer
    assert out["after_expiry"] == [e for e in everything if e["country"] == "Syria"]
    new_access, new_refresh = out["tokens_after"]
    assert new_access != tokens["access"] and new_refresh != tokens["refresh"]
    old = httpx.get(
        f"{server}/api/acled/read",
        params={"limit": 1},
        headers={"Authorization": f"Bearer {tokens['access']}"},
    )
    assert old.status_code == 401 and old.json()["success"] is False
    # The refresh token was rotated: the old one is used up
    reused = httpx.post(
        f"{server}/oauth/token",
        data={
            "grant_type": "refresh_token",
            "client_id": "acled",
            "refresh_token": tokens["refresh"],
        },
    )
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
    fresh = httpx.get(
        f"{server}/api/acled/read",
        params={"limit": 1, "fields": "event_id_cnty"},
        headers={"Authorization": f"Bearer {new_access}"},
    )
    assert fresh.status_code == 200 and fresh.json()["count"] == 1
