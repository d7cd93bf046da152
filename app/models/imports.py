"""Import jobs: an upload's status, counts and report, readable while it runs."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, JSONType, UTCDateTime, utcnow
from app.models.vocab import check_in

ImportStatus = Literal["queued", "running", "succeeded", "failed"]


class ImportJob(Base):
    __tablename__ = "import_jobs"
    __table_args__ = (
        check_in("status", ImportStatus),
        Index("ix_import_jobs_created_at_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    format: Mapped[str] = mapped_column(String(32))
    dataset: Mapped[str | None] = mapped_column(String(32))
    filename: Mapped[str | None] = mapped_column(String(255))
    size_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    partial: Mapped[bool] = mapped_column(Boolean, default=False)
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id", ondelete="SET NULL"))
    # Progress while running (rows parsed), then the outcome counts.
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    inserted: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    deleted: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    warnings: Mapped[int] = mapped_column(Integer, default=0)
    # The report: rejects and warnings ({line, column, value, reason}), capped in length.
    report: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The process that runs the job, "host:pid:start" (app.imports.recovery.current_worker), and
    # the upload's temporary file: a job left running by a killed server is found at the next
    # start, failed, and its file removed. Both private: never in the API's job shape.
    worker: Mapped[str | None] = mapped_column(String(255))
    upload_path: Mapped[str | None] = mapped_column(Text)
