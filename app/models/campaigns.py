"""Campaigns group events (the Russian air campaign, an announced offensive)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from app.core.names import FOLDED_NAME_LENGTH, fold_name
from app.models.actors import Actor
from app.models.base import Base, Timestamped
from app.models.events import Event
from app.models.sources import Claim


class Campaign(Timestamped, Base):
    __tablename__ = "campaigns"
    __table_args__ = (
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="dates_ordered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    # fold_name(name), set with the name: lookups by name and the unique index use it.
    name_key: Mapped[str] = mapped_column(String(FOLDED_NAME_LENGTH), unique=True, index=True)
    description: Mapped[str | None] = mapped_column(Text)
    start_date: Mapped[dt.date | None] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    initiator_actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("actors.id", ondelete="SET NULL")
    )

    initiator: Mapped[Actor | None] = relationship(lazy="raise")
    events: Mapped[list[Event]] = relationship(
        secondary="campaign_events", back_populates="campaigns", lazy="raise"
    )
    claims: Mapped[list[Claim]] = relationship(
        lazy="raise", order_by="Claim.id", primaryjoin="Claim.campaign_id == Campaign.id"
    )

    @validates("name")
    def _fold_name(self, _key: str, name: str) -> str:
        self.name_key = fold_name(name)
        return name
