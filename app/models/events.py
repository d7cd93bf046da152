"""Events and what hangs off them: actors in roles, tags, figures, territory, materiel, airspace."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.actors import Actor
from app.models.base import Base, JSONType, Timestamped
from app.models.places import Place
from app.models.sources import Claim
from app.models.taxonomy import SubEventType
from app.models.vocab import (
    ActorRole,
    CasualtyGroup,
    CasualtyOutcome,
    DatePrecision,
    MaterielOutcome,
    RoleStatus,
    check_in,
)

if TYPE_CHECKING:
    from app.models.campaigns import Campaign


def bounds_checks(prefix: str) -> tuple[CheckConstraint, ...]:
    """low <= best <= high, none negative; any of the three may be unknown (NULL)."""
    low, best, high = f"{prefix}_low", f"{prefix}_best", f"{prefix}_high"
    return (
        CheckConstraint(
            f"({low} IS NULL OR {low} >= 0) AND ({best} IS NULL OR {best} >= 0) "
            f"AND ({high} IS NULL OR {high} >= 0)",
            name=f"{prefix}_non_negative",
        ),
        CheckConstraint(
            f"({low} IS NULL OR {best} IS NULL OR {low} <= {best}) "
            f"AND ({best} IS NULL OR {high} IS NULL OR {best} <= {high}) "
            f"AND ({low} IS NULL OR {high} IS NULL OR {low} <= {high})",
            name=f"{prefix}_ordered",
        ),
    )


class Event(Timestamped, Base):
    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("dataset", "external_id"),
        check_in("date_precision", DatePrecision),
        CheckConstraint("date_end >= date_start", name="date_range_ordered"),
        CheckConstraint("geo_precision IS NULL OR geo_precision BETWEEN 1 AND 3", name="geo_prec"),
        *bounds_checks("fatalities"),
        Index("ix_events_date_start_id", "date_start", "id"),
        Index("ix_events_updated_at_id", "updated_at", "id"),
        Index("ix_events_fatalities_best_id", "fatalities_best", "id"),
        Index("ix_events_change_seq_id", "change_seq", "id"),
        Index(
            "ix_events_type_of_violence",
            "type_of_violence",
            postgresql_where=text("type_of_violence IS NOT NULL"),
            sqlite_where=text("type_of_violence IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Natural key: the dataset the event comes from and its id there (ACLED event_id_cnty, ...).
    dataset: Mapped[str] = mapped_column(String(32), default="conflictdb")
    external_id: Mapped[str] = mapped_column(String(64))
    # A day is date_start == date_end; a week or a month spans it; "range" is an explicit span.
    date_start: Mapped[dt.date] = mapped_column(Date)
    date_end: Mapped[dt.date] = mapped_column(Date)
    date_precision: Mapped[str] = mapped_column(String(8), default="day")
    sub_event_type_code: Mapped[str] = mapped_column(ForeignKey("sub_event_types.code"), index=True)
    # Indexed by ix_events_place_date_cover (migrations 0004, 0006), which starts with it.
    place_id: Mapped[int | None] = mapped_column(ForeignKey("places.id", ondelete="RESTRICT"))
    geo_precision: Mapped[int | None] = mapped_column(Integer)
    summary: Mapped[str] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    civilian_targeting: Mapped[bool] = mapped_column(Boolean, default=False)
    # The event's fatality estimate (UCDP low/best/high; ACLED's single figure is `best`).
    fatalities_low: Mapped[int | None] = mapped_column(Integer)
    fatalities_best: Mapped[int | None] = mapped_column(Integer)
    fatalities_high: Mapped[int | None] = mapped_column(Integer)
    # UCDP's own coding (also in extras): type_of_violence 1 state-based, 2 non-state,
    # 3 one-sided; its conflict and dyad ids. None for other datasets.
    # Indexed only where set (ix_events_type_of_violence, migration 0013): the ACLED API's
    # "ACLED-coded rows" test (IS NULL) must not walk an index of every other event.
    type_of_violence: Mapped[int | None] = mapped_column(Integer)
    conflict_id: Mapped[int | None] = mapped_column(Integer, index=True)
    dyad_id: Mapped[int | None] = mapped_column(Integer, index=True)
    # Dataset-specific fields kept for a lossless round trip (UCDP ids, ACLED source_scale).
    extras: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    # Rises by exactly one per committed change of the event or of anything it owns.
    version: Mapped[int] = mapped_column(Integer, default=1)
    # Position in the change feed of the transaction that last changed it (app/changes).
    change_seq: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # Digest of the imported row (see app/imports): a re-import of unchanged data writes nothing.
    content_hash: Mapped[str | None] = mapped_column(String(32))

    sub_event_type: Mapped[SubEventType] = relationship(lazy="raise")
    place: Mapped[Place | None] = relationship(lazy="raise")
    actors: Mapped[list[EventActor]] = relationship(
        back_populates="event",
        cascade="all, delete-orphan",
        passive_deletes=True,
        lazy="raise",
        order_by="EventActor.id",
    )
    tags: Mapped[list[EventTag]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, lazy="raise", order_by="EventTag.tag"
    )
    claims: Mapped[list[Claim]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, lazy="raise", order_by="Claim.id"
    )
    casualties: Mapped[list[CasualtyFigure]] = relationship(
        cascade="all, delete-orphan",
        passive_deletes=True,
        lazy="raise",
        order_by="CasualtyFigure.id",
    )
    territory_changes: Mapped[list[TerritoryChange]] = relationship(
        cascade="all, delete-orphan",
        passive_deletes=True,
        lazy="raise",
        order_by="TerritoryChange.id",
    )
    materiel_losses: Mapped[list[MaterielLoss]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, lazy="raise", order_by="MaterielLoss.id"
    )
    airspace_violations: Mapped[list[AirspaceViolation]] = relationship(
        cascade="all, delete-orphan",
        passive_deletes=True,
        lazy="raise",
        order_by="AirspaceViolation.id",
    )
    campaigns: Mapped[list[Campaign]] = relationship(
        secondary="campaign_events", back_populates="events", lazy="raise"
    )


class EventActor(Base):
    """An actor in a role in an event; several per role; the role may be possible or disputed."""

    __tablename__ = "event_actors"
    __table_args__ = (
        UniqueConstraint("event_id", "actor_id", "role"),
        check_in("role", ActorRole),
        check_in("status", RoleStatus),
        Index("ix_event_actors_actor_id_role", "actor_id", "role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="RESTRICT"))
    role: Mapped[str] = mapped_column(String(24))
    status: Mapped[str] = mapped_column(String(16), default="confirmed")
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("claims.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(Text)

    event: Mapped[Event] = relationship(back_populates="actors", lazy="raise")
    actor: Mapped[Actor] = relationship(lazy="raise")


class EventTag(Base):
    __tablename__ = "event_tags"

    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(128), primary_key=True, index=True)


class CasualtyFigure(Base):
    """A casualty count for one side or category, as one claim gives it."""

    __tablename__ = "casualty_figures"
    __table_args__ = (
        check_in("outcome", CasualtyOutcome),
        check_in("casualty_group", CasualtyGroup),
        *bounds_checks("count"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    claim_id: Mapped[int | None] = mapped_column(
        ForeignKey("claims.id", ondelete="SET NULL"), index=True
    )
    outcome: Mapped[str] = mapped_column(String(16))
    casualty_group: Mapped[str] = mapped_column(String(24))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("actors.id", ondelete="SET NULL"))
    count_low: Mapped[int | None] = mapped_column(Integer)
    count_best: Mapped[int | None] = mapped_column(Integer)
    count_high: Mapped[int | None] = mapped_column(Integer)
    # The source's own words: "at least 13", "several".
    qualifier: Mapped[str | None] = mapped_column(String(255))

    actor: Mapped[Actor | None] = relationship(lazy="raise")


class TerritoryChange(Base):
    """Ground taken: a named place, or a count of unnamed ones ("around a dozen villages")."""

    __tablename__ = "territory_changes"
    __table_args__ = (
        *bounds_checks("count"),
        CheckConstraint(
            "place_id IS NOT NULL OR count_best IS NOT NULL OR count_low IS NOT NULL",
            name="place_or_count",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("claims.id", ondelete="SET NULL"))
    place_id: Mapped[int | None] = mapped_column(ForeignKey("places.id", ondelete="RESTRICT"))
    place_kind: Mapped[str | None] = mapped_column(String(32))
    gained_by_actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("actors.id", ondelete="SET NULL")
    )
    lost_by_actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("actors.id", ondelete="SET NULL")
    )
    # Share of the place taken, when partial ("most of the hilly region"): a qualifier.
    count_low: Mapped[int | None] = mapped_column(Integer)
    count_best: Mapped[int | None] = mapped_column(Integer)
    count_high: Mapped[int | None] = mapped_column(Integer)
    qualifier: Mapped[str | None] = mapped_column(String(255))

    place: Mapped[Place | None] = relationship(lazy="raise")
    gained_by: Mapped[Actor | None] = relationship(foreign_keys=[gained_by_actor_id], lazy="raise")
    lost_by: Mapped[Actor | None] = relationship(foreign_keys=[lost_by_actor_id], lazy="raise")


class MaterielLoss(Base):
    """Equipment destroyed, damaged or shot down: four armored vehicles, a helicopter, depots."""

    __tablename__ = "materiel_losses"
    __table_args__ = (check_in("outcome", MaterielOutcome), *bounds_checks("quantity"))

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("claims.id", ondelete="SET NULL"))
    # Whose equipment; NULL when unknown (a helicopter "Syrian or Russian").
    owner_actor_id: Mapped[int | None] = mapped_column(ForeignKey("actors.id", ondelete="SET NULL"))
    item: Mapped[str] = mapped_column(String(128))
    outcome: Mapped[str] = mapped_column(String(16))
    quantity_low: Mapped[int | None] = mapped_column(Integer)
    quantity_best: Mapped[int | None] = mapped_column(Integer)
    quantity_high: Mapped[int | None] = mapped_column(Integer)
    qualifier: Mapped[str | None] = mapped_column(String(255))

    owner: Mapped[Actor | None] = relationship(lazy="raise")


class AirspaceViolation(Base):
    __tablename__ = "airspace_violations"
    __table_args__ = (
        *bounds_checks("count"),
        CheckConstraint("length(violated_country_code) = 2", name="country_iso2"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("claims.id", ondelete="SET NULL"))
    violating_actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("actors.id", ondelete="SET NULL")
    )
    violated_country_code: Mapped[str] = mapped_column(String(2))
    count_low: Mapped[int | None] = mapped_column(Integer)
    count_best: Mapped[int | None] = mapped_column(Integer)
    count_high: Mapped[int | None] = mapped_column(Integer)
    qualifier: Mapped[str | None] = mapped_column(String(255))

    violating_actor: Mapped[Actor | None] = relationship(lazy="raise")


campaign_events = Table(
    "campaign_events",
    Base.metadata,
    Column("campaign_id", ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True),
    Column("event_id", ForeignKey("events.id", ondelete="CASCADE"), primary_key=True, index=True),
)
