"""Links and incidents: proposing, reviewing, and the incidents confirmed links make.

- A run of the matcher (`propose`) compares the chosen events and stores each match as a
  `proposed` link. A pair already stored keeps its status: a proposed one gets the new score,
  a confirmed or rejected one is left as the analyst left it. A rejected pair is never
  proposed again (the pair is kept by the events' natural keys, so this holds across
  re-imports), nor is an event given a second match in a dataset where a confirmed link
  already matches it.
- An analyst may also link two events by hand (`create_link`, method `manual`, any datasets).
- A review (`review`) moves a link: proposed -> confirmed | rejected, confirmed -> rejected,
  rejected -> confirmed. Nothing goes back to `proposed` (409 `invalid_transition`), and a
  link cannot be set to the status it has (409). Each change is recorded with its key and
  time; the link's version rises by one.
- An **incident** is a connected set of events joined by confirmed links (proposed links do
  not count; the incident view lists them apart). It is named by its lowest event id; an event
  without confirmed links is an incident of its own. `incident_members` holds the incidents of
  two or more events and is rebuilt around both events whenever a link enters or leaves
  `confirmed`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import Conflict, Invalid, NotFound
from app.core.etag import IfMatch, etag_of
from app.core.preconditions import require_current
from app.links import repository
from app.links.matching import MatchParams, match
from app.links.repository import LinkFilter
from app.links.schemas import (
    IncidentQuery,
    LinkChangeRead,
    LinkCreate,
    LinkPatch,
    LinkQuery,
    LinkRead,
    ProposeParams,
    ProposeResult,
)
from app.models import EventLink, EventLinkChange
from app.models.base import utcnow

TRANSITIONS: dict[str, frozenset[str]] = {
    "proposed": frozenset({"confirmed", "rejected"}),
    "confirmed": frozenset({"rejected"}),
    "rejected": frozenset({"confirmed"}),
}


async def propose(session: AsyncSession, params: ProposeParams) -> ProposeResult:
    p = MatchParams(spatial_km=params.spatial_km, days=params.days, min_score=params.min_score)
    events = await repository.candidates(session, params.date_from, params.date_to, params.datasets)
    stored = await repository.links_by_keys(session)
    rejected = {k for k, link in stored.items() if link.status == "rejected"}
    taken: set[tuple[int, str]] = set()
    for a, da, b, db in await repository.confirmed_taken(session):
        taken.add((a, db))
        taken.add((b, da))
    matches = match(events, p, excluded=rejected, taken=taken)
    new: list[dict[str, Any]] = []
    refreshed = kept = 0
    now = utcnow()
    for m in matches:
        link = stored.get((m.a.key, m.b.key))
        if link is None:
            new.append(
                {
                    "event_a_id": m.a.id,
                    "event_b_id": m.b.id,
                    "key_a": m.a.key,
                    "key_b": m.b.key,
                    "status": "proposed",
                    "score": m.score,
                    "components": m.components,
                    "method": "meltt",
                    "version": 1,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            continue
        # Decided pairs stay as decided; their events may have been loaded again.
        link.event_a_id, link.event_b_id = m.a.id, m.b.id
        if link.status == "proposed" and (link.score != m.score or link.components != m.components):
            link.score, link.components = m.score, m.components
            link.version += 1
            refreshed += 1
        else:
            kept += 1
    await session.flush()
    await repository.add_links(session, new)
    return ProposeResult(
        candidates=len(events),
        matched=len(matches),
        proposed=len(new),
        refreshed=refreshed,
        kept=kept,
        rejected_skipped=len(rejected),
        params=p.as_dict(),
    )


async def create_link(
    session: AsyncSession, data: LinkCreate, *, api_key_id: int | None
) -> EventLink:
    """An analyst links two events by hand (method `manual`, score 1); 409 if the pair exists."""
    a, b = sorted((data.event_a_id, data.event_b_id))
    keys = []
    for field, event_id in (("event_a_id", data.event_a_id), ("event_b_id", data.event_b_id)):
        key = await repository.natural_key(session, event_id)
        if key is None:
            raise Invalid(["body", field], f"event {event_id} does not exist")
        keys.append((event_id, key))
    key_a, key_b = (k for _, k in sorted(keys))
    found = await repository.link_by_keys(session, key_a, key_b)
    if found is not None:
        raise Conflict(
            f"events {a} and {b} are already linked (link {found.id}, {found.status}); "
            "review that link instead",
            code="duplicate",
        )
    now = utcnow()
    link = EventLink(
        event_a_id=a,
        event_b_id=b,
        key_a=key_a,
        key_b=key_b,
        status=data.status,
        score=1.0,
        components={"manual": True},
        method="manual",
        note=data.note,
        reviewed_at=now,
        version=1,
    )
    session.add(link)
    await session.flush()
    await repository.add_change(
        session,
        EventLinkChange(
            link_id=link.id,
            status_from="new",
            status_to=data.status,
            note=data.note,
            api_key_id=api_key_id,
            changed_at=now,
        ),
    )
    if data.status == "confirmed":
        await rebuild_incidents(session, [a, b])
    return link


async def list_links(
    session: AsyncSession, query: LinkQuery, after_id: int | None
) -> tuple[list[EventLink], int | None]:
    where = LinkFilter(
        statuses=query.status,
        event_ids=query.event_id,
        datasets=query.dataset,
        min_score=query.min_score,
    )
    rows = await repository.list_page(session, where, after_id=after_id, limit=query.limit + 1)
    total = await repository.count(session, where) if query.total else None
    return rows, total


async def represent(session: AsyncSession, link_id: int) -> dict[str, Any]:
    """A link as GET shows it, with its status changes (its ETag is the hash of this)."""
    link = await repository.get(session, link_id)
    if link is None:
        raise NotFound("link", link_id)
    body = LinkRead.model_validate(link).model_dump(mode="json")
    changes = await repository.changes_of(session, link_id)
    body["changes"] = [LinkChangeRead.model_validate(c).model_dump(mode="json") for c in changes]
    return body


async def review(
    session: AsyncSession,
    link_id: int,
    patch: LinkPatch,
    *,
    if_match: IfMatch | None,
    api_key_id: int | None,
) -> None:
    await require_current(
        session, EventLink, link_id, "link", if_match, lambda: represent(session, link_id)
    )
    link = await repository.get(session, link_id)
    assert link is not None
    if patch.status == link.status:
        raise Conflict(f"link {link_id} is already {link.status}", code="invalid_transition")
    if patch.status not in TRANSITIONS[link.status]:
        raise Conflict(
            f"a {link.status} link cannot become {patch.status}: an analyst confirms or "
            "rejects a link; nothing goes back to proposed",
            code="invalid_transition",
        )
    before = link.status
    now = utcnow()
    link.status = patch.status
    link.reviewed_at = now
    link.version += 1
    if patch.note is not None:
        link.note = patch.note
    await repository.add_change(
        session,
        EventLinkChange(
            link_id=link_id,
            status_from=before,
            status_to=patch.status,
            note=patch.note,
            api_key_id=api_key_id,
            changed_at=now,
        ),
    )
    if "confirmed" in (before, patch.status):
        ends = [i for i in (link.event_a_id, link.event_b_id) if i is not None]
        await rebuild_incidents(session, ends)


async def forget_event(session: AsyncSession, event_id: int) -> None:
    """An event is being deleted: its incident is rebuilt without it (its links stay, by
    natural key, with its id cleared by the foreign key)."""
    await rebuild_incidents(session, [event_id], without=event_id)


async def rebuild_incidents(
    session: AsyncSession, event_ids: list[int], without: int | None = None
) -> None:
    """Recompute the incidents around these events from the confirmed links (leaving out the
    event `without`, which is being deleted)."""
    old = await repository.incident_of(session, event_ids)
    nodes = set(event_ids) | set(await repository.members_of(session, set(old.values())))
    edges: set[tuple[int, int]] = set()
    frontier = set(nodes)
    while frontier:
        found = await repository.confirmed_edges(session, frontier)
        frontier = set()
        for a, b in found:
            if without in (a, b):
                continue
            edges.add((a, b))
            for n in (a, b):
                if n not in nodes:
                    nodes.add(n)
                    frontier.add(n)
    # (`without` has no edge left: alone, it is in no incident.)
    await repository.replace_members(session, nodes, incident_rows(nodes, edges))


# Incidents regrouped per round of `regroup_after_deletions` (their members go in IN lists).
REGROUP_CHUNK = 1_000


def regroup_after_deletions(conn: Connection, incident_ids: list[int]) -> None:
    """A bulk deletion's incidents (an import's ACLED deletion list, inside its transaction):
    the incidents that lost events, regrouped from the confirmed links among what is left of
    them. Deleting events can only shrink or split an incident (it was one connected group of
    confirmed links), so nothing outside its members is read; the deleted events' memberships
    went with them (ON DELETE CASCADE)."""
    for start in range(0, len(incident_ids), REGROUP_CHUNK):
        nodes = set(repository.members_sync(conn, incident_ids[start : start + REGROUP_CHUNK]))
        edges = repository.confirmed_among_sync(conn, nodes)
        repository.replace_members_sync(conn, nodes, incident_rows(nodes, edges))


def incident_rows(nodes: set[int], edges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """(event id, incident id) of these events, grouped by these confirmed links (both ends
    among `nodes`): each group of two or more is an incident, its id its lowest event id."""
    parent = {n: n for n in nodes}

    def root(n: int) -> int:
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    for a, b in edges:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups: dict[int, list[int]] = defaultdict(list)
    for n in nodes:
        groups[root(n)].append(n)
    return [(n, min(g)) for g in groups.values() if len(g) > 1 for n in g]


# ---- incidents ----


async def incident_id_of(session: AsyncSession, event_id: int) -> int:
    found = await repository.incident_of(session, [event_id])
    if event_id in found:
        return found[event_id]
    if not await repository.event_exists(session, event_id):
        raise NotFound("incident", event_id)
    return event_id


async def represent_incident(session: AsyncSession, any_event_id: int) -> dict[str, Any]:
    """The incident an event belongs to: its events with every claim side by side."""
    incident_id = await incident_id_of(session, any_event_id)
    [body] = await represent_incidents(session, [incident_id])
    return body


async def represent_incidents(
    session: AsyncSession, incident_ids: Sequence[int]
) -> list[dict[str, Any]]:
    """Incidents by their own ids (an event alone is its own incident), each as GET shows it,
    in the order given: three statements for them all, not three per incident."""
    members = await repository.members_by_incident(session, incident_ids)
    groups = {i: sorted(members.get(i) or [i]) for i in incident_ids}
    every_id = sorted({e for group in groups.values() for e in group})
    events = {e.id: e for e in await repository.events_with_claims(session, every_id)}
    links = await repository.links_touching(session, every_id)
    return [
        _incident_body(i, [events[e] for e in groups[i] if e in events], links, set(groups[i]))
        for i in incident_ids
    ]


def _incident_body(
    incident_id: int, events: list[Any], links: list[Any], member_set: set[int]
) -> dict[str, Any]:
    """`links`: in id order, those touching the members (and maybe others')."""
    confirmed = [
        link
        for link in links
        if link.status == "confirmed"
        and link.event_a_id in member_set
        and link.event_b_id in member_set
    ]
    proposed = [
        link
        for link in links
        if link.status == "proposed"
        and (link.event_a_id in member_set or link.event_b_id in member_set)
    ]
    figure = _incident_figure(events)
    return {
        "id": incident_id,
        "events": [_event_body(e) for e in events],
        "links": [_link_brief(link) for link in confirmed],
        "proposed_links": [_link_brief(link) for link in proposed],
        "proposed_links_count": len(proposed),
        "figure": figure,
    }


def _incident_figure(events: list[Any]) -> dict[str, Any] | None:
    """The figure basis=incident counts (conservative policy): the member event's with the
    lowest best, then lowest low, then lowest id."""
    known = [
        e
        for e in events
        if e.fatalities_best is not None
        or e.fatalities_low is not None
        or e.fatalities_high is not None
    ]
    if not known:
        return None
    big = 2**31

    def key(e: Any) -> tuple[int, int, int]:
        best = e.fatalities_best if e.fatalities_best is not None else e.fatalities_low
        return (
            best if best is not None else big,
            e.fatalities_low if e.fatalities_low is not None else big,
            e.id,
        )

    e = min(known, key=key)
    return {
        "policy": "conservative",
        "event_id": e.id,
        "fatalities_low": e.fatalities_low,
        "fatalities_best": e.fatalities_best,
        "fatalities_high": e.fatalities_high,
    }


def _event_body(e: Any) -> dict[str, Any]:
    place = e.place
    return {
        "id": e.id,
        "dataset": e.dataset,
        "external_id": e.external_id,
        "date_start": e.date_start.isoformat(),
        "date_end": e.date_end.isoformat(),
        "date_precision": e.date_precision,
        "sub_event_type": e.sub_event_type_code,
        "summary": e.summary,
        "place": None
        if place is None
        else {
            "id": place.id,
            "name": place.name,
            "admin1": place.admin1,
            "latitude": place.latitude,
            "longitude": place.longitude,
        },
        "geo_precision": e.geo_precision,
        "fatalities_low": e.fatalities_low,
        "fatalities_best": e.fatalities_best,
        "fatalities_high": e.fatalities_high,
        "claims": [
            {
                "id": c.id,
                "source": c.source.name,
                "via_source": None if c.via_source is None else c.via_source.name,
                "kind": c.kind,
                "grade": c.grade,
                "assertion": c.assertion,
                "quote": c.quote,
                "casualties": [
                    {
                        "outcome": f.outcome,
                        "casualty_group": f.casualty_group,
                        "low": f.count_low,
                        "best": f.count_best,
                        "high": f.count_high,
                        "qualifier": f.qualifier,
                    }
                    for f in e.casualties
                    if f.claim_id == c.id
                ],
            }
            for c in e.claims
        ],
    }


def _link_brief(link: EventLink) -> dict[str, Any]:
    return {
        "id": link.id,
        "event_a_id": link.event_a_id,
        "event_b_id": link.event_b_id,
        "status": link.status,
        "score": link.score,
    }


async def list_incidents(
    session: AsyncSession, query: IncidentQuery, after_id: int | None
) -> list[dict[str, Any]]:
    """One more incident than asked for (of two or more events), each as GET shows it."""
    ids = await repository.incident_page(
        session,
        after_id=after_id,
        limit=query.limit + 1,
        event_ids=query.event_id,
        datasets=query.dataset,
    )
    return await represent_incidents(session, ids)


def incident_etag(body: dict[str, Any]) -> str:
    return etag_of(body)


__all__ = ["TRANSITIONS", "forget_event", "propose", "rebuild_incidents", "review"]
