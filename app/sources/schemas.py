"""Sources and documents in and out."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from app.core.rest import DbId, LongText, NameStr, PageQuery, SearchText, Url, no_nul
from app.core.schemas import CountryCode, Ref, StrictModel, validate_country
from app.models.vocab import SourceKind

Title = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=500),
    AfterValidator(no_nul),
]
Language = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,4})?$")
]


class SourceRef(BaseModel):
    """A short reference to a source."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    kind: str


class SourceCreate(StrictModel):
    name: NameStr = Field(description="Unique, ignoring case.")
    kind: SourceKind
    country_code: CountryCode | None = None
    parent_id: DbId | None = Field(
        default=None, description="The organisation a person speaks for."
    )
    description: LongText | None = None
    url: Url | None = None

    @field_validator("country_code")
    @classmethod
    def _iso(cls, value: str | None) -> str | None:
        return validate_country(value)


class SourcePatch(StrictModel):
    """Only the fields given change; null clears an optional field."""

    name: NameStr | None = None
    kind: SourceKind | None = None
    country_code: CountryCode | None = None
    parent_id: DbId | None = None
    description: LongText | None = None
    url: Url | None = None

    @field_validator("country_code")
    @classmethod
    def _iso(cls, value: str | None) -> str | None:
        return validate_country(value)

    @model_validator(mode="after")
    def _required_not_null(self) -> Self:
        for field in ("name", "kind"):
            if field in self.model_fields_set and getattr(self, field) is None:
                raise ValueError(f"{field} cannot be null")
        return self


class SourceRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    kind: str
    country_code: str | None
    parent: Ref | None
    description: str | None
    url: str | None
    created_at: dt.datetime
    updated_at: dt.datetime


class SourceQuery(PageQuery):
    q: SearchText | None = Field(default=None, description="Part of the name, ignoring case.")
    kind: list[SourceKind] = Field(default_factory=list, max_length=20)
    country_code: list[CountryCode] = Field(default_factory=list, max_length=100)
    parent_id: DbId | None = None

    @field_validator("country_code")
    @classmethod
    def _isos(cls, values: list[str]) -> list[str]:
        return [validate_country(v) or v for v in values]


class DocumentCreate(StrictModel):
    """A published report; title and publication date together are unique."""

    title: Title
    publisher_id: DbId | None = None
    published_on: dt.date | None = None
    url: Url | None = None
    language: Language | None = Field(default=None, description="BCP 47 tag: en, ar, pt-BR.")


class DocumentPatch(StrictModel):
    """Only the fields given change; null clears an optional field."""

    title: Title | None = None
    publisher_id: DbId | None = None
    published_on: dt.date | None = None
    url: Url | None = None
    language: Language | None = None

    @model_validator(mode="after")
    def _title_not_null(self) -> Self:
        if "title" in self.model_fields_set and self.title is None:
            raise ValueError("title cannot be null")
        return self


class DocumentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    publisher: SourceRef | None
    published_on: dt.date | None
    url: str | None
    language: str | None
    created_at: dt.datetime
    updated_at: dt.datetime


class DocumentQuery(PageQuery):
    q: SearchText | None = Field(default=None, description="Part of the title, ignoring case.")
    publisher_id: list[DbId] = Field(default_factory=list, max_length=100)
    date_from: dt.date | None = Field(default=None, description="Published on or after.")
    date_to: dt.date | None = Field(default=None, description="Published on or before.")
