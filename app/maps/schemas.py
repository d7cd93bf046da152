"""Query parameters of GET /v1/maps/grid and GET /v1/maps/boundaries."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.core.geo import parse_bbox
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
    """Which outlines: countries (Natural Earth, via world-atlas) at one of two scales, or
    admin-1 units (Natural Earth 1:10m, simplified: the gazetteer's file) of some countries or
    of a bounding box."""

    model_config = ConfigDict(extra="forbid")

    level: Literal["country", "admin1"] = Field(
        "country", description="country, or admin1 (needs country or bbox)."
    )
    scale: Literal["110m", "50m"] = Field(
        "110m", description="Countries: Natural Earth scale, 110m (small, for low zoom) or 50m."
    )
    country: list[str] = Field(
        default_factory=list, max_length=50, description="admin1: ISO 3166-1 alpha-2 codes."
    )
    bbox: str | None = Field(
        None, max_length=200, description="admin1: minLon,minLat,maxLon,maxLat (WGS 84)."
    )

    @field_validator("bbox")
    @classmethod
    def _bbox(cls, v: str | None) -> str | None:
        if v is not None:
            parse_bbox(v)
        return v

    @field_validator("country")
    @classmethod
    def _countries(cls, v: list[str]) -> list[str]:
        out = []
        for code in v:
            if len(code) != 2 or not code.isalpha():
                raise ValueError(f"{code!r} is not an ISO 3166-1 alpha-2 code")
            out.append(code.upper())
        return out

    @model_validator(mode="after")
    def _admin1(self) -> Self:
        if self.level == "admin1" and not self.country and self.bbox is None:
            raise ValueError("level=admin1 needs country or bbox (the world's are too many)")
        if self.level == "country" and (self.country or self.bbox is not None):
            raise ValueError("country and bbox narrow level=admin1 only")
        return self
