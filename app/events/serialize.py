"""Events as JSON-ready dicts, built straight from loaded ORM objects (no per-row validation)."""

from __future__ import annotations

from typing import Any

from app.models import Actor, Claim, Event, Place, Source


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
        "attributes": c.attributes,
    }


def event_dict(e: Event) -> dict[str, Any]:
    st = e.sub_event_type
    return {
        "id": e.id,
        "dataset": e.dataset,
        "external_id": e.external_id,
        "date_start": e.date_start.isoformat(),
        "date_end": e.date_end.isoformat(),
        "date_precision": e.date_precision,
        "sub_event_type": {
            "code": st.code,
            "name": st.name,
            "event_type_code": st.event_type_code,
            "disorder_type": st.disorder_type,
            "acled_event_type": st.acled_event_type,
            "acled_sub_event_type": st.acled_sub_event_type,
        },
        "place": _place(e.place),
        "geo_precision": e.geo_precision,
        "summary": e.summary,
        "notes": e.notes,
        "civilian_targeting": e.civilian_targeting,
        "fatalities_low": e.fatalities_low,
        "fatalities_best": e.fatalities_best,
        "fatalities_high": e.fatalities_high,
        "tags": [t.tag for t in e.tags],
        "actors": [
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
        ],
        "claims": [claim_dict(c) for c in e.claims],
        "casualties": [
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
        ],
        "territory_changes": [
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
        ],
        "materiel_losses": [
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
        ],
        "airspace_violations": [
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
        ],
        "campaigns": [{"id": c.id, "name": c.name} for c in e.campaigns],
        "extras": e.extras,
        "version": e.version,
        "created_at": e.created_at.isoformat(),
        "updated_at": e.updated_at.isoformat(),
    }
