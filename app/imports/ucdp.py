"""UCDP GED CSV files, columns mapped by header name (releases order them differently).

Mapping (docs/import.md has the reasons):
- `id` is the natural key; `date_start`..`date_end` stay a range, `date_prec` 1..5 becomes
  day/range/week/month/year; `where_prec` 1..7 becomes ACLED's geo_precision 1..3;
- type_of_violence 1 (state-based) and 2 (non-state) are armed clashes, 3 (one-sided) an attack
  on civilians; the code itself, conflict_new_id and dyad_new_id are kept as the event's
  type_of_violence, conflict_id and dyad_id (filters and aggregate dimensions);
- side_a / side_b (comma-separated coalitions) are initiators / targets; "Civilians" is named
  per country as ACLED does ("Civilians (Syria)");
- low/best/high are the fatality range; a row where low <= best <= high fails is loaded with the
  range widened to hold best, and reported as a warning (the raw values stay in extras);
- each `source_office` becomes a source and an `occurrence` claim relayed by UCDP GED;
- every column the event's own fields don't hold verbatim is kept in extras.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from operator import itemgetter
from pathlib import Path

from app.core.jsonrules import describe_json_error, json_problem
from app.imports.csvio import CsvFile, open_csv, require_columns
from app.imports.problems import ImportReport, Problem, RowRejected
from app.imports.rows import ActorRef, ActorRole, ClaimSpec, EventRow, PlaceLevel, SourceRef, chain
from app.imports.vocab import (
    EXTERNAL_ID,
    MAX_NAME,
    UCDP_DATE_PRECISION,
    UCDP_GEO_PRECISION,
    UCDP_PLACE_KIND,
    country_from_name,
    parse_date,
)

DATASET = "ucdp"
DATASET_SOURCE = SourceRef.named("UCDP GED", "dataset")

REQUIRED = (
    "id",
    "type_of_violence",
    "side_a",
    "side_b",
    "date_start",
    "date_end",
    "country",
    "latitude",
    "longitude",
    "where_coordinates",
    "best",
)
# Held verbatim by the event's own fields, so not repeated in extras. The place columns stay
# in extras too: a place found by natural key (or a country by its code) may spell them otherwise.
MAPPED = {"id", "date_start", "date_end", "best"}
VIOLENCE = {
    "1": ("armed_clash", "state-based violence"),
    "2": ("armed_clash", "non-state violence"),
    "3": ("attack", "one-sided violence"),
}
_INTEGER = re.compile(r"^-?(0|[1-9][0-9]*)$")
_PARENTHESES = re.compile(r"\s*\(.*?\)")
_SETTLEMENT = re.compile(r"\b(village|town|city)$", re.IGNORECASE)


# The API's limit on a count (app/core/schemas.py Count); both databases hold it.
_MAX_COUNT = 100_000_000
# Integers kept as numbers in extras: what JSON clients read exactly (app/core/jsonrules.py).
_MAX_EXACT = 2**53 - 1


def _extra_value(value: str) -> int | str:
    if _INTEGER.match(value) and abs(int(value)) <= _MAX_EXACT:
        return int(value)
    return value


def _count(value: str, column: str) -> int:
    value = value.strip()
    if not _INTEGER.match(value) or not 0 <= int(value) <= _MAX_COUNT:
        raise RowRejected(
            column, value, f"{column} must be a whole number from 0 to {_MAX_COUNT:,}"
        )
    return int(value)


def _coordinate(value: str, column: str, limit: float) -> float:
    try:
        number = float(value)
    except ValueError:
        raise RowRejected(
            column, value, f"impossible coordinates: {column} is not a number"
        ) from None
    if not -limit <= number <= limit or number != number:
        raise RowRejected(column, value, f"impossible coordinates: {column} outside ±{limit:g}")
    return number


def _id(value: str) -> int | None:
    """A UCDP id column as a number; blank or malformed ones stay only in extras."""
    value = value.strip()
    if _INTEGER.match(value) and 0 <= int(value) <= _MAX_COUNT * 10:
        return int(value)
    return None


def _sides(value: str) -> list[str]:
    return list(dict.fromkeys(p.strip() for p in value.split(", ") if p.strip()))


class UcdpParser:
    """Rows of a UCDP GED CSV, normalized; rejects and warnings go to the report."""

    format = "ucdp"
    keeps_place_differences = False
    one_claim_per_source = True

    def __init__(self, dataset: str | None = None) -> None:
        self.dataset = dataset or DATASET
        self._actors: dict[tuple[str, int], ActorRef] = {}
        self._claims: dict[tuple[str, str | None], ClaimSpec] = {}
        self.file: CsvFile | None = None

    def open(self, path: Path) -> CsvFile:
        self.file = open_csv(path)
        require_columns(self.file.header, REQUIRED, "a UCDP GED file")
        return self.file

    def events(self, report: ImportReport) -> Iterator[EventRow]:
        assert self.file is not None
        header = self.file.header
        width = len(header)
        # The columns by name, so that the digest of a row ignores the file's column order.
        canonical = itemgetter(*sorted(range(width), key=header.__getitem__))
        for line, rec in self.file.full_records(report):
            raw = dict(zip(header, rec, strict=True))
            try:
                row = self._row(line, raw, report)
                row.source_text = "\x1f".join(canonical(rec))
            except RowRejected as exc:
                report.add(
                    Problem(line, exc.column, exc.value, exc.reason, "reject", raw["id"] or None)
                )
                continue
            yield row

    def _row(self, line: int, raw: dict[str, str], report: ImportReport) -> EventRow:
        external_id = raw["id"].strip()
        if not external_id or len(external_id) > 64 or not EXTERNAL_ID.match(external_id):
            raise RowRejected("id", external_id, "id is not a valid id")
        dates = []
        for column in ("date_start", "date_end"):
            try:
                dates.append(parse_date(raw[column]))
            except ValueError:
                raise RowRejected(column, raw[column], "unparseable date") from None
        start, end = dates
        if end < start:
            raise RowRejected("date_end", raw["date_end"], "date_end precedes date_start")
        date_prec = raw.get("date_prec", "").strip()
        if date_prec:
            precision = UCDP_DATE_PRECISION.get(date_prec)
            if precision is None:
                raise RowRejected("date_prec", date_prec, "date_prec must be 1..5")
        else:
            precision = "day"
        if precision == "day" and end != start:
            precision = "range"

        tov = raw["type_of_violence"].strip()
        if tov not in VIOLENCE:
            raise RowRejected(
                "type_of_violence", tov, "unknown type: type_of_violence must be 1, 2 or 3"
            )
        code, violence = VIOLENCE[tov]

        country = raw["country"].strip()
        cc = country_from_name(country)
        if cc is None:
            raise RowRejected("country", country, f"unknown country {country!r}")
        where_prec = raw.get("where_prec", "").strip()
        if where_prec and where_prec not in UCDP_GEO_PRECISION:
            raise RowRejected("where_prec", where_prec, "where_prec must be 1..7")
        lat = _coordinate(raw["latitude"], "latitude", 90)
        lon = _coordinate(raw["longitude"], "longitude", 180)
        place = self._place(raw, cc, country, where_prec, lat, lon)

        best = _count(raw["best"], "best")
        low = _count(raw["low"], "low") if raw.get("low", "").strip() else None
        high = _count(raw["high"], "high") if raw.get("high", "").strip() else None
        for column in ("deaths_a", "deaths_b", "deaths_civilians", "deaths_unknown"):
            if raw.get(column, "").strip():
                _count(raw[column], column)
        extras: dict[str, object] = {
            k: _extra_value(v) for k, v in raw.items() if k not in MAPPED and v != ""
        }
        if (low is not None and low > best) or (high is not None and high < best):
            widened_low = min(low, best) if low is not None else None
            widened_high = max(high, best) if high is not None else None
            report.add(
                Problem(
                    line,
                    "low" if low is not None and low > best else "high",
                    f"low={low} best={best} high={high}",
                    f"low <= best <= high fails; loaded as low={widened_low} best={best} "
                    f"high={widened_high} (the reported values stay in extras)",
                    "warning",
                    external_id,
                )
            )
            low, high = widened_low, widened_high
        else:
            # Held verbatim by the event's own fields.
            extras.pop("low", None)
            extras.pop("high", None)

        roles: list[ActorRole] = []
        side_a, side_b = raw["side_a"].strip(), raw["side_b"].strip()
        if not side_a:
            raise RowRejected("side_a", "", "side_a is required")
        for name in _sides(side_a):
            roles.append(ActorRole(self._actor(name, tov, cc, country), "initiator"))
        for name in _sides(side_b):
            roles.append(ActorRole(self._actor(name, tov, cc, country), "target"))

        claims = self._claims_of(raw)
        summary = f"{side_a} vs {side_b} ({violence}) at {raw['where_coordinates'].strip()}"
        found = json_problem(extras)
        if found is not None:  # the same rules as extras sent to the API (app.core.jsonrules)
            raise RowRejected("extras", "", describe_json_error(found))
        return EventRow(
            line=line,
            external_id=external_id,
            date_start=start,
            date_end=end,
            date_precision=precision,
            sub_event_type_code=code,
            summary=summary,
            place=place,
            geo_precision=UCDP_GEO_PRECISION.get(where_prec),
            civilian_targeting=tov == "3",
            fatalities_low=low,
            fatalities_best=best,
            fatalities_high=high,
            type_of_violence=int(tov),
            conflict_id=_id(raw.get("conflict_new_id", "")),
            dyad_id=_id(raw.get("dyad_new_id", "")),
            extras=extras,
            actors=roles,
            claims=claims,
        )

    def _place(
        self, raw: dict[str, str], cc: str, country: str, where_prec: str, lat: float, lon: float
    ) -> tuple[PlaceLevel, ...]:
        name = raw["where_coordinates"].strip()
        if not name:
            raise RowRejected("where_coordinates", "", "where_coordinates is required")
        if len(name) > MAX_NAME:
            raise RowRejected("where_coordinates", name[:80], f"longer than {MAX_NAME}")
        adm1 = raw.get("adm_1", "").strip()[:MAX_NAME] or None
        adm2 = raw.get("adm_2", "").strip()[:MAX_NAME] or None
        geo = UCDP_GEO_PRECISION.get(where_prec)
        country_level = PlaceLevel.make(country[:MAX_NAME], "country", cc)
        if where_prec == "6":
            return (
                PlaceLevel.make(country[:MAX_NAME], "country", cc, None, None, None, lat, lon, geo),
            )
        kind = UCDP_PLACE_KIND.get(where_prec)
        if kind is None:
            match = _SETTLEMENT.search(name)
            kind = match.group(1).lower() if match else "town"
        if kind == "province":
            leaf = PlaceLevel.make(name, kind, cc, adm1 or name, None, None, lat, lon, geo)
        else:
            leaf = PlaceLevel.make(name, kind, cc, adm1, adm2, None, lat, lon, geo)
        return chain(
            country_level,
            PlaceLevel.make(adm1, "province", cc, adm1) if adm1 else None,
            PlaceLevel.make(adm2, "district", cc, adm1, adm2) if adm2 else None,
            leaf,
        )

    def _actor(self, name: str, tov: str, cc: str, country: str) -> ActorRef:
        if name == "Civilians":
            name = f"Civilians ({_PARENTHESES.sub('', country).strip()})"
        if name.startswith("Government of "):
            actor_type = 1 if country_from_name(name[len("Government of ") :]) == cc else 8
        elif name.startswith("Civilians"):
            actor_type = 7
        else:
            # Non-state conflicts (2) are between militias; otherwise a non-state side is a rebel
            # group. The first row that names an actor decides its type.
            actor_type = 3 if tov == "2" else 2
        if len(name) > MAX_NAME:
            raise RowRejected("side_a", name[:80], f"an actor name is longer than {MAX_NAME}")
        ref = self._actors.get((name, actor_type))
        if ref is None:
            ref = ActorRef.named(name, actor_type)
            self._actors[(name, actor_type)] = ref
        return ref

    def _claims_of(self, raw: dict[str, str]) -> list[ClaimSpec]:
        offices = [o.strip() for o in raw.get("source_office", "").split(";")]
        dates = [d.strip() for d in raw.get("source_date", "").split(";")]
        aligned = len(dates) == len(offices)
        claims: list[ClaimSpec] = []
        seen: set[str] = set()
        for i, office in enumerate(offices):
            if not office or office in seen:
                continue
            seen.add(office)
            on = dates[i] if aligned else None
            claim = self._claims.get((office, on))
            if claim is None:
                try:
                    claimed_on = parse_date(on) if on else None
                except ValueError:
                    claimed_on = None
                claim = ClaimSpec(
                    SourceRef.named(office[:MAX_NAME], "other"),
                    f"reported by {office}",
                    via_source=DATASET_SOURCE,
                    claimed_on=claimed_on,
                )
                self._claims[(office, on)] = claim
            claims.append(claim)
        if not claims:
            # Older UCDP rows name no office, only a citation: UCDP itself is the source.
            article = raw.get("source_article", "").strip().strip('"') or None
            claims.append(
                ClaimSpec(
                    DATASET_SOURCE,
                    "recorded by UCDP GED",
                    quote=article[:20000] if article else None,
                )
            )
        return claims

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
