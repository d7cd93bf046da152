"""Upserts by natural key for the seed loader: sources, actors, places, documents, campaigns.

Each upsert writes only the columns whose values differ, so a second load issues no UPDATE and
leaves every `updated_at` as it was.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.actors.repository import find_by_name_or_alias
from app.core.names import fold_name
from app.models import Actor, ActorAlias, Campaign, Claim, Document, Place, Source
from app.places.repository import find_by_natural_key, place_natural_key
from app.places.service import get_or_create_place, set_parent
from app.seeding.files import (
    ActorSeed,
    CampaignClaimSeed,
    CampaignSeed,
    DocumentSeed,
    PlaceSeed,
    SourceSeed,
)
from app.sources.repository import find_source_by_name

Outcome = Literal["created", "updated", "unchanged"]


class SeedReferenceError(ValueError):
    """A seed entry names something that does not exist or clashes with another entry."""


def sync_fields(obj: object, values: Mapping[str, Any]) -> bool:
    """Set the attributes whose values differ; True if any did."""
    changed = False
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed = True
    return changed


async def source_by_name(session: AsyncSession, name: str, what: str) -> Source:
    found = await find_source_by_name(session, name)
    if found is None:
        raise SeedReferenceError(f"{what}: no source is named {name!r}")
    return found


async def actor_by_name_or_alias(session: AsyncSession, name: str, what: str) -> Actor:
    found = await find_by_name_or_alias(session, name)
    if found is None:
        raise SeedReferenceError(f"{what}: no actor is named or aliased {name!r}")
    return found


async def upsert_source(session: AsyncSession, seed: SourceSeed) -> Outcome:
    parent = await source_by_name(session, seed.parent, seed.name) if seed.parent else None
    values = {
        "kind": seed.kind,
        "country_code": seed.country_code,
        "parent_id": parent.id if parent else None,
        "description": seed.description,
        "url": seed.url,
    }
    source = await find_source_by_name(session, seed.name)
    if source is None:
        session.add(Source(name=seed.name, **values))
        await session.flush()
        return "created"
    return "updated" if sync_fields(source, values) else "unchanged"


async def _actor_by_name(session: AsyncSession, name: str) -> Actor | None:
    stmt = select(Actor).where(Actor.name_key == fold_name(name))
    return (await session.execute(stmt)).scalars().first()


async def _add_aliases(session: AsyncSession, actor: Actor, aliases: list[str]) -> bool:
    """Add the aliases the actor lacks; never removes one (the API may have added it)."""
    rows = await session.execute(
        select(ActorAlias.alias_key, ActorAlias.actor_id).where(
            ActorAlias.alias_key.in_([fold_name(a) for a in aliases])
        )
    )
    owners: dict[str, int] = {key: actor_id for key, actor_id in rows.all()}
    added = False
    for alias in aliases:
        key = fold_name(alias)
        if key == actor.name_key or owners.get(key) == actor.id:
            continue
        if key in owners:
            raise SeedReferenceError(f"{actor.name}: alias {alias!r} belongs to another actor")
        other = await _actor_by_name(session, alias)
        if other is not None:
            raise SeedReferenceError(f"{actor.name}: alias {alias!r} is another actor's name")
        session.add(ActorAlias(actor_id=actor.id, alias=alias))
        owners[key] = actor.id
        added = True
    if added:
        await session.flush()
    return added


async def upsert_actor(session: AsyncSession, seed: ActorSeed) -> Outcome:
    parent = await actor_by_name_or_alias(session, seed.parent, seed.name) if seed.parent else None
    values = {
        "actor_type": seed.actor_type,
        "country_code": seed.country_code,
        "parent_id": parent.id if parent else None,
        "affiliation": seed.affiliation,
        "description": seed.description,
    }
    actor = await _actor_by_name(session, seed.name)
    if actor is None:
        clash = await find_by_name_or_alias(session, seed.name)
        if clash is not None:
            raise SeedReferenceError(f"{seed.name!r} is already an alias of {clash.name!r}")
        actor = Actor(name=seed.name, **values)
        session.add(actor)
        await session.flush()
        await _add_aliases(session, actor, seed.aliases)
        return "created"
    changed = sync_fields(actor, values)
    aliased = await _add_aliases(session, actor, seed.aliases)
    return "updated" if changed or aliased else "unchanged"


@dataclass
class _PlaceFields:
    """The shape app.places.service.get_or_create_place reads."""

    name: str
    kind: str
    country_code: str
    admin1: str | None
    admin2: str | None
    admin3: str | None
    latitude: float | None
    longitude: float | None
    geo_precision: int | None
    parent_id: int | None


async def upsert_place(
    session: AsyncSession, seed: PlaceSeed, parent_id: int | None
) -> tuple[Place, Outcome]:
    key = place_natural_key(seed.name, seed.kind, seed.country_code, seed.admin1, seed.admin2)
    loc: list[str | int] = ["places", seed.key]
    place = await find_by_natural_key(session, key)
    if place is None:
        fields = _PlaceFields(
            name=seed.name,
            kind=seed.kind,
            country_code=seed.country_code,
            admin1=seed.admin1,
            admin2=seed.admin2,
            admin3=seed.admin3,
            latitude=seed.latitude,
            longitude=seed.longitude,
            geo_precision=seed.geo_precision,
            parent_id=parent_id,
        )
        return await get_or_create_place(session, fields, loc), "created"
    changed = sync_fields(
        place,
        {
            "admin3": seed.admin3,
            "latitude": seed.latitude,
            "longitude": seed.longitude,
            "geo_precision": seed.geo_precision,
        },
    )
    if place.parent_id != parent_id:
        await set_parent(session, place, parent_id, loc)
        changed = True
    if changed:
        await session.flush()
    return place, "updated" if changed else "unchanged"


async def upsert_document(session: AsyncSession, seed: DocumentSeed) -> tuple[Document, Outcome]:
    publisher = (
        await source_by_name(session, seed.publisher, seed.title) if seed.publisher else None
    )
    values = {
        "publisher_id": publisher.id if publisher else None,
        "url": seed.url,
        "language": seed.language,
    }
    stmt = select(Document).where(
        Document.title == seed.title, Document.published_on == seed.published_on
    )
    document = (await session.execute(stmt)).scalars().first()
    if document is None:
        document = Document(title=seed.title, published_on=seed.published_on, **values)
        session.add(document)
        await session.flush()
        return document, "created"
    return document, "updated" if sync_fields(document, values) else "unchanged"


async def upsert_campaign(session: AsyncSession, seed: CampaignSeed) -> tuple[Campaign, Outcome]:
    initiator = (
        await actor_by_name_or_alias(session, seed.initiator, seed.name) if seed.initiator else None
    )
    values = {
        "description": seed.description,
        "start_date": seed.start_date,
        "end_date": seed.end_date,
        "initiator_actor_id": initiator.id if initiator else None,
    }
    stmt = select(Campaign).where(Campaign.name_key == fold_name(seed.name))
    campaign = (await session.execute(stmt)).scalars().first()
    if campaign is None:
        campaign = Campaign(name=seed.name, **values)
        session.add(campaign)
        await session.flush()
        return campaign, "created"
    return campaign, "updated" if sync_fields(campaign, values) else "unchanged"


async def claim_values(
    session: AsyncSession, campaign: Campaign, seed: CampaignClaimSeed, document_id: int | None
) -> dict[str, Any]:
    """A campaign claim's columns, except `disputes_claim_id` (set once all claims exist)."""
    what = f"{campaign.name}: claim {seed.ref or seed.assertion[:40]!r}"
    source = await source_by_name(session, seed.source, what)
    via = await source_by_name(session, seed.via_source, what) if seed.via_source else None
    dumped = seed.model_dump(mode="json", include={"attributes"})
    return {
        "campaign_id": campaign.id,
        "event_id": None,
        "source_id": source.id,
        "via_source_id": via.id if via else None,
        "document_id": document_id,
        "kind": seed.kind,
        "stance": seed.stance,
        "grade": seed.grade,
        "assertion": seed.assertion,
        "quote": seed.quote,
        "claimed_on": seed.claimed_on,
        "attributes": dumped["attributes"],
    }


async def find_campaign_claim(session: AsyncSession, values: Mapping[str, Any]) -> Claim | None:
    """The claim with this natural key: campaign, source, document and kind."""
    stmt = select(Claim).where(
        Claim.campaign_id == values["campaign_id"],
        Claim.event_id.is_(None),
        Claim.source_id == values["source_id"],
        Claim.kind == values["kind"],
        Claim.document_id.is_(None)
        if values["document_id"] is None
        else Claim.document_id == values["document_id"],
    )
    return (await session.execute(stmt.order_by(Claim.id))).scalars().first()
