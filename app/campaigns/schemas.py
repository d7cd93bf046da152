"""Campaigns in and out."""

from __future__ import annotations

import datetime as dt
from typing import Self

from pydantic import BaseModel, Field, model_validator

from app.claims.schemas import ClaimRead
from app.core.rest import DbId, LongText, NameStr, PageQuery, SearchText
from app.core.schemas import Ref, StrictModel


class CampaignCreate(StrictModel):
    name: NameStr = Field(description="Unique, ignoring case.")
    description: LongText | None = None
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    initiator_actor_id: DbId | None = None
    event_ids: list[DbId] = Field(
        default_factory=list, max_length=10_000, description="The events the campaign groups."
    )

    @model_validator(mode="after")
    def _dates(self) -> Self:
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValueError("end_date must not precede start_date")
        return self


class CampaignPatch(StrictModel):
    """Only the fields given change; `event_ids` replaces the linked events."""

    name: NameStr | None = None
    description: LongText | None = None
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    initiator_actor_id: DbId | None = None
    event_ids: list[DbId] | None = Field(default=None, max_length=10_000)

    @model_validator(mode="after")
    def _required_not_null(self) -> Self:
        for field in ("name", "event_ids"):
            if field in self.model_fields_set and getattr(self, field) is None:
                raise ValueError(f"{field} cannot be null")
        return self


class CampaignEvent(BaseModel):
    id: int
    date_start: dt.date
    summary: str


class CampaignSummary(BaseModel):
    """A campaign as lists show it."""

    id: int
    name: str
    description: str | None
    start_date: dt.date | None
    end_date: dt.date | None
    initiator: Ref | None
    event_count: int
    created_at: dt.datetime
    updated_at: dt.datetime


class CampaignRead(CampaignSummary):
    """A campaign with its events (by date) and the claims made about it."""

    events: list[CampaignEvent]
    claims: list[ClaimRead]


class CampaignQuery(PageQuery):
    q: SearchText | None = Field(default=None, description="Part of the name, ignoring case.")
    initiator_actor_id: list[DbId] = Field(default_factory=list, max_length=100)
    event_id: DbId | None = Field(default=None, description="Only campaigns including this event.")
