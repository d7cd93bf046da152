"""Query parameters of GET /v1/changes."""

from __future__ import annotations

import datetime as dt
import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.core.rest import no_nul


def parse_since(raw: str) -> dt.datetime:
    """An ISO 8601 timestamp (UTC when no offset) or Unix seconds."""
    text = raw.strip()
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if math.isfinite(seconds):
        if not 0 <= seconds < 253402300800:
            raise ValueError("since: Unix seconds out of range")
        return dt.datetime.fromtimestamp(seconds, dt.UTC)
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValueError("since: expected an ISO 8601 timestamp or Unix seconds") from exc
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


class ChangesQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    since: str | None = Field(
        None,
        max_length=64,
        description="ISO 8601 or Unix seconds; omitted: from the beginning (a full sync).",
    )
    since_seq: int | None = Field(
        None,
        ge=0,
        le=2**62,
        description="`high_water_seq` of the last sync: every change committed after it. "
        "Clock-free; prefer it to `since`.",
    )
    dataset: list[str] = Field(default_factory=list, max_length=50)
    view: Literal["full", "ids"] = Field(
        "full", description="full: each changed event as GET /v1/events/{id}; ids: keys only."
    )
    limit: int = Field(100, ge=1, le=1000, description="At most this many of each kind a page.")
    cursor: str | None = Field(None, max_length=2000)

    @field_validator("since")
    @classmethod
    def _since(cls, v: str | None) -> str | None:
        if v is not None:
            parse_since(v)
        return v

    @field_validator("dataset")
    @classmethod
    def _no_nul(cls, v: list[str]) -> list[str]:
        return [no_nul(item) for item in v]

    @property
    def since_at(self) -> dt.datetime | None:
        return None if self.since is None else parse_since(self.since)
