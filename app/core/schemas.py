"""Pydantic building blocks shared by the domains."""

from __future__ import annotations

from typing import Annotated, Self

import pycountry
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from app.core.jsonrules import check_text


def no_nul(value: str) -> str:
    # PostgreSQL text cannot hold NUL and no UTF-8 encoder can write a lone surrogate:
    # refusing both here keeps them a 422 rather than a 500 (rule in app.core.jsonrules).
    return check_text(value)


Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=255),
    AfterValidator(no_nul),
]
Text = Annotated[str, StringConstraints(max_length=20000), AfterValidator(no_nul)]
Count = Annotated[int, Field(ge=0, le=100_000_000)]


def _check_country(code: str) -> str:
    code = code.upper()
    if pycountry.countries.get(alpha_2=code) is None:
        raise ValueError(f"{code!r} is not an ISO 3166-1 alpha-2 country code")
    return code


CountryCode = Annotated[
    str,
    StringConstraints(min_length=2, max_length=2, pattern=r"^[A-Za-z]{2}$"),
]


class StrictModel(BaseModel):
    """Input models reject unknown fields: a typo is a 422, not silently ignored."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Bounds(StrictModel):
    """low <= best <= high; any may be unknown."""

    low: Count | None = None
    best: Count | None = None
    high: Count | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        check_bounds(self.low, self.best, self.high)
        return self


def check_bounds(low: int | None, best: int | None, high: int | None) -> None:
    if low is not None and best is not None and low > best:
        raise ValueError(f"low ({low}) must not exceed best ({best})")
    if best is not None and high is not None and best > high:
        raise ValueError(f"best ({best}) must not exceed high ({high})")
    if low is not None and high is not None and low > high:
        raise ValueError(f"low ({low}) must not exceed high ({high})")


def validate_country(code: str | None) -> str | None:
    return None if code is None else _check_country(code)


class Ref(BaseModel):
    """A short reference to a related record."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
