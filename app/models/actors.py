"""Actors, their aliases and affiliations."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from app.core.names import FOLDED_NAME_LENGTH, fold_name
from app.models.base import Base, Timestamped


class Actor(Timestamped, Base):
    __tablename__ = "actors"
    __table_args__ = (
        CheckConstraint("actor_type BETWEEN 1 AND 8", name="actor_type_range"),
        CheckConstraint("country_code IS NULL OR length(country_code) = 2", name="country_iso2"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    # fold_name(name), set with the name: lookups by name and the unique index use it.
    name_key: Mapped[str] = mapped_column(String(FOLDED_NAME_LENGTH), unique=True, index=True)
    # ACLED's inter code: 1 state forces .. 8 external/other forces.
    actor_type: Mapped[int] = mapped_column(Integer)
    country_code: Mapped[str | None] = mapped_column(String(2), index=True)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("actors.id", ondelete="SET NULL"), index=True
    )
    # How this actor relates to its parent ("Syrian affiliate", "armed wing").
    affiliation: Mapped[str | None] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)

    aliases: Mapped[list[ActorAlias]] = relationship(
        back_populates="actor", cascade="all, delete-orphan", lazy="raise", order_by="ActorAlias.id"
    )
    parent: Mapped[Actor | None] = relationship(remote_side=[id], lazy="raise")

    @validates("name")
    def _fold_name(self, _key: str, name: str) -> str:
        self.name_key = fold_name(name)
        return name


class ActorAlias(Base):
    """Another name for an actor; `alias_key` (fold_name) is unique across all actors."""

    __tablename__ = "actor_aliases"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), index=True)
    alias: Mapped[str] = mapped_column(String(255))
    alias_key: Mapped[str] = mapped_column(String(FOLDED_NAME_LENGTH), unique=True)

    actor: Mapped[Actor] = relationship(back_populates="aliases", lazy="raise")

    @validates("alias")
    def _fold_alias(self, _key: str, alias: str) -> str:
        self.alias_key = fold_name(alias)
        return alias


class ActorNameKey(Base):
    """Every folded name an actor answers to, its name's and its aliases': one key space.

    The primary key is what stops one actor's name from being another's alias (the unique
    indexes on actors.name_key and actor_aliases.alias_key each see only their own table).
    The database keeps the rows, by triggers on `actors` and `actor_aliases` (migration 0009):
    no code writes here, so no writer can forget to. Lookups by name or alias read it.
    """

    __tablename__ = "actor_name_keys"

    name_key: Mapped[str] = mapped_column(String(FOLDED_NAME_LENGTH), primary_key=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), index=True)
