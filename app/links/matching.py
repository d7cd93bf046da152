"""Which events of different datasets describe one incident: the MELTT method, in plain Python.

MELTT (Matching Event Data by Location, Time and Type; Donnay, Dunford, McGrath, Backer and
Cunningham, Journal of Conflict Resolution 63(5), 2019) matches two events when they fall
within a spatial window (km) and a temporal window (days) of each other and their types agree
under a taxonomy crosswalk; each event is matched to at most one event of each other dataset.
Here, as parameters (`MatchParams`):

- **space**: haversine distance between the places' coordinates, within `spatial_km` plus an
  allowance for each side's coarse location (ACLED geo_precision 2 and 3: a district or a
  province centroid); without coordinates on either side, the same admin-1 unit (the
  gazetteer's ISO 3166-2 code, else the folded name) counts as a match at the window's edge;
- **time**: each side's date span, widened by its precision (a week-precise date is within
  three days of the true one, a month within fifteen; a range is its span), must come within
  `days` of the other's;
- **type**: a stated crosswalk (`TYPE_CLASSES`) of ACLED sub-event types and UCDP's
  type_of_violence to MELTT-style classes (state-based, non-state, one-sided, ...); two events
  are compatible when their classes intersect;
- **actors**: the best similarity between the two events' actor names after folding
  (`app/core/names.fold_name`), with words that only say what kind of actor it is dropped;
  a soft component only (datasets spell actors too differently to require it).

The score is a weighted mean of the four components in [0, 1]; a pair within the windows and
compatible in type is proposed when its score is at least `min_score`. Then, as in MELTT, each
event keeps only its best-scoring match in each other dataset (greedy by score).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any

from app.core.names import fold_name

# Classes of violence a type can describe (MELTT matches on a taxonomy crosswalk).
STATE = "state_based"
NON_STATE = "non_state"
ONE_SIDED = "one_sided"
UNREST = "unrest"
STRATEGIC = "strategic"

# ACLED event types (sub_event_types.event_type_code) -> classes.
EVENT_TYPE_CLASSES: dict[str, frozenset[str]] = {
    "battles": frozenset({STATE, NON_STATE}),
    "explosions_remote_violence": frozenset({STATE, NON_STATE, ONE_SIDED}),
    "violence_against_civilians": frozenset({ONE_SIDED}),
    "protests": frozenset({UNREST}),
    "riots": frozenset({UNREST, ONE_SIDED}),
    "strategic_developments": frozenset({STRATEGIC}),
}
# UCDP GED type_of_violence -> classes.
UCDP_VIOLENCE_CLASSES: dict[str, frozenset[str]] = {
    "1": frozenset({STATE}),
    "2": frozenset({NON_STATE}),
    "3": frozenset({ONE_SIDED}),
}
# Days a date of each precision may be off from the true day, each way.
PRECISION_DAYS = {"day": 0, "week": 3, "month": 15, "year": 182, "range": 0}
# Km a place of each ACLED geo_precision may be off from the true spot.
GEO_PRECISION_KM = {1: 0.0, 2: 10.0, 3: 50.0}
# Words that say what kind of actor it is, not which one (UCDP "Government of Syria" is
# ACLED's "Military Forces of Syria (2000-)").
_GENERIC = frozenset(
    {"of", "the", "and", "forces", "force", "military", "government", "militia", "militias"}
    | {"group", "groups", "unidentified", "armed", "al", "el", "police"}
)
# Words the two codebooks use for one kind of actor: UCDP's "Syrian insurgents" are ACLED's
# "Opposition Rebels (Syria)".
_SYNONYMS = {
    "insurgents": "rebels",
    "insurgent": "rebels",
    "rebel": "rebels",
    "opposition": "rebels",
    "civilian": "civilians",
}
_WORD = re.compile(r"[^\w]+")


@dataclass(frozen=True)
class MatchParams:
    spatial_km: float = 10.0
    days: int = 1
    min_score: float = 0.5
    weights: dict[str, float] = field(
        default_factory=lambda: {
            "space": 0.25,
            "time": 0.2,
            "type": 0.1,
            "actors": 0.3,
            "fatalities": 0.15,
        }
    )

    def as_dict(self) -> dict[str, Any]:
        return {
            "method": "meltt",
            "spatial_km": self.spatial_km,
            "days": self.days,
            "min_score": self.min_score,
            "weights": dict(self.weights),
        }


@dataclass(frozen=True)
class Candidate:
    """What the matcher knows of one event."""

    id: int
    dataset: str
    external_id: str
    date_start: dt.date
    date_end: dt.date
    date_precision: str
    event_type: str | None
    sub_event_type: str
    type_of_violence: str | None
    latitude: float | None
    longitude: float | None
    geo_precision: int | None
    admin1: str | None
    actors: tuple[str, ...]
    fatalities_best: int | None = None

    @property
    def key(self) -> str:
        return f"{self.dataset}/{self.external_id}"

    def span(self) -> tuple[int, int]:
        slack = PRECISION_DAYS.get(self.date_precision, 0)
        return self.date_start.toordinal() - slack, self.date_end.toordinal() + slack

    def classes(self) -> frozenset[str]:
        if self.type_of_violence is not None:
            return UCDP_VIOLENCE_CLASSES.get(self.type_of_violence, frozenset())
        return EVENT_TYPE_CLASSES.get(self.event_type or "", frozenset())


@dataclass(frozen=True)
class Match:
    a: Candidate
    b: Candidate
    score: float
    components: dict[str, Any]


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    r = 6371.0088
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(min(1.0, math.sqrt(h)))


def admin_key(name: str | None) -> str | None:
    """The unit's code (the gazetteer's, e.g. "SY-HM") or its name folded without its kind."""
    if not name:
        return None
    words = [w for w in fold_name(name).split() if w not in {"governorate", "province"}]
    return " ".join(words) or None


def actor_tokens(name: str) -> frozenset[str]:
    """The words that say which actor it is: folded, years dropped, a demonym as its country
    ("syrian" -> "syria"), kind-of-actor words dropped, the codebooks' synonyms merged."""
    out = set()
    for w in _WORD.split(fold_name(name)):
        if not w or w.isdigit() or w in _GENERIC:
            continue
        w = _SYNONYMS.get(w, w)
        if w.endswith("ian") and len(w) > 5:
            w = w[:-1]
        out.add(w)
    return frozenset(out)


def _initials(name: str) -> str:
    words = [w for w in _WORD.split(fold_name(name)) if w and not w.isdigit()]
    return "".join(w[0] for w in words if w not in {"al", "el", "of", "the", "and"})


def name_similarity(x: str, y: str) -> float:
    """Two actor names: shared words (Jaccard), spelling (difflib's ratio), or one the
    acronym of the other ("SDF" in "QSD: Syrian Democratic Forces")."""
    tx, ty = actor_tokens(x), actor_tokens(y)
    jaccard = len(tx & ty) / len(tx | ty) if tx and ty else 0.0
    ratio = SequenceMatcher(None, " ".join(sorted(tx)), " ".join(sorted(ty))).ratio()
    best = max(jaccard, ratio if tx and ty else 0.0)
    for short, long in ((x, y), (y, x)):
        s = fold_name(short).replace(" ", "")
        if 2 <= len(s) <= 5 and s.isalpha() and s in _initials(long):
            best = max(best, 0.9)
    return best


def actor_similarity(a: Sequence[str], b: Sequence[str]) -> float:
    """How well the two events' actors correspond, in [0, 1]: each actor of the event with
    fewer is paired with its most similar actor of the other, and the similarities averaged
    (both sides of a dyad count)."""
    if not a or not b:
        return 0.0
    few, many = (a, b) if len(a) <= len(b) else (b, a)
    total = sum(max(name_similarity(x, y) for y in many) for x in few)
    return round(total / len(few), 3)


def fatality_similarity(x: int | None, y: int | None) -> float:
    """1 when both give the same count, falling with the relative difference; 0.5 (no
    evidence either way) when either gives none."""
    if x is None or y is None:
        return 0.5
    if x == y:
        return 1.0
    return round(1.0 - abs(x - y) / max(x, y), 3)


def compare(a: Candidate, b: Candidate, p: MatchParams) -> Match | None:
    """The pair's score and components, or None when it falls outside a window or types clash."""
    a0, a1 = a.span()
    b0, b1 = b.span()
    gap = max(0, max(a0, b0) - min(a1, b1))
    if gap > p.days:
        return None
    classes = a.classes() & b.classes()
    if not classes:
        return None
    allowance = GEO_PRECISION_KM.get(a.geo_precision or 1, 0.0) + GEO_PRECISION_KM.get(
        b.geo_precision or 1, 0.0
    )
    window = p.spatial_km + allowance
    same_admin = admin_key(a.admin1) is not None and admin_key(a.admin1) == admin_key(b.admin1)
    if None not in (a.latitude, a.longitude, b.latitude, b.longitude):
        assert a.latitude is not None and a.longitude is not None
        assert b.latitude is not None and b.longitude is not None
        km: float | None = haversine_km(a.latitude, a.longitude, b.latitude, b.longitude)
        assert km is not None
        if km > window:
            return None
        space = 1.0 - km / window if window > 0 else 1.0
    elif same_admin:
        km, space = None, 0.0
    else:
        return None
    time = 1.0 if gap == 0 else 1.0 - gap / (p.days + 1)
    same_type = a.sub_event_type == b.sub_event_type
    type_score = 1.0 if same_type else 0.75
    actors = actor_similarity(a.actors, b.actors)
    deaths = fatality_similarity(a.fatalities_best, b.fatalities_best)
    parts = {
        "space": space,
        "time": time,
        "type": type_score,
        "actors": actors,
        "fatalities": deaths,
    }
    w = p.weights
    total = sum(w.values()) or 1.0
    score = sum(w.get(k, 0.0) * v for k, v in parts.items()) / total
    components: dict[str, Any] = {
        "distance_km": None if km is None else round(km, 3),
        "spatial_window_km": round(window, 3),
        "same_admin1": same_admin,
        "day_gap": gap,
        "space": round(space, 3),
        "time": round(time, 3),
        "type": type_score,
        "type_classes": sorted(classes),
        "actors": actors,
        "fatalities": deaths,
        "params": p.as_dict(),
    }
    return Match(a, b, round(score, 4), components)


def match(
    events: Iterable[Candidate],
    p: MatchParams,
    excluded: set[tuple[str, str]] | None = None,
    taken: set[tuple[int, str]] | None = None,
) -> list[Match]:
    """Pairs of events of different datasets that MELTT would match, one per event and dataset.

    `excluded` holds pairs of natural keys (lower id's first, as stored) never to propose: the
    rejected ones. `taken` holds (event id, other dataset) already matched by a confirmed link.
    """
    by_day: dict[int, list[Candidate]] = defaultdict(list)
    items = list(events)
    for e in items:
        lo, hi = e.span()
        for day in range(lo, hi + 1):
            by_day[day].append(e)
    seen: set[tuple[int, int]] = set()
    found: list[Match] = []
    for e in items:
        lo, hi = e.span()
        for day in range(lo - p.days, hi + p.days + 1):
            for other in by_day.get(day, ()):
                if other.dataset == e.dataset or other.id == e.id:
                    continue
                pair = (min(e.id, other.id), max(e.id, other.id))
                if pair in seen:
                    continue
                seen.add(pair)
                first, second = (e, other) if e.id < other.id else (other, e)
                if excluded and (first.key, second.key) in excluded:
                    continue
                m = compare(first, second, p)
                if m is not None and m.score >= p.min_score:
                    found.append(m)
    # One match per event and other dataset, best score first (ties: lower ids).
    found.sort(key=lambda m: (-m.score, m.a.id, m.b.id))
    taken = set(taken or ())
    kept: list[Match] = []
    for m in found:
        if (m.a.id, m.b.dataset) in taken or (m.b.id, m.a.dataset) in taken:
            continue
        taken.add((m.a.id, m.b.dataset))
        taken.add((m.b.id, m.a.dataset))
        kept.append(m)
    return kept


__all__ = [
    "EVENT_TYPE_CLASSES",
    "UCDP_VIOLENCE_CLASSES",
    "Candidate",
    "Match",
    "MatchParams",
    "actor_similarity",
    "compare",
    "haversine_km",
    "match",
]
