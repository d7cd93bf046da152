"""Events in and out. One request creates an event with its actors, place, figures and claims."""

from __future__ import annotations

import datetime as dt
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.core.rest import MAX_ID, DbId, JsonObject, StoredJson
from app.core.schemas import (
    Count,
    CountryCode,
    Name,
    Ref,
    StrictModel,
    Text,
    check_bounds,
    validate_country,
)
from app.models.vocab import (
    ActorRole,
    CasualtyGroup,
    CasualtyOutcome,
    ClaimGrade,
    ClaimKind,
    ClaimStance,
    DatePrecision,
    MaterielOutcome,
    PlaceKind,
    RoleStatus,
)

ExternalId = Field(
    default=None,
    min_length=1,
    max_length=64,
    pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:\-]*$",
    description="The event's id in its dataset (ACLED event_id_cnty, UCDP id); made if absent.",
)


class _Counted(StrictModel):
    low: Count | None = None
    best: Count | None = None
    high: Count | None = None
    qualifier: Name | None = Field(
        default=None, description="The source's own words: 'at least 13', 'several'."
    )

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        check_bounds(self.low, self.best, self.high)
        return self


class ActorLink(StrictModel):
    """An actor in a role: by id, or by its name or any alias."""

    actor_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    actor: Name | None = Field(default=None, description="Name or alias of an existing actor.")
    role: ActorRole
    status: RoleStatus = "confirmed"
    claim_ref: Name | None = None
    note: Text | None = None

    @model_validator(mode="after")
    def _one_ref(self) -> Self:
        if (self.actor_id is None) == (self.actor is None):
            raise ValueError("give exactly one of actor_id or actor")
        return self


class PlaceInline(StrictModel):
    """A place given inline: found by its natural key, or created."""

    name: Name
    kind: PlaceKind = "town"
    country_code: CountryCode
    admin1: Name | None = None
    admin2: Name | None = None
    admin3: Name | None = None
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    geo_precision: int | None = Field(default=None, ge=1, le=3)
    parent_id: int | None = Field(default=None, ge=1, le=MAX_ID)

    @field_validator("country_code")
    @classmethod
    def _iso(cls, v: str) -> str:
        return validate_country(v) or v

    @model_validator(mode="after")
    def _paired(self) -> Self:
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("latitude and longitude come together")
        return self


class ClaimIn(StrictModel):
    """Who said what about this event. `ref` lets figures in the same request point at it."""

    id: int | None = Field(
        default=None, ge=1, le=MAX_ID, description="The stored record's id, to keep it (PUT)."
    )
    ref: Name | None = Field(default=None, description="Local name used by claim_ref fields.")
    source_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    source: Name | None = Field(default=None, description="Name of an existing source.")
    via_source_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    via_source: Name | None = None
    document_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    kind: ClaimKind = "occurrence"
    stance: ClaimStance = "asserts"
    grade: ClaimGrade | None = None
    assertion: Text = Field(min_length=1)
    quote: Text | None = None
    claimed_on: dt.date | None = None
    disputes_claim_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    disputes_claim_ref: Name | None = None
    attributes: JsonObject | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if (self.source_id is None) == (self.source is None):
            raise ValueError("give exactly one of source_id or source")
        if self.via_source_id is not None and self.via_source is not None:
            raise ValueError("give at most one of via_source_id or via_source")
        return self


class CasualtyIn(_Counted):
    id: int | None = Field(
        default=None, ge=1, le=MAX_ID, description="The stored record's id, to keep it (PUT)."
    )
    claim_ref: Name | None = None
    claim_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    outcome: CasualtyOutcome = "killed"
    casualty_group: CasualtyGroup = "unknown"
    actor: Name | None = None
    actor_id: int | None = Field(default=None, ge=1, le=MAX_ID)


class ClaimCasualtyIn(_Counted):
    """A casualty figure as one claim gives it (POST/PATCH /v1/claims): low/best/high and the
    source's own words in `qualifier`. It counts for the claim's event."""

    id: int | None = Field(
        default=None, ge=1, le=MAX_ID, description="The stored figure's id, to keep it (PATCH)."
    )
    outcome: CasualtyOutcome = "killed"
    casualty_group: CasualtyGroup = "unknown"
    actor: Name | None = None
    actor_id: int | None = Field(default=None, ge=1, le=MAX_ID)

    @model_validator(mode="after")
    def _one_actor(self) -> Self:
        if self.actor is not None and self.actor_id is not None:
            raise ValueError("give at most one of actor_id or actor")
        return self


class TerritoryChangeIn(_Counted):
    id: int | None = Field(
        default=None, ge=1, le=MAX_ID, description="The stored record's id, to keep it (PUT)."
    )
    claim_ref: Name | None = None
    claim_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    place_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    place: PlaceInline | None = None
    place_kind: PlaceKind | None = None
    gained_by: Name | None = None
    gained_by_actor_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    lost_by: Name | None = None
    lost_by_actor_id: int | None = Field(default=None, ge=1, le=MAX_ID)

    @model_validator(mode="after")
    def _what(self) -> Self:
        if self.place_id is None and self.place is None and self.best is None and self.low is None:
            raise ValueError("give a place (place_id or place) or a count (low/best)")
        return self


class MaterielLossIn(_Counted):
    id: int | None = Field(
        default=None, ge=1, le=MAX_ID, description="The stored record's id, to keep it (PUT)."
    )
    claim_ref: Name | None = None
    claim_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    owner: Name | None = None
    owner_actor_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    item: Name
    outcome: MaterielOutcome = "destroyed"


class AirspaceViolationIn(_Counted):
    id: int | None = Field(
        default=None, ge=1, le=MAX_ID, description="The stored record's id, to keep it (PUT)."
    )
    claim_ref: Name | None = None
    claim_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    violating_actor: Name | None = None
    violating_actor_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    violated_country_code: CountryCode

    @field_validator("violated_country_code")
    @classmethod
    def _iso(cls, v: str) -> str:
        return validate_country(v) or v


class EventCreate(StrictModel):
    dataset: str = Field(default="conflictdb", min_length=1, max_length=32, pattern=r"^[a-z0-9_]+$")
    external_id: str | None = ExternalId
    date_start: dt.date
    date_end: dt.date | None = Field(default=None, description="Defaults to date_start.")
    date_precision: DatePrecision = "day"
    sub_event_type: Name = Field(description="A code from /v1/event-types, e.g. air_drone_strike.")
    place_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    place: PlaceInline | None = None
    geo_precision: int | None = Field(default=None, ge=1, le=3)
    summary: Text = Field(min_length=1)
    notes: Text | None = None
    civilian_targeting: bool = False
    fatalities_low: Count | None = None
    fatalities_best: Count | None = None
    fatalities_high: Count | None = None
    tags: list[Name] = Field(default_factory=list, max_length=100)
    actors: list[ActorLink] = Field(default_factory=list, max_length=200)
    claims: list[ClaimIn] = Field(default_factory=list, max_length=200)
    casualties: list[CasualtyIn] = Field(default_factory=list, max_length=200)
    territory_changes: list[TerritoryChangeIn] = Field(default_factory=list, max_length=200)
    materiel_losses: list[MaterielLossIn] = Field(default_factory=list, max_length=200)
    airspace_violations: list[AirspaceViolationIn] = Field(default_factory=list, max_length=200)
    campaign_ids: list[DbId] = Field(default_factory=list, max_length=50)
    campaigns: list[Name] = Field(default_factory=list, max_length=50)
    extras: JsonObject | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.date_end is not None and self.date_end < self.date_start:
            raise ValueError("date_end must not precede date_start")
        if self.place_id is not None and self.place is not None:
            raise ValueError("give at most one of place_id or place")
        check_bounds(self.fatalities_low, self.fatalities_best, self.fatalities_high)
        refs = [c.ref for c in self.claims if c.ref]
        if len(refs) != len(set(refs)):
            raise ValueError("claim refs must be unique within the request")
        return self


class EventPatch(StrictModel):
    """Partial update of an event's own fields; lists given here replace the stored lists."""

    date_start: dt.date | None = None
    date_end: dt.date | None = None
    date_precision: DatePrecision | None = None
    sub_event_type: Name | None = None
    place_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    geo_precision: int | None = Field(default=None, ge=1, le=3)
    summary: Text | None = Field(default=None, min_length=1)
    notes: Text | None = None
    civilian_targeting: bool | None = None
    fatalities_low: Count | None = None
    fatalities_best: Count | None = None
    fatalities_high: Count | None = None
    tags: list[Name] | None = Field(default=None, max_length=100)
    actors: list[ActorLink] | None = Field(default=None, max_length=200)
    campaign_ids: list[DbId] | None = Field(default=None, max_length=50)


# ---- read side ----


class ReadModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class SubEventTypeRef(ReadModel):
    code: str
    name: str
    event_type_code: str
    disorder_type: str
    acled_event_type: str
    acled_sub_event_type: str


class PlaceRef(ReadModel):
    id: int
    name: str
    kind: str
    country_code: str
    admin1: str | None
    admin2: str | None
    admin3: str | None
    latitude: float | None
    longitude: float | None
    geo_precision: int | None
    admin1_code: str | None = Field(
        None, description="The gazetteer's admin-1 unit (ISO 3166-2), from admin1 or the point."
    )


class EventActorRead(ReadModel):
    actor_id: int
    name: str
    actor_type: int
    country_code: str | None
    role: str
    status: str
    claim_id: int | None
    note: str | None


class SourceRef(ReadModel):
    id: int
    name: str
    kind: str


class ClaimRead(ReadModel):
    id: int
    event_id: int | None
    campaign_id: int | None
    source: SourceRef
    via_source: SourceRef | None
    document_id: int | None
    kind: str
    stance: str
    grade: str | None
    assertion: str
    quote: str | None
    claimed_on: dt.date | None
    disputes_claim_id: int | None
    attributes: StoredJson | None


class CasualtyRead(ReadModel):
    id: int
    claim_id: int | None
    outcome: str
    casualty_group: str
    actor: Ref | None
    low: int | None
    best: int | None
    high: int | None
    qualifier: str | None


class TerritoryChangeRead(ReadModel):
    id: int
    claim_id: int | None
    place: Ref | None
    place_kind: str | None
    gained_by: Ref | None
    lost_by: Ref | None
    low: int | None
    best: int | None
    high: int | None
    qualifier: str | None


class MaterielLossRead(ReadModel):
    id: int
    claim_id: int | None
    owner: Ref | None
    item: str
    outcome: str
    low: int | None
    best: int | None
    high: int | None
    qualifier: str | None


class AirspaceViolationRead(ReadModel):
    id: int
    claim_id: int | None
    violating_actor: Ref | None
    violated_country_code: str
    low: int | None
    best: int | None
    high: int | None
    qualifier: str | None


class EventRead(ReadModel):
    id: int
    dataset: str
    external_id: str
    date_start: dt.date
    date_end: dt.date
    date_precision: str
    sub_event_type: SubEventTypeRef
    place: PlaceRef | None
    geo_precision: int | None
    summary: str
    notes: str | None
    civilian_targeting: bool
    fatalities_low: int | None
    fatalities_best: int | None
    fatalities_high: int | None
    tags: list[str]
    actors: list[EventActorRead]
    claims: list[ClaimRead]
    casualties: list[CasualtyRead]
    territory_changes: list[TerritoryChangeRead]
    materiel_losses: list[MaterielLossRead]
    airspace_violations: list[AirspaceViolationRead]
    campaigns: list[Ref]
    extras: StoredJson | None
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class EventRevisionRead(ReadModel):
    id: int
    event_id: int
    version: int
    operation: str
    changed_at: dt.datetime
    api_key_id: int | None
    snapshot: dict[str, Any] | None


class EventPage(BaseModel):
    items: list[dict[str, Any]]
    next_cursor: str | None
    next_url: str | None
    total: int | None = None


__all__ = ["CountryCode", "EventCreate", "EventPage", "EventPatch", "EventRead"]
