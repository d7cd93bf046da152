"""Query parameters of GET /v1/aggregates."""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import AfterValidator, Field, StringConstraints, model_validator

from app.core.schemas import no_nul
from app.events.queries import EventFilterSet

Interval = Literal["day", "week", "month", "year"]
Basis = Literal["event", "source", "incident"]
FigurePolicy = Literal["conservative", "source_order"]
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
    "type_of_violence",
    "conflict_id",
    "dyad_id",
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
    basis: Basis = Field(
        "event",
        description="What a row sums: `event` one figure per event (never two sources' "
        "accounts of it added), `source` each source's accounts side by side, `incident` "
        "events joined by confirmed links counted once (docs/aggregation.md).",
    )
    policy: FigurePolicy | None = Field(
        None,
        description="Which account gives an event's (or incident's) figure: `conservative` "
        "(lowest best; the default) or `source_order` (the first of `source_order` that "
        "gives one, else the conservative one).",
    )
    source_order: list[
        Annotated[str, StringConstraints(min_length=1, max_length=255), AfterValidator(no_nul)]
    ] = Field(
        default_factory=list,
        max_length=20,
        description="Sources (id or name), preferred first; repeat the parameter. Implies "
        "policy=source_order.",
    )

    @model_validator(mode="after")
    def _fill(self) -> Self:
        if self.fill and (self.interval is None or not self.date_from or not self.date_to):
            raise ValueError("fill=true needs interval, date_from and date_to")
        if len(set(self.group_by)) != len(self.group_by):
            raise ValueError("group_by lists a dimension twice")
        if self.policy == "source_order" and not self.source_order:
            raise ValueError("policy=source_order needs source_order (one or more sources)")
        if self.policy == "conservative" and self.source_order:
            raise ValueError("source_order applies to policy=source_order, not conservative")
        if self.basis == "source" and "source" in self.group_by:
            raise ValueError("basis=source already gives a row per source: drop group_by=source")
        return self
