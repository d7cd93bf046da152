"""What changed and what was deleted: revisions for traceability, tombstones for sync."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, JSONType, UTCDateTime, utcnow
from app.models.vocab import check_in

RevisionOperation = Literal["create", "update", "delete", "import"]


class EventTombstone(Base):
    """A deleted event, kept so that clients syncing by `since` learn of the deletion."""

    __tablename__ = "event_tombstones"
    __table_args__ = (
        Index("ix_event_tombstones_deleted_at_id", "deleted_at", "id"),
        UniqueConstraint("dataset", "external_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(Integer, index=True)
    dataset: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(64))
    deleted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reason: Mapped[str | None] = mapped_column(String(255))


class EventRevision(Base):
    """One row per change to an event through the API: who, when, and the event as it became."""

    __tablename__ = "event_revisions"
    __table_args__ = (
        check_in("operation", RevisionOperation),
        Index("ix_event_revisions_event_id_version", "event_id", "version"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer)
    operation: Mapped[str] = mapped_column(String(16))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id", ondelete="SET NULL"))
    snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
