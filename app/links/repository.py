"""Every SQL statement of links and incidents."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, delete, func, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.links.matching import Candidate
from app.models import (
    Actor,
    Claim,
    Event,
    EventActor,
    EventLink,
    EventLinkChange,
    IncidentMember,
    Place,
    SubEventType,
)

CONFIRMED = "confirmed"


async def candidates(
    session: AsyncSession,
    date_from: dt.date | None,
    date_to: dt.date | None,
    datasets: Sequence[str],
) -> list[Candidate]:
    """The events the matcher compares, with their place, type and actor names."""
    stmt = (
        select(
            Event.id,
            Event.dataset,
            Event.external_id,
            Event.date_start,
            Event.date_end,
            Event.date_precision,
            SubEventType.event_type_code,
            Event.sub_event_type_code,
            Event.type_of_violence,
            Place.latitude,
            Place.longitude,
            Event.geo_precision,
            Place.admin1,
            Place.admin1_code,
            Event.fatalities_best,
        )
        .join(SubEventType, SubEventType.code == Event.sub_event_type_code)
        .outerjoin(Place, Place.id == Event.place_id)
        .order_by(Event.id)
    )
    if date_from is not None:
        stmt = stmt.where(Event.date_end >= date_from)
    if date_to is not None:
        stmt = stmt.where(Event.date_start <= date_to)
    if datasets:
        stmt = stmt.where(Event.dataset.in_(list(datasets)))
    rows = (await session.execute(stmt)).all()
    ids = [r[0] for r in rows]
    names: dict[int, list[str]] = {}
    for chunk in range(0, len(ids), 5000):
        part = ids[chunk : chunk + 5000]
        actor_rows = await session.execute(
            select(EventActor.event_id, Actor.name)
            .join(Actor, Actor.id == EventActor.actor_id)
            .where(EventActor.event_id.in_(part))
        )
        for event_id, name in actor_rows:
            names.setdefault(event_id, []).append(name)
    out = []
    for r in rows:
        tov = r.type_of_violence
        out.append(
            Candidate(
                id=r.id,
                dataset=r.dataset,
                external_id=r.external_id,
                date_start=r.date_start,
                date_end=r.date_end,
                date_precision=r.date_precision,
                event_type=r.event_type_code,
                sub_event_type=r.sub_event_type_code,
                type_of_violence=None if tov is None else str(tov),
                latitude=r.latitude,
                longitude=r.longitude,
                geo_precision=r.geo_precision,
                # The gazetteer's ISO 3166-2 code where it knows the unit, else the name.
                admin1=r.admin1_code or r.admin1,
                actors=tuple(sorted(names.get(r.id, []))),
                fatalities_best=r.fatalities_best,
            )
        )
    return out


async def links_by_keys(session: AsyncSession) -> dict[tuple[str, str], EventLink]:
    rows = (await session.execute(select(EventLink))).scalars()
    return {(link.key_a, link.key_b): link for link in rows}


async def add_links(session: AsyncSession, values: list[dict[str, Any]]) -> None:
    if values:
        await session.execute(insert(EventLink), values)


async def get(session: AsyncSession, link_id: int) -> EventLink | None:
    stmt = (
        select(EventLink).where(EventLink.id == link_id).execution_options(populate_existing=True)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def changes_of(session: AsyncSession, link_id: int) -> list[EventLinkChange]:
    stmt = (
        select(EventLinkChange)
        .where(EventLinkChange.link_id == link_id)
        .order_by(EventLinkChange.id)
    )
    return list((await session.execute(stmt)).scalars())


@dataclass(frozen=True)
class LinkFilter:
    statuses: Sequence[str] = field(default_factory=list)
    event_ids: Sequence[int] = field(default_factory=list)
    datasets: Sequence[str] = field(default_factory=list)
    min_score: float | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        conds: list[ColumnElement[bool]] = []
        if self.statuses:
            conds.append(EventLink.status.in_(list(self.statuses)))
        if self.event_ids:
            ids = list(self.event_ids)
            conds.append(or_(EventLink.event_a_id.in_(ids), EventLink.event_b_id.in_(ids)))
        if self.datasets:
            ds = list(self.datasets)
            conds.append(
                or_(
                    *(EventLink.key_a.startswith(f"{d}/", autoescape=True) for d in ds),
                    *(EventLink.key_b.startswith(f"{d}/", autoescape=True) for d in ds),
                )
            )
        if self.min_score is not None:
            conds.append(EventLink.score >= self.min_score)
        return conds


async def list_page(
    session: AsyncSession, where: LinkFilter, *, after_id: int | None, limit: int
) -> list[EventLink]:
    stmt = select(EventLink).where(*where.conditions()).order_by(EventLink.id).limit(limit)
    if after_id is not None:
        stmt = stmt.where(EventLink.id > after_id)
    return list((await session.execute(stmt)).scalars())


async def count(session: AsyncSession, where: LinkFilter) -> int:
    stmt = select(func.count()).select_from(EventLink).where(*where.conditions())
    return int((await session.execute(stmt)).scalar_one())


async def add_change(session: AsyncSession, change: EventLinkChange) -> None:
    session.add(change)
    await session.flush()


# ---- incidents ----


async def confirmed_edges(session: AsyncSession, event_ids: Iterable[int]) -> list[tuple[int, int]]:
    """Confirmed links touching any of these events, as (a, b) event ids."""
    ids = list(event_ids)
    if not ids:
        return []
    stmt = select(EventLink.event_a_id, EventLink.event_b_id).where(
        EventLink.status == CONFIRMED,
        EventLink.event_a_id.isnot(None),
        EventLink.event_b_id.isnot(None),
        or_(EventLink.event_a_id.in_(ids), EventLink.event_b_id.in_(ids)),
    )
    rows = (await session.execute(stmt)).all()
    return [(int(a), int(b)) for a, b in rows if a is not None and b is not None]


async def confirmed_taken(session: AsyncSession) -> list[tuple[int, str, int, str]]:
    """(event a, dataset a, event b, dataset b) of every confirmed link."""
    ea, eb = Event.__table__.alias("ea"), Event.__table__.alias("eb")
    stmt = (
        select(EventLink.event_a_id, ea.c.dataset, EventLink.event_b_id, eb.c.dataset)
        .join(ea, ea.c.id == EventLink.event_a_id)
        .join(eb, eb.c.id == EventLink.event_b_id)
        .where(EventLink.status == CONFIRMED)
    )
    return [(int(a), str(da), int(b), str(db)) for a, da, b, db in await session.execute(stmt)]


async def incident_of(session: AsyncSession, event_ids: Iterable[int]) -> dict[int, int]:
    ids = list(event_ids)
    if not ids:
        return {}
    stmt = select(IncidentMember.event_id, IncidentMember.incident_id).where(
        IncidentMember.event_id.in_(ids)
    )
    return {int(e): int(i) for e, i in (await session.execute(stmt)).all()}


def _members(incident_ids: Sequence[int]) -> Select[int]:
    return select(IncidentMember.event_id).where(IncidentMember.incident_id.in_(incident_ids))


async def members_of(session: AsyncSession, incident_ids: Iterable[int]) -> list[int]:
    ids = list(incident_ids)
    if not ids:
        return []
    return [int(e) for e in (await session.execute(_members(ids))).scalars()]


async def members_by_incident(
    session: AsyncSession, incident_ids: Iterable[int]
) -> dict[int, list[int]]:
    """The member events of each of these incidents (none for an event alone)."""
    ids = list(incident_ids)
    if not ids:
        return {}
    stmt = select(IncidentMember.incident_id, IncidentMember.event_id).where(
        IncidentMember.incident_id.in_(ids)
    )
    out: dict[int, list[int]] = {}
    for incident, event in (await session.execute(stmt)).all():
        out.setdefault(int(incident), []).append(int(event))
    return out


def members_sync(conn: Connection, incident_ids: Sequence[int]) -> list[int]:
    """`members_of` on an import's own (sync) connection."""
    if not incident_ids:
        return []
    return [int(e) for e in conn.execute(_members(incident_ids)).scalars()]


def incidents_of_sync(conn: Connection, event_ids: Select[Any]) -> list[int]:
    """The incidents these events (a subquery of their ids) are members of, in order."""
    stmt = (
        select(IncidentMember.incident_id)
        .distinct()
        .where(IncidentMember.event_id.in_(event_ids))
        .order_by(IncidentMember.incident_id)
    )
    return [int(i) for i in conn.execute(stmt).scalars()]


def confirmed_among_sync(conn: Connection, event_ids: set[int]) -> list[tuple[int, int]]:
    """Confirmed links with both ends among these events, as (a, b) event ids."""
    if not event_ids:
        return []
    ids = sorted(event_ids)
    stmt = select(EventLink.event_a_id, EventLink.event_b_id).where(
        EventLink.status == CONFIRMED,
        EventLink.event_a_id.in_(ids),
        EventLink.event_b_id.in_(ids),
    )
    rows = conn.execute(stmt).all()
    return [(int(a), int(b)) for a, b in rows if a is not None and b is not None]


def _replacing_members(event_ids: Sequence[int], rows: list[tuple[int, int]]) -> list[Any]:
    """(statement, parameters) pairs: these events' membership dropped, then `rows` written."""
    out: list[Any] = []
    if event_ids:
        out.append((delete(IncidentMember).where(IncidentMember.event_id.in_(event_ids)), None))
    if rows:
        out.append((insert(IncidentMember), [{"event_id": e, "incident_id": i} for e, i in rows]))
    return out


def replace_members_sync(
    conn: Connection, event_ids: Iterable[int], rows: list[tuple[int, int]]
) -> None:
    """`replace_members` on an import's own (sync) connection."""
    for stmt, params in _replacing_members(sorted(event_ids), rows):
        conn.execute(stmt, params)


async def replace_members(
    session: AsyncSession, event_ids: Iterable[int], rows: list[tuple[int, int]]
) -> None:
    """Drop these events' membership, then write (event_id, incident_id) rows."""
    for stmt, params in _replacing_members(list(event_ids), rows):
        await session.execute(stmt, params)


async def incident_page(
    session: AsyncSession,
    *,
    after_id: int | None,
    limit: int,
    event_ids: Sequence[int] = (),
    datasets: Sequence[str] = (),
) -> list[int]:
    """Incident ids (of two or more events) in order."""
    stmt = select(IncidentMember.incident_id).distinct().order_by(IncidentMember.incident_id)
    if after_id is not None:
        stmt = stmt.where(IncidentMember.incident_id > after_id)
    if event_ids:
        sub = select(IncidentMember.incident_id).where(IncidentMember.event_id.in_(event_ids))
        stmt = stmt.where(IncidentMember.incident_id.in_(sub))
    if datasets:
        sub = (
            select(IncidentMember.incident_id)
            .join(Event, Event.id == IncidentMember.event_id)
            .where(Event.dataset.in_(list(datasets)))
        )
        stmt = stmt.where(IncidentMember.incident_id.in_(sub))
    return [int(i) for i in (await session.execute(stmt.limit(limit))).scalars()]


async def events_with_claims(session: AsyncSession, event_ids: Sequence[int]) -> list[Event]:
    stmt = (
        select(Event)
        .where(Event.id.in_(list(event_ids)))
        .order_by(Event.id)
        .options(
            selectinload(Event.place),
            selectinload(Event.claims).selectinload(Claim.source),
            selectinload(Event.claims).selectinload(Claim.via_source),
            selectinload(Event.casualties),
        )
    )
    return list((await session.execute(stmt)).scalars())


async def links_touching(session: AsyncSession, event_ids: Sequence[int]) -> list[EventLink]:
    ids = list(event_ids)
    stmt = (
        select(EventLink)
        .where(or_(EventLink.event_a_id.in_(ids), EventLink.event_b_id.in_(ids)))
        .order_by(EventLink.id)
    )
    return list((await session.execute(stmt)).scalars())


async def natural_key(session: AsyncSession, event_id: int) -> str | None:
    found = (
        await session.execute(select(Event.dataset, Event.external_id).where(Event.id == event_id))
    ).first()
    return None if found is None else f"{found[0]}/{found[1]}"


async def link_by_keys(session: AsyncSession, key_a: str, key_b: str) -> EventLink | None:
    stmt = select(EventLink).where(EventLink.key_a == key_a, EventLink.key_b == key_b)
    return (await session.execute(stmt)).scalar_one_or_none()


async def event_exists(session: AsyncSession, event_id: int) -> bool:
    return (await session.execute(select(Event.id).where(Event.id == event_id))).first() is not None


__all__ = ["LinkFilter", "candidates", "list_page"]
