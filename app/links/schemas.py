"""Request and response shapes of /v1/links and /v1/incidents."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from app.core.rest import DbId, LongText, PageQuery
from app.core.schemas import StrictModel, no_nul
from app.models.links import LinkStatus

Dataset = Annotated[str, StringConstraints(min_length=1, max_length=32), AfterValidator(no_nul)]


class ProposeParams(StrictModel):
    """A matcher run: which events, and MELTT's windows (app/links/matching.py)."""

    date_from: dt.date | None = Field(None, description="Events ending on or after this day.")
    date_to: dt.date | None = Field(None, description="Events starting on or before this day.")
    datasets: list[Dataset] = Field(
        default_factory=list,
        max_length=20,
        description="Only events of these datasets (two or more; default all).",
    )
    spatial_km: float = Field(10.0, ge=0, le=500, description="Spatial window, km.")
    days: int = Field(1, ge=0, le=60, description="Temporal window, days, beyond precision.")
    min_score: float = Field(0.5, ge=0, le=1, description="Lowest score proposed.")

    @model_validator(mode="after")
    def _range(self) -> Self:
        if self.date_from and self.date_to and self.date_to < self.date_from:
            raise ValueError("date_to precedes date_from")
        if len(self.datasets) == 1:
            raise ValueError("datasets: links join two datasets or more; name at least two")
        return self


class ProposeResult(BaseModel):
    candidates: int
    matched: int
    proposed: int
    refreshed: int
    kept: int
    rejected_skipped: int
    params: dict[str, Any]


class LinkQuery(PageQuery):
    status: list[LinkStatus] = Field(default_factory=list, description="Repeat for several.")
    event_id: list[DbId] = Field(default_factory=list, max_length=100)
    dataset: list[Dataset] = Field(default_factory=list, max_length=20)
    min_score: float | None = Field(None, ge=0, le=1)


class LinkChangeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    status_from: str
    status_to: str
    note: str | None
    api_key_id: int | None
    changed_at: dt.datetime


class LinkRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    event_a_id: int | None
    event_b_id: int | None
    key_a: str
    key_b: str
    status: str
    score: float
    components: dict[str, Any]
    method: str
    note: str | None
    reviewed_at: dt.datetime | None
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    changes: list[LinkChangeRead] = []


class LinkPatch(StrictModel):
    """An analyst's review: confirm or reject (nothing goes back to `proposed`)."""

    status: LinkStatus
    note: LongText | None = None


class LinkCreate(StrictModel):
    """An analyst's own link between two events (any datasets), confirmed unless said otherwise."""

    event_a_id: DbId
    event_b_id: DbId
    status: LinkStatus = "confirmed"
    note: LongText | None = None

    @model_validator(mode="after")
    def _two(self) -> Self:
        if self.event_a_id == self.event_b_id:
            raise ValueError("a link joins two different events")
        return self


class IncidentQuery(PageQuery):
    event_id: list[DbId] = Field(default_factory=list, max_length=100)
    dataset: list[Dataset] = Field(default_factory=list, max_length=20)
