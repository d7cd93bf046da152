"""ACLED's format and vocabulary, in one place: the 31 columns of its current layout and their
HXL tags, its precision, actor-type and interaction codes, its regions, and what an ACLED import
keeps of a row. The importer (app/imports/acled.py), the exporters (app/exports/acled.py and
acled_pg.py) and the ACLED-compatible API (app/acled_api/, with the filter grammar in
app/acled/grammar.py) all read them from here.
"""

from __future__ import annotations

from app.models.vocab import ACTOR_TYPES

COLUMNS: tuple[str, ...] = (
    "event_id_cnty",
    "event_date",
    "year",
    "time_precision",
    "disorder_type",
    "event_type",
    "sub_event_type",
    "actor1",
    "assoc_actor_1",
    "inter1",
    "actor2",
    "assoc_actor_2",
    "inter2",
    "interaction",
    "civilian_targeting",
    "iso",
    "region",
    "country",
    "admin1",
    "admin2",
    "admin3",
    "location",
    "latitude",
    "longitude",
    "geo_precision",
    "source",
    "source_scale",
    "notes",
    "fatalities",
    "tags",
    "timestamp",
)

# HXL hashtags (the row HDX's ACLED datasets carry under the header).
HXL: dict[str, str] = {
    "event_id_cnty": "#event+code",
    "event_date": "#date+occurred",
    "year": "#date+year",
    "time_precision": "#date+precision",
    "disorder_type": "#event+type+disorder",
    "event_type": "#event+type",
    "sub_event_type": "#event+type+sub",
    "actor1": "#group+name+first",
    "assoc_actor_1": "#group+name+first+assoc",
    "inter1": "#group+type+first",
    "actor2": "#group+name+second",
    "assoc_actor_2": "#group+name+second+assoc",
    "inter2": "#group+type+second",
    "interaction": "#group+interaction",
    "civilian_targeting": "#event+civilians",
    "iso": "#country+code+num",
    "region": "#region+name",
    "country": "#country+name",
    "admin1": "#adm1+name",
    "admin2": "#adm2+name",
    "admin3": "#adm3+name",
    "location": "#loc+name",
    "latitude": "#geo+lat",
    "longitude": "#geo+lon",
    "geo_precision": "#geo+precision",
    "source": "#meta+source",
    "source_scale": "#meta+source+scale",
    "notes": "#description",
    "fatalities": "#affected+killed",
    "tags": "#meta+tags",
    "timestamp": "#date+updated",
}

TIME_PRECISION = {"day": 1, "week": 2, "month": 3, "year": 3, "range": 3}
# Reading ACLED's time_precision: 1 the day, 2 a week, 3 a month.
ACLED_TIME_PRECISION = {"1": "day", "2": "week", "3": "month"}
# A range this many days long or shorter is ACLED's "within a week" (2), not "a month" (3).
WEEK_SPAN_DAYS = 6


def interaction_code(inter1: int, inter2: int) -> int:
    """ACLED's interaction: the two codes low-high (18), or one actor's code then 0 (60)."""
    if inter1 and inter2:
        return min(inter1, inter2) * 10 + max(inter1, inter2)
    return (inter1 or inter2) * 10


# ACLED's region codes (its `region` filter takes the number; rows carry the name).
ACLED_REGIONS: dict[int, str] = {
    1: "Western Africa",
    2: "Middle Africa",
    3: "Eastern Africa",
    4: "Southern Africa",
    5: "Northern Africa",
    7: "South Asia",
    9: "Southeast Asia",
    11: "Middle East",
    12: "Europe",
    13: "Caucasus and Central Asia",
    14: "Central America",
    15: "South America",
    16: "Caribbean",
    17: "East Asia",
    18: "North America",
    19: "Oceania",
    20: "Antarctica",
}


def inter_label(code: int | None) -> str | None:
    """ACLED's text label for an inter code; 0 (no actor) is null."""
    return ACTOR_TYPES.get(code) if code else None


def interaction_label(inter1: int, inter2: int) -> str:
    """ACLED's text interaction: "State forces-Civilians" (low-high), "Protesters only"."""
    if inter1 and inter2:
        low, high = sorted((inter1, inter2))
        return f"{ACTOR_TYPES[low]}-{ACTOR_TYPES[high]}"
    code = inter1 or inter2
    return f"{ACTOR_TYPES[code]} only" if code in ACTOR_TYPES else ""


# The ACLED importer always records `inter1`: a valid code there marks a row read from an ACLED
# file (a UCDP row's extras have a `region` and a `country` too, in UCDP's own words).
ACLED_MARK = "inter1"
# What an ACLED import records that the export writes back, and the JSON type each must have:
# extras can also be set through the API, so anything else there is ignored, not trusted.
KEPT_KINDS: dict[str, str] = {
    "inter1": "code",
    "inter2": "code",
    "disorder_type": "text",
    "admin1": "text",
    "admin2": "text",
    "admin3": "text",
    "location": "text",
    "latitude": "number",
    "longitude": "number",
}
