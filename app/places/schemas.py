"""Places in and out."""

from __future__ import annotations

import datetime as dt
from typing import Self

from pydantic import BaseModel, Field, field_validator, model_validator

from app.core.rest import DbId, NameStr, PageQuery, SearchText
from app.core.schemas import CountryCode, Ref, StrictModel, validate_country
from app.models.vocab import PlaceKind

Latitude = Field(default=None, ge=-90, le=90)
Longitude = Field(default=None, ge=-180, le=180)
GeoPrecision = Field(
    default=None, ge=1, le=3, description="ACLED geo_precision: 1 the place, 2 near, 3 region."
)


class PlaceCreate(StrictModel):
    """A place; name, kind, country, admin1 and admin2 (ignoring case) identify it."""

    name: NameStr
    kind: PlaceKind
    country_code: CountryCode
    admin1: NameStr | None = None
    admin2: NameStr | None = None
    admin3: NameStr | None = None
    latitude: float | None = Latitude
    longitude: float | None = Longitude
    geo_precision: int | None = GeoPrecision
    parent_id: DbId | None = Field(default=None, description="The place this one lies in.")

    @field_validator("country_code")
    @classmethod
    def _iso(cls, value: str) -> str:
        return validate_country(value) or value

    @model_validator(mode="after")
    def _paired(self) -> Self:
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("latitude and longitude come together")
        return self


class PlacePatch(StrictModel):
    """Only the fields given change; a new parent moves the place with everything inside it."""

    name: NameStr | None = None
    kind: PlaceKind | None = None
    country_code: CountryCode | None = None
    admin1: NameStr | None = None
    admin2: NameStr | None = None
    admin3: NameStr | None = None
    latitude: float | None = Latitude
    longitude: float | None = Longitude
    geo_precision: int | None = GeoPrecision
    parent_id: DbId | None = None

    @field_validator("country_code")
    @classmethod
    def _iso(cls, value: str | None) -> str | None:
        return validate_country(value)

    @model_validator(mode="after")
    def _required_not_null(self) -> Self:
        for field in ("name", "kind", "country_code"):
            if field in self.model_fields_set and getattr(self, field) is None:
                raise ValueError(f"{field} cannot be null")
        return self


class PlaceRead(BaseModel):
    id: int
    name: str
    kind: str
    country_code: str
    admin1: str | None
    admin2: str | None
    admin3: str | None
    latitude: float | None
    longitude: float | None
    geo_precision: int | None
    admin1_code: str | None = Field(
        None, description="The gazetteer's admin-1 unit (ISO 3166-2), from admin1 or the point."
    )
    parent: Ref | None
    ancestors: list[Ref] = Field(description="The places this one lies in, outermost first.")
    created_at: dt.datetime
    updated_at: dt.datetime


class PlaceQuery(PageQuery):
    country_code: list[CountryCode] = Field(default_factory=list, max_length=100)
    admin1: list[NameStr] = Field(default_factory=list, max_length=100)
    kind: list[PlaceKind] = Field(default_factory=list, max_length=20)
    q: SearchText | None = Field(default=None, description="Part of the name, ignoring case.")
    within: DbId | None = Field(
        default=None, description="Only places inside this place, at any depth."
    )

    @field_validator("country_code")
    @classmethod
    def _isos(cls, values: list[str]) -> list[str]:
        return [validate_country(v) or v for v in values]
