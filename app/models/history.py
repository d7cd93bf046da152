"""What changed and what was deleted: revisions for traceability, tombstones for sync."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, JSONType, UTCDateTime, utcnow
from app.models.vocab import check_in

RevisionOperation = Literal["create", "update", "delete", "import"]


class EventTombstone(Base):
    """A deleted event, kept so that syncing clients learn of the deletion.

    One per deleted event id, never removed: a key deleted, created again and deleted again has
    two, so a client that held the first id still learns that it went. ACLED's /deleted/read
    shows a key's latest tombstone, and none while the key is live again.
    """

    __tablename__ = "event_tombstones"
    __table_args__ = (
        Index("ix_event_tombstones_deleted_at_id", "deleted_at", "id"),
        Index("ix_event_tombstones_change_seq_id", "change_seq", "id"),
        Index("ix_event_tombstones_dataset_external_id", "dataset", "external_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(Integer, index=True, unique=True)
    dataset: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(64))
    deleted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reason: Mapped[str | None] = mapped_column(String(255))
    change_seq: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class ChangeCounter(Base):
    """SQLite's change sequence: one row, bumped by each writing transaction (app/changes).

    SQLite has one writer at a time, so the order of these numbers is the commit order.
    PostgreSQL uses the writing transaction's id instead and does not read this table.
    """

    __tablename__ = "change_counter"

    id: Mapped[int] = mapped_column(primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class EventRevision(Base):
    """One row per change to an event through the API: who, when, and the event as it became."""

    __tablename__ = "event_revisions"
    __table_args__ = (
        check_in("operation", RevisionOperation),
        # One revision per version of an event.
        Index("ix_event_revisions_event_id_version", "event_id", "version", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer)
    operation: Mapped[str] = mapped_column(String(16))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id", ondelete="SET NULL"))
    snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
