"""Provenance: who said what (sources), where (documents), and what they asserted (claims)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from app.core.names import FOLDED_NAME_LENGTH, fold_name
from app.models.base import Base, JSONType, Timestamped
from app.models.vocab import ClaimGrade, ClaimKind, ClaimStance, SourceKind, check_in

if TYPE_CHECKING:
    from app.models.events import CasualtyFigure


class Source(Timestamped, Base):
    """An organisation or person that reports or asserts facts (AFP, SOHR, a spokesman)."""

    __tablename__ = "sources"
    __table_args__ = (check_in("kind", SourceKind),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    # fold_name(name), set with the name: lookups by name and the unique index use it.
    name_key: Mapped[str] = mapped_column(String(FOLDED_NAME_LENGTH), unique=True, index=True)
    kind: Mapped[str] = mapped_column(String(32))
    country_code: Mapped[str | None] = mapped_column(String(2))
    # A person speaks for an organisation (Rami Abdel Rahman -> SOHR; John Kirby -> State Dept).
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("sources.id", ondelete="SET NULL"), index=True
    )
    description: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(String(1000))

    parent: Mapped[Source | None] = relationship(remote_side=[id], lazy="raise")

    @validates("name")
    def _fold_name(self, _key: str, name: str) -> str:
        self.name_key = fold_name(name)
        return name


class Document(Timestamped, Base):
    """A published report that carries claims (the wire story, a dataset row's source)."""

    __tablename__ = "documents"
    __table_args__ = (UniqueConstraint("title", "published_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(500))
    publisher_id: Mapped[int | None] = mapped_column(
        ForeignKey("sources.id", ondelete="SET NULL"), index=True
    )
    published_on: Mapped[dt.date | None] = mapped_column(Date)
    url: Mapped[str | None] = mapped_column(String(1000))
    language: Mapped[str | None] = mapped_column(String(8))

    publisher: Mapped[Source | None] = relationship(lazy="raise")


class Claim(Timestamped, Base):
    """One source's assertion about an event or a campaign, kept beside any that disagree."""

    __tablename__ = "claims"
    __table_args__ = (
        check_in("kind", ClaimKind),
        check_in("stance", ClaimStance),
        CheckConstraint(
            "grade IS NULL OR grade IN ('confirmed', 'fair', 'weak', 'contested', 'discounted')",
            name="grade_allowed",
        ),
        CheckConstraint(
            "event_id IS NOT NULL OR campaign_id IS NOT NULL", name="about_event_or_campaign"
        ),
        Index("ix_claims_source_id_event_id", "source_id", "event_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), index=True
    )
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), index=True
    )
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="RESTRICT"))
    # The outlet that relayed the source's words ("a military source told AFP").
    via_source_id: Mapped[int | None] = mapped_column(
        ForeignKey("sources.id", ondelete="SET NULL"), index=True
    )
    document_id: Mapped[int | None] = mapped_column(
        ForeignKey("documents.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    stance: Mapped[str] = mapped_column(String(16), default="asserts")
    grade: Mapped[str | None] = mapped_column(String(16))
    # What the claim asserts, normalized; `quote` keeps the source's own words.
    assertion: Mapped[str] = mapped_column(Text)
    quote: Mapped[str | None] = mapped_column(Text)
    claimed_on: Mapped[dt.date | None] = mapped_column(Date)
    # Another claim this one contradicts (Washington's 90% against Moscow's "terrorists").
    disputes_claim_id: Mapped[int | None] = mapped_column(
        ForeignKey("claims.id", ondelete="SET NULL"), index=True
    )
    # Structured specifics of the assertion (target groups, shares), for queries and exports.
    attributes: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    # Rises by one per committed change of the claim or of the figures it carries.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    source: Mapped[Source] = relationship(foreign_keys=[source_id], lazy="raise")
    via_source: Mapped[Source | None] = relationship(foreign_keys=[via_source_id], lazy="raise")
    document: Mapped[Document | None] = relationship(lazy="raise")
    # The casualty figures this claim gives (they belong to its event; see CasualtyFigure).
    casualties: Mapped[list[CasualtyFigure]] = relationship(
        lazy="raise",
        order_by="CasualtyFigure.id",
        primaryjoin="CasualtyFigure.claim_id == Claim.id",
        foreign_keys="CasualtyFigure.claim_id",
        viewonly=True,
    )


__all__ = ["Claim", "ClaimGrade", "Document", "Source"]
