"""ACLED's response shapes (for the OpenAPI document) and its small reference vocabularies."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from app.models.vocab import ACTOR_TYPES

# ACLED's region codes (its `region` filter takes the number; rows carry the name).
ACLED_REGIONS: dict[int, str] = {
    1: "Western Africa",
    2: "Middle Africa",
    3: "Eastern Africa",
    4: "Southern Africa",
    5: "Northern Africa",
    7: "South Asia",
    9: "Southeast Asia",
    11: "Middle East",
    12: "Europe",
    13: "Caucasus and Central Asia",
    14: "Central America",
    15: "South America",
    16: "Caribbean",
    17: "East Asia",
    18: "North America",
    19: "Oceania",
    20: "Antarctica",
}


def inter_label(code: int | None) -> str | None:
    """ACLED's text label for an inter code; 0 (no actor) is null."""
    return ACTOR_TYPES.get(code) if code else None


def interaction_label(inter1: int, inter2: int) -> str:
    """ACLED's text interaction: "State forces-Civilians" (low-high), "Protesters only"."""
    if inter1 and inter2:
        low, high = sorted((inter1, inter2))
        return f"{ACTOR_TYPES[low]}-{ACTOR_TYPES[high]}"
    code = inter1 or inter2
    return f"{ACTOR_TYPES[code]} only" if code in ACTOR_TYPES else ""


class AcledErrorItem(BaseModel):
    message: str


class AcledError(BaseModel):
    """ACLED's error body: `error` is a list (its clients read `error[0].message`)."""

    status: int = Field(examples=[400])
    success: bool = Field(False)
    error: list[AcledErrorItem]


class AcledEnvelope(BaseModel):
    """ACLED's JSON envelope. `total_count` only with `with_total=true`."""

    status: int = Field(200)
    success: bool = Field(True)
    last_update: int | None = Field(
        None, description="Unix seconds of the latest change to any event (edit or deletion)."
    )
    count: int = Field(description="Rows in `data`.")
    total_count: int | None = Field(None, description="Rows over all pages (with_total=true).")
    messages: list[str] = Field(default_factory=list)
    data: list[dict[str, Any]]


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": AcledError, "description": "Unknown column, operator, option or bad value"},
    401: {"model": AcledError, "description": "The key given is unknown or revoked"},
}

CSV_RESPONSE: dict[str, Any] = {
    "content": {
        "text/csv": {"schema": {"type": "string"}},
        "application/xml": {"schema": {"type": "string"}},
        "text/plain": {"schema": {"type": "string"}},
    },
}
