"""ACLED CSV files: the current 31-column layout, the pre-2021 one, and deletion lists.

Mapping (docs/import.md has the reasons):
- `event_id_cnty` is the natural key; `notes` becomes the summary; `fatalities`, ACLED's most
  conservative figure, is both `fatalities_low` and `fatalities_best` (no upper bound is known);
- `time_precision` 1/2/3 is day/week/month on the recorded date (ACLED records the middle of a
  week or month; no bounds are invented);
- the place is a chain country > admin1 > admin2 > location, each found by natural key;
- actor1/assoc_actor_1 are initiator/initiator_support, actor2/assoc_actor_2 target/target_support;
- each `source` becomes a source and one `occurrence` claim relayed by ACLED;
- disorder_type, inter codes, interaction, iso, region, source_scale, timestamp and any column
  this importer does not map go to `extras`, so that an export gives the row back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from operator import itemgetter
from pathlib import Path

from app.acled.format import ACLED_TIME_PRECISION
from app.acled.format import COLUMNS as ACLED_COLUMNS
from app.core.jsonrules import (
    MAX_BYTES,
    MAX_SAFE_INT,
    describe_json_error,
    json_problem,
)
from app.imports.csvio import CsvFile, open_csv, require_columns
from app.imports.problems import ImportFailed, ImportReport, Problem, RowRejected
from app.imports.rows import (
    ActorRef,
    ActorRole,
    ClaimSpec,
    EventRow,
    PlaceLevel,
    SourceRef,
    chain,
)
from app.imports.vocab import (
    DISORDER_TYPES,
    EXTERNAL_ID,
    MAX_NAME,
    MAX_TAG,
    Taxonomy,
    country_from_iso,
    fold,
    inter_code,
    parse_date,
)

DATASET = "acled"
DATASET_SOURCE = SourceRef.named("ACLED", "dataset")

REQUIRED = (
    "event_id_cnty",
    "event_date",
    "event_type",
    "sub_event_type",
    "actor1",
    "country",
    "location",
    "latitude",
    "longitude",
)
# The order in which the parser reads the columns (see AcledParser._row): ACLED's layout
# without `year` (event_date's), then the pre-2021 layout's iso3.
COLUMN_ORDER = (*(c for c in ACLED_COLUMNS if c != "year"), "iso3")
# Columns with a home of their own: ACLED's current layout (the one list, in the export module)
# plus the pre-2021 layout's iso3; every other non-empty column is kept in extras.
MAPPED = {*ACLED_COLUMNS, "iso3"}
# The extras this parser writes besides the unmapped columns (see AcledParser._row), and those
# of them that can hold an integer read from digits.
EXTRAS_KEYS = (
    "disorder_type",
    "inter1",
    "inter2",
    "interaction",
    "iso",
    "iso3",
    "country",
    "region",
    "source_scale",
    "timestamp",
)
DIGIT_KEYS = ("interaction", "iso", "timestamp")
# The distinct `source` cells whose claims are kept built (emptied when full: memory stays
# bounded whatever the file's variety).
CLAIM_LISTS = 20_000
# The distinct date and inter cells whose reading is kept (dates emptied when full).
CELLS_KEPT = 50_000
LONGEST_DISORDER = max(len(name) for name in DISORDER_TYPES.values())


def split_list(value: str) -> list[str]:
    """ACLED's ';'-separated lists, trimmed, without blanks or repeats, in order."""
    if ";" not in value:
        value = value.strip()
        return [value] if value else []
    return list(dict.fromkeys(p.strip() for p in value.split(";") if p.strip()))


def _int(value: str, column: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except ValueError:
        raise RowRejected(column, value, f"{column} must be a whole number") from None
    if not low <= number <= high:
        raise RowRejected(column, value, f"{column} must be between {low} and {high}")
    return number


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


def timestamp_seconds(value: str) -> int:
    if value.isdigit():
        return int(value)
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise RowRejected("timestamp", value, "timestamp must be Unix seconds") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return int(moment.timestamp())


def _name(value: str, column: str) -> str:
    if len(value) > MAX_NAME:
        raise RowRejected(column, value[:80] + "...", f"{column} is longer than {MAX_NAME}")
    return value


class AcledParser:
    """Rows of an ACLED CSV, normalized; rejects go to the report."""

    format = "acled"
    keeps_place_differences = True
    one_claim_per_source = True

    def __init__(self, taxonomy: Taxonomy, dataset: str | None = None) -> None:
        self.taxonomy = taxonomy
        self.dataset = dataset or DATASET
        self._types: dict[tuple[str, str], str | RowRejected] = {}
        self._places: dict[tuple[str, ...], tuple[PlaceLevel, ...]] = {}
        self._roles: dict[tuple[str, int, str], ActorRole] = {}
        self._claims: dict[str, ClaimSpec] = {}
        self._disorders: dict[str, str] = {}
        # The days of the dates (a file has a few thousand) and the inter codes, by cell (the
        # cells that are no date or no code are not kept: rejected each time).
        self._days: dict[str, dt.date] = {}
        self._inters: dict[str, int] = {}
        self._parents: dict[tuple[str | None, ...], tuple[PlaceLevel | None, ...]] = {}
        self._cols: tuple[int, ...] = ()
        self._unmapped: list[tuple[str, int]] = []
        self._keys_plain = False
        # The longest record whose extras `_plain_extras` can vouch for (see there).
        self._text_room = 0
        # Each distinct `source` cell's claims, in order.
        self._claim_lists: dict[str, list[ClaimSpec]] = {}
        self._canonical: Callable[[list[str]], tuple[str, ...]] = tuple
        self.file: CsvFile | None = None

    def open(self, path: Path) -> CsvFile:
        self.file = open_csv(path)
        require_columns(self.file.header, REQUIRED, "an ACLED file")
        if "iso" not in self.file.header and "iso3" not in self.file.header:
            raise ImportFailed("not an ACLED file: the header has neither iso nor iso3")
        return self.file

    def events(self, report: ImportReport) -> Iterator[EventRow]:
        assert self.file is not None
        header = self.file.header
        width = len(header)
        pos = {name: i for i, name in enumerate(header)}
        # Absent optional columns read as "" from one slot past the end of each record.
        self._cols = tuple(pos.get(name, width) for name in COLUMN_ORDER)
        self._unmapped = [(name, i) for name, i in pos.items() if name not in MAPPED]
        # Extras keys: constants, and these names (see _plain_extras).
        self._keys_plain = json_problem({name: 0 for name, _ in self._unmapped}) is None
        keys = [*EXTRAS_KEYS, *(name for name, _ in self._unmapped)]
        fixed = 2 + sum(30 + 6 * len(key) for key in keys) + 6 * LONGEST_DISORDER
        self._text_room = (MAX_BYTES - fixed) // 6
        # The columns by name, so that the digest of a row ignores the file's column order.
        self._canonical = itemgetter(*(pos[name] for name in sorted(header)))
        id_col = self._cols[0]
        row = self._row
        for line, rec in self.file.full_records(report):
            rec.append("")
            try:
                yield row(line, rec)
            except RowRejected as exc:
                external_id = rec[id_col] or None
                report.add(Problem(line, exc.column, exc.value, exc.reason, "reject", external_id))

    def _row(self, line: int, rec: list[str]) -> EventRow:
        (
            c_id, c_date, c_tp, c_disorder, c_type, c_sub, c_actor1, c_assoc1, c_inter1,
            c_actor2, c_assoc2, c_inter2, c_interaction, c_civ, c_iso, c_region,
            c_country, c_admin1, c_admin2, c_admin3, c_location, c_lat, c_lon, c_geo,
            c_source, c_scale, c_notes, c_fatalities, c_tags, c_timestamp, c_iso3,
        ) = self._cols  # fmt: skip
        external_id = rec[c_id].strip()
        if not external_id or len(external_id) > 64 or not EXTERNAL_ID.match(external_id):
            raise RowRejected("event_id_cnty", external_id, "event_id_cnty is not a valid id")
        raw_date = rec[c_date]
        day = self._days.get(raw_date)
        if day is None:
            try:
                day = parse_date(raw_date)
            except ValueError:
                raise RowRejected("event_date", raw_date, "unparseable date") from None
            if len(self._days) >= CELLS_KEPT:
                self._days.clear()
            self._days[raw_date] = day
        tp = rec[c_tp].strip() or "1"
        precision = ACLED_TIME_PRECISION.get(tp)
        if precision is None:
            raise RowRejected("time_precision", tp, "time_precision must be 1, 2 or 3")

        type_key = (rec[c_type], rec[c_sub])
        code = self._types.get(type_key)
        if code is None:
            code = self._type(*type_key)
            self._types[type_key] = code
        if isinstance(code, RowRejected):
            raise code

        extras: dict[str, object] = {}
        disorder = rec[c_disorder]
        if disorder:
            canonical = self._disorders.get(disorder)
            if canonical is None:
                canonical = DISORDER_TYPES.get(fold(disorder))
                if canonical is None:
                    raise RowRejected("disorder_type", disorder, "unknown type: disorder_type")
                self._disorders[disorder] = canonical
            extras["disorder_type"] = canonical

        inter1_raw, inter2_raw = rec[c_inter1], rec[c_inter2]
        inters = self._inters
        inter1 = inters.get(inter1_raw)
        if inter1 is None:
            inter1 = self._inter(inter1_raw)
        inter2 = inters.get(inter2_raw)
        if inter2 is None:
            inter2 = self._inter(inter2_raw)
        if not inter1:
            raise RowRejected("inter1", inter1_raw, "unknown actor type: inter1 must be 1..8")
        if inter2 is None:
            raise RowRejected("inter2", inter2_raw, "unknown actor type: inter2 must be 0..8")
        extras["inter1"] = inter1
        extras["inter2"] = inter2
        interaction = rec[c_interaction].strip()
        if interaction:
            extras["interaction"] = int(interaction) if interaction.isdigit() else interaction

        role = self._role
        actor1 = rec[c_actor1].strip()
        if not actor1:
            raise RowRejected("actor1", "", "actor1 is required")
        actor2 = rec[c_actor2].strip()
        if actor2 and inter2 == 0:
            raise RowRejected("inter2", inter2_raw, "unknown actor type: actor2 has no inter2")
        roles = [role(actor1, inter1, "initiator", "actor1")]
        assoc = rec[c_assoc1]
        if assoc:
            for name in split_list(assoc):
                roles.append(role(name, inter1, "initiator_support", "assoc_actor_1"))
        if actor2:
            roles.append(role(actor2, inter2, "target", "actor2"))
        assoc = rec[c_assoc2]
        if assoc:
            for name in split_list(assoc):
                roles.append(role(name, inter2 or inter1, "target_support", "assoc_actor_2"))

        civ = rec[c_civ].strip()
        if civ and civ != "Civilians targeted" and fold(civ) != "civilians targeted":
            raise RowRejected(
                "civilian_targeting",
                civ,
                "civilian_targeting must be blank or 'Civilians targeted'",
            )

        iso_raw = rec[c_iso].strip() or rec[c_iso3].strip()
        country = rec[c_country].strip()
        cc = country_from_iso(iso_raw, country)
        if cc is None:
            raise RowRejected("iso", iso_raw, f"unknown country: iso {iso_raw!r} ({country})")
        if iso_raw.isdigit():
            extras["iso"] = int(iso_raw)
        elif iso_raw:
            extras["iso3"] = iso_raw  # the pre-2021 layout's alpha-3 code
        # The place holds a country code; the dataset's own spelling of the name stays here.
        extras["country"] = country
        region = rec[c_region]
        if region:
            extras["region"] = region.strip()

        geo_raw = rec[c_geo].strip()
        geo = _int(geo_raw, "geo_precision", 1, 3) if geo_raw else None
        place_key = (
            cc,
            country,
            rec[c_admin1],
            rec[c_admin2],
            rec[c_admin3],
            rec[c_location],
            rec[c_lat],
            rec[c_lon],
        )
        place = self._places.get(place_key)
        if place is None:
            place = self._place(place_key, geo)
            self._places[place_key] = place

        fat_raw = rec[c_fatalities].strip()
        fatalities = _int(fat_raw, "fatalities", 0, 100_000_000) if fat_raw else 0

        source_cell = rec[c_source]
        claims = self._claim_lists.get(source_cell)
        if claims is None:
            claims = []
            for name in split_list(source_cell):
                claim = self._claims.get(name)
                if claim is None:
                    claim = ClaimSpec(
                        SourceRef.named(_name(name, "source"), "other"),
                        f"reported by {name}",
                        via_source=DATASET_SOURCE,
                    )
                    self._claims[name] = claim
                claims.append(claim)
            if len(self._claim_lists) >= CLAIM_LISTS:
                self._claim_lists.clear()
            self._claim_lists[source_cell] = claims
        tags = split_list(rec[c_tags])
        for tag in tags:
            if len(tag) > MAX_TAG:
                raise RowRejected("tags", tag, f"a tag is longer than {MAX_TAG}")

        scale = rec[c_scale]
        if scale:
            extras["source_scale"] = scale.strip()
        ts = rec[c_timestamp].strip()
        if ts:
            extras["timestamp"] = int(ts) if ts.isdigit() else timestamp_seconds(ts)
        for name, i in self._unmapped:
            if rec[i]:
                extras[name] = rec[i]

        source_text = "\x1f".join(self._canonical(rec))
        if not self._plain_extras(extras, source_text):
            found = json_problem(extras)
            if found is not None:  # the same rules as extras sent to the API (app.core.jsonrules)
                raise RowRejected("extras", "", describe_json_error(found))
        return EventRow(
            line,
            external_id,
            day,
            day,
            precision,
            code,
            rec[c_notes],
            place,
            None,
            geo,
            None,
            bool(civ),
            fatalities,
            fatalities,
            None,
            extras,
            roles,
            claims,
            tags,
            source_text,
        )

    def _plain_extras(self, extras: dict[str, object], source_text: str) -> bool:
        """True when `json_problem(extras)` is sure to find nothing, found without walking it.

        This parser's extras are flat: keys are `EXTRAS_KEYS` or the header's names (checked
        once, in `events`); values are small integers (inter codes), integers read from digits
        (interaction, iso, timestamp: the only ones that can leave the safe range), or stripped
        cells of the record (each cell once; all of them are in `source_text`), or a canonical
        disorder type. So the serialized size is at most a per-file constant plus six bytes a
        character of the record (`_text_room`). The record cannot hold a NUL or a lone
        surrogate: `full_records` refuses a row with a NUL and the strict UTF-8 decoder cannot
        produce a surrogate. Where any of it is in doubt, `json_problem` decides (and words the
        reject).
        """
        if not self._keys_plain or len(source_text) > self._text_room:
            return False
        for key in DIGIT_KEYS:
            value = extras.get(key)
            if type(value) is int and not -MAX_SAFE_INT <= value <= MAX_SAFE_INT:
                return False
        return True

    def _inter(self, raw: str) -> int | None:
        code = inter_code(raw)
        if code is not None and len(self._inters) < CELLS_KEPT:
            self._inters[raw] = code
        return code

    def _type(self, event_type: str, sub_event_type: str) -> str | RowRejected:
        try:
            return self.taxonomy.acled_code(event_type, sub_event_type)
        except ValueError as exc:
            if str(exc) == "sub_event_type":
                return RowRejected(
                    "sub_event_type",
                    sub_event_type,
                    f"unknown type: {sub_event_type!r} is not an ACLED sub-event type",
                )
            return RowRejected(
                "event_type",
                event_type,
                f"unknown type: {sub_event_type!r} is not a kind of {event_type!r}",
            )

    def _role(self, name: str, inter: int, role: str, column: str) -> ActorRole:
        key = (name, inter, role)
        found = self._roles.get(key)
        if found is None:
            # The first row that names an actor decides its type; every row keeps its own
            # inter codes in extras.
            found = ActorRole(ActorRef.named(_name(name, column), inter or 8), role)
            self._roles[key] = found
        return found

    def _place(self, key: tuple[str, ...], geo: int | None) -> tuple[PlaceLevel, ...]:
        cc, country, raw1, raw2, raw3, raw_location, lat_raw, lon_raw = key
        admin1 = _name(raw1.strip(), "admin1") or None
        admin2 = _name(raw2.strip(), "admin2") or None
        admin3 = _name(raw3.strip(), "admin3") or None
        location = _name(raw_location.strip(), "location")
        if not location:
            raise RowRejected("location", "", "location is required")
        if not country:
            raise RowRejected("country", "", "country is required")
        lat = _coordinate(lat_raw, "latitude", 90)
        lon = _coordinate(lon_raw, "longitude", 180)
        parents = self._parents.get((cc, country, admin1, admin2))
        if parents is None:
            parents = (
                PlaceLevel.make(_name(country, "country"), "country", cc),
                PlaceLevel.make(admin1, "province", cc, admin1) if admin1 else None,
                PlaceLevel.make(admin2, "district", cc, admin1, admin2) if admin2 else None,
            )
            self._parents[(cc, country, admin1, admin2)] = parents
        leaf = PlaceLevel.make(location, "town", cc, admin1, admin2, admin3, lat, lon, geo)
        return chain(*parents, leaf)

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
