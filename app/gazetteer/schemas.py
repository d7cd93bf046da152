"""Admin-1 units in and out of the API."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.core.rest import NameStr
from app.core.schemas import CountryCode, StrictModel


class AdminUnitName(BaseModel):
    name: str = Field(description="A spelling, as its source writes it.")
    source: str = Field(description="natural_earth, or points (learned from the data's points).")


class AdminUnitRead(BaseModel):
    code: str = Field(description="ISO 3166-2 (Natural Earth's own code where ISO has none).")
    country_code: str
    level: int
    name: str
    unit_type: str | None
    names: list[AdminUnitName] = Field(
        description="Every spelling that names the unit within its country, shipped first."
    )


class ResolveQuery(StrictModel):
    name: NameStr = Field(description="A spelling of the unit, or its ISO 3166-2 code.")
    country: CountryCode | None = Field(None, description="Only units of this country.")


class ResolvedUnits(BaseModel):
    name: str
    units: list[AdminUnitRead] = Field(description="One unit per country the name names.")


class AdminUnitNameCreate(StrictModel):
    """A spelling that names the unit (a source's, an analyst's), added to the gazetteer."""

    name: NameStr = Field(description='e.g. "Damascus countryside" for SY-RD.')
