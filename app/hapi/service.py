"""HDX HAPI's conflict events (`/api/v2/coordination-context/conflict-events`), from our events.

Rows are monthly aggregates per location and event type, HAPI's columns. HAPI's three event
types come from ACLED's definitions and overlap, as HAPI's do:
- `political_violence`: events whose disorder type includes Political violence (battles,
  explosions/remote violence, violence against civilians, mob violence, excessive force against
  protesters);
- `civilian_targeting`: events that target civilians (a subset of political violence);
- `demonstration`: events whose disorder type includes Demonstrations (protests, violent
  demonstrations, excessive force against protesters).
`events` counts events, `fatalities` sums their best estimates (0 when unknown). The month is
the month of date_start, as in /v1/aggregates?interval=month. Places: `location_code` the
country's ISO 3166 alpha-3, `admin1_name` / `admin2_name` our places' names; conflictdb has no
p-codes, so `admin1_code` / `admin2_code` are null. `admin_level` (0, 1, 2; default 2) picks
the level rows are summed at. Filters: `start_date` keeps months that start on or after it,
`end_date` months that end on or before it.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pycountry
from sqlalchemy.ext.asyncio import AsyncSession

from app.exports.countries import country_info
from app.hapi import repository

EVENT_TYPES = ("civilian_targeting", "demonstration", "political_violence")
COLUMNS = (
    "location_code",
    "location_name",
    "admin1_code",
    "admin1_name",
    "admin2_code",
    "admin2_name",
    "admin_level",
    "event_type",
    "events",
    "fatalities",
    "reference_period_start",
    "reference_period_end",
)
MAX_LIMIT = 10_000


class HapiError(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


@dataclass(frozen=True)
class HapiQuery:
    location_code: str | None = None
    event_type: str | None = None
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    admin_level: int = 2
    admin1_name: str | None = None
    admin2_name: str | None = None
    output_format: str = "json"
    limit: int = MAX_LIMIT
    offset: int = 0


def _int(name: str, raw: str, low: int, high: int) -> int:
    if not re.fullmatch(r"[0-9]{1,9}", raw.strip()) or not low <= int(raw) <= high:
        raise HapiError(400, f"{name} must be an integer from {low} to {high}")
    return int(raw)


def _date(name: str, raw: str) -> dt.date:
    """YYYY-MM-DD, or a datetime starting so (HAPI's own dates carry a time)."""
    text = raw.strip()
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}(T[0-9:.]*Z?)?", text):
            raise ValueError(text)
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        raise HapiError(400, f"{name} must be a date as YYYY-MM-DD") from None


def parse(params: Mapping[str, str]) -> HapiQuery:
    """HAPI's parameters; others (HAPI has more) are ignored."""
    for name, value in params.items():
        if "\x00" in value:
            raise HapiError(400, f"{name}: NUL characters are not allowed")
    event_type = params.get("event_type", "").strip().lower() or None
    if event_type is not None and event_type not in EVENT_TYPES:
        raise HapiError(400, f"event_type must be one of {', '.join(EVENT_TYPES)}")
    fmt = params.get("output_format", "json").strip().lower() or "json"
    if fmt not in ("json", "csv"):
        raise HapiError(400, "output_format must be json or csv")
    location = params.get("location_code", "").strip().upper() or None
    if location is not None and not re.fullmatch(r"[A-Z]{3}", location):
        raise HapiError(400, "location_code must be an ISO 3166 alpha-3 code, such as SYR")
    return HapiQuery(
        location_code=location,
        event_type=event_type,
        start_date=_date("start_date", params["start_date"]) if params.get("start_date") else None,
        end_date=_date("end_date", params["end_date"]) if params.get("end_date") else None,
        admin_level=_int("admin_level", params["admin_level"], 0, 2)
        if params.get("admin_level")
        else 2,
        admin1_name=params.get("admin1_name", "").strip() or None,
        admin2_name=params.get("admin2_name", "").strip() or None,
        output_format=fmt,
        limit=_int("limit", params["limit"], 1, MAX_LIMIT) if params.get("limit") else MAX_LIMIT,
        offset=_int("offset", params["offset"], 0, 10**9) if params.get("offset") else 0,
    )


def _alpha3(code: str) -> str:
    record = pycountry.countries.get(alpha_2=code)
    if record is not None:
        return str(record.alpha_3)
    return "XKX" if code == "XK" else code


def _alpha2(alpha3: str) -> str | None:
    if alpha3 == "XKX":
        return "XK"
    record = pycountry.countries.get(alpha_3=alpha3)
    return str(record.alpha_2) if record is not None else None


def _month(value: Any) -> dt.date:
    text = value.isoformat() if isinstance(value, dt.date) else str(value)
    return dt.date.fromisoformat(text[:7] + "-01")


def _types(disorder: str, civilians: bool) -> list[str]:
    text = disorder.lower()
    found = []
    if "political violence" in text:
        found.append("political_violence")
    if civilians:
        found.append("civilian_targeting")
    if "demonstration" in text:
        found.append("demonstration")
    return found


async def read(session: AsyncSession, query: HapiQuery) -> list[dict[str, Any]]:
    countries = None
    if query.location_code is not None:
        code = _alpha2(query.location_code)
        countries = [code] if code else []
    since = query.start_date.replace(day=1) if query.start_date else None
    before = None
    if query.end_date is not None:
        before = (query.end_date.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    groups = await repository.monthly(
        session, admin_level=query.admin_level, countries=countries, since=since, before=before
    )
    sums: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0, 0])
    for month, country, admin1, admin2, disorder, civilians, events, fatalities in groups:
        for event_type in _types(disorder or "", bool(civilians)):
            key = (country, admin1 or "", admin2 or "", event_type, _month(month))
            sums[key][0] += int(events)
            sums[key][1] += int(fatalities or 0)
    rows = []
    for (country, admin1, admin2, event_type, start), (events, fatalities) in sums.items():
        end = start.replace(day=calendar.monthrange(start.year, start.month)[1])
        if query.event_type and event_type != query.event_type:
            continue
        if query.start_date and start < query.start_date:
            continue
        if query.end_date and end > query.end_date:
            continue
        if query.admin1_name and admin1.lower() != query.admin1_name.lower():
            continue
        if query.admin2_name and admin2.lower() != query.admin2_name.lower():
            continue
        rows.append(
            {
                "location_code": _alpha3(country),
                "location_name": country_info(country).name,
                "admin1_code": None,
                "admin1_name": admin1 if query.admin_level >= 1 else None,
                "admin2_code": None,
                "admin2_name": admin2 if query.admin_level >= 2 else None,
                "admin_level": query.admin_level,
                "event_type": event_type,
                "events": events,
                "fatalities": fatalities,
                "reference_period_start": f"{start.isoformat()}T00:00:00",
                "reference_period_end": f"{end.isoformat()}T23:59:59",
            }
        )
    rows.sort(
        key=lambda r: (
            r["location_code"],
            r["admin1_name"] or "",
            r["admin2_name"] or "",
            r["event_type"],
            r["reference_period_start"],
        )
    )
    return rows[query.offset : query.offset + query.limit]
