"""HTTP endpoints for events: CRUD and the query list."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response, status

from app.auth.dependencies import ReadKey, WriteKey
from app.core.deps import SessionDep, SettingsDep
from app.core.errors import NotFound, Problem
from app.core.pagination import decode_cursor, encode_cursor
from app.core.responses import json_response
from app.events import history, repository, service
from app.events.queries import EventFilters, conditions, cursor_payload, keyset_page
from app.events.schemas import (
    EventCreate,
    EventPage,
    EventPatch,
    EventRead,
    EventRevisionRead,
)
from app.events.serialize import event_dict

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


@router.get(
    "",
    summary="Query events",
    response_model=EventPage,
    responses={400: {"model": Problem, "description": "Invalid cursor"}},
)
async def list_events(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    filters: Annotated[EventFilters, Query()],
    _key: ReadKey,
) -> Response:
    """Events matching all filters, newest first by default, one keyset page at a time."""
    cursor = decode_cursor(settings.cursor_secret, filters.cursor) if filters.cursor else None
    where = conditions(filters)
    rows = await repository.page_ids(session, keyset_page(filters, where, cursor))
    has_more = len(rows) > filters.limit
    rows = rows[: filters.limit]
    events = await repository.load_events_full(session, [r[1] for r in rows])
    body: dict[str, Any] = {
        "items": [event_dict(e) for e in events],
        "next_cursor": None,
        "next_url": None,
    }
    headers: dict[str, str] = {}
    if has_more:
        token = encode_cursor(settings.cursor_secret, cursor_payload(filters, rows[-1]))
        body["next_cursor"] = token
        body["next_url"] = _next_url(request, token)
        headers["Link"] = f'<{body["next_url"]}>; rel="next"'
    body["total"] = await repository.count(session, where) if filters.total else None
    return json_response(body, headers=headers)


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
async def get_event(event_id: int, session: SessionDep, _key: ReadKey) -> Any:
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
    event_id: int, data: EventCreate, session: SessionDep, key: WriteKey
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
async def patch_event(event_id: int, data: EventPatch, session: SessionDep, key: WriteKey) -> Any:
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
async def delete_event(event_id: int, session: SessionDep, key: WriteKey) -> Response:
    await service.delete_event(session, event_id, api_key_id=key.id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/{event_id}/revisions",
    summary="Every change to an event: who (API key id), when, and the event as it became",
    response_model=list[EventRevisionRead],
    responses=ERRORS,
)
async def list_revisions(event_id: int, session: SessionDep, _key: ReadKey) -> Any:
    revisions = await history.list_revisions(session, event_id)
    if not revisions and await repository.get_event_by_id(session, event_id) is None:
        raise NotFound("event", event_id)
    return [EventRevisionRead.model_validate(r) for r in revisions]
