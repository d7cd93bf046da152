"""Links between events of different datasets that describe one incident, and incidents.

A link is proposed by the matcher (app/links/matching.py) with a score and the score's parts;
an analyst confirms or rejects it. Each pair is stored once (lower event id first), also by the
events' natural keys (dataset/external_id), so that a decision outlives the event rows: a
rejected pair is never proposed again, whether the events are re-imported, deleted and loaded
again, or the matcher is re-run.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from sqlalchemy import (
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, JSONType, Timestamped, UTCDateTime
from app.models.vocab import check_in

LinkStatus = Literal["proposed", "confirmed", "rejected"]


class EventLink(Timestamped, Base):
    """Two events (of different datasets) the matcher or an analyst says are one incident."""

    __tablename__ = "event_links"
    __table_args__ = (
        UniqueConstraint("key_a", "key_b"),
        check_in("status", LinkStatus),
        CheckConstraint("score >= 0 AND score <= 1", name="score_unit"),
        Index("ix_event_links_status_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The two events, lower id first; NULL once an event is deleted (the keys stay).
    event_a_id: Mapped[int | None] = mapped_column(
        ForeignKey("events.id", ondelete="SET NULL"), index=True
    )
    event_b_id: Mapped[int | None] = mapped_column(
        ForeignKey("events.id", ondelete="SET NULL"), index=True
    )
    # Natural keys "dataset/external_id" of the two events, in the order of the ids above.
    key_a: Mapped[str] = mapped_column(String(100))
    key_b: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16), default="proposed")
    score: Mapped[float] = mapped_column(Float)
    # The score's parts (space, time, type, actors, ...) and the parameters they were taken with.
    components: Mapped[dict[str, Any]] = mapped_column(JSONType)
    method: Mapped[str] = mapped_column(String(32), default="meltt")
    note: Mapped[str | None] = mapped_column(Text)
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class EventLinkChange(Base):
    """Each status change of a link: who, when, from what to what."""

    __tablename__ = "event_link_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    link_id: Mapped[int] = mapped_column(
        ForeignKey("event_links.id", ondelete="CASCADE"), index=True
    )
    status_from: Mapped[str] = mapped_column(String(16))
    status_to: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id", ondelete="SET NULL"))
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class IncidentMember(Base):
    """An event in an incident of two or more events joined by confirmed links.

    `incident_id` is the lowest event id of the incident; an event not listed here is an
    incident of its own (its id). Kept by app/links/incidents.py whenever a link's status
    changes.
    """

    __tablename__ = "incident_members"

    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    incident_id: Mapped[int] = mapped_column(Integer, index=True)


__all__ = ["EventLink", "EventLinkChange", "IncidentMember", "LinkStatus"]
