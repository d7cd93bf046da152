"""ACLED's event columns as SQL conditions on our schema, with the exporter's mapping
(app/exports/acled.py) as the single definition of what each column holds:

- event_id_cnty: `external_id` for dataset `acled`, else `<dataset>-<external_id>`.
- event_date / year: the day, or the middle of a week/month/range span.
- actor1 / actor2: the first initiator / target; assoc_actor_*: the other ones and the supporters.
- inter1 / inter2 / interaction: ACLED's own codes for a row read from an ACLED file (extras),
  else the actor types of actor1 / actor2 (0 = none).
- disorder_type, admin1-3, location, latitude, longitude: what an ACLED import recorded where
  the model says otherwise (extras), else the sub-event type's and the place's.
- iso / country / region: the place's country, via app.exports.countries.
- notes: the event's summary; fatalities: the best estimate, 0 when unknown.
- source: the names of the sources of its claims; tags; source_scale (extras).
- timestamp: Unix seconds of `updated_at`.

Columns with a small domain (types, countries, precisions, actor types) are evaluated in Python
over that domain, so that `=`, `LIKE` and comparisons behave the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Date,
    Integer,
    String,
    and_,
    case,
    cast,
    exists,
    extract,
    false,
    func,
    literal_column,
    or_,
    select,
    true,
)
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from app.acled.format import (
    ACLED_MARK,
    ACLED_REGIONS,
    KEPT_KINDS,
    TIME_PRECISION,
    WEEK_SPAN_DAYS,
    interaction_code,
    interaction_label,
)
from app.acled.grammar import LIKE_ESCAPE, Column, Filter, like_pattern, matching
from app.events.queries import EVENT_COUNTRY
from app.exports.countries import country_info
from app.models import Actor, Claim, Event, EventActor, EventTag, Place, Source
from app.models.vocab import ACTOR_TYPES

EVENT_COLUMNS: dict[str, Column] = {
    "event_id_cnty": Column("text"),
    "event_date": Column("date"),
    "year": Column("int"),
    "time_precision": Column("int"),
    "disorder_type": Column("text"),
    "event_type": Column("text"),
    "sub_event_type": Column("text"),
    "actor1": Column("text"),
    "assoc_actor_1": Column("text"),
    "inter1": Column("text"),
    "actor2": Column("text"),
    "assoc_actor_2": Column("text"),
    "inter2": Column("text"),
    "interaction": Column("text"),
    "civilian_targeting": Column("text"),
    "iso": Column("int"),
    "region": Column("text"),
    "country": Column("text"),
    "admin1": Column("text"),
    "admin2": Column("text"),
    "admin3": Column("text"),
    "location": Column("text"),
    "latitude": Column("float"),
    "longitude": Column("float"),
    "geo_precision": Column("int"),
    "source": Column("text"),
    "source_scale": Column("text"),
    "notes": Column("text"),
    "fatalities": Column("int"),
    "tags": Column("text"),
    "timestamp": Column("timestamp", ">="),
}


@dataclass(frozen=True)
class Domains:
    """The small sets some columns are evaluated over, read from the database per request."""

    country_codes: Sequence[str]
    # (code, disorder_type, acled_event_type, acled_sub_event_type)
    sub_event_types: Sequence[tuple[str, str, str, str]]


def compare(expr: Any, f: Filter) -> ColumnElement[bool]:
    """`expr <op> values` in SQL; text compares case-insensitively, LIKE on any type."""
    if f.op == "LIKE":
        target = func.lower(cast(expr, String)) if f.kind != "text" else func.lower(expr)
        return or_(*[target.like(like_pattern(v), escape=LIKE_ESCAPE) for v in f.texts])
    values: tuple[Any, ...] = f.values
    if f.kind == "text":
        expr = func.lower(expr)
        values = tuple(v.lower() for v in f.texts)
    if f.op == "=":
        return expr.in_(values)  # type: ignore[no-any-return]
    if f.op == "BETWEEN":
        return expr.between(values[0], values[1])  # type: ignore[no-any-return]
    ops: dict[str, Callable[[Any, Any], ColumnElement[bool]]] = {
        ">": lambda a, b: a > b,
        "<": lambda a, b: a < b,
        ">=": lambda a, b: a >= b,
        "<=": lambda a, b: a <= b,
    }
    return ops[f.op](expr, values[0])


def event_date_expr(dialect: str) -> ColumnElement[dt.date]:
    """The exporter's event_date: date_start, or the middle of the span (rounded down)."""
    # Each dialect's expression is that of ix_events_acled_day (migration 0013), with its 2
    # inlined: a bound parameter would not match the index (PostgreSQL's generic plan of a
    # prepared statement; SQLite never matches an expression with parameters).
    two = literal_column("2", Integer)
    if dialect == "postgresql":
        days = (Event.date_end - Event.date_start) // two
        return cast(Event.date_start + days, Date)
    start, end = func.julianday(Event.date_start), func.julianday(Event.date_end)
    half = cast((end - start).self_group().op("/")(two), Integer)
    return func.date(start + half, type_=Date)


def _event_date(f: Filter, dialect: str) -> ColumnElement[bool]:
    condition = compare(event_date_expr(dialect), f)
    if f.op == "LIKE":
        return condition
    # The middle of the span lies within it: a range test on date_start/date_end can use the
    # (date_start, id) index before the exact test.
    low = min(f.values)
    high = max(f.values)
    if f.op in {"=", "BETWEEN"}:
        return and_(Event.date_start <= high, Event.date_end >= low, condition)
    if f.op in {">", ">="}:
        return and_(Event.date_end >= low, condition)
    return and_(Event.date_start <= high, condition)


def _span_days(dialect: str) -> Any:
    if dialect == "postgresql":
        return Event.date_end - Event.date_start
    return func.julianday(Event.date_end) - func.julianday(Event.date_start)


def _time_precision(f: Filter, dialect: str) -> ColumnElement[bool]:
    """As the exporter writes it: day 1, week (or a range of up to 7 days) 2, else 3."""
    short = and_(Event.date_precision == "range", _span_days(dialect) <= WEEK_SPAN_DAYS)
    conditions = []
    for value in matching((1, 2, 3), f, lambda v: [v]):
        kinds = [k for k, v in TIME_PRECISION.items() if v == value]
        condition: ColumnElement[bool] = Event.date_precision.in_(kinds)
        if value == 2:
            condition = or_(condition, short)
        elif value == 3:
            condition = and_(condition, ~short)
        conditions.append(condition)
    return or_(*conditions) if conditions else false()


def _year(f: Filter, dialect: str) -> ColumnElement[bool]:
    expr = extract("year", event_date_expr(dialect))
    return compare(expr, f)


def _timestamp(f: Filter) -> ColumnElement[bool]:
    """On updated_at, so the (updated_at, id) index serves `timestamp>=` syncs."""

    def at(seconds: int) -> dt.datetime:
        return dt.datetime.fromtimestamp(seconds, dt.UTC)

    if f.op == "LIKE":
        return compare(Event.updated_at, f)
    column = Event.updated_at
    values = [int(v) for v in f.values]
    # The exported value is whole seconds (int(updated_at.timestamp())): compare on that.
    if f.op == "=":
        return or_(*[and_(column >= at(v), column < at(v + 1)) for v in values])
    if f.op == "BETWEEN":
        return and_(column >= at(values[0]), column < at(values[1] + 1))
    v = values[0]
    return {
        ">": column >= at(v + 1),
        ">=": column >= at(v),
        "<": column < at(v),
        "<=": column < at(v + 1),
    }[f.op]


def _event_id(f: Filter) -> ColumnElement[bool]:
    if f.op != "=":
        expr = case(
            (Event.dataset == "acled", Event.external_id),
            else_=Event.dataset + "-" + Event.external_id,
        )
        return compare(expr, f)
    # Exact ids use the (dataset, external_id) unique index.
    matches: list[ColumnElement[bool]] = []
    for value in f.texts:
        for dataset, external_id in id_keys(value):
            matches.append(and_(Event.dataset == dataset, Event.external_id == external_id))
    return or_(*matches)


def id_keys(value: str) -> list[tuple[str, str]]:
    """The (dataset, external_id) keys an `event_id_cnty` names: ACLED's own id, and
    `<dataset>-<external_id>` for another dataset's event (ids are ACLED's, or so prefixed)."""
    keys = [("acled", value)]
    dataset, sep, external_id = value.partition("-")
    if sep and external_id:
        keys.append((dataset, external_id))
    return keys


def _first(role: str, event_id: Any) -> Any:
    """The id of an event's first actor link in a role (the exporter's actor1 / actor2)."""
    other = aliased(EventActor)
    return (
        select(func.min(other.id))
        .where(other.event_id == event_id, other.role == role)
        .scalar_subquery()
    )


def actor_type_of_first(role: str) -> Any:
    link = aliased(EventActor)
    first_type = (
        select(Actor.actor_type)
        .join(link, link.actor_id == Actor.id)
        .where(link.event_id == Event.id, link.role == role)
        .order_by(link.id)
        .limit(1)
        .scalar_subquery()
    )
    return func.coalesce(first_type, 0)


def _actor(f: Filter, role: str, support: str, first: bool) -> ColumnElement[bool]:
    """actor1/actor2 (the first link in the role) or assoc_actor_* (the others + supporters)."""
    link = aliased(EventActor)
    if first:
        which = and_(link.role == role, link.id == _first(role, link.event_id))
    else:
        first = _first(role, link.event_id)
        which = or_(link.role == support, and_(link.role == role, link.id != first))
    return exists(
        select(link.id)
        .join(Actor, Actor.id == link.actor_id)
        .where(link.event_id == Event.id, which, compare(Actor.name, f))
    )


def _valid(key: str, dialect: str) -> ColumnElement[bool]:
    """`acled._valid` in SQL: extras[key] has the JSON type the exporter trusts."""
    kind = KEPT_KINDS[key]
    if dialect == "postgresql":
        typ = func.jsonb_typeof(Event.extras[key])
        if kind == "code":
            codes = [str(i) for i in range(9)]
            return and_(typ == "number", Event.extras[key].as_string().in_(codes))
        return typ == ("number" if kind == "number" else "string")
    typ = func.json_type(Event.extras, f'$."{key}"')
    if kind == "code":
        value = func.json_extract(Event.extras, f'$."{key}"')
        return and_(typ == "integer", value.between(0, 8))
    return typ.in_(["integer", "real"]) if kind == "number" else typ == "text"


def _recorded(key: str, dialect: str) -> ColumnElement[bool]:
    """The event was read from an ACLED file and its import recorded `key` (acled.recorded).

    Never NULL (no extras, no key: false), so that NOT of it is true there.
    """
    return func.coalesce(and_(_valid(ACLED_MARK, dialect), _valid(key, dialect)), false())


def kept(key: str, computed: Any, dialect: str, kind: str = "string") -> Any:
    """The exporter's use of `acled.recorded` in SQL: the recorded value, else `computed`."""
    value = getattr(Event.extras[key], f"as_{kind}")()
    return case((_recorded(key, dialect), value), else_=computed)


def inter_of(side: str, dialect: str) -> Any:
    """inter1 / inter2 as the exporter writes them."""
    role, key = ("initiator", "inter1") if side == "1" else ("target", "inter2")
    return kept(key, actor_type_of_first(role), dialect, "integer")


def _inter_codes(f: Filter) -> list[int]:
    return matching(range(9), f, lambda c: [c, ACTOR_TYPES.get(c, "")])


def _interaction(f: Filter, dialect: str) -> ColumnElement[bool]:
    inter1, inter2 = inter_of("1", dialect), inter_of("2", dialect)
    pairs = [(a, b) for a in range(9) for b in range(9) if a or b]
    wanted = matching(pairs, f, lambda p: [interaction_code(*p), interaction_label(*p)])
    if not wanted:
        return false()
    return or_(*[and_(inter1 == a, inter2 == b) for a, b in wanted])


def _claims_sources(f: Filter) -> ColumnElement[bool]:
    return exists(
        select(Claim.id)
        .join(Source, Source.id == Claim.source_id)
        .where(Claim.event_id == Event.id, compare(Source.name, f))
    )


def _float(column: Any, f: Filter) -> ColumnElement[bool]:
    if f.op == "=":
        # The exporter writes 4 decimals: equality is on the rounded value.
        return or_(*[column.between(v - 0.00005, v + 0.00005) for v in f.values])
    return compare(column, f)


def _country_values(column: str, code: str) -> list[Any]:
    if column == "iso":
        return [country_info(code).iso_numeric]
    if column == "country":
        return [country_info(code).name]
    return _region_values(code)


@lru_cache(maxsize=256)
def _matching_codes(f: Filter, codes: tuple[str, ...]) -> list[str]:
    """The codes whose ACLED value of `f.column` passes `f` (a pure function of its arguments,
    kept: matching every code present cost ~0.4 ms a request)."""
    return matching(codes, f, lambda code: _country_values(f.column, code))


def _countries(f: Filter, domains: Domains) -> ColumnElement[bool]:
    codes = _matching_codes(f, tuple(domains.country_codes))
    if not codes:
        return false()
    # The event's copy of its place's country, indexed with ACLED's day (migrations 0015,
    # 0016), so one country newest first is a range of an index.
    return EVENT_COUNTRY.in_(codes)


def _region_values(code: str) -> list[Any]:
    name = country_info(code).acled_region
    number = next((n for n, r in ACLED_REGIONS.items() if r == name), None)
    return [name] if number is None else [name, number]


def _taxonomy(f: Filter, domains: Domains, index: int) -> ColumnElement[bool]:
    codes = [row[0] for row in matching(domains.sub_event_types, f, lambda row: [row[index]])]
    return Event.sub_event_type_code.in_(codes) if codes else false()


def condition(f: Filter, domains: Domains, dialect: str) -> ColumnElement[bool]:
    """The SQL condition for one ACLED filter on `events LEFT JOIN places`."""
    c = f.column
    if c == "event_id_cnty":
        return _event_id(f)
    if c == "event_date":
        return _event_date(f, dialect)
    if c == "year":
        return _year(f, dialect)
    if c == "time_precision":
        return _time_precision(f, dialect)
    if c == "disorder_type":
        return or_(
            and_(_recorded(c, dialect), compare(Event.extras[c].as_string(), f)),
            and_(~_recorded(c, dialect), _taxonomy(f, domains, 1)),
        )
    if c in {"event_type", "sub_event_type"}:
        return _taxonomy(f, domains, ("", "disorder_type", "event_type", "sub_event_type").index(c))
    if c in {"actor1", "actor2", "assoc_actor_1", "assoc_actor_2"}:
        side = "initiator" if c.endswith("1") else "target"
        return _actor(f, side, f"{side}_support", first=c.startswith("actor"))
    if c in {"inter1", "inter2"}:
        codes = _inter_codes(f)
        expr = inter_of(c[-1], dialect)
        return expr.in_(codes) if codes else false()
    if c == "interaction":
        return _interaction(f, dialect)
    if c == "civilian_targeting":
        flags = matching((True, False), f, lambda b: ["Civilians targeted" if b else ""])
        return Event.civilian_targeting.in_(flags) if flags else false()
    if c in {"iso", "country", "region"}:
        return _countries(f, domains)
    if c in {"admin1", "admin2", "admin3", "location"}:
        column = Place.name if c == "location" else getattr(Place, c)
        return compare(kept(c, column, dialect), f)
    if c in {"latitude", "longitude"}:
        return _float(kept(c, getattr(Place, c), dialect, "float"), f)
    if c == "geo_precision":
        return compare(func.coalesce(Event.geo_precision, Place.geo_precision), f)
    if c == "source":
        return _claims_sources(f)
    if c == "source_scale":
        return compare(func.coalesce(Event.extras["source_scale"].as_string(), ""), f)
    if c == "notes":
        return compare(Event.summary, f)
    if c == "fatalities":
        return compare(func.coalesce(Event.fatalities_best, 0), f)
    if c == "tags":
        return exists(
            select(EventTag.tag).where(EventTag.event_id == Event.id, compare(EventTag.tag, f))
        )
    if c == "timestamp":
        return _timestamp(f)
    return true()  # pragma: no cover - EVENT_COLUMNS and this dispatch list the same names
