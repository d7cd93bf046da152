"""UCDP's GED API (`/api/gedevents/<version>`): parse its parameters, page, shape GED rows.

- Rows are the UCDP export's (app/exports/ucdp.py, GED 19.1's 41 columns), so the API and
  `/v1/events?format=csv&shape=ucdp` agree value for value; JSON types them as UCDP does:
  counts, codes and ids as numbers, latitude/longitude as floats, blanks as null.
- `page` is 0-based as on UCDP's server (page=1 is the second page), `pagesize` 1..1000
  (default 100). Rows come in event id order, so pages never overlap.
- Filters (names in any case; unknown ones ignored, as UCDP does): `Country` (Gleditsch-Ward
  codes recorded by a UCDP import), `StartDate` (date_start on or after), `EndDate` (date_end on
  or before), `TypeOfViolence` (1,2,3), `Geography` (`lat lon,lat lon`: two opposite corners of
  a box), `Dyad`, `Actor` (side_a or side_b id), `Id`; a comma separates values (OR).
- `<version>`: conflictdb keeps no releases, so every version answers the current data.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.exports.rows import export_row
from app.exports.ucdp import COLUMNS, ucdp_row
from app.ucdp_api import repository

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
_VERSION = re.compile(r"^[0-9]{1,4}(\.[0-9]{1,4}){0,3}$")
INT_COLUMNS = frozenset(
    {
        "id",
        "year",
        "active_year",
        "type_of_violence",
        "conflict_new_id",
        "dyad_new_id",
        "side_a_new_id",
        "side_b_new_id",
        "number_of_sources",
        "where_prec",
        "priogrid_gid",
        "country_id",
        "event_clarity",
        "date_prec",
        "deaths_a",
        "deaths_b",
        "deaths_civilians",
        "deaths_unknown",
        "low",
        "best",
        "high",
    }
)
FLOAT_COLUMNS = frozenset({"latitude", "longitude"})
_INTEGER = re.compile(r"^-?[0-9]{1,18}$")


class UcdpError(Exception):
    """A request UCDP's API would refuse: its status and message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class GedQuery:
    page: int
    pagesize: int
    ids: tuple[str, ...] = ()
    countries: tuple[int, ...] = ()
    violence: tuple[int, ...] = ()
    dyads: tuple[int, ...] = ()
    actors: tuple[int, ...] = ()
    start: dt.date | None = None
    end: dt.date | None = None
    box: tuple[float, float, float, float] | None = None


@dataclass(frozen=True)
class GedPage:
    total: int
    pages: int
    rows: list[dict[str, Any]]


def _int(name: str, raw: str, low: int, high: int) -> int:
    raw = raw.strip()
    if not re.fullmatch(r"-?[0-9]{1,10}", raw) or not low <= int(raw) <= high:
        raise UcdpError(400, f"{name} must be an integer from {low} to {high}")
    return int(raw)


def _ints(name: str, raw: str) -> tuple[int, ...]:
    return tuple(_int(name, p, 0, 2**31 - 1) for p in raw.split(",") if p.strip())


def _date(name: str, raw: str) -> dt.date:
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw.strip()):
            raise ValueError(raw)
        return dt.date.fromisoformat(raw.strip())
    except ValueError:
        raise UcdpError(400, f"{name} must be a date as YYYY-MM-DD") from None


def _box(raw: str) -> tuple[float, float, float, float]:
    try:
        corners = [[float(v) for v in c.split()] for c in raw.split(",")]
        if len(corners) != 2 or any(len(c) != 2 for c in corners):
            raise ValueError(raw)
        (lat0, lon0), (lat1, lon1) = corners
        if not all(math.isfinite(v) for v in (lat0, lon0, lat1, lon1)):
            raise ValueError(raw)
    except ValueError:
        raise UcdpError(
            400, "Geography must be two corners of a box: lat lon,lat lon (e.g. 32 35,37 42)"
        ) from None
    return min(lat0, lat1), min(lon0, lon1), max(lat0, lat1), max(lon0, lon1)


def check_version(version: str) -> None:
    if not _VERSION.match(version):
        raise UcdpError(404, f"unknown version {version[:40]!r}: use a GED release such as 25.1")


def parse(params: Mapping[str, str]) -> GedQuery:
    """UCDP's parameters (their names in any case); unknown ones are ignored."""
    given = {k.lower(): v for k, v in params.items()}
    for name, value in given.items():
        if "\x00" in value:
            raise UcdpError(400, f"{name}: NUL characters are not allowed")
    start = _date("StartDate", given["startdate"]) if given.get("startdate") else None
    end = _date("EndDate", given["enddate"]) if given.get("enddate") else None
    violence = _ints("TypeOfViolence", given.get("typeofviolence", ""))
    if any(v not in (1, 2, 3) for v in violence):
        raise UcdpError(400, "TypeOfViolence takes 1, 2 and 3")
    return GedQuery(
        page=_int("page", given["page"], 0, 10_000_000) if given.get("page") else 0,
        pagesize=(
            _int("pagesize", given["pagesize"], 1, MAX_PAGE_SIZE)
            if given.get("pagesize")
            else DEFAULT_PAGE_SIZE
        ),
        ids=tuple(p.strip() for p in given.get("id", "").split(",") if p.strip()),
        countries=_ints("Country", given.get("country", "")),
        violence=violence,
        dyads=_ints("Dyad", given.get("dyad", "")),
        actors=_ints("Actor", given.get("actor", "")),
        start=start,
        end=end,
        box=_box(given["geography"]) if given.get("geography", "").strip() else None,
    )


def typed(name: str, value: Any) -> Any:
    """A GED value as UCDP's JSON has it."""
    if name in INT_COLUMNS:
        if value == "" or value is None:
            return None
        if isinstance(value, int):
            return value
        text = str(value).strip()
        return int(text) if _INTEGER.match(text) else value
    if name in FLOAT_COLUMNS:
        if value == "" or value is None:
            return None
        try:
            return float(value)
        except (TypeError, ValueError):
            return value
    return value


# Per column: None (as the export has it) or the function that types it.
_KINDS = tuple(
    (name, typed if name in INT_COLUMNS or name in FLOAT_COLUMNS else None) for name in COLUMNS
)


async def read(session: AsyncSession, query: GedQuery) -> GedPage:
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    where = repository.conditions(
        ids=query.ids,
        countries=query.countries,
        violence=query.violence,
        dyads=query.dyads,
        actors=query.actors,
        start=query.start,
        end=query.end,
        box=query.box,
        dialect=dialect,
    )
    total = await repository.count(session, where)
    stmt = repository.rows_stmt(where, query.pagesize, query.page * query.pagesize, dialect)
    rows = [
        {
            name: value if kind is None else kind(name, value)
            for (name, kind), value in zip(_KINDS, ucdp_row(export_row(r)), strict=True)
        }
        for r in await session.execute(stmt)
    ]
    return GedPage(total, math.ceil(total / query.pagesize), rows)
