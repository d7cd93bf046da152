"""Campaign use cases: unique names, ordered dates, existing events and initiator."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.campaigns import repository
from app.campaigns.repository import CampaignFilter
from app.campaigns.schemas import (
    CampaignCreate,
    CampaignEvent,
    CampaignPatch,
    CampaignQuery,
    CampaignRead,
    CampaignSummary,
)
from app.claims import repository as claims_repository
from app.claims.schemas import ClaimRead
from app.core.errors import Conflict, Invalid, NotFound
from app.core.etag import IfMatch
from app.core.preconditions import require_current
from app.core.schemas import Ref
from app.core.unique import unique_or_conflict
from app.events import history
from app.models import Campaign
from app.models.base import utcnow


def _summary(campaign: Campaign, event_count: int) -> CampaignSummary:
    initiator = campaign.initiator
    return CampaignSummary(
        id=campaign.id,
        name=campaign.name,
        description=campaign.description,
        start_date=campaign.start_date,
        end_date=campaign.end_date,
        initiator=Ref(id=initiator.id, name=initiator.name) if initiator else None,
        event_count=event_count,
        created_at=campaign.created_at,
        updated_at=campaign.updated_at,
    )


async def _get(session: AsyncSession, campaign_id: int) -> Campaign:
    campaign = await repository.get(session, campaign_id)
    if campaign is None:
        raise NotFound("campaign", campaign_id)
    return campaign


async def represent_campaign(session: AsyncSession, campaign_id: int) -> dict[str, Any]:
    """A campaign as GET shows it (its ETag is the hash of this)."""
    return (await get_campaign(session, campaign_id)).model_dump(mode="json")


async def get_campaign(session: AsyncSession, campaign_id: int) -> CampaignRead:
    campaign = await _get(session, campaign_id)
    events = [
        CampaignEvent(id=r.id, date_start=r.date_start, summary=r.summary)
        for r in await repository.events_of(session, campaign_id)
    ]
    claims = await claims_repository.list_for_campaign(session, campaign_id)
    summary = _summary(campaign, len(events))
    return CampaignRead(
        **summary.model_dump(),
        events=events,
        claims=[ClaimRead.model_validate(c) for c in claims],
    )


async def list_campaigns(
    session: AsyncSession, query: CampaignQuery, after_id: int | None
) -> tuple[list[CampaignSummary], int | None]:
    """One more campaign than asked for (so the caller knows a next page exists), and the count."""
    where = CampaignFilter(
        q=query.q, initiator_ids=query.initiator_actor_id, event_id=query.event_id
    )
    rows = await repository.list_page(session, where, after_id=after_id, limit=query.limit + 1)
    counts = await repository.event_counts(session, [c.id for c in rows])
    total = await repository.count(session, where) if query.total else None
    return [_summary(c, counts.get(c.id, 0)) for c in rows], total


async def _check(
    session: AsyncSession,
    campaign_id: int | None,
    name: str | None,
    initiator_actor_id: int | None,
    event_ids: list[int] | None,
) -> None:
    if name is not None and await repository.name_taken(session, name, campaign_id):
        raise Conflict(_name_taken(name), code="duplicate")
    if initiator_actor_id is not None and not await repository.actor_exists(
        session, initiator_actor_id
    ):
        raise Invalid(["body", "initiator_actor_id"], f"actor {initiator_actor_id} does not exist")
    if event_ids:
        found = await repository.existing_event_ids(session, event_ids)
        for i, event_id in enumerate(event_ids):
            if event_id not in found:
                raise Invalid(["body", "event_ids", i], f"event {event_id} does not exist")


def _name_taken(name: str) -> str:
    return f"a campaign named {name!r} already exists (names are compared ignoring case)"


def _check_dates(start: dt.date | None, end: dt.date | None) -> None:
    if start is not None and end is not None and end < start:
        raise Invalid(["body", "end_date"], "end_date must not precede start_date")


async def create_campaign(
    session: AsyncSession, data: CampaignCreate, *, api_key_id: int | None = None
) -> CampaignRead:
    await _check(session, None, data.name, data.initiator_actor_id, data.event_ids)
    campaign = Campaign(**data.model_dump(exclude={"event_ids"}))
    async with unique_or_conflict(session, _name_taken(data.name)):
        session.add(campaign)
    linked = sorted(set(data.event_ids))
    await history.lock_events(session, linked)
    await repository.set_events(session, campaign.id, data.event_ids)
    for event_id in linked:
        await history.record_change(session, event_id, "update", api_key_id)
    return await get_campaign(session, campaign.id)


async def _require_current(
    session: AsyncSession, campaign_id: int, if_match: IfMatch | None
) -> None:
    await require_current(
        session,
        Campaign,
        campaign_id,
        "campaign",
        if_match,
        lambda: represent_campaign(session, campaign_id),
    )


async def update_campaign(
    session: AsyncSession,
    campaign_id: int,
    patch: CampaignPatch,
    *,
    if_match: IfMatch | None = None,
    api_key_id: int | None = None,
) -> CampaignRead:
    before = await repository.event_ids_of(session, campaign_id)
    # The events whose campaign links change are locked first (lock order: events, then the
    # campaign), then the campaign is checked against If-Match.
    moved = set() if patch.event_ids is None else before ^ set(patch.event_ids)
    # Those that exist (an unknown id is refused by _check below).
    moved = await history.lock_events(session, moved)
    await _require_current(session, campaign_id, if_match)
    campaign = await _get(session, campaign_id)
    fields = patch.model_fields_set
    await _check(session, campaign.id, patch.name, patch.initiator_actor_id, patch.event_ids)
    start = patch.start_date if "start_date" in fields else campaign.start_date
    end = patch.end_date if "end_date" in fields else campaign.end_date
    _check_dates(start, end)
    async with unique_or_conflict(session, _name_taken(patch.name or campaign.name)):
        for field in fields - {"event_ids"}:
            setattr(campaign, field, getattr(patch, field))
        if patch.event_ids is not None:
            # The link table has no timestamp; the campaign's says when its membership changed.
            campaign.updated_at = utcnow()
    if patch.event_ids is not None:
        await repository.set_events(session, campaign.id, patch.event_ids)
        # A campaign link belongs to the event too: its version, revision and feed see it.
        for event_id in sorted(moved):
            await history.record_change(session, event_id, "update", api_key_id)
    if "name" in fields:  # its events show the name: back into the change feed
        await history.touch_events(session, repository.event_ids_in(campaign.id))
    return await get_campaign(session, campaign.id)


async def delete_campaign(
    session: AsyncSession,
    campaign_id: int,
    *,
    if_match: IfMatch | None = None,
    api_key_id: int | None = None,
) -> None:
    """Delete a campaign no claim is about; its events stay, unlinked (and are changed)."""
    linked = await history.lock_events(session, await repository.event_ids_of(session, campaign_id))
    await _require_current(session, campaign_id, if_match)
    claims = await repository.claim_count(session, campaign_id)
    if claims:
        raise Conflict(
            f"campaign {campaign_id} is the subject of {claims} claims; delete them first",
            code="in_use",
        )
    await repository.delete_campaign(session, campaign_id)
    for event_id in sorted(linked):
        await history.record_change(session, event_id, "update", api_key_id)
