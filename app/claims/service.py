"""Claim use cases: every reference checked, so a wrong id is a 422 on its field.

A claim belongs to its event: a write locks the event, then the claim, and ends by recording
the change on the event (its version, revision and place in the change feed).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.claims import repository
from app.claims.repository import ClaimFilter
from app.claims.schemas import ClaimCreate, ClaimPatch, ClaimQuery, ClaimRead
from app.core.errors import Invalid, NotFound
from app.core.etag import IfMatch, etag_of
from app.events import history
from app.events.schemas import ClaimCasualtyIn
from app.events.service import CASUALTY_FIELDS, casualty_row, resolve_actor, sync_rows
from app.models import CasualtyFigure, Claim
from app.sources.repository import find_source_by_name

# Field -> the kind of record it points at.
_REFERENCES = {
    "event_id": "event",
    "campaign_id": "campaign",
    "source_id": "source",
    "via_source_id": "source",
    "document_id": "document",
    "disputes_claim_id": "claim",
}


async def _check_references(session: AsyncSession, values: dict[str, int | None]) -> None:
    for field, what in _REFERENCES.items():
        ref = values.get(field)
        if ref is not None and not await repository.exists(session, what, ref):
            raise Invalid(["body", field], f"{what} {ref} does not exist")


async def _source_id_by_name(session: AsyncSession, name: str, field: str) -> int:
    source = await find_source_by_name(session, name)
    if source is None:
        raise Invalid(["body", field], f"no source is named {name!r}")
    return source.id


async def get_claim(session: AsyncSession, claim_id: int) -> Claim:
    claim = await repository.get(session, claim_id)
    if claim is None:
        raise NotFound("claim", claim_id)
    return claim


async def list_claims(
    session: AsyncSession, query: ClaimQuery, after_id: int | None
) -> tuple[list[Claim], int | None]:
    """One more claim than asked for (so the caller knows a next page exists), and the count."""
    where = ClaimFilter(
        event_ids=query.event_id,
        campaign_ids=query.campaign_id,
        source_ids=query.source_id,
        kinds=query.kind,
        grades=query.grade,
    )
    rows = await repository.list_page(session, where, after_id=after_id, limit=query.limit + 1)
    total = await repository.count(session, where) if query.total else None
    return rows, total


def representation(claim: Claim) -> tuple[dict[str, Any], str]:
    """A claim as GET returns it, with its strong ETag."""
    body = ClaimRead.model_validate(claim).model_dump(mode="json")
    return body, etag_of(body)


async def read_claim(session: AsyncSession, claim_id: int) -> tuple[dict[str, Any], str]:
    return representation(await get_claim(session, claim_id))


async def _lock(
    session: AsyncSession, claim_id: int, if_match: IfMatch | None, also_event: int | None = None
) -> Claim:
    """Lock the claim's event(s), then the claim; 404 if gone, 412 if If-Match names another."""
    found = await repository.get(session, claim_id)
    if found is None:
        raise NotFound("claim", claim_id)
    first_event = found.event_id
    await history.lock_events(session, [i for i in (first_event, also_event) if i is not None])
    claim = await repository.lock(session, claim_id)
    if claim is None:
        raise NotFound("claim", claim_id)
    if claim.event_id is not None and claim.event_id not in (first_event, also_event):
        # Moved to another event meanwhile: lock that one too (after the claim, out of the
        # usual order; a deadlock this rare race could cause is a 503, nothing is written).
        await history.lock_events(session, [claim.event_id])
    if if_match is not None and not if_match.any:
        body, etag = representation(await get_claim(session, claim_id))
        if_match.check("claim", etag, body["version"])
    return claim


async def _set_casualties(
    session: AsyncSession, claim: Claim, figures: list[ClaimCasualtyIn], field: str
) -> None:
    """The claim's figures become `figures` (ids sent back are kept); they count for its event."""
    if figures and claim.event_id is None:
        raise Invalid(["body", field], "casualties belong to an event: the claim has none")
    stored = await repository.casualties_of(session, claim.id)
    wanted: list[tuple[int | None, CasualtyFigure]] = []
    for i, figure in enumerate(figures):
        actor = None
        if figure.actor_id is not None or figure.actor is not None:
            actor = await resolve_actor(
                session, figure.actor_id, figure.actor, ["body", field, i, "actor"]
            )
        assert claim.event_id is not None
        wanted.append((figure.id, casualty_row(claim.event_id, claim.id, figure, actor)))
    kept = sync_rows(list(stored), wanted, CASUALTY_FIELDS, ["body", field])
    for row in stored:
        if row not in kept:
            await session.delete(row)
    for row in kept:
        assert claim.event_id is not None
        if row.event_id != claim.event_id:
            row.event_id = claim.event_id
        session.add(row)
    await session.flush()


async def create_claim(
    session: AsyncSession, data: ClaimCreate, *, api_key_id: int | None = None
) -> Claim:
    values = data.model_dump(exclude={"source", "via_source", "casualties"})
    if data.event_id is not None:
        await history.lock_events(session, [data.event_id])
    if data.source is not None:
        values["source_id"] = await _source_id_by_name(session, data.source, "source")
    if data.via_source is not None:
        values["via_source_id"] = await _source_id_by_name(session, data.via_source, "via_source")
    await _check_references(session, values)
    claim = Claim(**values, version=1)
    session.add(claim)
    await session.flush()
    if data.casualties:
        await _set_casualties(session, claim, data.casualties, "casualties")
    if claim.event_id is not None:
        await history.record_change(session, claim.event_id, "update", api_key_id)
    return await get_claim(session, claim.id)


async def update_claim(
    session: AsyncSession,
    claim_id: int,
    patch: ClaimPatch,
    *,
    if_match: IfMatch | None = None,
    api_key_id: int | None = None,
) -> Claim:
    claim = await _lock(session, claim_id, if_match, also_event=patch.event_id)
    changes = patch.model_dump(
        include=patch.model_fields_set, exclude={"source", "via_source", "casualties"}
    )
    if patch.source is not None:
        changes["source_id"] = await _source_id_by_name(session, patch.source, "source")
    if "via_source" in patch.model_fields_set:
        via = patch.via_source
        changes["via_source_id"] = (
            None if via is None else await _source_id_by_name(session, via, "via_source")
        )
    await _check_references(session, changes)
    if changes.get("disputes_claim_id") == claim.id:
        raise Invalid(["body", "disputes_claim_id"], "a claim cannot dispute itself")
    event_id = changes.get("event_id", claim.event_id)
    campaign_id = changes.get("campaign_id", claim.campaign_id)
    if event_id is None and campaign_id is None:
        raise Invalid(["body"], "a claim is about an event, a campaign or both")
    touched = {i for i in (claim.event_id, event_id) if i is not None}
    for field, value in changes.items():
        setattr(claim, field, value)
    await session.flush()
    figures = patch.casualties
    if figures is None and "event_id" in changes and event_id is None:
        figures = []
    if figures is not None:
        await _set_casualties(session, claim, figures, "casualties")
    elif "event_id" in changes:
        # The figures a claim gives move with it to its new event.
        assert event_id is not None
        for row in await repository.casualties_of(session, claim.id):
            row.event_id = event_id
        await session.flush()
    claim.version += 1
    await session.flush()
    for eid in sorted(touched):
        await history.record_change(session, eid, "update", api_key_id)
    return await get_claim(session, claim.id)


async def delete_claim(
    session: AsyncSession,
    claim_id: int,
    *,
    if_match: IfMatch | None = None,
    api_key_id: int | None = None,
) -> None:
    """Delete a claim; figures that cited it and claims that disputed it keep no link."""
    claim = await _lock(session, claim_id, if_match)
    event_id = claim.event_id
    await repository.delete_claim(session, claim_id)
    if event_id is not None:
        await history.record_change(session, event_id, "update", api_key_id)
