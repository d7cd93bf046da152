"""Actors in and out."""

from __future__ import annotations

import datetime as dt
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.core.rest import DbId, LongText, NameStr, PageQuery, SearchText
from app.core.schemas import CountryCode, Ref, StrictModel, validate_country
from app.models.vocab import ACTOR_TYPES

_TYPE_DOC = "ACLED inter code: 1 state forces .. 8 external/other forces."
_ALIASES_DOC = "Other names the actor goes by, unique across all actors ignoring case."


class ActorCreate(StrictModel):
    name: NameStr
    actor_type: int = Field(ge=1, le=8, description=_TYPE_DOC)
    country_code: CountryCode | None = None
    parent_id: DbId | None = Field(default=None, description="The actor this one belongs to.")
    affiliation: NameStr | None = Field(
        default=None, description="How it relates to the parent: 'Syrian affiliate'."
    )
    description: LongText | None = None
    aliases: list[NameStr] = Field(default_factory=list, max_length=100, description=_ALIASES_DOC)

    @field_validator("country_code")
    @classmethod
    def _iso(cls, value: str | None) -> str | None:
        return validate_country(value)


class ActorPatch(StrictModel):
    """Only the fields given change; `aliases` replaces the stored list; null clears a field."""

    name: NameStr | None = None
    actor_type: int | None = Field(default=None, ge=1, le=8, description=_TYPE_DOC)
    country_code: CountryCode | None = None
    parent_id: DbId | None = None
    affiliation: NameStr | None = None
    description: LongText | None = None
    aliases: list[NameStr] | None = Field(default=None, max_length=100, description=_ALIASES_DOC)

    @field_validator("country_code")
    @classmethod
    def _iso(cls, value: str | None) -> str | None:
        return validate_country(value)

    @model_validator(mode="after")
    def _required_not_null(self) -> Self:
        for field in ("name", "actor_type", "aliases"):
            if field in self.model_fields_set and getattr(self, field) is None:
                raise ValueError(f"{field} cannot be null")
        return self


class ActorRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    actor_type: int
    actor_type_name: str
    country_code: str | None
    parent: Ref | None
    affiliation: str | None
    description: str | None
    aliases: list[str]
    created_at: dt.datetime
    updated_at: dt.datetime

    @model_validator(mode="before")
    @classmethod
    def _from_entity(cls, data: Any) -> Any:
        # An ORM Actor: alias rows become strings, the type code gets its ACLED label.
        if isinstance(data, dict):
            return data
        return {
            "id": data.id,
            "name": data.name,
            "actor_type": data.actor_type,
            "actor_type_name": ACTOR_TYPES.get(data.actor_type, ""),
            "country_code": data.country_code,
            "parent": data.parent,
            "affiliation": data.affiliation,
            "description": data.description,
            "aliases": [a.alias for a in data.aliases],
            "created_at": data.created_at,
            "updated_at": data.updated_at,
        }


class ActorQuery(PageQuery):
    q: SearchText | None = Field(
        default=None, description="Part of the name or of any alias, ignoring case."
    )
    actor_type: list[int] = Field(default_factory=list, max_length=8)
    country_code: list[CountryCode] = Field(default_factory=list, max_length=100)
    parent_id: DbId | None = None

    @field_validator("actor_type")
    @classmethod
    def _types(cls, values: list[int]) -> list[int]:
        for v in values:
            if not 1 <= v <= 8:
                raise ValueError("actor types are 1..8")
        return values

    @field_validator("country_code")
    @classmethod
    def _isos(cls, values: list[str]) -> list[str]:
        return [validate_country(v) or v for v in values]


class ResolveQuery(StrictModel):
    name: NameStr = Field(description="A name or alias, matched ignoring case and extra spaces.")
