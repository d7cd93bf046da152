"""HTTP endpoints for events: CRUD and the query list."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import StreamingResponse

from app.auth.dependencies import ReadKey, WriteKey
from app.core.deps import SessionDep, SettingsDep
from app.core.errors import NotFound, Problem, ProblemError
from app.core.pagination import decode_cursor, encode_cursor
from app.core.responses import json_response
from app.core.rest import PathId
from app.events import history, repository, service
from app.events.listing import load_event_dicts
from app.events.queries import (
    EventFilters,
    QueryContext,
    conditions,
    cursor_payload,
    keyset_page,
    ordered,
)
from app.events.schemas import (
    EventCreate,
    EventPage,
    EventPatch,
    EventRead,
    EventRevisionRead,
)
from app.events.serialize import event_dict
from app.exports.acled_pg import (
    SET_BASED_FROM_ROWS,
    at_least,
    copy_csv,
    inner_columns,
    join_lists,
)
from app.exports.rows import export_columns, stream_export_rows
from app.exports.stream import MEDIA_TYPES, csv_head, export_stream, negotiate, prefixed

router = APIRouter(prefix="/events", tags=["events"])

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "Missing or invalid API key"},
    403: {"model": Problem, "description": "The key may not write"},
    404: {"model": Problem, "description": "No such event"},
    409: {"model": Problem, "description": "An event with this natural key exists"},
}


def _next_url(request: Request, cursor: str) -> str:
    """The same query with the next cursor; everything else kept, repeated params included."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "cursor"]
    params.append(("cursor", cursor))
    return str(request.url.replace(query=urlencode(params)))


LIST_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "A page of events (JSON), or every matching event streamed as CSV "
        "(ACLED or UCDP columns), GeoJSON or NDJSON (format= or Accept)",
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "application/geo+json": {"schema": {"type": "object"}},
            "application/x-ndjson": {"schema": {"type": "string"}},
        },
    },
    400: {"model": Problem, "description": "Invalid cursor"},
    406: {"model": Problem, "description": "No format in Accept that this list can produce"},
}


@router.get("", summary="Query events", response_model=EventPage, responses=LIST_RESPONSES)
async def list_events(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    filters: Annotated[EventFilters, Query()],
    _key: ReadKey,
) -> Response:
    """Events matching all filters, newest first by default, one keyset page at a time.

    With format=csv|geojson|ndjson (or the matching Accept) every matching event is streamed
    (no paging), unless `limit` is given, which then caps the export. Exports follow `sort=`;
    without it they come in id order, the order the database reads fastest.
    """
    fmt = negotiate(filters.format, request.headers.get("accept"))
    if fmt is None:
        raise ProblemError(
            406,
            "not_acceptable",
            "Accept allows none of application/json, text/csv, application/geo+json, "
            "application/x-ndjson; or pass format=",
        )
    ctx: QueryContext = request.app.state.query_context
    cursor = decode_cursor(settings.cursor_secret, filters.cursor) if filters.cursor else None
    where = conditions(filters, ctx)
    if fmt != "json":
        if "sort" not in filters.model_fields_set and cursor is None:
            # An export without sort= comes in id order: the order the database reads fastest.
            filters = filters.model_copy(update={"sort": "id"})
        return await _export(request, filters, fmt, where, cursor, ctx)
    rows = await repository.page_ids(session, keyset_page(filters, where, cursor, ctx))
    has_more = len(rows) > filters.limit
    rows = rows[: filters.limit]
    items = await load_event_dicts(session, [r[1] for r in rows], filters.fields)
    if filters.sort == "distance" and (not filters.fields or "distance_km" in filters.fields):
        for item, row in zip(items, rows, strict=True):
            item["distance_km"] = row[0]
    body: dict[str, Any] = {"items": items, "next_cursor": None, "next_url": None}
    headers: dict[str, str] = {"Vary": "Accept"}
    if has_more:
        token = encode_cursor(settings.cursor_secret, cursor_payload(filters, rows[-1]))
        body["next_cursor"] = token
        body["next_url"] = _next_url(request, token)
        headers["Link"] = f'<{body["next_url"]}>; rel="next"'
    body["total"] = await repository.count(session, where) if filters.total else None
    return json_response(body, headers=headers)


async def _export(
    request: Request,
    filters: EventFilters,
    fmt: str,
    where: list[Any],
    cursor: dict[str, Any] | None,
    ctx: QueryContext,
) -> Response:
    """Stream every matching event (or `limit` of them) in the list's order."""
    sessionmaker = request.app.state.sessionmaker
    body: AsyncIterator[bytes]
    if fmt == "csv" and filters.shape == "acled" and ctx.dialect == "postgresql":
        # PostgreSQL writes ACLED's CSV itself (COPY): the export runs at the database's speed.
        # A large export in id order joins each list aggregated once; others look them up.
        set_based = (
            filters.sort == "id"
            and "limit" not in filters.model_fields_set
            and await at_least(sessionmaker, where, SET_BASED_FROM_ROWS)
        )
        stmt = ordered(filters, where, cursor, ctx, *inner_columns(set_based), details=True)
        if set_based:
            stmt = join_lists(stmt)
        if "limit" in filters.model_fields_set:
            stmt = stmt.limit(filters.limit)
        body = prefixed(csv_head("acled", filters.hxl), copy_csv(sessionmaker, stmt))
    else:
        stmt = ordered(filters, where, cursor, ctx, *export_columns(ctx.dialect), details=True)
        if "limit" in filters.model_fields_set:
            stmt = stmt.limit(filters.limit)
        body = export_stream(
            fmt, stream_export_rows(sessionmaker, stmt), filters.shape, filters.hxl
        )
    headers = {"Vary": "Accept"}
    if fmt == "csv":
        headers["Content-Disposition"] = f'attachment; filename="events-{filters.shape}.csv"'
    return StreamingResponse(body, media_type=MEDIA_TYPES[fmt], headers=headers)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create an event with its actors, place, claims and figures",
    response_model=EventRead,
    responses=ERRORS,
)
async def create_event(
    data: EventCreate, session: SessionDep, key: WriteKey, response: Response
) -> Any:
    event = await service.create_event(session, data, api_key_id=key.id)
    full = await repository.get_event_full(session, event.id)
    assert full is not None
    response.headers["Location"] = f"/v1/events/{event.id}"
    return event_dict(full)


@router.get("/{event_id}", summary="One event, nested", response_model=EventRead, responses=ERRORS)
async def get_event(event_id: PathId, session: SessionDep, _key: ReadKey) -> Any:
    event = await repository.get_event_full(session, event_id)
    if event is None:
        raise NotFound("event", event_id)
    return event_dict(event)


@router.put(
    "/{event_id}",
    summary="Replace an event's content (same natural key)",
    response_model=EventRead,
    responses=ERRORS,
)
async def replace_event(
    event_id: PathId, data: EventCreate, session: SessionDep, key: WriteKey
) -> Any:
    event = await repository.get_event_for_update(session, event_id)
    if event is None:
        raise NotFound("event", event_id)
    await service.replace_event(session, event, data, api_key_id=key.id)
    session.expunge(event)
    full = await repository.get_event_full(session, event_id)
    assert full is not None
    return event_dict(full)


@router.patch(
    "/{event_id}", summary="Change some fields", response_model=EventRead, responses=ERRORS
)
async def patch_event(
    event_id: PathId, data: EventPatch, session: SessionDep, key: WriteKey
) -> Any:
    event = await service.patch_event(session, event_id, data, api_key_id=key.id)
    session.expunge(event)
    full = await repository.get_event_full(session, event_id)
    assert full is not None
    return event_dict(full)


@router.delete(
    "/{event_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete an event",
    responses=ERRORS,
)
async def delete_event(event_id: PathId, session: SessionDep, key: WriteKey) -> Response:
    await service.delete_event(session, event_id, api_key_id=key.id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/{event_id}/revisions",
    summary="Every change to an event: who (API key id), when, and the event as it became",
    response_model=list[EventRevisionRead],
    responses=ERRORS,
)
async def list_revisions(event_id: PathId, session: SessionDep, _key: ReadKey) -> Any:
    revisions = await history.list_revisions(session, event_id)
    if not revisions and await repository.get_event_by_id(session, event_id) is None:
        raise NotFound("event", event_id)
    return [EventRevisionRead.model_validate(r) for r in revisions]
