"""Links across datasets on a realistic overlap built from real UCDP rows (tests/links/overlap.py).

The files are built and imported once per database for this module; the tests run in order on
that state (the first only reads, the second reviews links, the last only sends bad input).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from app.imports.service import ImportRequest, run_import
from tests.conftest import Api, make_api, shared_file, truncate_all
from tests.links import overlap
from tests.support import assert_problem, error_locs

pytestmark = pytest.mark.asyncio

# The bar the matcher must clear on the fixture at its default windows (10 km, 1 day); the
# measured figures are in docs/aggregation.md ("Linking: measured").
MIN_PRECISION = 0.8
MIN_RECALL = 0.8

Linked = tuple[Api, overlap.Overlap, dict[str, Any], tuple[Path, Path]]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[overlap.Overlap, Path, Path]:
    rows = overlap.read_rows(shared_file(overlap.UCDP_SYRIA))
    fixture = overlap.build(rows)
    ucdp_path, acled_path = overlap.write(fixture, tmp_path_factory.mktemp("overlap"))
    return fixture, ucdp_path, acled_path


def _import(url: str, paths: tuple[Path, Path]) -> list[int]:
    counts = []
    for path, fmt in zip(paths, ("ucdp", "acled"), strict=True):
        report = run_import(url, ImportRequest(path=path, format=fmt))
        assert report.committed and not report.rejects, report.rejects[:3]
        counts.append(report.inserted)
    return counts


@pytest.fixture(scope="module")
async def linked(
    database_url: str, built: tuple[overlap.Overlap, Path, Path]
) -> AsyncIterator[Linked]:
    fixture, ucdp_path, acled_path = built
    truncate_all(database_url)
    _import(database_url, (ucdp_path, acled_path))
    async for api in make_api(database_url):
        r = await api.post("/v1/links/propose", json={"datasets": ["acled", "ucdp"]})
        assert r.status_code == 200, r.text
        yield api, fixture, r.json(), (ucdp_path, acled_path)


async def all_links(api: Api, **params: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    url: str | None = "/v1/links"
    query: dict[str, Any] | None = {"limit": 40, **params}
    while url:
        r = await api.get(url, params=query)
        assert r.status_code == 200, r.text
        body = r.json()
        out += body["items"]
        url, query = body["next_url"], None
    return out


async def test_precision_and_recall_on_the_overlap(linked: Linked) -> None:
    api, fixture, run, _ = linked
    assert run["candidates"] == len(fixture.ucdp_ids) + len(fixture.truth) + len(
        fixture.distractors
    )
    links = await all_links(api)
    assert run["proposed"] == len(links) > 0
    assert {link["status"] for link in links} == {"proposed"}
    assert [link["id"] for link in links] == sorted(link["id"] for link in links)
    for link in links:
        assert 0 <= link["score"] <= 1
        assert {"space", "time", "type", "actors", "fatalities", "params"} <= set(
            link["components"]
        )
        assert link["components"]["distance_km"] <= link["components"]["spatial_window_km"]
    pairs = [(link["key_a"], link["key_b"]) for link in links]
    precision, recall, true_links = overlap.score(fixture, pairs)
    print(f"links={len(links)} true={true_links} precision={precision:.3f} recall={recall:.3f}")
    assert precision >= MIN_PRECISION and recall >= MIN_RECALL, (precision, recall)
    # A near miss lies outside every window by construction: never linked.
    near = {f"acled/{d}" for d in fixture.distractors}
    assert not [p for p in pairs if near & set(p)]
    # Each event is linked at most once to the other dataset (MELTT's one-to-one rule).
    ends = [k for p in pairs for k in p]
    assert len(ends) == len(set(ends))
    # Filters: by status, score and event.
    some = links[0]
    by_event = await all_links(api, event_id=some["event_a_id"])
    assert [link["id"] for link in by_event] == [some["id"]]
    high = await all_links(api, min_score=0.9)
    assert {link["id"] for link in high} == {link["id"] for link in links if link["score"] >= 0.9}
    r = await api.get("/v1/links", params={"status": "rejected", "total": "true"})
    assert r.json()["total"] == 0


async def _patch(api: Api, link_id: int, body: dict[str, Any], etag: str) -> Any:
    return await api.patch(
        f"/v1/links/{link_id}", json=body, headers={**api.auth, "If-Match": etag}
    )


async def _incident_totals(api: Api) -> dict[str, Any]:
    r = await api.get("/v1/aggregates", params={"basis": "incident"})
    assert r.status_code == 200, r.text
    assert r.json()["basis"]["basis"] == "incident"
    (row,) = r.json()["rows"]
    return dict(row)


async def test_review_confirms_groups_and_rejections_stick(linked: Linked) -> None:
    api, fixture, _, paths = linked
    links = await all_links(api)
    true_pairs = {(f"acled/{a}", f"ucdp/{u}") for a, u in fixture.truth.items()}

    def is_true(link: dict[str, Any]) -> bool:
        k = {link["key_a"], link["key_b"]}
        return any(set(p) == k for p in true_pairs)

    right = next(link for link in links if is_true(link))
    wrong = next((link for link in links if not is_true(link)), links[-1])
    assert wrong["id"] != right["id"]

    before = await _incident_totals(api)
    assert before["incidents"] == before["events"]
    # Before review, the proposed link is listed (and counted) beside the event's incident.
    alone = (await api.get(f"/v1/incidents/{right['event_a_id']}")).json()
    assert right["id"] in [link["id"] for link in alone["proposed_links"]]
    assert alone["proposed_links_count"] == len(alone["proposed_links"]) >= 1
    assert [e["id"] for e in alone["events"]] == [right["event_a_id"]]

    # Confirm: a stale ETag is a 412 and changes nothing; the current one confirms.
    r = await api.get(f"/v1/links/{right['id']}")
    etag = r.headers["etag"]
    assert_problem(
        await _patch(api, right["id"], {"status": "confirmed"}, '"stale"'),
        412,
        "precondition_failed",
    )
    r = await _patch(
        api, right["id"], {"status": "confirmed", "note": "same village, same day"}, etag
    )
    assert r.status_code == 200, r.text
    confirmed = r.json()
    assert confirmed["status"] == "confirmed" and confirmed["version"] == 2
    assert [(c["status_from"], c["status_to"]) for c in confirmed["changes"]] == [
        ("proposed", "confirmed")
    ]
    assert r.headers["etag"] != etag

    # The incident now counts the two events once.
    after = await _incident_totals(api)
    assert after["events"] == before["events"]
    assert after["incidents"] == before["incidents"] - 1
    a, b = right["event_a_id"], right["event_b_id"]
    ev = {i: (await api.get(f"/v1/events/{i}")).json() for i in (a, b)}
    bests = [ev[i]["fatalities_best"] for i in (a, b)]
    # One figure per incident (conservative: the lower best); the other is set aside.
    assert before["fatalities_best"] - after["fatalities_best"] == max(bests)
    assert after["linked_set_aside"] == 1

    # The incident view: both events, their claims side by side, from either event's id.
    for any_id in (a, b):
        r = await api.get(f"/v1/incidents/{any_id}")
        assert r.status_code == 200, r.text
        incident = r.json()
        assert incident["id"] == min(a, b)
        assert [e["id"] for e in incident["events"]] == [a, b]
        assert {e["dataset"] for e in incident["events"]} == {"acled", "ucdp"}
        assert all(e["claims"] for e in incident["events"])
        assert [link["id"] for link in incident["links"]] == [right["id"]]
        # Proposed links touching its events are listed apart, never counted in it.
        assert incident["proposed_links_count"] == len(incident["proposed_links"])
        assert right["id"] not in {link["id"] for link in incident["proposed_links"]}
        for link in incident["proposed_links"]:
            assert link["status"] == "proposed"
            assert {link["event_a_id"], link["event_b_id"]} & {a, b}
        assert incident["figure"]["fatalities_best"] == min(bests)
    r = await api.get("/v1/incidents")
    assert [i["id"] for i in r.json()["items"]] == [min(a, b)]
    lone = next(
        link["event_a_id"] for link in links if link["id"] not in (right["id"], wrong["id"])
    )
    r = await api.get(f"/v1/incidents/{lone}")
    assert [e["id"] for e in r.json()["events"]] == [lone]

    # Transitions a review may not make.
    etag = (await api.get(f"/v1/links/{right['id']}")).headers["etag"]
    assert_problem(
        await _patch(api, right["id"], {"status": "proposed"}, etag), 409, "invalid_transition"
    )
    assert_problem(
        await _patch(api, right["id"], {"status": "confirmed"}, etag), 409, "invalid_transition"
    )

    # Reject a wrong one; re-import both files and run the matcher again: it stays rejected,
    # and the pair is not proposed again.
    etag = (await api.get(f"/v1/links/{wrong['id']}")).headers["etag"]
    r = await _patch(api, wrong["id"], {"status": "rejected"}, etag)
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    inserted = _import(api.database_url, paths)
    assert inserted == [0, 0]
    r = await api.post("/v1/links/propose", json={"datasets": ["acled", "ucdp"]})
    assert r.status_code == 200, r.text
    rerun = r.json()
    assert rerun["rejected_skipped"] == 1
    again = await all_links(api)
    assert len(again) == len(links) + rerun["proposed"]
    # What the rejection freed may be matched anew (the wrong pair's events with their next
    # best candidates), never the rejected pair itself.
    pair = {wrong["key_a"], wrong["key_b"]}
    for link in again[len(links) :]:
        assert pair & {link["key_a"], link["key_b"]}
    by_id = {link["id"]: link for link in again}
    assert by_id[wrong["id"]]["status"] == "rejected"
    assert by_id[right["id"]]["status"] == "confirmed"
    assert [link["id"] for link in again if {link["key_a"], link["key_b"]} == pair] == [wrong["id"]]

    # Un-confirming dissolves the incident.
    etag = (await api.get(f"/v1/links/{right['id']}")).headers["etag"]
    assert (await _patch(api, right["id"], {"status": "rejected"}, etag)).status_code == 200
    assert (await _incident_totals(api))["incidents"] == before["incidents"]
    assert (await api.get("/v1/incidents")).json()["items"] == []


async def test_listed_incidents_are_what_their_own_reads_show(linked: Linked) -> None:
    """Several incidents, listed a page at a time, each equal to its single read (its events,
    its confirmed links, the proposed links touching its events and no other's): the list reads
    them all at once (`represent_incidents`), the single read one."""
    api, fixture, _, _ = linked
    links = await all_links(api)
    true_pairs = {frozenset((f"acled/{a}", f"ucdp/{u}")) for a, u in fixture.truth.items()}
    candidates = [
        link
        for link in links
        if link["status"] == "proposed" and frozenset((link["key_a"], link["key_b"])) in true_pairs
    ]
    chosen: list[dict[str, Any]] = []
    used: set[int] = set()
    for link in candidates:
        ends = {link["event_a_id"], link["event_b_id"]}
        if not ends & used and len(chosen) < 3:
            chosen.append(link)
            used |= ends
    assert len(chosen) == 3
    for link in chosen:
        etag = (await api.get(f"/v1/links/{link['id']}")).headers["etag"]
        r = await _patch(api, link["id"], {"status": "confirmed"}, etag)
        assert r.status_code == 200, r.text
    # A proposed link by hand from the first incident's event to an event of no incident.
    [outside] = await _events_outside(api, used, 1)
    r = await api.post(
        "/v1/links",
        json={"event_a_id": chosen[0]["event_a_id"], "event_b_id": outside, "status": "proposed"},
        headers=api.auth,
    )
    assert r.status_code == 201, r.text
    by_hand = r.json()["id"]

    listed: list[dict[str, Any]] = []
    url: str | None = "/v1/incidents"
    query: dict[str, Any] | None = {"limit": 2}
    while url:
        r = await api.get(url, params=query)
        assert r.status_code == 200, r.text
        listed += r.json()["items"]
        url, query = r.json()["next_url"], None
    expected = sorted(min(link["event_a_id"], link["event_b_id"]) for link in chosen)
    assert [item["id"] for item in listed] == expected
    for item in listed:
        single = await api.get(f"/v1/incidents/{item['id']}")
        assert single.status_code == 200, single.text
        assert item == single.json()
        assert len(item["events"]) == 2 and len(item["links"]) == 1
    # The proposed link is listed with the incident it touches, and with no other.
    first = min(chosen[0]["event_a_id"], chosen[0]["event_b_id"])
    for item in listed:
        ids = {link["id"] for link in item["proposed_links"]}
        assert (by_hand in ids) == (item["id"] == first)


async def test_a_deletion_list_regroups_the_incidents_it_touches(
    linked: Linked, tmp_path: Path
) -> None:
    """An ACLED deletion list that deletes linked events leaves their incidents as a review
    without those events would have (`regroup_after_deletions`): a chain of three losing its
    lowest event stays one incident, named by the lowest event left; a chain losing its middle
    falls apart. Incidents it does not touch stay as they were."""
    api = linked[0]
    before = (await api.get("/v1/incidents", params={"limit": 100})).json()["items"]
    taken = {e["id"] for incident in before for e in incident["events"]}
    a, b, c, d, e, f = sorted(await _events_outside(api, taken, 6))
    for x, y in ((a, b), (b, c), (d, e), (e, f)):
        r = await api.post("/v1/links", json={"event_a_id": x, "event_b_id": y}, headers=api.auth)
        assert r.status_code == 201, r.text
    listed = (await api.get("/v1/incidents", params={"limit": 100})).json()["items"]
    assert [(i["id"], [ev["id"] for ev in i["events"]]) for i in listed if i["id"] in (a, d)] == [
        (a, [a, b, c]),
        (d, [d, e, f]),
    ]

    keys = {x: (await api.get(f"/v1/events/{x}")).json()["external_id"] for x in (a, e)}
    deletions = tmp_path / "deletions.csv"
    deletions.write_text(
        "event_id_cnty,deleted_timestamp\n" + "".join(f"{k},1700000000\n" for k in keys.values())
    )
    report = await asyncio.to_thread(
        run_import, api.database_url, ImportRequest(path=deletions, format="acled-deletions")
    )
    assert (report.committed, report.deleted) == (True, 2)

    after = (await api.get("/v1/incidents", params={"limit": 100})).json()["items"]
    assert after == sorted([*before, (await api.get(f"/v1/incidents/{b}")).json()], key=_id)
    assert [ev["id"] for ev in (await api.get(f"/v1/incidents/{b}")).json()["events"]] == [b, c]
    for alone in (d, f):
        incident = (await api.get(f"/v1/incidents/{alone}")).json()
        assert (incident["id"], [ev["id"] for ev in incident["events"]]) == (alone, [alone])
    for gone in (a, e):
        assert (await api.get(f"/v1/incidents/{gone}")).status_code == 404


def _id(incident: dict[str, Any]) -> int:
    return int(incident["id"])


async def _events_outside(api: Api, taken: set[int], n: int) -> list[int]:
    """`n` ACLED events in no incident and not among `taken`."""
    r = await api.get("/v1/events", params={"dataset": "acled", "limit": 100})
    assert r.status_code == 200, r.text
    found: list[int] = []
    for event in r.json()["items"]:
        if event["id"] not in taken and len(found) < n:
            incident = (await api.get(f"/v1/incidents/{event['id']}")).json()
            if len(incident["events"]) == 1:
                found.append(int(event["id"]))
    assert len(found) == n
    return found


@pytest.mark.parametrize(
    ("method", "url", "body", "status", "code"),
    [
        ("post", "/v1/links/propose", {"spatial_km": -1}, 422, "validation_error"),
        ("post", "/v1/links/propose", {"datasets": ["acled"]}, 422, "validation_error"),
        # A NUL byte PostgreSQL text cannot hold (was a 500, found by schemathesis).
        ("post", "/v1/links/propose", {"datasets": ["acled", "u\u0000"]}, 422, "validation_error"),
        (
            "post",
            "/v1/links/propose",
            {"date_from": "2019-01-02", "date_to": "2019-01-01"},
            422,
            "validation_error",
        ),
        ("post", "/v1/links/propose", {"days": 1, "bogus": 1}, 422, "validation_error"),
        ("get", "/v1/links?status=maybe", None, 422, "validation_error"),
        ("get", "/v1/links?min_score=2", None, 422, "validation_error"),
        ("get", "/v1/links?cursor=nonsense", None, 400, "invalid_cursor"),
        ("get", "/v1/links/2147483000", None, 404, "not_found"),
        ("patch", "/v1/links/1", {"status": "maybe"}, 422, "validation_error"),
        ("patch", "/v1/links/2147483000", {"status": "rejected"}, 404, "not_found"),
        ("get", "/v1/incidents/2147483000", None, 404, "not_found"),
        ("post", "/v1/links", {"event_a_id": 1, "event_b_id": 1}, 422, "validation_error"),
        ("post", "/v1/links", {"event_a_id": 1, "event_b_id": 2147483000}, 422, "validation_error"),
        (
            "post",
            "/v1/links",
            {"event_a_id": 1, "event_b_id": 2, "status": "maybe"},
            422,
            "validation_error",
        ),
        ("get", "/v1/incidents?cursor=nonsense", None, 400, "invalid_cursor"),
    ],
)
async def test_bad_input_is_a_problem(
    linked: Linked, method: str, url: str, body: Any, status: int, code: str
) -> None:
    api = linked[0]
    before = await all_links(api)
    kwargs: dict[str, Any] = {} if body is None else {"json": body}
    r = await getattr(api, method)(url, **kwargs)
    problem = assert_problem(r, status, code)
    if status == 422:
        assert error_locs(problem)
    assert await all_links(api) == before


async def test_a_run_needs_a_write_key(linked: Linked) -> None:
    api = linked[0]
    r = await api.client.post("/v1/links/propose", json={})
    assert_problem(r, 401, "missing_api_key")
    r = await api.client.post("/v1/links/propose", json={}, headers=api.read_auth)
    assert r.status_code == 403


async def test_the_cli_runs_the_matcher(linked: Linked) -> None:
    """`conflictdb link`: the same run from the command line; rejected pairs stay out."""
    api = linked[0]
    before = await all_links(api)
    cmd = [sys.executable, "-m", "app", "link", "--database-url", api.database_url]
    done = await asyncio.to_thread(
        subprocess.run,
        [*cmd, "--dataset", "acled", "--dataset", "ucdp"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    counts = dict(part.split("=") for part in done.stdout.split(" (")[0].split())
    after = await all_links(api)
    assert len(after) == len(before) + int(counts["proposed"])
    rejected = {(link["key_a"], link["key_b"]) for link in before if link["status"] == "rejected"}
    assert counts["rejected_skipped"] == str(len(rejected))
    assert [link for link in after if (link["key_a"], link["key_b"]) in rejected] == [
        link for link in before if (link["key_a"], link["key_b"]) in rejected
    ]
