"""Event use cases: create, replace, patch, delete. Flushes, never commits.

Each write locks the event first (`_locked`: a row lock on PostgreSQL; SQLite's writer holds
the database), checks If-Match against the event as it now is, changes it, and ends with
`history.record_change`, which raises the version once and records the revision.
"""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.actors.repository import find_by_name_or_alias
from app.core.errors import Conflict, Invalid, NotFound
from app.core.etag import IfMatch, etag_of
from app.core.names import fold_name
from app.core.schemas import check_bounds
from app.events import history, repository
from app.events.listing import load_event_dicts
from app.events.schemas import (
    ActorLink,
    CasualtyIn,
    ClaimCasualtyIn,
    ClaimIn,
    EventCreate,
    EventPatch,
)
from app.models import (
    Actor,
    AirspaceViolation,
    CasualtyFigure,
    Claim,
    Document,
    Event,
    EventActor,
    EventTag,
    MaterielLoss,
    Place,
    Source,
    SubEventType,
    TerritoryChange,
)
from app.places.service import get_or_create_place
from app.sources.repository import find_source_by_name

Loc = list[str | int]


class _Resolver:
    """Resolves names and ids in one request, remembering what it found."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.actors: dict[str, Actor] = {}
        self.sources: dict[str, Source] = {}

    async def actor(self, actor_id: int | None, name: str | None, loc: Loc) -> Actor | None:
        if actor_id is not None:
            found = await self.session.get(Actor, actor_id)
            if found is None:
                raise Invalid([*loc[:-1], f"{loc[-1]}_id"], f"actor {actor_id} does not exist")
            return found
        if name is None:
            return None
        key = fold_name(name)
        if key not in self.actors:
            hit = await find_by_name_or_alias(self.session, name)
            if hit is None:
                raise Invalid(loc, f"no actor is named or aliased {name!r}")
            self.actors[key] = hit
        return self.actors[key]

    async def source(self, source_id: int | None, name: str | None, loc: Loc) -> Source | None:
        if source_id is not None:
            found = await self.session.get(Source, source_id)
            if found is None:
                raise Invalid([*loc[:-1], f"{loc[-1]}_id"], f"source {source_id} does not exist")
            return found
        if name is None:
            return None
        key = fold_name(name)
        if key not in self.sources:
            hit = await find_source_by_name(self.session, name)
            if hit is None:
                raise Invalid(loc, f"no source is named {name!r}")
            self.sources[key] = hit
        return self.sources[key]


async def resolve_actor(
    session: AsyncSession, actor_id: int | None, name: str | None, loc: Loc
) -> Actor | None:
    """An actor by id, or by its name or any alias; a miss is a 422 at `loc`."""
    return await _Resolver(session).actor(actor_id, name, loc)


async def _sub_event_type(session: AsyncSession, code: str, loc: Loc) -> SubEventType:
    found = await session.get(SubEventType, code)
    if found is None:
        raise Invalid(loc, f"unknown sub-event type {code!r}; see /v1/event-types")
    return found


async def get_event(session: AsyncSession, event_id: int) -> tuple[dict[str, Any], str]:
    """An event as GET returns it, with its strong ETag: the list's one read of a page (one
    statement on PostgreSQL) for a page of one, so both equal the write's `event_dict` body."""
    found = await load_event_dicts(session, [event_id])
    if not found:
        raise NotFound("event", event_id)
    return found[0], etag_of(found[0])


async def written_event(session: AsyncSession, event_id: int) -> tuple[dict[str, Any], str]:
    """The event as the write that just ran left it, with its ETag (no second load)."""
    body = history.recorded(session, event_id)
    if body is None:
        return await get_event(session, event_id)
    return body, etag_of(body)


async def _locked(session: AsyncSession, event_id: int, if_match: IfMatch | None) -> None:
    """Lock the event for this transaction; 404 if it is gone, 412 if If-Match names another."""
    if event_id not in await history.lock_events(session, [event_id]):
        raise NotFound("event", event_id)
    if if_match is not None and not if_match.any:
        body, etag = await get_event(session, event_id)
        if_match.check("event", etag, body["version"])


async def create_event(
    session: AsyncSession,
    data: EventCreate,
    *,
    api_key_id: int | None = None,
    operation: str = "create",
) -> Event:
    """Create an event with everything it carries; a duplicate natural key is a 409."""
    external_id = data.external_id or uuid.uuid4().hex[:16]
    if await repository.get_event_by_key(session, data.dataset, external_id) is not None:
        raise Conflict(f"event {data.dataset}/{external_id} already exists", code="duplicate")
    event = Event(dataset=data.dataset, external_id=external_id, version=1)
    event.actors, event.tags, event.claims = [], [], []
    event.casualties, event.territory_changes = [], []
    event.materiel_losses, event.airspace_violations, event.campaigns = [], [], []
    await _apply(session, event, data)
    session.add(event)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        # A concurrent create of the same natural key committed first.
        raise Conflict(
            f"event {data.dataset}/{external_id} already exists", code="duplicate"
        ) from exc
    await _apply_children(session, event, data)
    await history.record_change(session, event.id, operation, api_key_id)
    _check_written_figures(event, _given_figures(data.model_dump(exclude_unset=True)))
    return event


async def replace_event(
    session: AsyncSession,
    event_id: int,
    data: EventCreate,
    *,
    if_match: IfMatch | None = None,
    api_key_id: int | None = None,
    operation: str = "update",
) -> Event:
    """Replace an event's content with `data` (PUT); its id and natural key stay.

    Child records that stay keep their ids: matched by the `id` the client sends back, else
    by identical content; those not sent are deleted.
    """
    await _locked(session, event_id, if_match)
    event = await repository.get_event_for_update(session, event_id)
    assert event is not None
    if (data.dataset, data.external_id or event.external_id) != (event.dataset, event.external_id):
        raise Invalid(["external_id"], "the natural key (dataset, external_id) cannot change")
    before = _figures_of(event)
    await _apply(session, event, data)
    await _apply_children(session, event, data)
    await history.record_change(session, event.id, operation, api_key_id)
    _check_written_figures(event, _given_figures(data.model_dump(exclude_unset=True)), before)
    return event


_FIGURES = ("fatalities_low", "fatalities_best", "fatalities_high")


def _given_figures(fields: dict[str, Any]) -> dict[str, Any]:
    """The figures a body sets to a number (null leaves the figure to the claims)."""
    return {name: fields[name] for name in _FIGURES if fields.get(name) is not None}


def _figures_of(event: Event) -> dict[str, Any]:
    return {name: getattr(event, name) for name in _FIGURES}


def _check_written_figures(
    event: Event, given: dict[str, Any], before: dict[str, Any] | None = None
) -> None:
    """A figure the body sets must be the one the event keeps, or the write is refused.

    Where the event's claims give a killed figure, the event's figure is their conservative
    account (app/claims/figures.py): a body that sets another would be answered 2xx and not
    kept. Refusing it (the transaction rolls back) keeps "a 2xx means what you sent is stored".
    A figure sent back as it was read (`before`: a PUT of a GET whose claims' figures change)
    is no request to change it: the claims' new account stands.
    """
    for name, value in given.items():
        kept = getattr(event, name)
        if value != kept and (before is None or value != before[name]):
            raise Invalid(
                ["body", name],
                f"is {value!r} but the event's claims give a killed figure, and the event's "
                f"figure is their conservative account ({name} = {kept!r}); change the "
                "claims' casualty figures instead, or leave the event's figures out",
                "figure_from_claims",
            )


async def _apply(session: AsyncSession, event: Event, data: EventCreate) -> None:
    sub = await _sub_event_type(session, data.sub_event_type, ["body", "sub_event_type"])
    event.sub_event_type_code = sub.code
    event.date_start = data.date_start
    event.date_end = data.date_end or data.date_start
    event.date_precision = data.date_precision
    if data.date_precision == "day" and event.date_end != event.date_start:
        raise Invalid(["body", "date_precision"], "a 'day' event has date_end == date_start")
    event.summary = data.summary
    event.notes = data.notes
    event.civilian_targeting = data.civilian_targeting
    event.fatalities_low = data.fatalities_low
    event.fatalities_best = data.fatalities_best
    event.fatalities_high = data.fatalities_high
    event.geo_precision = data.geo_precision
    event.extras = data.extras
    if data.place_id is not None:
        if await session.get(Place, data.place_id) is None:
            raise Invalid(["body", "place_id"], f"place {data.place_id} does not exist")
        event.place_id = data.place_id
    elif data.place is not None:
        event.place_id = (await get_or_create_place(session, data.place, ["body", "place"])).id
    else:
        event.place_id = None


T = TypeVar("T", Claim, CasualtyFigure, TerritoryChange, MaterielLoss, AirspaceViolation)

CLAIM_FIELDS = (
    "source_id",
    "via_source_id",
    "document_id",
    "kind",
    "stance",
    "grade",
    "assertion",
    "quote",
    "claimed_on",
    "disputes_claim_id",
    "attributes",
)
CASUALTY_FIELDS = (
    "claim_id",
    "outcome",
    "casualty_group",
    "actor_id",
    "count_low",
    "count_best",
    "count_high",
    "qualifier",
)
_TERRITORY_FIELDS = (
    "claim_id",
    "place_id",
    "place_kind",
    "gained_by_actor_id",
    "lost_by_actor_id",
    "count_low",
    "count_best",
    "count_high",
    "qualifier",
)
_MATERIEL_FIELDS = (
    "claim_id",
    "owner_actor_id",
    "item",
    "outcome",
    "quantity_low",
    "quantity_best",
    "quantity_high",
    "qualifier",
)
_AIRSPACE_FIELDS = (
    "claim_id",
    "violating_actor_id",
    "violated_country_code",
    "count_low",
    "count_best",
    "count_high",
    "qualifier",
)


def _values(row: Any, fields: tuple[str, ...]) -> tuple[Any, ...]:
    return tuple(getattr(row, f) for f in fields)


def sync_rows(
    stored: list[T],
    wanted: list[tuple[int | None, T]],
    fields: tuple[str, ...],
    loc: Loc,
    *,
    match_on: tuple[str, ...] | None = None,
) -> list[T]:
    """Make `stored` hold `wanted`, keeping the row (and id) of every record that stays.

    A wanted record is the stored one whose id the client sent back, else an unclaimed stored
    one with the same content (`match_on` fields), else new. Stored rows left over are removed
    (the relationship's delete-orphan deletes them). Returns the rows in the wanted order.
    """
    key_fields = match_on or fields
    free = {row.id: row for row in stored}
    chosen: list[T | None] = [None] * len(wanted)
    for i, (wanted_id, _new) in enumerate(wanted):
        if wanted_id is not None:
            row = free.pop(wanted_id, None)
            if row is None:
                raise Invalid([*loc, i, "id"], f"{wanted_id} is not one of this event's records")
            chosen[i] = row
    for i, (wanted_id, new) in enumerate(wanted):
        if wanted_id is None:
            key = _values(new, key_fields)
            row = next((r for r in free.values() if _values(r, key_fields) == key), None)
            if row is not None:
                del free[row.id]
                chosen[i] = row
    result: list[T] = []
    for i, (_id, new) in enumerate(wanted):
        row = chosen[i]
        if row is None:
            result.append(new)
            continue
        if _values(row, fields) != _values(new, fields):
            for f in fields:
                if getattr(row, f) != getattr(new, f):
                    setattr(row, f, getattr(new, f))
            if isinstance(row, Claim):
                row.version += 1
        result.append(row)
    stored[:] = result
    return result


async def _apply_children(session: AsyncSession, event: Event, data: EventCreate) -> None:
    resolve = _Resolver(session)
    claims_by_ref = await _sync_claims(session, event, data.claims, resolve)
    mine = {c.id for c in event.claims}

    def claim_id(ref: str | None, cid: int | None, loc: Loc) -> int | None:
        if ref is not None:
            if ref not in claims_by_ref:
                raise Invalid(loc, f"no claim in this request has ref {ref!r}")
            return claims_by_ref[ref].id
        return cid

    known_claims = await repository.claims_by_ids(
        session,
        [
            c.claim_id
            for group in (
                data.casualties,
                data.territory_changes,
                data.materiel_losses,
                data.airspace_violations,
            )
            for c in group
            if c.claim_id is not None
        ],
    )

    def check_claim(cid: int | None, loc: Loc) -> None:
        if cid is not None and cid not in known_claims and cid not in mine:
            raise Invalid(loc, f"claim {cid} does not exist")

    await _sync_actors(event, data.actors, resolve, claims_by_ref)
    _sync_tags(event, data.tags)
    casualties: list[tuple[int | None, CasualtyFigure]] = []
    for i, c in enumerate(data.casualties):
        loc: Loc = ["body", "casualties", i]
        cid = claim_id(c.claim_ref, c.claim_id, [*loc, "claim_ref"])
        check_claim(cid, [*loc, "claim_id"])
        actor = await resolve.actor(c.actor_id, c.actor, [*loc, "actor"])
        casualties.append((c.id, casualty_row(event.id, cid, c, actor)))
    sync_rows(event.casualties, casualties, CASUALTY_FIELDS, ["body", "casualties"])
    territory: list[tuple[int | None, TerritoryChange]] = []
    for i, t in enumerate(data.territory_changes):
        loc = ["body", "territory_changes", i]
        cid = claim_id(t.claim_ref, t.claim_id, [*loc, "claim_ref"])
        check_claim(cid, [*loc, "claim_id"])
        place_id = t.place_id
        if place_id is not None and await session.get(Place, place_id) is None:
            raise Invalid([*loc, "place_id"], f"place {place_id} does not exist")
        if t.place is not None:
            place_id = (await get_or_create_place(session, t.place, [*loc, "place"])).id
        gained = await resolve.actor(t.gained_by_actor_id, t.gained_by, [*loc, "gained_by"])
        lost = await resolve.actor(t.lost_by_actor_id, t.lost_by, [*loc, "lost_by"])
        territory.append(
            (
                t.id,
                TerritoryChange(
                    event_id=event.id,
                    claim_id=cid,
                    place_id=place_id,
                    place_kind=t.place_kind,
                    gained_by_actor_id=gained.id if gained else None,
                    lost_by_actor_id=lost.id if lost else None,
                    count_low=t.low,
                    count_best=t.best,
                    count_high=t.high,
                    qualifier=t.qualifier,
                ),
            )
        )
    sync_rows(event.territory_changes, territory, _TERRITORY_FIELDS, ["body", "territory_changes"])
    materiel: list[tuple[int | None, MaterielLoss]] = []
    for i, m in enumerate(data.materiel_losses):
        loc = ["body", "materiel_losses", i]
        cid = claim_id(m.claim_ref, m.claim_id, [*loc, "claim_ref"])
        check_claim(cid, [*loc, "claim_id"])
        owner = await resolve.actor(m.owner_actor_id, m.owner, [*loc, "owner"])
        materiel.append(
            (
                m.id,
                MaterielLoss(
                    event_id=event.id,
                    claim_id=cid,
                    owner_actor_id=owner.id if owner else None,
                    item=m.item,
                    outcome=m.outcome,
                    quantity_low=m.low,
                    quantity_best=m.best,
                    quantity_high=m.high,
                    qualifier=m.qualifier,
                ),
            )
        )
    sync_rows(event.materiel_losses, materiel, _MATERIEL_FIELDS, ["body", "materiel_losses"])
    airspace: list[tuple[int | None, AirspaceViolation]] = []
    for i, a in enumerate(data.airspace_violations):
        loc = ["body", "airspace_violations", i]
        cid = claim_id(a.claim_ref, a.claim_id, [*loc, "claim_ref"])
        check_claim(cid, [*loc, "claim_id"])
        violator = await resolve.actor(
            a.violating_actor_id, a.violating_actor, [*loc, "violating_actor"]
        )
        airspace.append(
            (
                a.id,
                AirspaceViolation(
                    event_id=event.id,
                    claim_id=cid,
                    violating_actor_id=violator.id if violator else None,
                    violated_country_code=a.violated_country_code,
                    count_low=a.low,
                    count_best=a.best,
                    count_high=a.high,
                    qualifier=a.qualifier,
                ),
            )
        )
    sync_rows(
        event.airspace_violations, airspace, _AIRSPACE_FIELDS, ["body", "airspace_violations"]
    )
    await _set_campaigns(session, event, data.campaign_ids, data.campaigns)
    await session.flush()


def casualty_row(
    event_id: int, claim_id: int | None, c: CasualtyIn | ClaimCasualtyIn, actor: Actor | None
) -> CasualtyFigure:
    return CasualtyFigure(
        event_id=event_id,
        claim_id=claim_id,
        outcome=c.outcome,
        casualty_group=c.casualty_group,
        actor_id=actor.id if actor else None,
        count_low=c.low,
        count_best=c.best,
        count_high=c.high,
        qualifier=c.qualifier,
    )


def _sync_tags(event: Event, tags: list[str]) -> None:
    wanted = list(dict.fromkeys(tags))
    kept = [t for t in event.tags if t.tag in wanted]
    have = {t.tag for t in kept}
    event.tags[:] = kept + [EventTag(event_id=event.id, tag=t) for t in wanted if t not in have]


async def _sync_claims(
    session: AsyncSession, event: Event, claims: list[ClaimIn], resolve: _Resolver
) -> dict[str, Claim]:
    wanted: list[tuple[int | None, Claim]] = []
    for i, c in enumerate(claims):
        loc: Loc = ["body", "claims", i]
        source = await resolve.source(c.source_id, c.source, [*loc, "source"])
        via = await resolve.source(c.via_source_id, c.via_source, [*loc, "via_source"])
        if c.document_id is not None and await session.get(Document, c.document_id) is None:
            raise Invalid([*loc, "document_id"], f"document {c.document_id} does not exist")
        if (
            c.disputes_claim_id is not None
            and await session.get(Claim, c.disputes_claim_id) is None
        ):
            raise Invalid(
                [*loc, "disputes_claim_id"], f"claim {c.disputes_claim_id} does not exist"
            )
        assert source is not None
        claim = Claim(
            event_id=event.id,
            source_id=source.id,
            via_source_id=via.id if via else None,
            document_id=c.document_id,
            kind=c.kind,
            stance=c.stance,
            grade=c.grade,
            assertion=c.assertion,
            quote=c.quote,
            claimed_on=c.claimed_on,
            disputes_claim_id=c.disputes_claim_id,
            attributes=c.attributes,
            version=1,
        )
        wanted.append((c.id, claim))
    # Matched on content without the dispute link: a link by ref is only known after flush.
    rows = sync_rows(
        event.claims,
        wanted,
        tuple(f for f in CLAIM_FIELDS if f != "disputes_claim_id"),
        ["body", "claims"],
    )
    await session.flush()
    by_ref: dict[str, Claim] = {}
    for c, row in zip(claims, rows, strict=True):
        if c.ref:
            by_ref[c.ref] = row
    for i, (c, row) in enumerate(zip(claims, rows, strict=True)):
        target = c.disputes_claim_id
        if c.disputes_claim_ref:
            if c.disputes_claim_ref not in by_ref:
                raise Invalid(
                    ["body", "claims", i, "disputes_claim_ref"],
                    f"no claim in this request has ref {c.disputes_claim_ref!r}",
                )
            target = by_ref[c.disputes_claim_ref].id
        if row.disputes_claim_id != target:
            row.disputes_claim_id = target
    return by_ref


async def _sync_actors(
    event: Event, links: list[ActorLink], resolve: _Resolver, claims_by_ref: dict[str, Claim]
) -> None:
    """The event's actor links become `links`; a link that stays (same actor and role) stays."""
    stored = {(link.actor_id, link.role): link for link in event.actors}
    result: list[EventActor] = []
    seen: set[tuple[int, str]] = set()
    for i, link in enumerate(links):
        loc: Loc = ["body", "actors", i]
        actor = await resolve.actor(link.actor_id, link.actor, [*loc, "actor"])
        assert actor is not None
        key = (actor.id, link.role)
        if key in seen:
            raise Invalid(loc, f"actor {actor.name!r} is listed twice as {link.role}")
        seen.add(key)
        claim_id = None
        if link.claim_ref is not None:
            if link.claim_ref not in claims_by_ref:
                raise Invalid([*loc, "claim_ref"], f"no claim has ref {link.claim_ref!r}")
            claim_id = claims_by_ref[link.claim_ref].id
        row = stored.get(key)
        if row is None:
            row = EventActor(event_id=event.id, actor_id=actor.id, role=link.role)
        for name, value in (("status", link.status), ("claim_id", claim_id), ("note", link.note)):
            if getattr(row, name) != value:
                setattr(row, name, value)
        result.append(row)
    event.actors[:] = result


async def _set_campaigns(
    session: AsyncSession, event: Event, ids: list[int], names: list[str]
) -> None:
    by_id = await repository.campaigns_by_ids(session, ids)
    missing = sorted(set(ids) - {c.id for c in by_id})
    if missing:
        raise Invalid(["body", "campaign_ids"], f"campaigns {missing} do not exist")
    by_name = await repository.campaigns_by_names(session, names)
    found = {c.name_key for c in by_name}
    unknown = [n for n in names if fold_name(n) not in found]
    if unknown:
        raise Invalid(["body", "campaigns"], f"no campaign is named {unknown[0]!r}")
    wanted = list({c.id: c for c in [*by_id, *by_name]}.values())
    if [c.id for c in event.campaigns] != [c.id for c in wanted]:
        event.campaigns[:] = wanted


async def patch_event(
    session: AsyncSession,
    event_id: int,
    data: EventPatch,
    *,
    if_match: IfMatch | None = None,
    api_key_id: int | None = None,
) -> Event:
    await _locked(session, event_id, if_match)
    event = await repository.get_event_for_update(session, event_id)
    assert event is not None
    before = _figures_of(event)
    fields: dict[str, Any] = data.model_dump(exclude_unset=True)
    if "sub_event_type" in fields:
        code = fields.pop("sub_event_type")
        if code is None:
            # Checked before the lookup: a lookup by no key is no answer (and SQLAlchemy
            # warns that it will become an error).
            raise Invalid(["body", "sub_event_type"], "may not be null")
        sub = await _sub_event_type(session, code, ["body", "sub_event_type"])
        event.sub_event_type_code = sub.code
    if "place_id" in fields:
        pid = fields.pop("place_id")
        if pid is not None and await session.get(Place, pid) is None:
            raise Invalid(["body", "place_id"], f"place {pid} does not exist")
        event.place_id = pid
    for name in ("summary", "date_start", "date_precision", "civilian_targeting"):
        if name in fields and fields[name] is None:
            raise Invalid(["body", name], "may not be null")
    if "date_end" in fields and fields["date_end"] is None:
        # As on create: no end date means the event ends the day it starts.
        fields["date_end"] = fields.get("date_start") or event.date_start
    tags = fields.pop("tags", None)
    actors = fields.pop("actors", None)
    campaign_ids = fields.pop("campaign_ids", None)
    for name, value in fields.items():
        setattr(event, name, value)
    if "date_start" in fields and "date_end" not in fields and event.date_precision == "day":
        event.date_end = event.date_start
    if event.date_end < event.date_start:
        raise Invalid(["body", "date_end"], "date_end must not precede date_start")
    if event.date_precision == "day" and event.date_end != event.date_start:
        raise Invalid(["body", "date_precision"], "a 'day' event has date_end == date_start")
    try:
        check_bounds(event.fatalities_low, event.fatalities_best, event.fatalities_high)
    except ValueError as exc:
        raise Invalid(["body", "fatalities_best"], str(exc)) from exc
    if tags is not None:
        _sync_tags(event, tags)
    if actors is not None:
        links = [ActorLink.model_validate(a) for a in actors]
        await _sync_actors(event, links, _Resolver(session), {})
    if campaign_ids is not None:
        await _set_campaigns(session, event, campaign_ids, [])
    figures = _given_figures(fields)
    await history.record_change(session, event.id, "update", api_key_id)
    _check_written_figures(event, figures, before)
    return event


async def delete_event(
    session: AsyncSession,
    event_id: int,
    *,
    if_match: IfMatch | None = None,
    api_key_id: int | None = None,
) -> None:
    """Delete an event, leaving a tombstone for syncing clients and a last revision."""
    await _locked(session, event_id, if_match)
    event = await session.get(Event, event_id, populate_existing=True)
    assert event is not None
    await history.record_deletion(session, event, api_key_id)
    await repository.delete_event(session, event)
    await session.flush()
