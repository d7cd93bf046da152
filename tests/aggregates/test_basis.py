"""What an aggregate sums, on the seed report's 2015-10-08 (docs/aggregation.md).

State TV's 32 "militants" in Hama and the Observatory's "at least 13" regime fighters and "at
least 11" rebels are two sources' accounts, on two events. The aggregate says so, keeps the
Observatory's open bound open, and never adds two accounts of one event.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.aggregates.measures import assert_whole_numbers
from tests.conftest import Api, load_seed_data, make_api, truncate_all
from tests.support import assert_problem, error_locs

pytestmark = pytest.mark.asyncio

DAY = {"date_from": "2015-10-08", "date_to": "2015-10-08"}
STATE_TV = "Syrian state TV"
SOHR = "Syrian Observatory for Human Rights"


@pytest.fixture(scope="module")
async def seeded(database_url: str) -> AsyncIterator[Api]:
    """The seed report, loaded once for this module; the one test that writes runs last."""
    truncate_all(database_url)
    await load_seed_data(database_url)
    async for api in make_api(database_url):
        yield api


async def rows(api: Api, **params: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    r = await api.get("/v1/aggregates", params={**DAY, **params})
    assert r.status_code == 200, r.text
    body = r.json()
    assert_whole_numbers(body["rows"])
    return body["basis"], body["rows"]


async def listed(api: Api) -> list[dict[str, Any]]:
    r = await api.get("/v1/events", params={**DAY, "format": "ndjson"})
    assert r.status_code == 200, r.text
    return [json.loads(line) for line in r.text.splitlines()]


def from_list(events: list[dict[str, Any]]) -> dict[str, Any]:
    """What the aggregate must say, computed from the event list's own figures."""
    known = [
        e for e in events if e["fatalities_best"] is not None or e["fatalities_low"] is not None
    ]
    open_ = [e for e in known if e["fatalities_high"] is None]
    return {
        "events": len(events),
        "figures": len(known),
        "open_high": len(open_),
        "fatalities_best": sum(e["fatalities_best"] or e["fatalities_low"] or 0 for e in known),
        "fatalities_low": sum(
            e["fatalities_low"] if e["fatalities_low"] is not None else e["fatalities_best"]
            for e in known
        ),
        "fatalities_high": None if open_ else sum(e["fatalities_high"] for e in known),
    }


async def test_the_seed_day_states_its_basis(seeded: Api) -> None:
    api = seeded
    basis, (row,) = await rows(api)
    assert basis["basis"] == "event" and basis["policy"] == "conservative"
    assert basis["combines_sources_per_event"] is False
    # 32 (state TV, Hama) + 24 (the Observatory: at least 13 + at least 11), two events, two
    # sources; the Observatory's figure has no upper bound, so neither has the sum.
    assert row["fatalities_best"] == 56 and row["fatalities_low"] == 56
    assert row["fatalities_high"] is None and row["open_high"] == 1
    assert (row["figures"], row["claims"], row["sources"]) == (2, 2, 2)
    assert row["accounts_set_aside"] == 0 and row["recorded"] == 0
    # The event list's figures give the same numbers under the same rule.
    events = await listed(api)
    assert {k: row[k] for k in from_list(events)} == from_list(events)

    # Side by side: each source's own account.
    basis, by_source = await rows(api, basis="source")
    assert basis["basis"] == "source"
    got = {
        r["source"]: (r["events"], r["fatalities_low"], r["fatalities_best"], r["fatalities_high"])
        for r in by_source
    }
    assert got[STATE_TV] == (1, 32, 32, 32)
    assert got[SOHR] == (1, 24, 24, None)
    # The other events of the day carry no figure from any claim.
    assert got[None] == (len(events) - 2, 0, 0, 0)


async def test_grouped_rows_state_their_basis_and_fill_keeps_it(seeded: Api) -> None:
    _, grouped = await rows(seeded, group_by="admin1", interval="day", fill="true")
    for row in grouped:
        assert {"figures", "open_high", "claims", "sources", "accounts_set_aside"} <= set(row)
        if row["open_high"]:
            assert row["fatalities_high"] is None
        elif row["fatalities_high"] is not None:
            assert row["fatalities_low"] <= row["fatalities_best"] <= row["fatalities_high"]
    _, top = await rows(seeded, group_by="sub_event_type", top=1)
    other = next(r for r in top if r["sub_event_type"] == "other")
    assert other["sources"] is None  # a distinct count does not add up across groups


@pytest.mark.parametrize(
    ("params", "loc"),
    [
        ({"basis": "incidents"}, ["query", "basis"]),
        ({"policy": "loudest"}, ["query", "policy"]),
        ({"policy": "source_order"}, ["query"]),
        ({"policy": "conservative", "source_order": "AFP"}, ["query"]),
        ({"basis": "source", "group_by": "source"}, ["query"]),
        ({"source_order": "AF\x00P"}, ["query", "source_order", 0]),  # NUL: PostgreSQL refuses it
    ],
)
async def test_bad_basis_parameters(seeded: Api, params: dict[str, Any], loc: list[Any]) -> None:
    body = assert_problem(
        await seeded.get("/v1/aggregates", params=params), 422, "validation_error"
    )
    assert loc in error_locs(body)


async def test_an_unknown_source_in_the_order_is_a_422(seeded: Api) -> None:
    r = await seeded.get("/v1/aggregates", params={"source_order": ["AFP", "Nobody Press"]})
    body = assert_problem(r, 422, "validation_error")
    assert ["query", "source_order", 1] in error_locs(body)


async def test_two_accounts_of_one_event_are_never_added(seeded: Api) -> None:
    """The Observatory gives its own toll for state TV's Hama event: one account is chosen."""
    api = seeded
    hama = next(e for e in await listed(api) if e["external_id"] == "SYR-20151008-04")
    r = await api.post(
        "/v1/claims",
        json={
            "event_id": hama["id"],
            "source": SOHR,
            "kind": "casualties",
            "assertion": "20 fighters were killed in Hama.",
            "casualties": [
                {"outcome": "killed", "casualty_group": "rebels", "low": 18, "best": 20, "high": 25}
            ],
        },
    )
    assert r.status_code == 201, r.text
    event = (await api.get(f"/v1/events/{hama['id']}")).json()
    # The event's figure: the most conservative account (the Observatory's 20), not 32 + 20.
    assert (event["fatalities_low"], event["fatalities_best"], event["fatalities_high"]) == (
        18,
        20,
        25,
    )
    _, (row,) = await rows(api)
    assert row["fatalities_best"] == 20 + 24
    assert row["accounts_set_aside"] == 1  # state TV's 32 for the same event
    # Three claims give figures (two for the Hama event); one source gave the figures used.
    assert (row["claims"], row["sources"]) == (3, 1)
    events = await listed(api)
    assert {k: row[k] for k in from_list(events)} == from_list(events)

    # A preferred source order, as ACLED codes one figure: state TV first.
    basis, (row,) = await rows(api, source_order=STATE_TV)
    assert basis["policy"] == "source_order" and basis["source_order"] == [STATE_TV]
    assert row["fatalities_best"] == 32 + 24 and row["accounts_set_aside"] == 1
    # By id, and the Observatory first: its two accounts.
    sohr_id = next(
        s["id"]
        for s in (await api.get("/v1/sources", params={"limit": 100})).json()["items"]
        if s["name"] == SOHR
    )
    _, (row,) = await rows(api, source_order=[str(sohr_id), STATE_TV], policy="source_order")
    assert row["fatalities_best"] == 20 + 24 and row["sources"] == 1

    # Side by side, the Observatory's two accounts and state TV's.
    _, by_source = await rows(api, basis="source")
    got = {
        r["source"]: (r["events"], r["fatalities_best"], r["fatalities_high"]) for r in by_source
    }
    assert got[SOHR] == (2, 44, None) and got[STATE_TV] == (1, 32, 32)
    # Per incident: no confirmed link joins these events, so each is its own incident.
    _, (row,) = await rows(api, basis="incident")
    assert row["incidents"] == row["events"] == len(events)
    assert row["fatalities_best"] == 44 and row["linked_set_aside"] == 0


async def test_an_analyst_link_counts_the_two_accounts_once(seeded: Api) -> None:
    """State TV's Hama toll and the Observatory's are, in context, the same offensive's dead:
    linked by hand, basis=incident counts them once (the lower figure: conservative)."""
    api = seeded
    events = {e["external_id"]: e for e in await listed(api)}
    hama, sohr = events["SYR-20151008-04"], events["SYR-20151008-08"]
    _, (before,) = await rows(api, basis="incident")
    r = await api.post(
        "/v1/links",
        json={"event_a_id": sohr["id"], "event_b_id": hama["id"], "note": "same offensive"},
    )
    assert r.status_code == 201, r.text
    link = r.json()
    assert (link["status"], link["method"], link["event_a_id"]) == (
        "confirmed",
        "manual",
        min(hama["id"], sohr["id"]),
    )
    assert r.headers["location"] == f"/v1/links/{link['id']}"
    again = await api.post("/v1/links", json={"event_a_id": hama["id"], "event_b_id": sohr["id"]})
    assert_problem(again, 409, "duplicate")

    basis, (row,) = await rows(api, basis="incident")
    assert basis["basis"] == "incident"
    assert row["events"] == before["events"] and row["incidents"] == before["incidents"] - 1
    kept = min((hama, sohr), key=lambda e: (e["fatalities_best"], e["id"]))
    set_aside = sohr if kept is hama else hama
    assert row["fatalities_best"] == before["fatalities_best"] - set_aside["fatalities_best"]
    assert row["linked_set_aside"] == 1
    # The day's events still add both under basis=event: the basis says which rule was used.
    _, (by_event,) = await rows(api)
    assert by_event["fatalities_best"] == before["fatalities_best"]
    incident = (await api.get(f"/v1/incidents/{hama['id']}")).json()
    sources = {c["source"] for e in incident["events"] for c in e["claims"]}
    assert {STATE_TV, SOHR} <= sources
    assert incident["figure"]["event_id"] == kept["id"]
    # Deleting one of the two events dissolves the incident; the link stays (by natural key).
    r = await api.delete(f"/v1/events/{hama['id']}")
    assert r.status_code == 204, r.text
    assert (await api.get("/v1/incidents")).json()["items"] == []
    _, (row,) = await rows(api, basis="incident")
    assert row["incidents"] == row["events"] == before["events"] - 1
    kept_link = (await api.get(f"/v1/links/{link['id']}")).json()
    assert kept_link["status"] == "confirmed"
    assert hama["id"] not in (kept_link["event_a_id"], kept_link["event_b_id"])
