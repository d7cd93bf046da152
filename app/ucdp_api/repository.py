"""Every SQL statement of the UCDP-compatible API: GED rows' filters on our schema.

A column the UCDP importer kept (events.extras) wins over the computed one, as in the UCDP
export (app/exports/ucdp.py), so a filter selects on the value the row shows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Float, Select, String, case, cast, exists, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from app.exports.rows import export_columns
from app.models import Actor, Event, EventActor, Place, SubEventType

_NUMBER = r"^-?[0-9]+(\.[0-9]+)?$"


def extra_text(name: str) -> ColumnElement[Any]:
    """events.extras[name] as text (a number as its digits), NULL when absent."""
    return cast(Event.extras[name].as_string(), String)


def _extra_number(name: str, fallback: Any, dialect: str) -> ColumnElement[Any]:
    text = Event.extras[name].as_string()
    if dialect == "postgresql":
        # A non-numeric value (extras sent through /v1) falls back instead of failing the cast.
        return case((text.op("~")(_NUMBER), cast(text, Float)), else_=fallback)
    return func.coalesce(cast(text, Float), fallback)


def ged_id() -> ColumnElement[Any]:
    return case(
        (Event.dataset == "ucdp", Event.external_id),
        else_=func.coalesce(extra_text("id"), Event.dataset + literal("-") + Event.external_id),
    )


def type_of_violence() -> ColumnElement[Any]:
    """app/exports/ucdp.py:_type_of_violence unless the import kept the row's own."""
    state_actor = exists().where(
        EventActor.event_id == Event.id,
        Actor.id == EventActor.actor_id,
        Actor.actor_type.in_((1, 8)),
    )
    computed = case(
        (Event.civilian_targeting, literal("3")),
        (state_actor, literal("1")),
        else_=literal("2"),
    )
    return func.coalesce(extra_text("type_of_violence"), computed)


def conditions(
    *,
    ids: Sequence[str],
    countries: Sequence[int],
    violence: Sequence[int],
    dyads: Sequence[int],
    actors: Sequence[int],
    start: dt.date | None,
    end: dt.date | None,
    box: tuple[float, float, float, float] | None,
    dialect: str,
) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if ids:
        where.append(ged_id().in_(list(ids)))
    if countries:
        where.append(extra_text("country_id").in_([str(c) for c in countries]))
    if violence:
        where.append(type_of_violence().in_([str(v) for v in violence]))
    if dyads:
        where.append(extra_text("dyad_new_id").in_([str(d) for d in dyads]))
    if actors:
        codes = [str(a) for a in actors]
        where.append(
            or_(extra_text("side_a_new_id").in_(codes), extra_text("side_b_new_id").in_(codes))
        )
    if start is not None:
        where.append(Event.date_start >= start)
    if end is not None:
        where.append(Event.date_end <= end)
    if box is not None:
        lat0, lon0, lat1, lon1 = box
        lat = _extra_number("latitude", Place.latitude, dialect)
        lon = _extra_number("longitude", Place.longitude, dialect)
        where += [lat >= lat0, lat <= lat1, lon >= lon0, lon <= lon1]
    return where


def _from(stmt: Select[Any]) -> Select[Any]:
    return stmt.select_from(Event).outerjoin(Place, Place.id == Event.place_id)


def rows_stmt(
    where: Sequence[ColumnElement[bool]], limit: int, offset: int, dialect: str
) -> Select[Any]:
    """(id, id, *export columns) in id order: a stable order for page after page.

    The page's ids are chosen first (an index scan), so the export's correlated subqueries run
    for the page's rows only, not for every row the offset skips."""
    page_ids = (
        _from(select(Event.id)).where(*where).order_by(Event.id).limit(limit).offset(offset)
    ).scalar_subquery()
    return (
        _from(select(Event.id, Event.id, *export_columns(dialect)))
        .join(SubEventType, SubEventType.code == Event.sub_event_type_code)
        .where(Event.id.in_(page_ids))
        .order_by(Event.id)
    )


async def count(session: AsyncSession, where: Sequence[ColumnElement[bool]]) -> int:
    return int(
        (await session.execute(_from(select(func.count(Event.id))).where(*where))).scalar_one()
    )
