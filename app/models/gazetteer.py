"""The gazetteer: administrative units by ISO 3166-2 code, and every spelling that names one."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.names import FOLDED_NAME_LENGTH
from app.models.base import Base


class AdminUnit(Base):
    """An admin-1 unit (a governorate, province, state), known by its ISO 3166-2 code.

    Reference data: loaded from `app/geodata/admin1.json.gz` (Natural Earth) by `conflictdb
    migrate` (`app/gazetteer/service.py:load_gazetteer`); the outlines stay in that file.
    """

    __tablename__ = "admin_units"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    country_code: Mapped[str] = mapped_column(String(2), index=True)
    level: Mapped[int] = mapped_column(Integer, default=1)
    name: Mapped[str] = mapped_column(String(255))
    unit_type: Mapped[str | None] = mapped_column(String(64))


class AdminUnitName(Base):
    """A key (`app/gazetteer/names.py:name_keys`) that names one unit within its country.

    `source` is "natural_earth" for the shipped spellings, or the dataset an import learned a
    spelling from (an admin1 name its rows' coordinates place in one unit).
    """

    __tablename__ = "admin_unit_names"

    country_code: Mapped[str] = mapped_column(String(2), primary_key=True)
    name_key: Mapped[str] = mapped_column(String(FOLDED_NAME_LENGTH), primary_key=True)
    unit_code: Mapped[str] = mapped_column(
        ForeignKey("admin_units.code", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(String(32))
    # Lower is surer: the unit's own name, then its other spellings, then looser keys.
    rank: Mapped[int] = mapped_column(Integer, default=0)
