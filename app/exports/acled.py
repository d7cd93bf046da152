"""ACLED's current 31-column layout, so ACLED users' tools read our CSV unchanged.

Mapping choices:
- event_id_cnty: `external_id` for dataset `acled`, else `<dataset>-<external_id>`.
- event_date: the day for day precision; otherwise, as ACLED does for week and month precision,
  the middle of the recorded span (date_start + (date_end - date_start) // 2).
- time_precision: day 1, week 2 (and a range of up to 7 days), month/year/longer range 3.
- actor1 / actor2: the first initiator / target (in the order they were recorded); the other
  initiators and the initiator supporters go to assoc_actor_1 (targets: assoc_actor_2), '; '-joined.
- inter1 / inter2: ACLED's own codes for the row when it was read from an ACLED file (kept in
  extras: an actor is State forces at home and External forces abroad), else the actors' types.
- interaction: the two inter codes low-high (18); one actor only: its code then 0 (60).
- fatalities: fatalities_best, 0 when unknown (ACLED keeps a single figure).
- source: the distinct names of the sources of the event's claims, sorted by code point (the
  order PostgreSQL's COPY path gives cheaply); source_scale from extras.
- timestamp: Unix seconds of updated_at.
- What an ACLED import recorded of the row and the model cannot hold (in `extras`) wins over
  what would be computed: disorder_type (ACLED codes some rows otherwise than the sub-event
  type's usual one), inter1/inter2, and the row's own location, admin names and coordinates
  where its place says otherwise (two villages sharing a natural key). `timestamp` stays the
  time the row last changed here, which `timestamp>=` syncs need; ACLED's is in `extras`.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from app.acled.format import (
    ACLED_MARK,
    KEPT_KINDS,
    TIME_PRECISION,
    WEEK_SPAN_DAYS,
    interaction_code,
)
from app.exports.countries import country_info
from app.exports.rows import ExportRow


def time_precision(r: ExportRow) -> int:
    if r.date_precision == "range" and (r.date_end - r.date_start).days <= WEEK_SPAN_DAYS:
        return 2
    return TIME_PRECISION.get(r.date_precision, 3)


def event_date(r: ExportRow) -> dt.date:
    if r.date_precision == "day" or r.date_end == r.date_start:
        return r.date_start
    return r.date_start + (r.date_end - r.date_start) // 2


def event_id_cnty(r: ExportRow) -> str:
    return r.external_id if r.dataset == "acled" else f"{r.dataset}-{r.external_id}"


_FOUR_PLACES = Decimal("0.0001")


def _coord(value: float | None) -> str:
    """4 decimals, half away from zero on the decimal form (as PostgreSQL's round(numeric))."""
    if value is None:
        return ""
    return str(Decimal(repr(value)).quantize(_FOUR_PLACES, ROUND_HALF_UP))


def _valid(kind: str, value: Any) -> bool:
    if kind == "code":
        return type(value) is int and 0 <= value <= 8
    if kind == "number":
        return type(value) in (int, float)
    return type(value) is str


def recorded(extras: dict[str, Any] | None) -> dict[str, Any]:
    """The values an ACLED import recorded for this row ({} for a row not read from ACLED)."""
    if not extras or not _valid("code", extras.get(ACLED_MARK)):
        return {}
    return {
        k: extras[k] for k, kind in KEPT_KINDS.items() if k in extras and _valid(kind, extras[k])
    }


def acled_row(r: ExportRow) -> list[Any]:
    initiators = [a for a in r.actors if a.role == "initiator"]
    targets = [a for a in r.actors if a.role == "target"]
    actor1 = initiators[0] if initiators else None
    actor2 = targets[0] if targets else None
    assoc1 = [a.name for a in initiators[1:]] + [
        a.name for a in r.actors if a.role == "initiator_support"
    ]
    assoc2 = [a.name for a in targets[1:]] + [
        a.name for a in r.actors if a.role == "target_support"
    ]
    extras = recorded(r.extras)
    # ACLED's own codes for this row when it came from an ACLED file, else the actors' types.
    inter1 = extras.get("inter1", actor1.actor_type if actor1 else 0)
    inter2 = extras.get("inter2", actor2.actor_type if actor2 else 0)
    interaction = interaction_code(inter1, inter2) if (inter1 or inter2) else ""
    country = country_info(r.country_code)
    day = event_date(r)
    geo_precision = r.geo_precision if r.geo_precision is not None else r.place_geo_precision
    return [
        event_id_cnty(r),
        day.isoformat(),
        day.year,
        time_precision(r),
        extras.get("disorder_type", r.disorder_type),
        r.acled_event_type,
        r.acled_sub_event_type,
        actor1.name if actor1 else "",
        "; ".join(assoc1),
        inter1 if actor1 else "",
        actor2.name if actor2 else "",
        "; ".join(assoc2),
        inter2,
        interaction,
        "Civilians targeted" if r.civilian_targeting else "",
        "" if country.iso_numeric is None else country.iso_numeric,
        country.acled_region,
        country.name,
        extras.get("admin1", r.admin1 or ""),
        extras.get("admin2", r.admin2 or ""),
        extras.get("admin3", r.admin3 or ""),
        extras.get("location", r.location or ""),
        _coord(extras.get("latitude", r.latitude)),
        _coord(extras.get("longitude", r.longitude)),
        "" if geo_precision is None else geo_precision,
        "; ".join(sorted(r.sources)),
        (r.extras or {}).get("source_scale") or "",
        r.summary,
        r.fatalities_best or 0,
        "; ".join(r.tags),
        int(r.updated_at.timestamp()),
    ]
