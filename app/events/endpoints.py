"""HTTP endpoints for events: CRUD and the query list."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import StreamingResponse

from app.auth.dependencies import ReadKey, ReadKeyAlone, WriteKey
from app.core.config import Settings
from app.core.deps import SessionDep, WriteSessionDep
from app.core.errors import ProblemError
from app.core.etag import IfMatchDep
from app.core.querymodel import query_model
from app.core.responses import json_response, json_response_with_text
from app.core.rest import PathId, problems, public_url_with_query
from app.events import reads, service
from app.events.queries import EventFilters, QueryContext
from app.events.schemas import (
    EventCreate,
    EventPage,
    EventPatch,
    EventRead,
    EventRevisionRead,
)
from app.exports.stream import negotiate

router = APIRouter(prefix="/events", tags=["events"])

ERRORS: dict[int | str, dict[str, Any]] = problems(
    401,
    403,
    404,
    409,
    documented={
        401: "Missing or invalid API key",
        403: "The key may not write",
        404: "No such event",
        409: "An event with this natural key exists",
    },
)
WRITE_ERRORS: dict[int | str, dict[str, Any]] = {**ERRORS, **problems(400, 412, 428)}


def _next_url(request: Request, cursor: str) -> str:
    """The same query with the next cursor; everything else kept, repeated params included."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "cursor"]
    params.append(("cursor", cursor))
    return public_url_with_query(request, urlencode(params))


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
    **problems(
        400,
        406,
        documented={
            400: "Invalid cursor",
            406: "No format in Accept that this list can produce",
        },
    ),
}


@router.get("", summary="Query events", response_model=EventPage, responses=LIST_RESPONSES)
async def list_events(
    request: Request,
    _key: ReadKeyAlone,
    filters: Annotated[EventFilters, query_model(EventFilters)],
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
    state = request.app.state
    settings: Settings = state.settings
    ctx: QueryContext = state.query_context
    headers = {"Vary": "Accept"}
    if fmt != "json":
        out = await reads.export(
            request.app.state.sessionmaker, filters, fmt, ctx, settings.cursor_secret
        )
        if out.filename is not None:
            headers["Content-Disposition"] = f'attachment; filename="{out.filename}"'
        return StreamingResponse(out.body, media_type=out.media_type, headers=headers)
    page = await reads.list_page(
        state.read_engine, filters, ctx, settings.cursor_secret, state.doc_cache, state.statements
    )
    next_url = None
    if page.next_cursor is not None:
        next_url = _next_url(request, page.next_cursor)
        headers["Link"] = f'<{next_url}>; rel="next"'
    rest = {"next_cursor": page.next_cursor, "next_url": next_url, "total": page.total}
    if page.items_json is not None:
        return json_response_with_text("items", page.items_json, rest, headers=headers)
    return json_response({"items": page.items, **rest}, headers=headers)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create an event with its actors, place, claims and figures",
    response_model=EventRead,
    responses=ERRORS,
)
async def create_event(
    data: EventCreate, session: WriteSessionDep, key: WriteKey, response: Response
) -> Any:
    event = await service.create_event(session, data, api_key_id=key.id)
    body, etag = await service.written_event(session, event.id)
    response.headers["Location"] = f"/v1/events/{event.id}"
    response.headers["ETag"] = etag
    return body


@router.get("/{event_id}", summary="One event, nested", response_model=EventRead, responses=ERRORS)
async def get_event(event_id: PathId, session: SessionDep, _key: ReadKey) -> Response:
    body, etag = await service.get_event(session, event_id)
    return json_response(body, headers={"ETag": etag})  # built as the list's: not re-validated


@router.put(
    "/{event_id}",
    summary="Replace an event's content (same natural key; If-Match: the ETag you read)",
    response_model=EventRead,
    responses=WRITE_ERRORS,
)
async def replace_event(
    event_id: PathId,
    data: EventCreate,
    response: Response,
    session: WriteSessionDep,
    key: WriteKey,
    if_match: IfMatchDep,
) -> Any:
    await service.replace_event(session, event_id, data, if_match=if_match, api_key_id=key.id)
    body, etag = await service.written_event(session, event_id)
    response.headers["ETag"] = etag
    return body


@router.patch(
    "/{event_id}",
    summary="Change some fields (If-Match: the ETag you read)",
    response_model=EventRead,
    responses=WRITE_ERRORS,
)
async def patch_event(
    event_id: PathId,
    data: EventPatch,
    response: Response,
    session: WriteSessionDep,
    key: WriteKey,
    if_match: IfMatchDep,
) -> Any:
    await service.patch_event(session, event_id, data, if_match=if_match, api_key_id=key.id)
    body, etag = await service.written_event(session, event_id)
    response.headers["ETag"] = etag
    return body


@router.delete(
    "/{event_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete an event (If-Match: the ETag you read)",
    responses=WRITE_ERRORS,
)
async def delete_event(
    event_id: PathId, session: WriteSessionDep, key: WriteKey, if_match: IfMatchDep
) -> Response:
    await service.delete_event(session, event_id, if_match=if_match, api_key_id=key.id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/{event_id}/revisions",
    summary="Every change to an event: who (API key id), when, and the event as it became",
    response_model=list[EventRevisionRead],
    responses=ERRORS,
)
async def list_revisions(event_id: PathId, session: SessionDep, _key: ReadKey) -> Any:
    revisions = await reads.list_revisions(session, event_id)
    return [EventRevisionRead.model_validate(r) for r in revisions]
