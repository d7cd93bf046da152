"""The seed loader: `seeds/<report>/*.yaml` into the database, idempotently.

Every record is upserted by its natural key (source, actor and campaign names; a place's
name|kind|country|admin1|admin2; a document's title and date; a campaign claim's campaign,
source, document and kind; an event's dataset and external_id). Only differing columns are
written, and events carry a digest of their seed entry, so a second run reports nothing created
or updated and changes no row. The loader flushes and never commits: the caller owns the
transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from app.gazetteer.service import attach
from app.models import Campaign, Claim
from app.seeding import repository as repo
from app.seeding.events import build_event, upsert_event
from app.seeding.files import CampaignSeed, SeedFileError, SeedFolder, read_seeds
from app.seeding.repository import Outcome, SeedReferenceError

DEFAULT_SEEDS_DIR = Path(__file__).resolve().parents[2] / "seeds"

KINDS = (
    "sources",
    "actors",
    "places",
    "documents",
    "campaigns",
    "campaign_claims",
    "events",
)
OUTCOMES: tuple[Outcome, ...] = ("created", "updated", "unchanged")

__all__ = [
    "DEFAULT_SEEDS_DIR",
    "SeedFileError",
    "SeedReferenceError",
    "SeedReport",
    "load_seeds",
]


@dataclass
class SeedReport:
    """What a load did, per kind of record: how many were created, updated, left unchanged."""

    counts: dict[str, dict[Outcome, int]] = field(
        default_factory=lambda: {kind: dict.fromkeys(OUTCOMES, 0) for kind in KINDS}
    )

    def add(self, kind: str, outcome: Outcome) -> None:
        self.counts.setdefault(kind, dict.fromkeys(OUTCOMES, 0))[outcome] += 1

    def count(self, kind: str, outcome: Outcome) -> int:
        return self.counts.get(kind, {}).get(outcome, 0)

    def total(self, outcome: Outcome) -> int:
        return sum(c[outcome] for c in self.counts.values())

    @property
    def changed(self) -> bool:
        return self.total("created") + self.total("updated") > 0

    def __str__(self) -> str:
        width = max(len(k) for k in self.counts)
        lines = [
            f"{kind:<{width}}  {c['created']:>4} created  {c['updated']:>4} updated"
            f"  {c['unchanged']:>4} unchanged"
            for kind, c in self.counts.items()
        ]
        return "\n".join(lines)


@dataclass
class _Keys:
    """Local keys (places, documents) seen so far, usable by later folders too."""

    places: dict[str, int] = field(default_factory=dict)
    documents: dict[str, int] = field(default_factory=dict)


async def load_seeds(session: AsyncSession, seeds_dir: Path = DEFAULT_SEEDS_DIR) -> SeedReport:
    """Load every seed folder under `seeds_dir`; a second run changes nothing."""
    report = SeedReport()
    keys = _Keys()
    for folder in read_seeds(seeds_dir):
        await _load_folder(session, folder, report, keys)
    # The seed's places in the gazetteer's admin-1 units ("Lattakia" is Latakia, SY-LA).
    await attach(session, sorted(set(keys.places.values())))
    return report


async def _load_folder(
    session: AsyncSession, folder: SeedFolder, report: SeedReport, keys: _Keys
) -> None:
    for source in folder.sources:
        report.add("sources", await repo.upsert_source(session, source))
    for actor in folder.actors:
        report.add("actors", await repo.upsert_actor(session, actor))
    for place_seed in folder.places:
        if place_seed.key in keys.places:
            raise SeedFileError(f"{folder.path}: place key {place_seed.key!r} is used twice")
        parent_id = None
        if place_seed.parent is not None:
            if place_seed.parent not in keys.places:
                raise SeedFileError(
                    f"{folder.path}: place {place_seed.key!r}: parent {place_seed.parent!r} "
                    "must be listed before it"
                )
            parent_id = keys.places[place_seed.parent]
        place, outcome = await repo.upsert_place(session, place_seed, parent_id)
        keys.places[place_seed.key] = place.id
        report.add("places", outcome)
    for doc_seed in folder.documents:
        if doc_seed.key in keys.documents:
            raise SeedFileError(f"{folder.path}: document key {doc_seed.key!r} is used twice")
        document, outcome = await repo.upsert_document(session, doc_seed)
        keys.documents[doc_seed.key] = document.id
        report.add("documents", outcome)
    if folder.default_document is not None and folder.default_document not in keys.documents:
        raise SeedFileError(f"{folder.path}: default document {folder.default_document!r}?")
    campaigns: list[tuple[Campaign, CampaignSeed]] = []
    for campaign_seed in folder.campaigns:
        campaign, outcome = await repo.upsert_campaign(session, campaign_seed)
        campaigns.append((campaign, campaign_seed))
        report.add("campaigns", outcome)
    await _load_campaign_claims(session, folder, campaigns, report, keys)
    for raw in folder.events:
        data = build_event(
            raw,
            dataset=folder.dataset,
            places=keys.places,
            documents=keys.documents,
            default_document=folder.default_document,
        )
        report.add("events", await upsert_event(session, data))


async def _load_campaign_claims(
    session: AsyncSession,
    folder: SeedFolder,
    campaigns: list[tuple[Campaign, CampaignSeed]],
    report: SeedReport,
    keys: _Keys,
) -> None:
    """Upsert the campaigns' claims; `disputes_claim_ref` may point at any claim of the folder."""
    # First every claim exists (new ones inserted), then each gets its dispute link and is
    # compared as a whole, so a claim counts as updated only if some column really changed.
    entries: list[tuple[Claim, dict[str, object], str | None, bool]] = []
    by_ref: dict[str, Claim] = {}
    seen: set[tuple[object, ...]] = set()
    for campaign, seed in campaigns:
        for claim_seed in seed.claims:
            doc_key = claim_seed.document or folder.default_document
            if doc_key is not None and doc_key not in keys.documents:
                raise SeedFileError(f"{seed.name}: no document has key {doc_key!r}")
            document_id = keys.documents[doc_key] if doc_key is not None else None
            values = await repo.claim_values(session, campaign, claim_seed, document_id)
            natural = (campaign.id, values["source_id"], document_id, claim_seed.kind)
            if natural in seen:
                raise SeedFileError(
                    f"{seed.name}: two claims of kind {claim_seed.kind!r} by "
                    f"{claim_seed.source!r} in one document; a campaign claim's natural key "
                    "is campaign + source + document + kind"
                )
            seen.add(natural)
            claim = await repo.find_campaign_claim(session, values)
            created = claim is None
            if claim is None:
                claim = Claim(**values)
                session.add(claim)
                await session.flush()
            if claim_seed.ref is not None:
                if claim_seed.ref in by_ref:
                    raise SeedFileError(f"{folder.path}: claim ref {claim_seed.ref!r} twice")
                by_ref[claim_seed.ref] = claim
            entries.append((claim, values, claim_seed.disputes_claim_ref, created))
    for claim, values, disputes_ref, created in entries:
        disputes_id = None
        if disputes_ref is not None:
            if disputes_ref not in by_ref:
                raise SeedFileError(f"{folder.path}: no campaign claim has ref {disputes_ref!r}")
            disputes_id = by_ref[disputes_ref].id
        changed = repo.sync_fields(claim, {**values, "disputes_claim_id": disputes_id})
        report.add(
            "campaign_claims", "created" if created else "updated" if changed else "unchanged"
        )
    await session.flush()
