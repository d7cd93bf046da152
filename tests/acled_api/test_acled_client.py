"""The real `acled` client (PyPI, 1.0.2) against `conflictdb serve`, on SQLite and PostgreSQL.

A fresh database is migrated and loaded with the seed report; the server runs in a subprocess;
the client runs in another, because it reads ACLED_API_HOST when it is imported.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import (
    _migrate,
    drop_pg_database,
    load_seed_data,
    mint_keys,
    new_pg_database,
)

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

CLIENT_SCRIPT = textwrap.dedent(
    """
    import json, sys, warnings
    warnings.simplefilter("ignore")
    from acled import AcledClient
    from acled.exceptions import ClientError

    def events(rows):
        return [
            {
                "id": r["event_id_cnty"],
                "date": r["event_date"].isoformat(),
                "year": r["year"],
                "country": r["country"],
                "fatalities": r["fatalities"],
                "timestamp": r["timestamp"].isoformat(),
            }
            for r in rows
        ]

    client = AcledClient(api_key=sys.argv[1], email="me@example.org")
    out = {
        "october": events(client.get_data(
            event_date="2015-10-01|2015-10-31",
            query_params={"event_date_where": "BETWEEN"},
            limit=500,
        )),
        "syria_turkey": events(client.get_data(country="Syria|Turkey", limit=500)),
        "page1": events(client.get_data(limit=2, page=1)),
        "page2": events(client.get_data(limit=2, page=2)),
        "all": events(client.get_data(limit=500)),
        "deleted": client.get_deleted_data(deleted_timestamp=0),
        "countries": [
            {"country": c["country"], "iso": c["iso"], "event_count": c["event_count"]}
            for c in client.get_country_data()
        ],
    }
    try:
        AcledClient(api_key="cdb_deadbeef_not-a-key", email="me@example.org").get_data(limit=1)
        out["bad_key"] = None
    except ClientError as exc:
        out["bad_key"] = exc.status_code
    print(json.dumps(out))
    """
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new database, migrated and loaded with the seed report."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'acled-client.sqlite3'}"
        _migrate(url)
        asyncio.run(load_seed_data(url))
        yield url
        return
    url = new_pg_database("conflictdb_acled_")
    try:
        _migrate(url)
        asyncio.run(load_seed_data(url))
        yield url
    finally:
        drop_pg_database(url)


@pytest.fixture
def server(fresh_url: str) -> Iterator[str]:
    """`conflictdb serve` on a free port; yields its base URL."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONFLICTDB_")}
    process = subprocess.Popen(
        [str(BIN / "conflictdb"), "serve", "--port", str(port), "--database-url", fresh_url],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                _, err = process.communicate(timeout=5)
                pytest.fail(f"conflictdb serve did not start: {err.decode()[-2000:]}")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def run_client(host: str, key: str) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACLED_")}
    env.update(ACLED_API_HOST=host, ACLED_MAX_RETRIES="1", ACLED_RETRY_BACKOFF_FACTOR="0.05")
    done = subprocess.run(
        [sys.executable, "-c", CLIENT_SCRIPT, key],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_the_acled_package_reads_conflictdb(fresh_url: str, server: str) -> None:
    write_key, read_key = mint_keys(fresh_url)
    # Delete one event through /v1: the client must see it in the deleted feed.
    events = httpx.get(f"{server}/v1/events", params={"limit": 100}).json()["items"]
    victim = next(e for e in events if e["place"] and e["place"]["country_code"] == "BE")
    deleted_id = f"{victim['dataset']}-{victim['external_id']}"
    response = httpx.delete(
        f"{server}/v1/events/{victim['id']}", headers={"Authorization": f"Bearer {write_key}"}
    )
    assert response.status_code == 204, response.text

    out = run_client(f"{server}/acled", read_key)

    everything = out["all"]
    assert len(everything) == len(events) - 1
    assert deleted_id not in {e["id"] for e in everything}
    dates = [e["date"] for e in everything]
    assert dates == sorted(dates, reverse=True)
    for row in everything:
        assert row["year"] == int(row["date"][:4]) and isinstance(row["fatalities"], int)
        assert row["timestamp"].endswith("+00:00")

    # A date range (BETWEEN on event_date)
    october = out["october"]
    assert october and all("2015-10-01" <= e["date"] <= "2015-10-31" for e in october)
    assert october == [e for e in everything if "2015-10-01" <= e["date"] <= "2015-10-31"]

    # Several countries with |
    both = out["syria_turkey"]
    assert {e["country"] for e in both} == {"Syria", "Turkey"}
    assert both == [e for e in everything if e["country"] in {"Syria", "Turkey"}]

    # Paging: page 2 continues page 1 in the same order
    assert len(out["page1"]) == len(out["page2"]) == 2
    assert out["page1"] + out["page2"] == everything[:4]

    # The deleted feed, as the client parses it
    assert out["deleted"] == [
        {"event_id_cnty": deleted_id, "deleted_timestamp": out["deleted"][0]["deleted_timestamp"]}
    ]
    assert abs(out["deleted"][0]["deleted_timestamp"] - time.time()) < 600

    countries = {c["country"]: c for c in out["countries"]}
    assert countries["Syria"]["iso"] == 760
    assert countries["Syria"]["event_count"] == sum(e["country"] == "Syria" for e in everything)

    # A wrong key: ACLED's 401, which the client reports as a client error
    assert out["bad_key"] == 401
