"""Request bodies of the write tests and the comparisons that tell a whole event from a partial one.

`full_event_body` needs the seed report (its actors and sources); `event_body` needs nothing.
`content(read)` and `expected_content(sent)` reduce an event to what a client sent: equal when
every field, actor link, claim and casualty figure sent is stored, and nothing else.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Any

import httpx

SYRIA = "Military Forces of Syria (2000-)"
RUSSIA = "Military Forces of Russia (2000-)"
REBELS = "Opposition Rebels (Syria)"
HEZBOLLAH = "Hezbollah"
SOHR = "Syrian Observatory for Human Rights"
AFP = "AFP"
STATE_TV = "Syrian state TV"
AL_WATAN = "Al-Watan"

# Content fields of the event itself (the rest are lists, compared below).
_SCALARS = (
    "dataset",
    "external_id",
    "date_start",
    "date_precision",
    "summary",
    "notes",
    "civilian_targeting",
    "fatalities_low",
    "fatalities_best",
    "fatalities_high",
)


def event_body(external_id: str, summary: str | None = None, **extra: Any) -> dict[str, Any]:
    """A small event with an inline place; no actors or sources needed."""
    body: dict[str, Any] = {
        "external_id": external_id,
        "date_start": "2015-10-08",
        "sub_event_type": "armed_clash",
        "summary": summary or f"Clashes reported ({external_id}).",
        "place": {
            "name": "Harness Town",
            "kind": "town",
            "country_code": "SY",
            "admin1": "Hama",
            "latitude": 35.2,
            "longitude": 36.6,
        },
    }
    body.update(extra)
    return body


def full_event_body(external_id: str, n: int = 1, place: str = "Crash Village") -> dict[str, Any]:
    """An event with an inline place, two actors by name, two claims, casualty figures, tags."""
    return {
        "external_id": external_id,
        "date_start": "2015-10-08",
        "date_precision": "day",
        "sub_event_type": "air_drone_strike",
        "summary": f"Air strike {external_id} on {place}.",
        "notes": f"write {n}",
        "civilian_targeting": n % 2 == 0,
        "fatalities_low": n,
        "fatalities_best": n + 1,
        "fatalities_high": n + 2,
        "tags": ["writes-test", f"n-{n}"],
        "place": {
            "name": place,
            "kind": "village",
            "country_code": "SY",
            "admin1": "Idlib",
            "latitude": 35.8,
            "longitude": 36.6,
        },
        "actors": [
            {"actor": RUSSIA, "role": "initiator"},
            {"actor": REBELS, "role": "target", "status": "reported"},
        ],
        "claims": [
            {
                "ref": "sohr",
                "source": SOHR,
                "kind": "casualties",
                "grade": "weak",
                "assertion": f"{external_id}: {n + 1} civilians killed",
                "quote": "at least",
            },
            {
                "ref": "tv",
                "source": STATE_TV,
                "via_source": AFP,
                "kind": "occurrence",
                "assertion": f"{external_id}: terrorists' positions hit",
            },
        ],
        "casualties": [
            {
                "claim_ref": "sohr",
                "outcome": "killed",
                "casualty_group": "civilians",
                "low": n,
                "best": n + 1,
                "high": n + 2,
                "qualifier": f"at least {n}",
            },
            {
                "claim_ref": "tv",
                "outcome": "wounded",
                "casualty_group": "rebels",
                "best": 3,
            },
        ],
    }


def _claim_key(claim: dict[str, Any]) -> tuple[Any, ...]:
    return (
        claim["source"],
        claim.get("via_source"),
        claim.get("kind", "occurrence"),
        claim.get("stance", "asserts"),
        claim.get("grade"),
        claim["assertion"],
        claim.get("quote"),
    )


def _casualty_key(fig: dict[str, Any], claim_assertion: str | None) -> tuple[Any, ...]:
    return (
        claim_assertion,
        fig.get("outcome", "killed"),
        fig.get("casualty_group", "unknown"),
        fig.get("low"),
        fig.get("best"),
        fig.get("high"),
        fig.get("qualifier"),
    )


def content(event: dict[str, Any]) -> dict[str, Any]:
    """What of a stored event (GET /v1/events/{id}) a client sends in a create body."""
    out = {k: event.get(k) for k in _SCALARS}
    out["sub_event_type"] = (event.get("sub_event_type") or {}).get("code")
    place = event.get("place")
    out["place"] = (
        None
        if place is None
        else (place["name"], place["kind"], place["country_code"], place.get("admin1"))
    )
    out["tags"] = sorted(event.get("tags") or [])
    out["actors"] = sorted(
        (a["name"], a["role"], a.get("status", "confirmed")) for a in event.get("actors") or []
    )
    claims = event.get("claims") or []
    by_id = {c["id"]: c["assertion"] for c in claims}
    out["claims"] = sorted(
        _claim_key(
            {
                **c,
                "source": c["source"]["name"],
                "via_source": (c.get("via_source") or {}).get("name"),
            }
        )
        for c in claims
    )
    out["casualties"] = sorted(
        _casualty_key(f, by_id.get(f.get("claim_id"))) for f in event.get("casualties") or []
    )
    return out


def expected_content(body: dict[str, Any]) -> dict[str, Any]:
    """`content` of the event that `body` (sent with canonical actor names) should have made."""
    out = {k: body.get(k) for k in _SCALARS}
    out["dataset"] = body.get("dataset", "conflictdb")
    out["date_precision"] = body.get("date_precision", "day")
    out["civilian_targeting"] = body.get("civilian_targeting", False)
    out["sub_event_type"] = body["sub_event_type"]
    place = body.get("place")
    out["place"] = (
        None
        if place is None
        else (place["name"], place.get("kind", "town"), place["country_code"], place.get("admin1"))
    )
    out["tags"] = sorted(body.get("tags") or [])
    out["actors"] = sorted(
        (a["actor"], a["role"], a.get("status", "confirmed")) for a in body.get("actors") or []
    )
    claims = body.get("claims") or []
    by_ref = {c.get("ref"): c["assertion"] for c in claims}
    out["claims"] = sorted(_claim_key(c) for c in claims)
    out["casualties"] = sorted(
        _casualty_key(f, by_ref.get(f.get("claim_ref"))) for f in body.get("casualties") or []
    )
    return out


def strong_etag(response: httpx.Response) -> str:
    """The response's ETag, asserted strong: a quoted opaque string, no W/ prefix."""
    etag: str | None = response.headers.get("etag")
    assert etag, f"no ETag on {response.request.method} {response.request.url}"
    assert not etag.startswith("W/"), f"weak ETag {etag!r}; writes need a strong one"
    assert etag.startswith('"') and etag.endswith('"') and len(etag) > 2, etag
    return etag


def when(value: str) -> dt.datetime:
    stamp = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)


def list_all(client: httpx.Client, path: str, **params: Any) -> list[dict[str, Any]]:
    """Every item of a keyset-paginated list, following next_url."""
    items: list[dict[str, Any]] = []
    r = client.get(path, params={"limit": 1000, **params})
    while True:
        assert r.status_code == 200, r.text
        body = r.json()
        items += body["items"]
        if not body.get("next_url"):
            return items
        r = client.get(body["next_url"])


def sync_changes(
    client: httpx.Client, **params: Any
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    """GET /v1/changes paged to the end: (changed, deleted, the last page's body)."""
    changed: list[dict[str, Any]] = []
    deleted: list[dict[str, Any]] = []
    r = client.get("/v1/changes", params=params)
    while True:
        assert r.status_code == 200, r.text
        body = r.json()
        changed += body["changed"]
        deleted += body["deleted"]
        if not body.get("next_url"):
            return changed, deleted, body
        r = client.get(body["next_url"])


# On PostgreSQL the feed serves only positions below the oldest transaction still running in
# the cluster (app/changes/service.py): a change shows up as soon as the transactions older than
# it have ended, not always on the very next read. Feed checks poll, up to this long.
FEED_WAIT = 20.0


def sync_until(
    client: httpx.Client,
    done: Callable[[list[dict[str, Any]], list[dict[str, Any]]], bool],
    timeout: float = FEED_WAIT,
    **params: Any,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    """`sync_changes` again and again until done(changed, deleted) holds; that sync's result."""
    deadline = time.monotonic() + timeout
    while True:
        changed, deleted, last = sync_changes(client, **params)
        if done(changed, deleted):
            return changed, deleted, last
        assert time.monotonic() < deadline, (
            f"the feed ({params}) did not show it within {timeout:.0f} s: "
            f"changed={[c.get('id') for c in changed]} deleted={deleted}"
        )
        time.sleep(0.1)
