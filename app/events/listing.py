"""A page of events as JSON-ready dicts from Core rows: the shape of `event_dict`, fewer trips.

The list is the hottest read. ORM entities with a dozen selectin loads cost ~14 round trips and
~7x the CPU of Core rows, so a page is built here from column tuples: one query for the events
with their sub-event type and place, one for actors, one for claims, and one UNION for tags,
campaigns and a probe of which events have casualty, territory, materiel or airspace rows at all
(rare), so those four are only queried when some exist: 4 round trips for a typical page. Only
what the requested fields need is read. On PostgreSQL the database writes the page instead
(`page_json`); this path serves SQLite, and PostgreSQL pages that only it writes exactly.
GET /v1/events/{id} reads its event here too, as a page of one; writes answer with the ORM path
(`serialize.event_dict`), and a test holds the three equal.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Integer, Select, String, any_, cast, literal, null, select, union_all
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import aliased

from app.core.db import Reader, dialect_name, orm_session
from app.core.doccache import DocCache, documents
from app.core.jsonrules import stored_json
from app.core.responses import dumps, json_array
from app.events.page_json import DOC_FIELDS, load_documents, load_page_json
from app.events.serialize import utc_iso
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

_SCALARS = (
    "id",
    "dataset",
    "external_id",
    "date_start",
    "date_end",
    "date_precision",
    "geo_precision",
    "summary",
    "notes",
    "civilian_targeting",
    "fatalities_low",
    "fatalities_best",
    "fatalities_high",
    "extras",
    "version",
    "created_at",
    "updated_at",
)
_RARE = ("casualties", "territory_changes", "materiel_losses", "airspace_violations")
_PLACE_COLS = (
    Place.id,
    Place.name,
    Place.kind,
    Place.country_code,
    Place.admin1,
    Place.admin2,
    Place.admin3,
    Place.latitude,
    Place.longitude,
    Place.geo_precision,
    Place.admin1_code,
)
_PLACE_KEYS = (
    "id",
    "name",
    "kind",
    "country_code",
    "admin1",
    "admin2",
    "admin3",
    "latitude",
    "longitude",
    "geo_precision",
    "admin1_code",
)
_SET_COLS = (
    SubEventType.code,
    SubEventType.name,
    SubEventType.event_type_code,
    SubEventType.disorder_type,
    SubEventType.acled_event_type,
    SubEventType.acled_sub_event_type,
)
_SET_KEYS = (
    "code",
    "name",
    "event_type_code",
    "disorder_type",
    "acled_event_type",
    "acled_sub_event_type",
)


def _among(column: Any, ids: Sequence[int], dialect: str) -> Any:
    """column IN ids; one array parameter on PostgreSQL (a short, cacheable statement)."""
    if dialect == "postgresql":
        return column == any_(literal(list(ids), ARRAY(Integer)))
    return column.in_(ids)


def _ref(rid: int | None, name: str | None) -> dict[str, Any] | None:
    return None if rid is None else {"id": rid, "name": name}


def _base_query(ids: Sequence[int], want: set[str], dialect: str) -> Select[Any]:
    cols: list[Any] = [getattr(Event, k) for k in _SCALARS]
    stmt = select(*cols).where(_among(Event.id, ids, dialect))
    if "sub_event_type" in want:
        stmt = stmt.add_columns(*_SET_COLS).join(
            SubEventType, SubEventType.code == Event.sub_event_type_code
        )
    if "place" in want:
        stmt = stmt.add_columns(*_PLACE_COLS).outerjoin(Place, Place.id == Event.place_id)
    return stmt


_ACTOR_COLS = (
    EventActor.actor_id,
    Actor.name,
    Actor.actor_type,
    Actor.country_code,
    EventActor.role,
    EventActor.status,
    EventActor.claim_id,
    EventActor.note,
)


def _claim_cols(src: Any, via: Any) -> tuple[Any, ...]:
    return (
        Claim.id,
        Claim.campaign_id,
        src.id,
        src.name,
        src.kind,
        via.id,
        via.name,
        via.kind,
        Claim.document_id,
        Claim.kind,
        Claim.stance,
        Claim.grade,
        Claim.assertion,
        Claim.quote,
        Claim.claimed_on,
        Claim.disputes_claim_id,
        Claim.attributes,
    )


def _small_lists(ids: Sequence[int], want: set[str], dialect: str) -> Select[Any] | None:
    """Tags, campaigns, and which events have rare rows, in one round trip."""
    none = cast(null(), String)
    parts: list[Any] = []
    if "tags" in want:
        parts.append(
            select(EventTag.event_id, literal("tags"), EventTag.tag, cast(null(), Integer)).where(
                _among(EventTag.event_id, ids, dialect)
            )
        )
    if "campaigns" in want:
        parts.append(
            select(campaign_events.c.event_id, literal("campaigns"), Campaign.name, Campaign.id)
            .select_from(campaign_events)
            .join(Campaign, Campaign.id == campaign_events.c.campaign_id)
            .where(_among(campaign_events.c.event_id, ids, dialect))
        )
    for name, model in zip(
        _RARE, (CasualtyFigure, TerritoryChange, MaterielLoss, AirspaceViolation), strict=True
    ):
        if name in want:
            parts.append(
                select(model.event_id, literal(name), none, cast(null(), Integer))  # type: ignore[attr-defined]
                .where(_among(model.event_id, ids, dialect))  # type: ignore[attr-defined]
                .distinct()
            )
    if not parts:
        return None
    return select(union_all(*parts).subquery())


async def _actors(
    session: Reader, ids: Sequence[int], dialect: str
) -> dict[int, list[dict[str, Any]]]:
    stmt = (
        select(EventActor.event_id, *_ACTOR_COLS)
        .join(Actor, Actor.id == EventActor.actor_id)
        .where(_among(EventActor.event_id, ids, dialect))
        .order_by(EventActor.id)
    )
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in await session.execute(stmt):
        out[row[0]].append(_actor(row[1:]))
    return out


def _actor(r: Sequence[Any]) -> dict[str, Any]:
    return {
        "actor_id": r[0],
        "name": r[1],
        "actor_type": r[2],
        "country_code": r[3],
        "role": r[4],
        "status": r[5],
        "claim_id": r[6],
        "note": r[7],
    }


async def _claims(
    session: Reader, ids: Sequence[int], dialect: str
) -> dict[int, list[dict[str, Any]]]:
    src, via = aliased(Source), aliased(Source)
    stmt = (
        select(Claim.event_id, *_claim_cols(src, via))
        .join(src, src.id == Claim.source_id)
        .outerjoin(via, via.id == Claim.via_source_id)
        .where(_among(Claim.event_id, ids, dialect))
        .order_by(Claim.id)
    )
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for r in await session.execute(stmt):
        event_id: int = r[0]
        out[event_id].append(_claim(event_id, r[1:]))
    return out


def _claim(event_id: int, r: Sequence[Any]) -> dict[str, Any]:
    """A claim from the columns of `_claim_cols` (claimed_on a date, or already its ISO text)."""
    return {
        "id": r[0],
        "event_id": event_id,
        "campaign_id": r[1],
        "source": {"id": r[2], "name": r[3], "kind": r[4]},
        "via_source": None if r[5] is None else {"id": r[5], "name": r[6], "kind": r[7]},
        "document_id": r[8],
        "kind": r[9],
        "stance": r[10],
        "grade": r[11],
        "assertion": r[12],
        "quote": r[13],
        "claimed_on": r[14] if isinstance(r[14], str) or r[14] is None else r[14].isoformat(),
        "disputes_claim_id": r[15],
        "attributes": stored_json(r[16]),
    }


async def _rare(
    session: Reader, name: str, ids: Sequence[int], dialect: str
) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    async with orm_session(session) as orm:
        if name == "casualties":
            who = aliased(Actor)
            stmt = (
                select(CasualtyFigure, who.name)
                .outerjoin(who, who.id == CasualtyFigure.actor_id)
                .where(_among(CasualtyFigure.event_id, ids, dialect))
                .order_by(CasualtyFigure.id)
            )
            for f, actor_name in await orm.execute(stmt):
                out[f.event_id].append(
                    {
                        "id": f.id,
                        "claim_id": f.claim_id,
                        "outcome": f.outcome,
                        "casualty_group": f.casualty_group,
                        "actor": _ref(f.actor_id, actor_name),
                        "low": f.count_low,
                        "best": f.count_best,
                        "high": f.count_high,
                        "qualifier": f.qualifier,
                    }
                )
        elif name == "territory_changes":
            place, gained, lost = aliased(Place), aliased(Actor), aliased(Actor)
            t_stmt = (
                select(TerritoryChange, place.name, gained.name, lost.name)
                .outerjoin(place, place.id == TerritoryChange.place_id)
                .outerjoin(gained, gained.id == TerritoryChange.gained_by_actor_id)
                .outerjoin(lost, lost.id == TerritoryChange.lost_by_actor_id)
                .where(_among(TerritoryChange.event_id, ids, dialect))
                .order_by(TerritoryChange.id)
            )
            for t, place_name, gained_name, lost_name in await orm.execute(t_stmt):
                out[t.event_id].append(
                    {
                        "id": t.id,
                        "claim_id": t.claim_id,
                        "place": _ref(t.place_id, place_name),
                        "place_kind": t.place_kind,
                        "gained_by": _ref(t.gained_by_actor_id, gained_name),
                        "lost_by": _ref(t.lost_by_actor_id, lost_name),
                        "low": t.count_low,
                        "best": t.count_best,
                        "high": t.count_high,
                        "qualifier": t.qualifier,
                    }
                )
        elif name == "materiel_losses":
            owner = aliased(Actor)
            m_stmt = (
                select(MaterielLoss, owner.name)
                .outerjoin(owner, owner.id == MaterielLoss.owner_actor_id)
                .where(_among(MaterielLoss.event_id, ids, dialect))
                .order_by(MaterielLoss.id)
            )
            for m, owner_name in await orm.execute(m_stmt):
                out[m.event_id].append(
                    {
                        "id": m.id,
                        "claim_id": m.claim_id,
                        "owner": _ref(m.owner_actor_id, owner_name),
                        "item": m.item,
                        "outcome": m.outcome,
                        "low": m.quantity_low,
                        "best": m.quantity_best,
                        "high": m.quantity_high,
                        "qualifier": m.qualifier,
                    }
                )
        else:
            violator = aliased(Actor)
            a_stmt = (
                select(AirspaceViolation, violator.name)
                .outerjoin(violator, violator.id == AirspaceViolation.violating_actor_id)
                .where(_among(AirspaceViolation.event_id, ids, dialect))
                .order_by(AirspaceViolation.id)
            )
            for a, violator_name in await orm.execute(a_stmt):
                out[a.event_id].append(
                    {
                        "id": a.id,
                        "claim_id": a.claim_id,
                        "violating_actor": _ref(a.violating_actor_id, violator_name),
                        "violated_country_code": a.violated_country_code,
                        "low": a.count_low,
                        "best": a.count_best,
                        "high": a.count_high,
                        "qualifier": a.qualifier,
                    }
                )
    return out


async def load_event_dicts(
    session: Reader, ids: Sequence[int], fields: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """Events for a page of ids, in that order, as `event_dict` shapes them (only `fields`)."""
    if not ids:
        return []
    dialect = dialect_name(session)
    if dialect == "postgresql":
        built = await load_page_json(session, ids, fields)
        if built is not None:
            return built
    return await _load_in_python(session, ids, fields, dialect)


# The shape of `core/doccache` entries of events: every field, as the list writes it by default.
EVENT_DOC = "event"


async def load_event_documents(
    session: Reader, keys: Sequence[tuple[int, int]], cache: DocCache | None
) -> bytes:
    """The events of `keys` (id, change_seq), in that order, as one JSON array of every field
    (`load_event_dicts` of all fields, written): each event as `cache` keeps it at that
    change_seq, or written now (PostgreSQL: by the database, `load_documents`)."""

    async def build(ids: list[int]) -> dict[int, bytes]:
        dialect = dialect_name(session)
        built: dict[int, bytes | None] = {}
        slow = ids
        if dialect == "postgresql":
            built = await load_documents(session, ids)
            slow = [i for i, doc in built.items() if doc is None]
        if slow:
            for d in await _load_in_python(session, slow, (), dialect):
                built[d["id"]] = dumps(d)
        return {i: doc for i, doc in built.items() if doc is not None}

    return json_array(await documents(cache, EVENT_DOC, keys, build))


async def _load_in_python(
    session: Reader, ids: Sequence[int], fields: Sequence[str], dialect: str
) -> list[dict[str, Any]]:
    wanted = [f for f in fields if f != "distance_km"] if fields else list(DOC_FIELDS)
    want = set(wanted)
    base: dict[int, dict[str, Any]] = {}
    for row in await session.execute(_base_query(ids, want, dialect)):
        d = dict(zip(_SCALARS, row[: len(_SCALARS)], strict=True))
        d["extras"] = stored_json(d["extras"])  # rows stored before the JSON rules
        for key in ("date_start", "date_end"):
            d[key] = d[key].isoformat()
        for key in ("created_at", "updated_at"):
            d[key] = utc_iso(d[key])
        pos = len(_SCALARS)
        if "sub_event_type" in want:
            d["sub_event_type"] = dict(zip(_SET_KEYS, row[pos : pos + 6], strict=True))
            pos += 6
        if "place" in want:
            cols = row[pos : pos + len(_PLACE_KEYS)]
            d["place"] = None if cols[0] is None else dict(zip(_PLACE_KEYS, cols, strict=True))
            pos += len(_PLACE_KEYS)
        base[d["id"]] = d
    found = [i for i in ids if i in base]
    lists: dict[str, dict[int, list[Any]]] = {}
    if "actors" in want:
        lists["actors"] = await _actors(session, found, dialect)
    if "claims" in want:
        lists["claims"] = await _claims(session, found, dialect)
    small = _small_lists(found, want, dialect)
    if small is not None:
        tags: dict[int, list[str]] = defaultdict(list)
        camps: dict[int, list[tuple[int, str]]] = defaultdict(list)
        present: dict[str, list[int]] = defaultdict(list)
        for eid, kind, text_value, num in await session.execute(small):
            if kind == "tags":
                tags[eid].append(text_value)
            elif kind == "campaigns":
                camps[eid].append((num, text_value))
            else:
                present[kind].append(eid)
        if "tags" in want:
            lists["tags"] = {eid: sorted(v) for eid, v in tags.items()}
        if "campaigns" in want:
            lists["campaigns"] = {
                eid: [{"id": cid, "name": name} for cid, name in sorted(v)]
                for eid, v in camps.items()
            }
        for name in _RARE:
            if name in want:
                lists[name] = (
                    await _rare(session, name, present[name], dialect) if present[name] else {}
                )
    out = []
    for i in found:
        d = base[i]
        for name, by_event in lists.items():
            d[name] = by_event.get(i, [])
        out.append({k: d[k] for k in wanted})
    return out
