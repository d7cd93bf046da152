"""ACLED's response shapes (for the OpenAPI document) and its small reference vocabularies."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


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
