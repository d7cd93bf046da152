"""Closed vocabularies: stored as strings with a CHECK constraint, mirrored in the API schemas."""

from __future__ import annotations

from typing import Literal, get_args

from sqlalchemy import CheckConstraint

DatePrecision = Literal["day", "week", "month", "year", "range"]
PlaceKind = Literal[
    "village",
    "town",
    "city",
    "neighbourhood",
    "plain",
    "mountain_range",
    "region",
    "province",
    "district",
    "country",
    "sea",
    "airspace",
    "military_site",
    "other",
]
ActorRole = Literal["initiator", "target", "initiator_support", "target_support"]
RoleStatus = Literal["confirmed", "reported", "possible", "disputed"]
SourceKind = Literal[
    "news_agency",
    "newspaper",
    "state_media",
    "government",
    "military",
    "monitor",
    "armed_group",
    "international_org",
    "ngo",
    "person",
    "dataset",
    "other",
]
ClaimKind = Literal[
    "occurrence",
    "casualties",
    "territory",
    "materiel",
    "airspace",
    "targeting",
    "statement",
    "attribution",
]
ClaimStance = Literal["asserts", "confirms", "denies", "disputes"]
# Airwars' grading of claims.
ClaimGrade = Literal["confirmed", "fair", "weak", "contested", "discounted"]
CasualtyOutcome = Literal["killed", "wounded", "missing", "captured"]
CasualtyGroup = Literal[
    "all", "regime_forces", "rebels", "militants", "civilians", "foreign_forces", "unknown"
]
MaterielOutcome = Literal["destroyed", "damaged", "shot_down", "captured", "lost"]

# ACLED's eight actor types ("inter" codes).
ACTOR_TYPES: dict[int, str] = {
    1: "State forces",
    2: "Rebel group",
    3: "Political militia",
    4: "Identity militia",
    5: "Rioters",
    6: "Protesters",
    7: "Civilians",
    8: "External/Other forces",
}


def values(literal: object) -> tuple[str, ...]:
    return tuple(str(v) for v in get_args(literal))


def check_in(column: str, literal: object, name: str | None = None) -> CheckConstraint:
    allowed = ", ".join(f"'{v}'" for v in values(literal))
    return CheckConstraint(f"{column} IN ({allowed})", name=name or f"{column}_allowed")
