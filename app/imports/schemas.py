"""Import jobs out (the upload itself is a multipart form: file, format, dataset, partial)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ProblemRead(BaseModel):
    line: int = Field(description="Physical line of the file where the record starts (1-based).")
    column: str = Field(description="Column (CSV) or field path (JSON) of the bad value.")
    value: str
    reason: str
    severity: str = Field(description="`reject` (the row was not loaded) or `warning`.")
    external_id: str | None = None


class ImportJobRead(BaseModel):
    """An import: queued, running, then succeeded (committed) or failed (nothing written).

    Not the job's worker (host, pid) nor its upload's path: those are private, for recovery.
    """

    model_config = ConfigDict(from_attributes=True)

    id: int
    status: str = Field(description="queued | running | succeeded | failed")
    format: str
    dataset: str | None
    filename: str | None
    size_bytes: int
    partial: bool
    rows_read: int = Field(description="Rows parsed so far (while running), then all rows.")
    inserted: int
    updated: int
    unchanged: int
    deleted: int
    rejected: int
    warnings: int
    rejects: list[ProblemRead] = Field(
        default_factory=list, description="The first 1,000 rejects, in file order."
    )
    warning_details: list[ProblemRead] = Field(
        default_factory=list, description="The first 1,000 warnings, in file order."
    )
    truncated: bool = Field(default=False, description="More problems than the lists hold.")
    error: str | None
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None

    @classmethod
    def of(cls, job: Any) -> ImportJobRead:
        report: dict[str, Any] = job.report or {}
        # Only this shape's own fields are read from the job (never worker or upload_path).
        return cls.model_validate(
            {
                **{k: getattr(job, k) for k in cls.model_fields if hasattr(job, k)},
                "rejects": report.get("rejects", []),
                "warning_details": report.get("warnings_list", []),
                "truncated": report.get("truncated", False),
            }
        )
