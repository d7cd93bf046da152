"""Places, nested: a village lies in a plain, which lies in a province, in a country."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.names import FOLDED_NAME_LENGTH
from app.models.base import Base, Timestamped
from app.models.vocab import PlaceKind, check_in


class Place(Timestamped, Base):
    __tablename__ = "places"
    __table_args__ = (
        check_in("kind", PlaceKind),
        CheckConstraint("latitude IS NULL OR latitude BETWEEN -90 AND 90", name="latitude_range"),
        CheckConstraint(
            "longitude IS NULL OR longitude BETWEEN -180 AND 180", name="longitude_range"
        ),
        CheckConstraint("(latitude IS NULL) = (longitude IS NULL)", name="coordinates_paired"),
        CheckConstraint("geo_precision IS NULL OR geo_precision BETWEEN 1 AND 3", name="geo_prec"),
        CheckConstraint("length(country_code) = 2", name="country_iso2"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(32))
    country_code: Mapped[str] = mapped_column(String(2), index=True)
    admin1: Mapped[str | None] = mapped_column(String(255), index=True)
    admin2: Mapped[str | None] = mapped_column(String(255), index=True)
    admin3: Mapped[str | None] = mapped_column(String(255))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    # ACLED geo_precision: 1 the place itself, 2 near it, 3 only the larger region.
    geo_precision: Mapped[int | None] = mapped_column(Integer)
    # The gazetteer's admin-1 unit the place lies in (app/gazetteer): from its admin1 name,
    # else from its coordinates; None when neither says. No foreign key (adding one would
    # rebuild the table on SQLite): only the gazetteer sets it, and its units are never deleted.
    admin1_code: Mapped[str | None] = mapped_column(String(16), index=True)
    # admin2 as the datasets spell it, by its loosest key (app/gazetteer/names.py:loose_key).
    admin2_key: Mapped[str | None] = mapped_column(String(FOLDED_NAME_LENGTH), index=True)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("places.id", ondelete="RESTRICT"), index=True
    )
    # Materialized path of ids ("/3/7/12/"): "places inside X" is a prefix match on an index.
    path: Mapped[str] = mapped_column(String(512), index=True, default="")
    # Case-folded "name|kind|country|admin1|admin2": the natural key that deduplicates places.
    natural_key: Mapped[str] = mapped_column(String(1100), unique=True)

    parent: Mapped[Place | None] = relationship(remote_side=[id], lazy="raise")
