"""Event list filters, sort orders and keyset pagination, as SQL conditions."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import Select, and_, func, or_, select, tuple_
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from app.actors.repository import ids_matching_name_or_alias_stmt
from app.core.errors import BadRequest
from app.models import (
    Claim,
    Event,
    EventActor,
    EventTag,
    Place,
    Source,
    SubEventType,
    campaign_events,
)
from app.models.vocab import ActorRole, ClaimGrade, SourceKind

SortKey = Literal[
    "date", "-date", "id", "-id", "updated_at", "-updated_at", "fatalities", "-fatalities"
]


class EventFilters(BaseModel):
    """Query parameters of GET /v1/events. Repeat a parameter for OR; unknown ones are a 422."""

    model_config = ConfigDict(extra="forbid")

    date_from: dt.date | None = Field(None, description="Events on or after (range overlap).")
    date_to: dt.date | None = Field(None, description="Events on or before (range overlap).")
    dataset: list[str] = Field(default_factory=list)
    disorder_type: list[str] = Field(default_factory=list)
    event_type: list[str] = Field(default_factory=list, description="e.g. battles")
    sub_event_type: list[str] = Field(default_factory=list, description="e.g. air_drone_strike")
    actor: list[str] = Field(default_factory=list, description="Actor id, name or alias.")
    actor_role: list[ActorRole] = Field(default_factory=list)
    country: list[str] = Field(default_factory=list, description="ISO 3166-1 alpha-2.")
    admin1: list[str] = Field(default_factory=list)
    admin2: list[str] = Field(default_factory=list)
    place_id: list[int] = Field(default_factory=list, description="A place and all inside it.")
    fatalities_min: int | None = Field(None, ge=0, description="On the best estimate.")
    fatalities_max: int | None = Field(None, ge=0)
    fatalities_low_min: int | None = Field(None, ge=0)
    fatalities_low_max: int | None = Field(None, ge=0)
    fatalities_high_min: int | None = Field(None, ge=0)
    fatalities_high_max: int | None = Field(None, ge=0)
    source: list[str] = Field(default_factory=list, description="Source id or name.")
    source_kind: list[SourceKind] = Field(default_factory=list)
    claim_grade: list[ClaimGrade] = Field(default_factory=list)
    campaign: list[int] = Field(default_factory=list, description="Campaign id.")
    tag: list[str] = Field(default_factory=list)
    updated_since: dt.datetime | None = Field(None, description="Changed at or after (UTC).")
    q: str | None = Field(None, min_length=1, max_length=200, description="Text in summary/notes.")
    sort: SortKey = "-date"
    limit: int = Field(100, ge=1, le=1000)
    cursor: str | None = Field(None, max_length=2000)
    total: bool = Field(False, description="Include the total count (costs a COUNT).")

    @field_validator("updated_since")
    @classmethod
    def _aware(cls, v: dt.datetime | None) -> dt.datetime | None:
        if v is not None and v.tzinfo is None:
            return v.replace(tzinfo=dt.UTC)
        return v

    @model_validator(mode="after")
    def _ranges(self) -> EventFilters:
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValueError("date_from must not be after date_to")
        return self

    def fingerprint(self) -> str:
        """Identifies the filter set, so a cursor cannot be replayed against other filters."""
        body = self.model_dump(mode="json", exclude={"cursor", "limit", "total"})
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]


def _split_ids(tokens: list[str]) -> tuple[list[int], list[str]]:
    ids = [int(t) for t in tokens if t.isdigit() and len(t) < 12]
    names = [t for t in tokens if not (t.isdigit() and len(t) < 12)]
    return ids, names


def conditions(f: EventFilters) -> list[ColumnElement[bool]]:
    """The WHERE conditions for a filter set."""
    where: list[ColumnElement[bool]] = []
    if f.date_from:
        where.append(Event.date_end >= f.date_from)
    if f.date_to:
        where.append(Event.date_start <= f.date_to)
    if f.dataset:
        where.append(Event.dataset.in_(f.dataset))
    if f.sub_event_type:
        where.append(Event.sub_event_type_code.in_(f.sub_event_type))
    if f.event_type or f.disorder_type:
        sub = select(SubEventType.code)
        if f.event_type:
            sub = sub.where(SubEventType.event_type_code.in_(f.event_type))
        if f.disorder_type:
            sub = sub.where(or_(*[SubEventType.disorder_type.contains(d) for d in f.disorder_type]))
        where.append(Event.sub_event_type_code.in_(sub))
    if f.actor or f.actor_role:
        ea = select(EventActor.event_id)
        if f.actor:
            ids, names = _split_ids(f.actor)
            matches: list[ColumnElement[bool]] = []
            if ids:
                matches.append(EventActor.actor_id.in_(ids))
            if names:
                matches.append(EventActor.actor_id.in_(ids_matching_name_or_alias_stmt(names)))
            ea = ea.where(or_(*matches))
        if f.actor_role:
            ea = ea.where(EventActor.role.in_(f.actor_role))
        where.append(Event.id.in_(ea))
    if f.country or f.admin1 or f.admin2:
        places = select(Place.id)
        if f.country:
            places = places.where(Place.country_code.in_([c.upper() for c in f.country]))
        if f.admin1:
            places = places.where(func.lower(Place.admin1).in_([a.casefold() for a in f.admin1]))
        if f.admin2:
            places = places.where(func.lower(Place.admin2).in_([a.casefold() for a in f.admin2]))
        where.append(Event.place_id.in_(places))
    if f.place_id:
        region = aliased(Place)
        inside = (
            select(Place.id)
            .join(region, Place.path.startswith(region.path))
            .where(region.id.in_(f.place_id))
        )
        where.append(Event.place_id.in_(inside))
    for column, lo, hi in (
        (Event.fatalities_best, f.fatalities_min, f.fatalities_max),
        (Event.fatalities_low, f.fatalities_low_min, f.fatalities_low_max),
        (Event.fatalities_high, f.fatalities_high_min, f.fatalities_high_max),
    ):
        if lo is not None:
            where.append(column >= lo)
        if hi is not None:
            where.append(column <= hi)
    if f.source or f.source_kind or f.claim_grade:
        claims = select(Claim.event_id).where(Claim.event_id.is_not(None))
        if f.source:
            ids, names = _split_ids(f.source)
            by_name = select(Source.id).where(
                func.lower(Source.name).in_([n.casefold() for n in names])
            )
            claims = claims.where(
                or_(
                    Claim.source_id.in_(ids),
                    Claim.source_id.in_(by_name),
                    Claim.via_source_id.in_(ids),
                    Claim.via_source_id.in_(by_name),
                )
            )
        if f.source_kind:
            claims = claims.where(
                Claim.source_id.in_(select(Source.id).where(Source.kind.in_(f.source_kind)))
            )
        if f.claim_grade:
            claims = claims.where(Claim.grade.in_(f.claim_grade))
        where.append(Event.id.in_(claims))
    if f.campaign:
        where.append(
            Event.id.in_(
                select(campaign_events.c.event_id).where(
                    campaign_events.c.campaign_id.in_(f.campaign)
                )
            )
        )
    if f.tag:
        where.append(Event.id.in_(select(EventTag.event_id).where(EventTag.tag.in_(f.tag))))
    if f.updated_since:
        where.append(Event.updated_at >= f.updated_since)
    if f.q:
        pattern = (
            "%" + f.q.casefold().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        )
        where.append(
            or_(
                func.lower(Event.summary).like(pattern, escape="\\"),
                func.lower(func.coalesce(Event.notes, "")).like(pattern, escape="\\"),
            )
        )
    return where


@dataclass(frozen=True)
class SortSpec:
    column: Any
    descending: bool
    kind: Literal["date", "int", "datetime"]


def sort_spec(sort: str) -> SortSpec:
    desc = sort.startswith("-")
    key = sort.lstrip("-")
    if key == "date":
        return SortSpec(Event.date_start, desc, "date")
    if key == "updated_at":
        return SortSpec(Event.updated_at, desc, "datetime")
    if key == "fatalities":
        return SortSpec(func.coalesce(Event.fatalities_best, -1), desc, "int")
    return SortSpec(Event.id, desc, "int")


def _decode_value(kind: str, raw: Any) -> Any:
    if kind == "date":
        return dt.date.fromisoformat(str(raw))
    if kind == "datetime":
        return dt.datetime.fromisoformat(str(raw))
    return int(raw)


def keyset_page(
    f: EventFilters, where: list[ColumnElement[bool]], cursor: dict[str, Any] | None
) -> Select[Any]:
    """SELECT (sort value, id) of one page: a total order on (sort key, id) with a seek."""
    spec = sort_spec(f.sort)
    stmt = select(spec.column, Event.id).where(*where)
    if cursor is not None:
        if cursor.get("s") != f.sort or cursor.get("h") != f.fingerprint():
            raise BadRequest(
                "this cursor belongs to another query; restart from the first page",
                code="invalid_cursor",
            )
        try:
            value = _decode_value(spec.kind, cursor["v"])
            last_id = int(cursor["i"])
        except (KeyError, TypeError, ValueError) as exc:
            raise BadRequest("the cursor is malformed", code="invalid_cursor") from exc
        if spec.column is Event.id:
            stmt = stmt.where(Event.id < last_id if spec.descending else Event.id > last_id)
        elif spec.descending:
            stmt = stmt.where(tuple_(spec.column, Event.id) < tuple_(value, last_id))
        else:
            stmt = stmt.where(tuple_(spec.column, Event.id) > tuple_(value, last_id))
    if spec.descending:
        stmt = stmt.order_by(spec.column.desc(), Event.id.desc())
    else:
        stmt = stmt.order_by(spec.column.asc(), Event.id.asc())
    return stmt.limit(f.limit + 1)


def cursor_payload(f: EventFilters, last: tuple[Any, ...]) -> dict[str, Any]:
    value, last_id = last
    if isinstance(value, dt.datetime | dt.date):
        value = value.isoformat()
    return {"s": f.sort, "h": f.fingerprint(), "v": value, "i": last_id}


__all__ = ["EventFilters", "and_", "conditions", "cursor_payload", "keyset_page"]
