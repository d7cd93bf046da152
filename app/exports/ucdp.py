"""UCDP GED layout (19.1, 41 columns): what the UCDP importer reads, for a round trip.

Columns we model are computed from the event; the others (conflict and dyad ids, source details,
priogrid cell, event clarity...) come from `events.extras`, where the importer keeps the original
UCDP fields it does not otherwise store. An event from another dataset gets blanks there.
"""

from __future__ import annotations

from typing import Any

from app.exports.countries import country_info
from app.exports.rows import ExportRow

COLUMNS: tuple[str, ...] = (
    "id",
    "year",
    "active_year",
    "type_of_violence",
    "conflict_new_id",
    "conflict_name",
    "dyad_new_id",
    "dyad_name",
    "side_a_new_id",
    "side_a",
    "side_b_new_id",
    "gwnob",
    "side_b",
    "number_of_sources",
    "source_article",
    "source_office",
    "source_date",
    "source_headline",
    "source_original",
    "where_prec",
    "where_coordinates",
    "adm_1",
    "adm_2",
    "latitude",
    "longitude",
    "geom_wkt",
    "priogrid_gid",
    "country",
    "country_id",
    "region",
    "event_clarity",
    "date_prec",
    "date_start",
    "date_end",
    "deaths_a",
    "deaths_b",
    "deaths_civilians",
    "deaths_unknown",
    "low",
    "best",
    "high",
)

HXL: dict[str, str] = {
    "id": "#event+code",
    "year": "#date+year",
    "side_a": "#group+name+first",
    "side_b": "#group+name+second",
    "source_office": "#meta+source",
    "where_coordinates": "#loc+name",
    "adm_1": "#adm1+name",
    "adm_2": "#adm2+name",
    "latitude": "#geo+lat",
    "longitude": "#geo+lon",
    "country": "#country+name",
    "date_start": "#date+start",
    "date_end": "#date+end",
    "deaths_civilians": "#affected+killed+civilians",
    "low": "#affected+killed+min",
    "best": "#affected+killed",
    "high": "#affected+killed+max",
}

# Our geo_precision (ACLED's 1..3) onto UCDP's where_prec when the original is not kept.
WHERE_PREC = {1: 1, 2: 2, 3: 4}


def _date_prec(r: ExportRow) -> int:
    """UCDP date_prec: 1 the day, 2 2-6 days, 3 a week, 4 a month, 5 longer."""
    days = (r.date_end - r.date_start).days + 1
    if r.date_precision == "day" or days == 1:
        return 1
    if days <= 6:
        return 2
    if days <= 7:
        return 3
    if days <= 31:
        return 4
    return 5


def _type_of_violence(r: ExportRow) -> int:
    """1 state-based (a state actor on a side), 3 one-sided (civilians targeted), else 2."""
    if r.civilian_targeting:
        return 3
    return 1 if any(a.actor_type in (1, 8) for a in r.actors) else 2


def _num(v: float | None) -> Any:
    return "" if v is None else v


def ucdp_row(r: ExportRow) -> list[Any]:
    x = r.extras or {}
    own = r.dataset == "ucdp"
    side_a = next((a.name for a in r.actors if a.role == "initiator"), "")
    side_b = next((a.name for a in r.actors if a.role == "target"), "")
    precision = r.geo_precision if r.geo_precision is not None else r.place_geo_precision
    computed: dict[str, Any] = {
        "id": r.external_id if own else x.get("id", f"{r.dataset}-{r.external_id}"),
        "year": r.date_start.year,
        "type_of_violence": _type_of_violence(r),
        "side_a": side_a,
        "side_b": side_b,
        "number_of_sources": len(r.sources) or "",
        "source_office": ";".join(r.sources),
        "where_prec": WHERE_PREC.get(precision, "") if precision is not None else "",
        "where_coordinates": r.location or "",
        "adm_1": r.admin1 or "",
        "adm_2": r.admin2 or "",
        "latitude": _num(r.latitude),
        "longitude": _num(r.longitude),
        "geom_wkt": "" if r.latitude is None else f"POINT ({r.longitude} {r.latitude})",
        "country": country_info(r.country_code).name,
        "date_prec": _date_prec(r),
        "date_start": r.date_start.isoformat(),
        "date_end": r.date_end.isoformat(),
        "low": _num(r.fatalities_low),
        "best": _num(r.fatalities_best),
        "high": _num(r.fatalities_high),
    }
    out: list[Any] = []
    for name in COLUMNS:
        # The original value wins where the importer kept it: the round trip stays exact.
        if name in x and x[name] is not None and name not in {"date_start", "date_end"}:
            out.append(x[name])
        else:
            out.append(computed.get(name, ""))
    return out
