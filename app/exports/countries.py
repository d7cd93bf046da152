"""Country names, ISO numeric codes and ACLED regions, from seeds/reference/acled_countries.csv."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pycountry

REFERENCE = Path(__file__).resolve().parents[2] / "seeds" / "reference" / "acled_countries.csv"


@dataclass(frozen=True)
class CountryInfo:
    name: str
    iso_numeric: int | None
    acled_region: str


@lru_cache(maxsize=1)
def _acled_table() -> dict[str, tuple[str, str]]:
    if not REFERENCE.exists():
        return {}
    with REFERENCE.open(newline="", encoding="utf-8") as fh:
        return {
            r["country_code"]: (r["acled_country"], r["acled_region"]) for r in csv.DictReader(fh)
        }


@lru_cache(maxsize=512)
def country_info(code: str | None) -> CountryInfo:
    """ACLED's spelling of the country ("Syria", not "Syrian Arab Republic") and its region."""
    if not code:
        return CountryInfo("", None, "")
    code = code.upper()
    acled = _acled_table().get(code)
    record = pycountry.countries.get(alpha_2=code)
    numeric = int(record.numeric) if record is not None else None
    if code == "XK":
        numeric = 0  # Kosovo has no ISO 3166 number; ACLED writes 0
    if acled is not None:
        return CountryInfo(acled[0], numeric, acled[1])
    name = getattr(record, "common_name", None) or getattr(record, "name", code)
    return CountryInfo(str(name), numeric, "")
