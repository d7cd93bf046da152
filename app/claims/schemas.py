"""Claims in and out: one source's assertion about an event or a campaign."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Self

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from app.core.rest import DbId, JsonObject, LongText, NameStr, PageQuery, StoredJson
from app.core.schemas import StrictModel
from app.events.schemas import ClaimCasualtyIn
from app.models.vocab import ClaimGrade, ClaimKind, ClaimStance
from app.sources.schemas import SourceRef

Assertion = Annotated[LongText, StringConstraints(min_length=1)]


class ClaimCreate(StrictModel):
    """About an event, a campaign or both; the source by id or by name."""

    event_id: DbId | None = None
    campaign_id: DbId | None = None
    source_id: DbId | None = None
    source: NameStr | None = Field(default=None, description="Name of an existing source.")
    via_source_id: DbId | None = Field(
        default=None, description="The outlet that relayed the source's words."
    )
    via_source: NameStr | None = Field(default=None, description="Name of an existing source.")
    document_id: DbId | None = None
    kind: ClaimKind = "occurrence"
    stance: ClaimStance = "asserts"
    grade: ClaimGrade | None = None
    assertion: Assertion = Field(description="What the claim asserts, normalized.")
    quote: LongText | None = Field(default=None, description="The source's own words.")
    claimed_on: dt.date | None = None
    disputes_claim_id: DbId | None = Field(
        default=None, description="Another claim this one contradicts."
    )
    attributes: JsonObject | None = Field(
        default=None, description="Structured specifics (target groups, shares)."
    )
    casualties: list[ClaimCasualtyIn] = Field(
        default_factory=list,
        max_length=100,
        description="Casualty figures this claim gives (low/best/high, the source's words in "
        "`qualifier`); they count for the claim's event, so event_id is needed.",
    )

    @model_validator(mode="after")
    def _refs(self) -> Self:
        if self.casualties and self.event_id is None:
            raise ValueError("casualties belong to an event: give event_id")
        if self.event_id is None and self.campaign_id is None:
            raise ValueError("give event_id, campaign_id or both")
        if (self.source_id is None) == (self.source is None):
            raise ValueError("give exactly one of source_id or source")
        if self.via_source_id is not None and self.via_source is not None:
            raise ValueError("give at most one of via_source_id or via_source")
        return self


class ClaimPatch(StrictModel):
    """Only the fields given change; null clears an optional field."""

    event_id: DbId | None = None
    campaign_id: DbId | None = None
    source_id: DbId | None = None
    source: NameStr | None = None
    via_source_id: DbId | None = None
    via_source: NameStr | None = None
    document_id: DbId | None = None
    kind: ClaimKind | None = None
    stance: ClaimStance | None = None
    grade: ClaimGrade | None = None
    assertion: Assertion | None = None
    quote: LongText | None = None
    claimed_on: dt.date | None = None
    disputes_claim_id: DbId | None = None
    attributes: JsonObject | None = None
    casualties: list[ClaimCasualtyIn] | None = Field(
        default=None,
        max_length=100,
        description="Replaces the claim's figures; a figure sent with its `id` keeps it.",
    )

    @model_validator(mode="after")
    def _refs(self) -> Self:
        given = self.model_fields_set
        if "casualties" in given and self.casualties is None:
            raise ValueError("casualties cannot be null (send [] to remove them)")
        for field in ("source_id", "source", "kind", "stance", "assertion"):
            if field in given and getattr(self, field) is None:
                raise ValueError(f"{field} cannot be null")
        if "source_id" in given and "source" in given:
            raise ValueError("give at most one of source_id or source")
        if self.via_source_id is not None and self.via_source is not None:
            raise ValueError("give at most one of via_source_id or via_source")
        return self


class ClaimCasualtyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    outcome: str
    casualty_group: str
    actor_id: int | None
    low: int | None = Field(validation_alias=AliasChoices("count_low", "low"))
    best: int | None = Field(validation_alias=AliasChoices("count_best", "best"))
    high: int | None = Field(validation_alias=AliasChoices("count_high", "high"))
    qualifier: str | None


class ClaimRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

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
    casualties: list[ClaimCasualtyRead]
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class ClaimQuery(PageQuery):
    event_id: list[DbId] = Field(default_factory=list, max_length=100)
    campaign_id: list[DbId] = Field(default_factory=list, max_length=100)
    source_id: list[DbId] = Field(default_factory=list, max_length=100)
    kind: list[ClaimKind] = Field(default_factory=list, max_length=20)
    grade: list[ClaimGrade] = Field(default_factory=list, max_length=20)
