"""The seed files: one folder per report, read and validated before anything is written."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field, ValidationError, field_validator

from app.core.schemas import CountryCode, Name, StrictModel, Text, validate_country
from app.models.vocab import ClaimGrade, ClaimKind, ClaimStance, PlaceKind, SourceKind

FILE_NAMES = ("sources", "actors", "places", "documents", "campaigns", "events")


class SeedFileError(ValueError):
    """A seed file that cannot be read or does not validate."""


class _Country(StrictModel):
    country_code: CountryCode | None = None

    @field_validator("country_code")
    @classmethod
    def _iso(cls, v: str | None) -> str | None:
        return validate_country(v)


class SourceSeed(_Country):
    name: Name
    kind: SourceKind
    parent: Name | None = None
    description: Text | None = None
    url: str | None = Field(default=None, max_length=1000)


class ActorSeed(_Country):
    name: Name
    actor_type: int = Field(ge=1, le=8)
    parent: Name | None = None
    affiliation: Name | None = None
    description: Text | None = None
    aliases: list[Name] = Field(default_factory=list)


class PlaceSeed(StrictModel):
    key: Name
    name: Name
    kind: PlaceKind
    country_code: CountryCode
    admin1: Name | None = None
    admin2: Name | None = None
    admin3: Name | None = None
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    geo_precision: int | None = Field(default=None, ge=1, le=3)
    parent: Name | None = None

    @field_validator("country_code")
    @classmethod
    def _iso(cls, v: str) -> str:
        return validate_country(v) or v


class DocumentSeed(StrictModel):
    key: Name
    title: str = Field(min_length=1, max_length=500)
    published_on: dt.date | None = None
    publisher: Name | None = None
    url: str | None = Field(default=None, max_length=1000)
    language: str | None = Field(default=None, max_length=8)


class CampaignClaimSeed(StrictModel):
    ref: Name | None = None
    source: Name
    via_source: Name | None = None
    document: Name | None = None
    kind: ClaimKind
    stance: ClaimStance = "asserts"
    grade: ClaimGrade | None = None
    assertion: Text = Field(min_length=1)
    quote: Text | None = None
    claimed_on: dt.date | None = None
    disputes_claim_ref: Name | None = None
    attributes: dict[str, Any] | None = None


class CampaignSeed(StrictModel):
    name: Name
    description: Text | None = None
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    initiator: Name | None = None
    claims: list[CampaignClaimSeed] = Field(default_factory=list)


@dataclass
class SeedFolder:
    """One folder of seed files (usually one report)."""

    path: Path
    sources: list[SourceSeed] = field(default_factory=list)
    actors: list[ActorSeed] = field(default_factory=list)
    places: list[PlaceSeed] = field(default_factory=list)
    documents: list[DocumentSeed] = field(default_factory=list)
    default_document: str | None = None
    campaigns: list[CampaignSeed] = field(default_factory=list)
    dataset: str | None = None
    # Events stay as mappings here: the loader resolves keys, then validates them as EventCreate.
    events: list[dict[str, Any]] = field(default_factory=list)


def _read(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise SeedFileError(f"{path}: not valid YAML: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SeedFileError(f"{path}: the top level must be a mapping")
    return data


def _items(path: Path, data: dict[str, Any], key: str) -> list[Any]:
    items = data.get(key, [])
    if not isinstance(items, list):
        raise SeedFileError(f"{path}: {key!r} must be a list")
    return items


def _validate(model: type[StrictModel], path: Path, i: int, raw: Any) -> Any:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise SeedFileError(f"{path}: item {i}: {exc}") from exc


def read_folder(folder: Path) -> SeedFolder:
    """Read and validate one folder's files; missing files are empty."""
    out = SeedFolder(path=folder)
    data = {name: _read(folder / f"{name}.yaml") for name in FILE_NAMES}
    p = {name: folder / f"{name}.yaml" for name in FILE_NAMES}
    out.sources = [
        _validate(SourceSeed, p["sources"], i, raw)
        for i, raw in enumerate(_items(p["sources"], data["sources"], "sources"))
    ]
    out.actors = [
        _validate(ActorSeed, p["actors"], i, raw)
        for i, raw in enumerate(_items(p["actors"], data["actors"], "actors"))
    ]
    out.places = [
        _validate(PlaceSeed, p["places"], i, raw)
        for i, raw in enumerate(_items(p["places"], data["places"], "places"))
    ]
    out.documents = [
        _validate(DocumentSeed, p["documents"], i, raw)
        for i, raw in enumerate(_items(p["documents"], data["documents"], "documents"))
    ]
    out.default_document = data["documents"].get("default")
    out.campaigns = [
        _validate(CampaignSeed, p["campaigns"], i, raw)
        for i, raw in enumerate(_items(p["campaigns"], data["campaigns"], "campaigns"))
    ]
    out.dataset = data["events"].get("dataset")
    out.events = _items(p["events"], data["events"], "events")
    for i, raw in enumerate(out.events):
        if not isinstance(raw, dict):
            raise SeedFileError(f"{p['events']}: item {i}: an event must be a mapping")
    return out


def read_seeds(seeds_dir: Path) -> list[SeedFolder]:
    """Every sub-folder of `seeds_dir` holding seed files, in name order."""
    if not seeds_dir.is_dir():
        raise SeedFileError(f"{seeds_dir}: no such folder")
    folders = [
        d
        for d in sorted(seeds_dir.iterdir())
        if d.is_dir() and any((d / f"{n}.yaml").exists() for n in FILE_NAMES)
    ]
    return [read_folder(d) for d in folders]
