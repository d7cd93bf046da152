"""Query parameters of GET /v1/maps/grid and GET /v1/maps/boundaries."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.events.queries import EventFilterSet

MIN_CELL = 0.001
MAX_CELL = 90.0


class GridQuery(EventFilterSet):
    """The filters of GET /v1/events, then the cell size. Unknown parameters are a 422."""

    cell: float = Field(
        1.0,
        ge=MIN_CELL,
        le=MAX_CELL,
        description="Cell size in degrees of longitude and latitude (0.001 to 90).",
    )


class BoundaryQuery(BaseModel):
    """Which outlines: countries (Natural Earth, via world-atlas) at one of two scales."""

    model_config = ConfigDict(extra="forbid")

    level: Literal["country"] = Field("country", description="Administrative level.")
    scale: Literal["110m", "50m"] = Field(
        "110m", description="Natural Earth scale: 110m (small, for low zoom) or 50m."
    )
