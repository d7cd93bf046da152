"""Query parameters of GET /v1/aggregates."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import Field, model_validator

from app.events.queries import EventFilterSet

Interval = Literal["day", "week", "month", "year"]
Dimension = Literal[
    "event_type",
    "sub_event_type",
    "disorder_type",
    "actor",
    "actor_role",
    "country",
    "admin1",
    "admin2",
    "place",
    "source",
    "campaign",
]


class AggregateQuery(EventFilterSet):
    """The list's filters, then how to group. Unknown parameters are a 422."""

    interval: Interval | None = Field(
        None, description="Time bucket of date_start; weeks start on Monday."
    )
    group_by: list[Dimension] = Field(
        default_factory=list, max_length=4, description="Repeat for several dimensions."
    )
    top: int | None = Field(
        None,
        ge=1,
        le=1000,
        description="Keep the N groups with most events; the rest are summed as 'other'.",
    )
    fill: bool = Field(
        False, description="Zero-fill every bucket from date_from to date_to (both needed)."
    )

    @model_validator(mode="after")
    def _fill(self) -> Self:
        if self.fill and (self.interval is None or not self.date_from or not self.date_to):
            raise ValueError("fill=true needs interval, date_from and date_to")
        if len(set(self.group_by)) != len(self.group_by):
            raise ValueError("group_by lists a dimension twice")
        return self
