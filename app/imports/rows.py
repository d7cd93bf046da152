"""Normalized rows: what every parser produces and the loader writes, whatever the file format."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from app.core.names import fold_name
from app.places.repository import place_natural_key


@dataclass(slots=True, frozen=True)
class PlaceLevel:
    """One level of a place chain (country > province > district > town), keyed naturally."""

    name: str
    kind: str
    country_code: str
    admin1: str | None = None
    admin2: str | None = None
    admin3: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    geo_precision: int | None = None
    key: str = ""

    @classmethod
    def make(
        cls,
        name: str,
        kind: str,
        country_code: str,
        admin1: str | None = None,
        admin2: str | None = None,
        admin3: str | None = None,
        latitude: float | None = None,
        longitude: float | None = None,
        geo_precision: int | None = None,
    ) -> PlaceLevel:
        key = place_natural_key(name, kind, country_code, admin1, admin2)
        return cls(
            name,
            kind,
            country_code,
            admin1,
            admin2,
            admin3,
            latitude,
            longitude,
            geo_precision,
            key,
        )


# Parents first, the event's own place last; each level's parent is the one before it.
PlaceChain = tuple[PlaceLevel, ...]


def chain(*levels: PlaceLevel | None) -> PlaceChain:
    """Drop missing levels and merge a level into the next when both have the same key."""
    out: list[PlaceLevel] = []
    for level in levels:
        if level is None:
            continue
        if out and out[-1].key == level.key:
            out[-1] = level
        else:
            out.append(level)
    return tuple(out)


@dataclass(slots=True, frozen=True)
class ActorRef:
    """An actor by name or alias; created with `actor_type` when there is none."""

    name: str
    key: str
    actor_type: int | None = None

    @classmethod
    def named(cls, name: str, actor_type: int | None) -> ActorRef:
        return cls(name, fold_name(name), actor_type)


@dataclass(slots=True, frozen=True)
class SourceRef:
    """A source by name; created with `kind` when there is none."""

    name: str
    key: str
    kind: str | None = None

    @classmethod
    def named(cls, name: str, kind: str | None) -> SourceRef:
        return cls(name, fold_name(name), kind)


# Roles and claims compare by identity: parsers reuse one object per distinct value, and the
# loader caches what each resolves to.
@dataclass(slots=True, frozen=True, eq=False)
class ActorRole:
    actor: ActorRef
    role: str
    status: str = "confirmed"
    note: str | None = None


@dataclass(slots=True, frozen=True, eq=False)
class ClaimSpec:
    source: SourceRef
    assertion: str
    kind: str = "occurrence"
    stance: str = "asserts"
    via_source: SourceRef | None = None
    quote: str | None = None
    claimed_on: dt.date | None = None


@dataclass(slots=True)
class EventRow:
    """One event, normalized; `line` is the physical line where its record starts."""

    line: int
    external_id: str
    date_start: dt.date
    date_end: dt.date
    date_precision: str
    sub_event_type_code: str
    summary: str
    place: PlaceChain | None = None
    place_id: int | None = None
    geo_precision: int | None = None
    notes: str | None = None
    civilian_targeting: bool = False
    fatalities_low: int | None = None
    fatalities_best: int | None = None
    fatalities_high: int | None = None
    extras: dict[str, Any] | None = None
    actors: list[ActorRole] = field(default_factory=list)
    claims: list[ClaimSpec] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    # The raw record in a canonical column order, when the parser has it: the content digest
    # is taken over it (cheaper than over the normalized values, and just as exact).
    source_text: str | None = None
    # UCDP's own coding: type_of_violence 1..3, conflict and dyad ids (None elsewhere). Last,
    # as parsers build rows positionally.
    type_of_violence: int | None = None
    conflict_id: int | None = None
    dyad_id: int | None = None


@dataclass(slots=True)
class Deletion:
    """One line of a deletion list: this event is gone from its dataset since `deleted_at`."""

    line: int
    external_id: str
    deleted_at: dt.datetime
