"""GET /v1/aggregates: event counts and fatality sums for dashboards."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request, Response

from app.aggregates import service
from app.aggregates.schemas import AggregateQuery
from app.auth.dependencies import ReadKey
from app.core.deps import SessionDep
from app.core.querymodel import query_model
from app.core.responses import json_response, json_response_with_text
from app.core.rest import problems

router = APIRouter(prefix="/aggregates", tags=["aggregates"])


@router.get(
    "",
    summary="Count events and sum fatalities by time bucket and dimensions",
    responses=problems(422, documented={422: "Invalid parameters or too many groups"}),
)
async def aggregate_events(
    request: Request,
    session: SessionDep,
    query: Annotated[AggregateQuery, query_model(AggregateQuery)],
    _key: ReadKey,
) -> Response:
    """Rows `{bucket?, <dimensions>, events, fatalities_low/best/high, figures, open_high,
    recorded, claims, sources, accounts_set_aside}` (and `incidents`, `linked_set_aside` with
    basis=incident; `source`, `source_id` with basis=source); `basis` says what they sum.

    The filters are those of GET /v1/events. An event is bucketed by its date_start (weeks start
    on Monday). Grouping by actor, actor_role, source or campaign counts an event once in each of
    its groups, so those rows can sum to more than the number of events; an event with no value
    is in the group `null`. With actor_role filtered, the actor dimension keeps only actors in
    those roles. A row sums one figure per event (`basis=event`, the default: the account
    `policy` chooses among the sources' accounts of the event, never two added), per source
    (`basis=source`) or per incident (`basis=incident`); a sum with any figure without upper
    bound has `fatalities_high` null and counts those in `open_high` (docs/aggregation.md).
    `top` ranks groups by events over the whole
    range and sums the rest per bucket as 'other'; `fill` adds zero rows for empty buckets.
    """
    state = request.app.state
    found = await service.aggregate(session, query, state.query_context, state.statements)
    body: dict[str, Any] = {
        "interval": query.interval,
        "group_by": query.group_by,
        "date_from": query.date_from.isoformat() if query.date_from else None,
        "date_to": query.date_to.isoformat() if query.date_to else None,
        "basis": service.describe(query),
    }
    if found.rows_json is not None:
        return json_response_with_text("rows", found.rows_json, body, last=True)
    return json_response({**body, "rows": found.rows})
