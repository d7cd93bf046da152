"""Claim use cases: every reference checked, so a wrong id is a 422 on its field."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.claims import repository
from app.claims.repository import ClaimFilter
from app.claims.schemas import ClaimCreate, ClaimPatch, ClaimQuery
from app.core.errors import Invalid, NotFound
from app.models import Claim
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


async def create_claim(session: AsyncSession, data: ClaimCreate) -> Claim:
    values = data.model_dump(exclude={"source", "via_source"})
    if data.source is not None:
        values["source_id"] = await _source_id_by_name(session, data.source, "source")
    if data.via_source is not None:
        values["via_source_id"] = await _source_id_by_name(session, data.via_source, "via_source")
    await _check_references(session, values)
    claim = Claim(**values)
    session.add(claim)
    await session.flush()
    return await get_claim(session, claim.id)


async def update_claim(session: AsyncSession, claim_id: int, patch: ClaimPatch) -> Claim:
    claim = await get_claim(session, claim_id)
    changes = patch.model_dump(include=patch.model_fields_set, exclude={"source", "via_source"})
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
    for field, value in changes.items():
        setattr(claim, field, value)
    await session.flush()
    return await get_claim(session, claim.id)


async def delete_claim(session: AsyncSession, claim_id: int) -> None:
    """Delete a claim; figures that cited it and claims that disputed it keep no link."""
    await get_claim(session, claim_id)
    await repository.delete_claim(session, claim_id)
