"""`conflictdb create-key | list-keys | revoke-key`, seen through HTTP: a revoked key is a 401."""

from __future__ import annotations

import asyncio

from typer.testing import CliRunner

from app.cli import cli
from tests.conftest import Api
from tests.imports.support import query


async def invoke(*args: str) -> tuple[int, str, str]:
    result = await asyncio.to_thread(CliRunner().invoke, cli, list(args))
    return result.exit_code, result.stdout, result.stderr


async def test_a_revoked_key_is_refused_from_its_next_request(api: Api) -> None:
    url = ("--database-url", api.database_url)
    code, out, _ = await invoke("create-key", "alice", *url)
    assert code == 0, out
    key = out.splitlines()[0]
    prefix = key.split("_")[1]
    headers = {"Authorization": f"Bearer {key}"}
    body = {"name": "Alice's actor", "actor_type": 2}
    created = await api.client.post("/v1/actors", json=body, headers=headers)
    assert created.status_code == 201, created.text

    code, out, _ = await invoke("list-keys", *url)
    assert code == 0
    [line] = [row for row in out.splitlines() if "\talice\t" in row]
    assert line.split("\t")[1:4] == [prefix, "alice", "read+write"]
    assert line.endswith("\t-")
    assert key.split("_", 2)[2] not in out  # the secret is never shown again

    code, out, _ = await invoke("revoke-key", prefix, *url)
    assert code == 0, out
    assert "revoked at" in out
    refused = await api.client.post(
        "/v1/actors", json={"name": "Another", "actor_type": 2}, headers=headers
    )
    assert refused.status_code == 401
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["code"] == "invalid_api_key"
    # The refused write changed nothing.
    assert query(api.database_url, "SELECT count(*) FROM actors WHERE name = 'Another'") == [(0,)]
    # Reads with it are refused too, even where reads are open to anonymous callers.
    assert (await api.client.get("/v1/events", headers=headers)).status_code == 401

    # The whole key names it too; revoking again keeps the first time.
    first = [row for row in (await invoke("list-keys", *url))[1].splitlines() if prefix in row]
    code, out, _ = await invoke("revoke-key", key, *url)
    assert code == 0, out
    again = [row for row in (await invoke("list-keys", *url))[1].splitlines() if prefix in row]
    assert again == first

    # Other keys keep working.
    other = await api.post("/v1/actors", json={"name": "Bob's", "actor_type": 2})
    assert other.status_code == 201


async def test_revoking_an_unknown_key_fails_and_changes_nothing(api: Api) -> None:
    url = ("--database-url", api.database_url)
    code, _, err = await invoke("revoke-key", "nosuchprefix", *url)
    assert code == 1
    assert "no single key matches" in err
    listed = (await invoke("list-keys", *url))[1].splitlines()
    assert all(row.endswith("\t-") for row in listed[1:])
    still = await api.post("/v1/actors", json={"name": "Still", "actor_type": 2})
    assert still.status_code == 201
