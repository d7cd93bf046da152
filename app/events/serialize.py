"""Events as JSON-ready dicts, built straight from loaded ORM objects (no per-row validation)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from app.core.jsonrules import stored_json
from app.models import Actor, Claim, Event, Place, Source

# The fields of an event in JSON, in order; `fields=` picks among them. distance_km is present
# when the list is sorted by distance.
EVENT_FIELDS: tuple[str, ...] = (
    "id",
    "dataset",
    "external_id",
    "date_start",
    "date_end",
    "date_precision",
    "sub_event_type",
    "place",
    "geo_precision",
    "summary",
    "notes",
    "civilian_targeting",
    "fatalities_low",
    "fatalities_best",
    "fatalities_high",
    "tags",
    "actors",
    "claims",
    "casualties",
    "territory_changes",
    "materiel_losses",
    "airspace_violations",
    "campaigns",
    "extras",
    "version",
    "created_at",
    "updated_at",
    "distance_km",
)


def _ref(obj: Actor | Place | None) -> dict[str, Any] | None:
    return None if obj is None else {"id": obj.id, "name": obj.name}


def _source(src: Source | None) -> dict[str, Any] | None:
    return None if src is None else {"id": src.id, "name": src.name, "kind": src.kind}


def _place(p: Place | None) -> dict[str, Any] | None:
    if p is None:
        return None
    return {
        "id": p.id,
        "name": p.name,
        "kind": p.kind,
        "country_code": p.country_code,
        "admin1": p.admin1,
        "admin2": p.admin2,
        "admin3": p.admin3,
        "latitude": p.latitude,
        "longitude": p.longitude,
        "geo_precision": p.geo_precision,
        "admin1_code": p.admin1_code,
    }


def claim_dict(c: Claim) -> dict[str, Any]:
    return {
        "id": c.id,
        "event_id": c.event_id,
        "campaign_id": c.campaign_id,
        "source": _source(c.source),
        "via_source": _source(c.via_source),
        "document_id": c.document_id,
        "kind": c.kind,
        "stance": c.stance,
        "grade": c.grade,
        "assertion": c.assertion,
        "quote": c.quote,
        "claimed_on": c.claimed_on.isoformat() if c.claimed_on else None,
        "disputes_claim_id": c.disputes_claim_id,
        "attributes": stored_json(c.attributes),
    }


def _sub_event_type(e: Event) -> dict[str, Any]:
    st = e.sub_event_type
    return {
        "code": st.code,
        "name": st.name,
        "event_type_code": st.event_type_code,
        "disorder_type": st.disorder_type,
        "acled_event_type": st.acled_event_type,
        "acled_sub_event_type": st.acled_sub_event_type,
    }


def _actors(e: Event) -> list[dict[str, Any]]:
    return [
        {
            "actor_id": a.actor_id,
            "name": a.actor.name,
            "actor_type": a.actor.actor_type,
            "country_code": a.actor.country_code,
            "role": a.role,
            "status": a.status,
            "claim_id": a.claim_id,
            "note": a.note,
        }
        for a in e.actors
    ]


def _casualties(e: Event) -> list[dict[str, Any]]:
    return [
        {
            "id": f.id,
            "claim_id": f.claim_id,
            "outcome": f.outcome,
            "casualty_group": f.casualty_group,
            "actor": _ref(f.actor),
            "low": f.count_low,
            "best": f.count_best,
            "high": f.count_high,
            "qualifier": f.qualifier,
        }
        for f in e.casualties
    ]


def _territory(e: Event) -> list[dict[str, Any]]:
    return [
        {
            "id": t.id,
            "claim_id": t.claim_id,
            "place": _ref(t.place),
            "place_kind": t.place_kind,
            "gained_by": _ref(t.gained_by),
            "lost_by": _ref(t.lost_by),
            "low": t.count_low,
            "best": t.count_best,
            "high": t.count_high,
            "qualifier": t.qualifier,
        }
        for t in e.territory_changes
    ]


def _materiel(e: Event) -> list[dict[str, Any]]:
    return [
        {
            "id": m.id,
            "claim_id": m.claim_id,
            "owner": _ref(m.owner),
            "item": m.item,
            "outcome": m.outcome,
            "low": m.quantity_low,
            "best": m.quantity_best,
            "high": m.quantity_high,
            "qualifier": m.qualifier,
        }
        for m in e.materiel_losses
    ]


def _airspace(e: Event) -> list[dict[str, Any]]:
    return [
        {
            "id": a.id,
            "claim_id": a.claim_id,
            "violating_actor": _ref(a.violating_actor),
            "violated_country_code": a.violated_country_code,
            "low": a.count_low,
            "best": a.count_best,
            "high": a.count_high,
            "qualifier": a.qualifier,
        }
        for a in e.airspace_violations
    ]


_BUILDERS: dict[str, Callable[[Event], Any]] = {
    "id": lambda e: e.id,
    "dataset": lambda e: e.dataset,
    "external_id": lambda e: e.external_id,
    "date_start": lambda e: e.date_start.isoformat(),
    "date_end": lambda e: e.date_end.isoformat(),
    "date_precision": lambda e: e.date_precision,
    "sub_event_type": _sub_event_type,
    "place": lambda e: _place(e.place),
    "geo_precision": lambda e: e.geo_precision,
    "summary": lambda e: e.summary,
    "notes": lambda e: e.notes,
    "civilian_targeting": lambda e: e.civilian_targeting,
    "fatalities_low": lambda e: e.fatalities_low,
    "fatalities_best": lambda e: e.fatalities_best,
    "fatalities_high": lambda e: e.fatalities_high,
    "tags": lambda e: [t.tag for t in e.tags],
    "actors": _actors,
    "claims": lambda e: [claim_dict(c) for c in e.claims],
    "casualties": _casualties,
    "territory_changes": _territory,
    "materiel_losses": _materiel,
    "airspace_violations": _airspace,
    # By id, as the list writes them (the relationship has no order of its own).
    "campaigns": lambda e: [
        {"id": c.id, "name": c.name} for c in sorted(e.campaigns, key=lambda c: c.id)
    ],
    "extras": lambda e: stored_json(e.extras),
    "version": lambda e: e.version,
    "created_at": lambda e: utc_iso(e.created_at),
    "updated_at": lambda e: utc_iso(e.updated_at),
}


def utc_iso(value: dt.datetime) -> str:
    """A UTC timestamp as the API writes it: `2015-10-08T12:00:00[.123456]Z` (pydantic's form,
    so that a body and its ETag agree whichever path built it)."""
    return value.isoformat().replace("+00:00", "Z")


def event_dict(e: Event, fields: Sequence[str] | None = None) -> dict[str, Any]:
    """The event as JSON; only `fields` when given (their relationships must be loaded)."""
    if not fields:
        return {name: build(e) for name, build in _BUILDERS.items()}
    return {name: _BUILDERS[name](e) for name in fields if name in _BUILDERS}
