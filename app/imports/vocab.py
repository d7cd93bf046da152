"""Vocabularies an import maps onto: event types, actor types, countries, dates, precisions."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache

import pycountry
from sqlalchemy import Connection, select

from app.core.names import fold_name
from app.models import SubEventType

EXTERNAL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:\-]*$")
MAX_NAME = 255
MAX_TAG = 128


def fold(text: str) -> str:
    """Folded as names are (fold_name), with ACLED's spelling variants made one."""
    key = fold_name(text)
    return key.replace("protestors", "protesters").replace("demostrations", "demonstrations")


# Event type names seen in ACLED files over the years, beyond today's six.
EVENT_TYPE_VARIANTS: dict[str, tuple[str, ...]] = {
    "riots/protests": ("protests", "riots"),
    "remote violence": ("explosions/remote violence",),
    "violence against civilians": ("violence against civilians",),
}

DISORDER_TYPES = {
    fold(name): name
    for name in (
        "Political violence",
        "Demonstrations",
        "Strategic developments",
        "Political violence; Demonstrations",
    )
}

# ACLED "inter" codes: numbers in files, text labels from the live API (old and new wording).
INTER_LABELS = {
    "state forces": 1,
    "rebel group": 2,
    "rebel groups": 2,
    "rebel forces": 2,
    "political militia": 3,
    "political militias": 3,
    "militia groups": 3,
    "identity militia": 4,
    "identity militias": 4,
    "communal / identity groups": 4,
    "communal/identity groups": 4,
    "rioters": 5,
    "protesters": 6,
    "civilians": 7,
    "external/other forces": 8,
    "external/other force": 8,
    "foreign / others": 8,
    "foreign/others": 8,
    "other forces": 8,
}


def inter_code(value: str) -> int | None:
    """0..8 from a number or a label; None when unrecognised. Blank is 0 (no actor)."""
    value = value.strip()
    if not value:
        return 0
    if value.isdigit():
        code = int(value)
        return code if 0 <= code <= 8 else None
    return INTER_LABELS.get(fold(value))


@dataclass(frozen=True)
class Taxonomy:
    """Sub-event types by ACLED name and by our own code, read from the database."""

    by_acled_sub: dict[str, str]
    event_type_of: dict[str, str]
    codes: frozenset[str]

    @classmethod
    def load(cls, conn: Connection) -> Taxonomy:
        rows = conn.execute(
            select(
                SubEventType.code,
                SubEventType.is_acled,
                SubEventType.acled_event_type,
                SubEventType.acled_sub_event_type,
            )
        ).all()
        by_sub = {fold(r.acled_sub_event_type): r.code for r in rows if r.is_acled}
        event_type_of = {r.code: fold(r.acled_event_type) for r in rows}
        return cls(by_sub, event_type_of, frozenset(r.code for r in rows))

    def acled_code(self, event_type: str, sub_event_type: str) -> str:
        """Our code for an ACLED pair; raises ValueError naming the bad half."""
        code = self.by_acled_sub.get(fold(sub_event_type))
        if code is None:
            raise ValueError("sub_event_type")
        if event_type.strip():
            wanted = fold(event_type)
            allowed = EVENT_TYPE_VARIANTS.get(wanted, (wanted,))
            if self.event_type_of[code] not in allowed:
                raise ValueError("event_type")
        return code


# Names UCDP (Gleditsch-Ward) and ACLED use that pycountry does not resolve by itself.
COUNTRY_OVERRIDES = {
    "kosovo": "XK",
    "dr congo (zaire)": "CD",
    "democratic republic of congo": "CD",
    "republic of congo": "CG",
    "congo": "CG",
    "russia (soviet union)": "RU",
    "yemen (north yemen)": "YE",
    "serbia (yugoslavia)": "RS",
    "cambodia (kampuchea)": "KH",
    "zimbabwe (rhodesia)": "ZW",
    "madagascar (malagasy)": "MG",
    "bosnia-herzegovina": "BA",
    "ivory coast": "CI",
    "kingdom of eswatini (swaziland)": "SZ",
    "macedonia, fyr": "MK",
    "north macedonia": "MK",
    "vietnam (north vietnam)": "VN",
    "germany (prussia)": "DE",
    "iran": "IR",
    "syria": "SY",
    "turkey": "TR",
    "laos": "LA",
    "bolivia": "BO",
    "venezuela": "VE",
    "tanzania": "TZ",
    "palestine": "PS",
    "micronesia": "FM",
    "moldova": "MD",
    "south korea": "KR",
    "north korea": "KP",
    "east timor": "TL",
    "cape verde": "CV",
    "caribbean netherlands": "BQ",
    "saint-martin": "MF",
    "saint-barthelemy": "BL",
    "saint martin": "MF",
    "saint barthelemy": "BL",
    "sint maarten": "SX",
    "bailiwick of jersey": "JE",
    "bailiwick of guernsey": "GG",
    "falkland islands": "FK",
    "reunion": "RE",
    "russia": "RU",
    "brunei": "BN",
    "vatican city": "VA",
    "curacao": "CW",
}


@lru_cache(maxsize=4096)
def country_from_name(name: str) -> str | None:
    key = fold_name(name)
    if not key:
        return None
    if key in COUNTRY_OVERRIDES:
        return COUNTRY_OVERRIDES[key]
    for candidate in (name, re.sub(r"\s*\(.*?\)\s*", " ", name).strip()):
        try:
            return str(pycountry.countries.lookup(candidate).alpha_2)
        except LookupError:
            continue
    return None


@lru_cache(maxsize=4096)
def country_from_iso(iso: str, country_name: str) -> str | None:
    """ISO 3166 numeric (ACLED `iso`) or alpha-3 (old `iso3`) to alpha-2; 0 is Kosovo in ACLED."""
    iso = iso.strip()
    if iso.isdigit():
        if int(iso) == 0:
            return country_from_name(country_name) if country_name else None
        found = pycountry.countries.get(numeric=iso.zfill(3))
    elif len(iso) == 3:
        found = pycountry.countries.get(alpha_3=iso.upper())
    elif len(iso) == 2:
        found = pycountry.countries.get(alpha_2=iso.upper())
    else:
        found = None
    if found is None:
        return country_from_name(country_name) if country_name else None
    return str(found.alpha_2)


MONTHS = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
)}  # fmt: skip


def parse_date(value: str) -> dt.date:
    """ISO dates (also with a time part, as UCDP's CSVs have) and ACLED's old `9-May-20`."""
    value = value.strip()
    if len(value) >= 10 and value[4] == "-":
        return dt.date.fromisoformat(value[:10])
    parts = value.replace("/", "-").replace(" ", "-").split("-")
    if len(parts) == 3 and parts[1][:3].casefold() in MONTHS:
        day, month, year = int(parts[0]), MONTHS[parts[1][:3].casefold()], int(parts[2])
        if len(parts[2]) <= 2:
            # ACLED's data begins in 1997: two-digit years from 97 are 1900s.
            year += 1900 if year >= 90 else 2000
        return dt.date(year, month, day)
    raise ValueError(value)


# UCDP date_prec: 1 the day; 2 a span of 2-6 days; 3 the week; 4 the month; 5 the year or more.
UCDP_DATE_PRECISION = {"1": "day", "2": "range", "3": "week", "4": "month", "5": "year"}
# UCDP where_prec 1..7 onto ACLED's geo_precision 1..3.
UCDP_GEO_PRECISION = {"1": 1, "2": 2, "3": 3, "4": 3, "5": 3, "6": 3, "7": 3}
# What kind of place UCDP's where_coordinates names, by where_prec.
UCDP_PLACE_KIND = {
    "3": "district",
    "4": "province",
    "5": "region",
    "6": "country",
    "7": "sea",
}
