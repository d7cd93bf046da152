"""ACLED's disorder / event / sub-event taxonomy, extended with what the reports need."""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base


class EventType(Base):
    __tablename__ = "event_types"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)

    sub_event_types: Mapped[list[SubEventType]] = relationship(
        back_populates="event_type", lazy="raise"
    )


class SubEventType(Base):
    """A sub-event type; ours that ACLED lacks map onto the nearest ACLED pair for exports."""

    __tablename__ = "sub_event_types"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    event_type_code: Mapped[str] = mapped_column(ForeignKey("event_types.code"), index=True)
    disorder_type: Mapped[str] = mapped_column(String(128))
    is_acled: Mapped[bool] = mapped_column(Boolean, default=True)
    acled_event_type: Mapped[str] = mapped_column(String(128))
    acled_sub_event_type: Mapped[str] = mapped_column(String(128))
    description: Mapped[str | None] = mapped_column(String(500))

    event_type: Mapped[EventType] = relationship(back_populates="sub_event_types", lazy="raise")
