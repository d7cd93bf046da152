"""The grid statement: events counted per longitude/latitude cell.

The cell of a place is (floor(lon / cell), floor(lat / cell)), the same arithmetic on PostgreSQL
and SQLite (there floor is spelled with integer casts: SQLite's `floor` is a build option). The
filtered events first collapse to their place (GROUP BY place_id over `events` alone: the list's
conditions, with those on the place as a subquery), so `places` is joined once per place with
events, not once per event, and the cell arithmetic runs once per place.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Float, Integer, Select, case, cast, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from app.aggregates.basis import figure_flags
from app.models import Event, Place


def _floor(value: ColumnElement[Any], dialect: str) -> ColumnElement[Any]:
    """floor(); on SQLite without its math functions (a build option) in plain arithmetic."""
    if dialect == "postgresql":
        return func.floor(value)
    truncated = cast(value, Integer)
    return truncated - case((value < truncated, 1), else_=0)


def grid_statement(
    where: Sequence[ColumnElement[bool]], cell: float, dialect: str = "postgresql"
) -> Select[Any]:
    """SELECT x, y, events, fatalities_low/best/high, figures, open_high, lon, lat,
    geo_precision per cell.

    `where` are the event conditions of `app.events.queries.conditions` (without
    `places_joined`). lon/lat is the events' mean position in the cell; geo_precision the
    coarsest (largest) ACLED precision of its places. The inner query reads only columns of
    `ix_events_place_date_cover` (place, dates, type, fatalities): an index-only scan on
    PostgreSQL, not a pass over the event rows.
    """
    low, best, high = Event.fatalities_low, Event.fatalities_best, Event.fatalities_high
    has, open_ = figure_flags(low, best, high)  # the aggregates' rule (aggregates/basis.py)
    per_place = (
        select(
            Event.place_id.label("place_id"),
            func.count().label("events"),
            func.sum(func.coalesce(low, best)).label("f_low"),
            func.sum(func.coalesce(best, low)).label("f_best"),
            func.sum(func.coalesce(high, best, low)).label("f_high"),
            func.sum(has).label("figures"),
            func.sum(open_).label("open_high"),
        )
        .where(Event.place_id.is_not(None), *where)
        .group_by(Event.place_id)
        .subquery("per_place")
    )
    size = literal(cell, Float)
    x = _floor(Place.longitude / size, dialect)
    y = _floor(Place.latitude / size, dialect)
    events = func.sum(per_place.c.events)
    return (
        select(
            x.label("x"),
            y.label("y"),
            events.label("events"),
            func.coalesce(func.sum(per_place.c.f_low), 0).label("fatalities_low"),
            func.coalesce(func.sum(per_place.c.f_best), 0).label("fatalities_best"),
            # An open high anywhere in the cell leaves its high open (as /v1/aggregates).
            case(
                (
                    func.sum(per_place.c.open_high) == 0,
                    func.coalesce(func.sum(per_place.c.f_high), 0),
                ),
                else_=None,
            ).label("fatalities_high"),
            func.sum(per_place.c.figures).label("figures"),
            func.sum(per_place.c.open_high).label("open_high"),
            (func.sum(Place.longitude * per_place.c.events) / events).label("lon"),
            (func.sum(Place.latitude * per_place.c.events) / events).label("lat"),
            func.max(Place.geo_precision).label("geo_precision"),
        )
        .select_from(per_place)
        .join(Place, Place.id == per_place.c.place_id)
        .where(Place.latitude.is_not(None), Place.longitude.is_not(None))
        .group_by(x, y)
    )


async def run(session: AsyncSession, stmt: Select[Any], limit: int) -> list[tuple[Any, ...]]:
    result = await session.execute(stmt.limit(limit))
    return [tuple(row) for row in result]


__all__ = ["grid_statement", "run"]
