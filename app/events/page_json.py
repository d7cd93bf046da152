"""A page of events built as JSON by PostgreSQL: one statement, one text value.

`listing.load_event_dicts` builds a page from column tuples in Python: ~10 ms of CPU for 100
events (psycopg's stdlib JSON parse of the nested arrays, datetimes made and formatted, dicts
built). Here PostgreSQL writes each event in the shape of `serialize.event_dict` with
`json_build_object` (each nested list one grouped `json_agg` over the page's ids) and the page
as one `json_agg` in the order of the ids; Python parses that text once with orjson. The shape is
the same key for key and value for value (a test holds a page equal to GET /v1/events/{id} of
each of its events), with three rules kept from the Python path:

- timestamps are written as `serialize.utc_iso` writes them (`...Z`, microseconds only when
  non-zero);
- tags sort by code point (`COLLATE "C"`, Python's `sorted`);
- latitude and longitude stay floats: PostgreSQL writes 36.0 as 36, so an integral value gets
  its ".0" here (other values are float8's shortest exact text, `extra_float_digits` 1).

Free-form JSON (extras, claim attributes) stored before the JSON rules may hold an integer
beyond 64 bits, which orjson would read as a float of that size (a float the rules let in is
within 2**53): the statement says whether the page holds a number of magnitude 2**63 or more
(a JSON path test, ~0.2 ms a page), and such a page is read through the Python path instead,
which writes those integers as their decimal strings (`jsonrules.stored_json`).

The list sends the text as PostgreSQL wrote it, inside its answer (`load_page_text`): parsing
it with orjson and writing it again cost ~1.1 ms of CPU a page of 100. The text is spaced as
PostgreSQL spaces JSON (`"id" : 1`), which parses to the same values.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import orjson
from sqlalchemy import (
    JSON,
    Integer,
    Select,
    Text,
    any_,
    bindparam,
    case,
    cast,
    false,
    func,
    literal_column,
    or_,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by
from sqlalchemy.dialects.postgresql.psycopg import dialect as psycopg_dialect

from app.core.db import Reader, driver_rows
from app.events.serialize import EVENT_FIELDS
from app.models import (
    Actor,
    AirspaceViolation,
    Campaign,
    CasualtyFigure,
    Claim,
    Event,
    EventActor,
    EventTag,
    MaterielLoss,
    Place,
    Source,
    SubEventType,
    TerritoryChange,
    campaign_events,
)

_DIALECT = psycopg_dialect()  # type: ignore[no-untyped-call]
# Numbers orjson could not read exactly (an integer beyond 64 bits; no float the JSON rules let
# in is this large), anywhere in a free-form JSON value.
LOST = (
    '\'strict $.** ? (@.type() == "number" && '
    "(@ >= 9223372036854775808 || @ <= -9223372036854775808))'"
)


def _obj(*pairs: tuple[str, Any]) -> Any:
    """json_build_object('k1', v1, ...) with the keys inlined (no parameters)."""
    args: list[Any] = []
    for key, value in pairs:
        args += [literal_column(f"'{key}'"), value]
    return func.json_build_object(*args)


def utc_text(column: Any) -> Any:
    """SQL writing a timestamptz as `serialize.utc_iso` does: 2015-10-08T12:00:00[.123456]Z."""
    utc = func.timezone(literal_column("'UTC'"), column)
    fraction = func.nullif(func.to_char(utc, literal_column("'.US'")), literal_column("'.000000'"))
    return func.concat(
        func.to_char(utc, literal_column("'YYYY-MM-DD\"T\"HH24:MI:SS'")),
        fraction,
        literal_column("'Z'"),
    )


# Every field of an event as the list writes it by default (distance_km is the sort's own).
DOC_FIELDS = tuple(f for f in EVENT_FIELDS if f != "distance_km")

# The page's ids: unnested in page_statement, and the key of every list's own scan.
IDS = bindparam("ids", type_=ARRAY(Integer))


@dataclass(frozen=True)
class _Grouped:
    """A list field: (event_id, j) for the page's events, one scan of its table, grouped."""

    stmt: Select[Any]


def _list(doc: Any, order: Any, event_id: Any, *lookups: Any, lost: Any = None) -> _Grouped:
    """The rows' docs of each of the page's events as a JSON array in `order` (and whether any
    row's `lost` holds, as column `lost`).

    One grouped scan per table for the page (event_id = ANY(ids)): as correlated subqueries,
    eight per event, the executor's per-event start-up cost ~8 ms a page."""
    columns = [event_id.label("event_id"), func.json_agg(aggregate_order_by(doc, order)).label("j")]
    if lost is not None:
        columns.append(func.bool_or(lost).label("lost"))
    inner = select(*columns)
    for lookup in lookups:
        inner = inner.outerjoin(lookup, true())
    return _Grouped(inner.where(event_id == any_(IDS)).group_by(event_id))


def _row_of(model: Any, key: Any, *names: str) -> Any:
    """The row of `model` whose id is `key`, looked up for each row of a list (LEFT JOIN
    LATERAL ... ON true). OFFSET 0 keeps it a subquery of its own: as a plain join PostgreSQL's
    generic plan (10 ids assumed) hashed the whole table for each list (3,283 actors and 2,260
    sources of the 1M ACLED rows), whatever the page's size: GET /v1/events/{id} 3.0 -> 2.0 ms,
    a page of 100 4.9 -> 4.7 ms."""
    columns = [getattr(model, name) for name in ("id", *names)]
    return select(*columns).where(model.id == key).offset(literal_column("0")).lateral()


def _lost_in(column: Any) -> Any:
    """Whether a jsonb value holds a number orjson could not read exactly (see LOST)."""
    return func.jsonb_path_exists(column, literal_column(LOST))


def _float(column: Any) -> Any:
    """A float8 as JSON that reads back as a float: 36.0, not PostgreSQL's 36."""
    as_json = func.to_json(column)
    integral = cast(func.concat(cast(as_json, Text), literal_column("'.0'")), JSON)
    return case((column == func.trunc(column), integral), else_=as_json)


def _ref(id_column: Any, name_column: Any) -> Any:
    """{"id", "name"} of an optional reference, or null."""
    return case((id_column.is_(None), None), else_=_obj(("id", id_column), ("name", name_column)))


def _source(model: Any) -> Any:
    return _obj(("id", model.id), ("name", model.name), ("kind", model.kind))


def _sub_event_type() -> Any:
    st = SubEventType
    return _obj(
        ("code", st.code),
        ("name", st.name),
        ("event_type_code", st.event_type_code),
        ("disorder_type", st.disorder_type),
        ("acled_event_type", st.acled_event_type),
        ("acled_sub_event_type", st.acled_sub_event_type),
    )


def _place() -> Any:
    p = Place
    doc = _obj(
        ("id", p.id),
        ("name", p.name),
        ("kind", p.kind),
        ("country_code", p.country_code),
        ("admin1", p.admin1),
        ("admin2", p.admin2),
        ("admin3", p.admin3),
        ("latitude", _float(p.latitude)),
        ("longitude", _float(p.longitude)),
        ("geo_precision", p.geo_precision),
        ("admin1_code", p.admin1_code),
    )
    return case((p.id.is_(None), None), else_=doc)


def _actors() -> Any:
    ea = EventActor
    a = _row_of(Actor, ea.actor_id, "name", "actor_type", "country_code")
    doc = _obj(
        ("actor_id", ea.actor_id),
        ("name", a.c.name),
        ("actor_type", a.c.actor_type),
        ("country_code", a.c.country_code),
        ("role", ea.role),
        ("status", ea.status),
        ("claim_id", ea.claim_id),
        ("note", ea.note),
    )
    return _list(doc, ea.id, ea.event_id, a)


def _claims() -> Any:
    c = Claim
    src = _row_of(Source, c.source_id, "name", "kind")
    via = _row_of(Source, c.via_source_id, "name", "kind")
    doc = _obj(
        ("id", c.id),
        ("event_id", c.event_id),
        ("campaign_id", c.campaign_id),
        ("source", _source(src.c)),
        ("via_source", case((via.c.id.is_(None), None), else_=_source(via.c))),
        ("document_id", c.document_id),
        ("kind", c.kind),
        ("stance", c.stance),
        ("grade", c.grade),
        ("assertion", c.assertion),
        ("quote", c.quote),
        ("claimed_on", c.claimed_on),
        ("disputes_claim_id", c.disputes_claim_id),
        ("attributes", c.attributes),
    )
    return _list(doc, c.id, c.event_id, src, via, lost=_lost_in(c.attributes))


def _tags() -> _Grouped:
    by_code_point: Any = literal_column('event_tags.tag COLLATE "C"')
    return _list(EventTag.tag, by_code_point, EventTag.event_id)


def _campaigns() -> _Grouped:
    ce = campaign_events.c
    cp = _row_of(Campaign, ce.campaign_id, "name")
    doc = _obj(("id", cp.c.id), ("name", cp.c.name))
    return _list(doc, cp.c.id, ce.event_id, cp)


def _casualties() -> Any:
    f = CasualtyFigure
    who = _row_of(Actor, f.actor_id, "name")
    doc = _obj(
        ("id", f.id),
        ("claim_id", f.claim_id),
        ("outcome", f.outcome),
        ("casualty_group", f.casualty_group),
        ("actor", _ref(f.actor_id, who.c.name)),
        ("low", f.count_low),
        ("best", f.count_best),
        ("high", f.count_high),
        ("qualifier", f.qualifier),
    )
    return _list(doc, f.id, f.event_id, who)


def _territory() -> Any:
    t = TerritoryChange
    place = _row_of(Place, t.place_id, "name")
    gained = _row_of(Actor, t.gained_by_actor_id, "name")
    lost = _row_of(Actor, t.lost_by_actor_id, "name")
    doc = _obj(
        ("id", t.id),
        ("claim_id", t.claim_id),
        ("place", _ref(t.place_id, place.c.name)),
        ("place_kind", t.place_kind),
        ("gained_by", _ref(t.gained_by_actor_id, gained.c.name)),
        ("lost_by", _ref(t.lost_by_actor_id, lost.c.name)),
        ("low", t.count_low),
        ("best", t.count_best),
        ("high", t.count_high),
        ("qualifier", t.qualifier),
    )
    return _list(doc, t.id, t.event_id, place, gained, lost)


def _materiel() -> Any:
    m = MaterielLoss
    owner = _row_of(Actor, m.owner_actor_id, "name")
    doc = _obj(
        ("id", m.id),
        ("claim_id", m.claim_id),
        ("owner", _ref(m.owner_actor_id, owner.c.name)),
        ("item", m.item),
        ("outcome", m.outcome),
        ("low", m.quantity_low),
        ("best", m.quantity_best),
        ("high", m.quantity_high),
        ("qualifier", m.qualifier),
    )
    return _list(doc, m.id, m.event_id, owner)


def _airspace() -> Any:
    a = AirspaceViolation
    violator = _row_of(Actor, a.violating_actor_id, "name")
    doc = _obj(
        ("id", a.id),
        ("claim_id", a.claim_id),
        ("violating_actor", _ref(a.violating_actor_id, violator.c.name)),
        ("violated_country_code", a.violated_country_code),
        ("low", a.count_low),
        ("best", a.count_best),
        ("high", a.count_high),
        ("qualifier", a.qualifier),
    )
    return _list(doc, a.id, a.event_id, violator)


def _field(name: str) -> Any:
    """The SQL writing one field of `serialize.EVENT_FIELDS` (distance_km excepted)."""
    builders: dict[str, Callable[[], Any]] = {
        "date_start": lambda: Event.date_start,
        "date_end": lambda: Event.date_end,
        "sub_event_type": _sub_event_type,
        "place": _place,
        "tags": _tags,
        "actors": _actors,
        "claims": _claims,
        "casualties": _casualties,
        "territory_changes": _territory,
        "materiel_losses": _materiel,
        "airspace_violations": _airspace,
        "campaigns": _campaigns,
        "created_at": lambda: utc_text(Event.created_at),
        "updated_at": lambda: utc_text(Event.updated_at),
    }
    build = builders.get(name)
    return build() if build is not None else getattr(Event, name)


def _documents(fields: tuple[str, ...], ids: Any) -> tuple[Any, list[Any], Select[Any]]:
    """Each event of `ids` (a table of ids) as one JSON object of `fields`, the conditions
    under which it holds a number only the Python path writes exactly (see LOST), and the
    joins that both need, to select from."""
    pairs: list[tuple[str, Any]] = []
    lists = []
    lost: list[Any] = []
    for name in fields:
        value = _field(name)
        if isinstance(value, _Grouped):
            sub = value.stmt.subquery(f"list_{name}")
            lists.append(sub)
            if "lost" in sub.c:
                lost.append(sub.c.lost.is_(True))
            value = func.coalesce(sub.c.j, literal_column("'[]'::json"))
        pairs.append((name, value))
    if "extras" in fields:
        lost.append(_lost_in(Event.extras))
    joined: Select[Any] = select().select_from(ids).join(Event, Event.id == ids.c.id)
    if "sub_event_type" in fields:
        joined = joined.join(SubEventType, SubEventType.code == Event.sub_event_type_code)
    if "place" in fields:
        joined = joined.outerjoin(Place, Place.id == Event.place_id)
    for sub in lists:
        joined = joined.outerjoin(sub, sub.c.event_id == Event.id)
    return _obj(*pairs), lost, joined


@lru_cache(maxsize=64)
def page_statement(fields: tuple[str, ...]) -> Select[str, Any]:
    """The page of events `:ids` (in that order) as one JSON array of `fields`, and whether
    the page holds a number only the Python path writes exactly (see LOST)."""
    ids = func.unnest(IDS).table_valued("id", with_ordinality="ord").render_derived("page")
    doc, lost, joined = _documents(fields, ids)
    page = cast(func.json_agg(aggregate_order_by(doc, ids.c.ord)), Text)
    exact = func.coalesce(~func.bool_or(or_(false(), *lost)), true())
    return joined.add_columns(page, exact)


@lru_cache(maxsize=8)
def documents_sql(fields: tuple[str, ...]) -> str:
    """(id, JSON text of `fields`, exact) of each event of `:ids`, in no order: what
    `page_statement` writes of it, one row an event (for `core/doccache`); compiled for
    psycopg."""
    ids = func.unnest(IDS).table_valued("id").render_derived("page")
    doc, lost, joined = _documents(fields, ids)
    exact = func.coalesce(~or_(false(), *lost), true())
    stmt = joined.add_columns(Event.id, cast(doc, Text), exact)
    return str(stmt.compile(dialect=_DIALECT))


@lru_cache(maxsize=64)
def page_sql(fields: tuple[str, ...]) -> str:
    """`page_statement` compiled once, for psycopg (its `%(ids)s` placeholder)."""
    return str(page_statement(fields).compile(dialect=_DIALECT))


async def load_page_text(
    session: Reader, ids: Sequence[int], fields: Sequence[str] = ()
) -> str | None:
    """The events `ids` in that order as one JSON array, the text PostgreSQL wrote, of the
    values `serialize.event_dict` gives (only `fields`); None when the page holds a number only
    the Python path writes exactly."""
    if not ids:
        return "[]"
    wanted = tuple(f for f in fields if f != "distance_km") if fields else DOC_FIELDS
    ((text, exact),) = await driver_rows(
        session, page_sql(wanted), {"ids": list(ids)}, generic_plan=True
    )
    if not exact:
        return None
    return "[]" if text is None else str(text)


async def load_documents(session: Reader, ids: Sequence[int]) -> dict[int, bytes | None]:
    """Each event of `ids` as `load_page_text` writes it in a page of all fields, by id: None
    for an event holding a number only the Python path writes exactly."""
    params = {"ids": list(ids)}
    rows = await driver_rows(session, documents_sql(DOC_FIELDS), params, generic_plan=True)
    return {rid: str(text).encode() if exact else None for rid, text, exact in rows}


async def load_page_json(
    session: Reader, ids: Sequence[int], fields: Sequence[str] = ()
) -> list[dict[str, Any]] | None:
    """`load_page_text`, parsed."""
    text = await load_page_text(session, ids, fields)
    return None if text is None else orjson.loads(text)
