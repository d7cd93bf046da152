"""GET /v1/maps/grid (events per cell, for low zoom) and GET /v1/maps/boundaries (outlines)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request, Response

from app.auth.dependencies import ReadKey, ReadKeyAlone
from app.core.deps import SessionDep
from app.core.querymodel import query_model
from app.core.responses import json_response
from app.core.rest import problems
from app.maps import service
from app.maps.schemas import BoundaryQuery, GridQuery

router = APIRouter(prefix="/maps", tags=["maps"])


@router.get(
    "/grid",
    summary="Count events and sum fatalities per longitude/latitude cell",
    responses=problems(
        400, 422, documented={422: "Invalid parameters, or more cells than allowed"}
    ),
)
async def event_grid(
    request: Request,
    session: SessionDep,
    query: Annotated[GridQuery, query_model(GridQuery)],
    _key: ReadKey,
) -> Response:
    """`{cell, events, cells: [{bounds, lon, lat, events, fatalities_low, fatalities_best,
    fatalities_high, figures, open_high, geo_precision}]}`, most events first.

    The filters are those of GET /v1/events (a `bbox` keeps the cells of the visible map).
    A cell is `[floor(lon / cell) * cell, floor(lat / cell) * cell]` plus one `cell`; `lon` and
    `lat` are the mean position of its events, `geo_precision` the coarsest ACLED precision
    among them (3: only a region is known). Events without coordinates are left out. The sums
    follow /v1/aggregates (basis=event): an unknown low counts as the best and an unknown best
    as the low; `figures` counts the events that give one; a figure without an upper bound
    ("at least 13") leaves the cell's `fatalities_high` null and counts in `open_high`. More
    than 50,000 cells is a 422 `too_many_cells`.
    """
    body = await service.grid(session, query, request.app.state.query_context)
    return json_response(body)


@router.get(
    "/boundaries",
    summary="Country or admin-1 outlines as GeoJSON (Natural Earth, public domain)",
    response_class=Response,
    responses={
        200: {
            "description": "A GeoJSON FeatureCollection (RFC 7946)",
            "content": {"application/geo+json": {"schema": {"type": "object"}}},
        },
        **problems(422, documented={422: "Invalid parameters, or too many admin-1 units"}),
    },
)
async def boundary_outlines(
    query: Annotated[BoundaryQuery, query_model(BoundaryQuery)],
    _key: ReadKeyAlone,
) -> Response:
    """A GeoJSON FeatureCollection of every country: properties `iso_a2`, `iso_a3`,
    `iso_n3` and `name`. Natural Earth's boundaries via the world-atlas package (THIRD_PARTY.md);
    they change only with a release, so the response may be cached for a day.

    `level=admin1` with `country` (repeatable) and/or `bbox`: the gazetteer's admin-1 units
    (properties `code` (ISO 3166-2), `iso_a2`, `name`), Natural Earth 1:10m simplified to
    0.01 degrees (docs/gazetteer.md). More than 1,000 units is a 422 `too_many_units`."""
    return Response(
        content=service.outlines(query),
        media_type="application/geo+json",
        headers={"Cache-Control": "public, max-age=86400"},
    )
