"""Seed events: resolve the file's conveniences, then create or replace through the events service.

An event's seed entry is hashed (canonical JSON of the resolved EventCreate) into
`extras["seed_digest"]`; an event whose stored digest matches is left alone, so a second load
writes nothing.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app.events.repository import get_event_by_key
from app.events.schemas import EventCreate
from app.events.service import create_event, replace_event
from app.seeding.files import SeedFileError
from app.seeding.repository import Outcome

# Bump when the loader's reading of a seed entry changes, to force every event to be rewritten.
DIGEST_VERSION = 1
DIGEST_KEY = "seed_digest"


def _place_ref(entry: dict[str, Any], places: Mapping[str, int], what: str) -> None:
    """Turn `place: <key>` into `place_id`; an inline mapping is left for the service."""
    ref = entry.get("place")
    if isinstance(ref, str):
        if ref not in places:
            raise SeedFileError(f"{what}: no place has key {ref!r}")
        del entry["place"]
        entry["place_id"] = places[ref]


def build_event(
    raw: Mapping[str, Any],
    *,
    dataset: str | None,
    places: Mapping[str, int],
    documents: Mapping[str, int],
    default_document: str | None,
) -> EventCreate:
    """The EventCreate for a seed entry, with place keys and document keys resolved to ids."""
    entry = copy.deepcopy(dict(raw))
    what = f"event {entry.get('external_id', '?')}"
    if not entry.get("external_id"):
        raise SeedFileError(f"{what}: a seed event needs an external_id (its natural key)")
    if dataset is not None:
        entry.setdefault("dataset", dataset)
    _place_ref(entry, places, what)
    for change in entry.get("territory_changes") or []:
        _place_ref(change, places, f"{what}: territory change")
    for claim in entry.get("claims") or []:
        doc = claim.pop("document", default_document)
        if doc is not None and "document_id" not in claim:
            if doc not in documents:
                raise SeedFileError(f"{what}: no document has key {doc!r}")
            claim["document_id"] = documents[doc]
    try:
        data = EventCreate.model_validate(entry)
        # Through JSON once, so dates inside free-form attributes are stored as ISO strings.
        return EventCreate.model_validate(data.model_dump(mode="json"))
    except ValidationError as exc:
        raise SeedFileError(f"{what}: {exc}") from exc


def seed_digest(data: EventCreate) -> str:
    body = data.model_dump(mode="json")
    extras = dict(body.get("extras") or {})
    extras.pop(DIGEST_KEY, None)
    body["extras"] = extras or None
    canonical = json.dumps(
        {"v": DIGEST_VERSION, "event": body}, sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


async def upsert_event(session: AsyncSession, data: EventCreate) -> Outcome:
    digest = seed_digest(data)
    data = data.model_copy(update={"extras": {**(data.extras or {}), DIGEST_KEY: digest}})
    assert data.external_id is not None
    existing = await get_event_by_key(session, data.dataset, data.external_id)
    if existing is None:
        await create_event(session, data)
        return "created"
    if (existing.extras or {}).get(DIGEST_KEY) == digest:
        return "unchanged"
    await replace_event(session, existing.id, data)
    return "updated"
