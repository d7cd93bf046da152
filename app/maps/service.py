"""Map use cases: the event grid over the list's filters, and the boundary outlines."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import ProblemError
from app.core.geo import BBox, parse_bbox
from app.events.queries import QueryContext, conditions
from app.gazetteer import data
from app.geodata import boundaries
from app.maps import repository
from app.maps.schemas import BoundaryQuery, GridQuery

MAX_CELLS = 50_000


def _too_many() -> ProblemError:
    return ProblemError(
        422,
        "too_many_cells",
        f"the grid would exceed {MAX_CELLS:,} cells: use a larger cell, a bbox or narrower filters",
    )


async def grid(session: AsyncSession, q: GridQuery, ctx: QueryContext) -> dict[str, Any]:
    """Cells with events, each with its bounds, counts, fatality sums and mean position."""
    where = conditions(q, ctx)
    rows = await repository.run(
        session, repository.grid_statement(where, q.cell, ctx.dialect), MAX_CELLS + 1
    )
    if len(rows) > MAX_CELLS:
        raise _too_many()
    cells: list[dict[str, Any]] = []
    for x, y, events, low, best, high, figures, open_high, lon, lat, precision in rows:
        west, south = float(x) * q.cell, float(y) * q.cell
        cells.append(
            {
                "bounds": [west, south, west + q.cell, south + q.cell],
                "lon": round(float(lon), 6),
                "lat": round(float(lat), 6),
                "events": int(events),
                "fatalities_low": int(low),
                "fatalities_best": int(best),
                "fatalities_high": None if high is None else int(high),
                "figures": int(figures),
                "open_high": int(open_high),
                "geo_precision": None if precision is None else int(precision),
            }
        )
    cells.sort(key=lambda c: (-c["events"], c["bounds"]))
    return {
        "cell": q.cell,
        "cells": cells,
        "events": sum(c["events"] for c in cells),
    }


MAX_UNITS = 1_000


def outlines(q: BoundaryQuery) -> bytes:
    """The boundary GeoJSON, already encoded (countries: the same for every request)."""
    if q.level == "country":
        return boundaries.countries_geojson(q.scale)
    box = parse_bbox(q.bbox) if q.bbox is not None else None
    features = admin1_outlines(q.country, box)
    if features is None:
        raise ProblemError(
            422,
            "too_many_units",
            f"more than {MAX_UNITS:,} admin-1 units: narrow the bbox or name the countries",
        )
    return orjson.dumps({"type": "FeatureCollection", "features": features})


def admin1_outlines(countries: list[str], box: BBox | None) -> list[dict[str, Any]] | None:
    """The units of these countries (all if none) inside the box (anywhere if none); None when
    they are more than MAX_UNITS."""
    found = data.locator().units_in(countries, box)
    if len(found) > MAX_UNITS:
        return None
    return [data.locator().feature(i) for i in found]
