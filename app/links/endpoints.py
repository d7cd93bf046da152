"""HTTP endpoints for links between events (/v1/links) and incidents (/v1/incidents)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request, Response

from app.auth.dependencies import ReadKey, WriteKey
from app.core.deps import SessionDep, WriteSessionDep
from app.core.etag import IfMatchDep, etag_of
from app.core.pagination import encode_cursor
from app.core.querymodel import query_model
from app.core.rest import Page, PathId, cursor_after_id, keyset_page, problems, public_url
from app.links import service
from app.links.schemas import (
    IncidentQuery,
    LinkCreate,
    LinkPatch,
    LinkQuery,
    LinkRead,
    ProposeParams,
    ProposeResult,
)

router = APIRouter(prefix="/links", tags=["links"])
incidents_router = APIRouter(prefix="/incidents", tags=["links"])


@router.get("", summary="List links between events", responses=problems(400, 422))
async def list_links(
    request: Request,
    response: Response,
    session: SessionDep,
    _key: ReadKey,
    query: Annotated[LinkQuery, query_model(LinkQuery)],
) -> Page[LinkRead]:
    after_id = cursor_after_id(request, query.cursor)
    rows, total = await service.list_links(session, query, after_id)
    items = [LinkRead.model_validate(r) for r in rows]
    return keyset_page(request, response, items, query.limit, total)


@router.post(
    "",
    status_code=201,
    summary="Link two events by hand (confirmed unless `status` says otherwise)",
    responses=problems(401, 403, 409, 422),
)
async def create_link(
    data: LinkCreate, response: Response, session: WriteSessionDep, key: WriteKey
) -> LinkRead:
    link = await service.create_link(session, data, api_key_id=key.id)
    body = await service.represent(session, link.id)
    response.headers["Location"] = f"/v1/links/{link.id}"
    response.headers["ETag"] = etag_of(body)
    return LinkRead.model_validate(body)


@router.post(
    "/propose",
    summary="Run the matcher (MELTT windows as parameters); new matches become proposed links",
    responses=problems(401, 403, 422),
)
async def propose_links(
    params: ProposeParams, session: WriteSessionDep, _key: WriteKey
) -> ProposeResult:
    return await service.propose(session, params)


@router.get(
    "/{link_id}",
    summary="Get a link, its score's parts and its review history",
    responses=problems(404, 422),
)
async def get_link(
    link_id: PathId, response: Response, session: SessionDep, _key: ReadKey
) -> LinkRead:
    body = await service.represent(session, link_id)
    response.headers["ETag"] = etag_of(body)
    return LinkRead.model_validate(body)


@router.patch(
    "/{link_id}",
    summary="Review a link: confirm or reject it (If-Match: the ETag you read)",
    responses=problems(
        400,
        401,
        403,
        404,
        409,
        412,
        422,
        428,
        documented={409: "Not a transition a review may make (`invalid_transition`)"},
    ),
)
async def review_link(
    link_id: PathId,
    patch: LinkPatch,
    response: Response,
    session: WriteSessionDep,
    key: WriteKey,
    if_match: IfMatchDep,
) -> LinkRead:
    await service.review(session, link_id, patch, if_match=if_match, api_key_id=key.id)
    body = await service.represent(session, link_id)
    response.headers["ETag"] = etag_of(body)
    return LinkRead.model_validate(body)


@incidents_router.get(
    "",
    summary="List incidents of two or more events joined by confirmed links",
    responses=problems(400, 422),
)
async def list_incidents(
    request: Request,
    response: Response,
    session: SessionDep,
    _key: ReadKey,
    query: Annotated[IncidentQuery, query_model(IncidentQuery)],
) -> dict[str, Any]:
    after_id = cursor_after_id(request, query.cursor)
    items = await service.list_incidents(session, query, after_id)
    next_cursor = next_url = None
    if len(items) > query.limit:
        items = items[: query.limit]
        next_cursor = encode_cursor(
            request.app.state.settings.cursor_secret, {"after_id": items[-1]["id"]}
        )
        next_url = public_url(request, request.url.include_query_params(cursor=next_cursor))
        response.headers["Link"] = f'<{next_url}>; rel="next"'
    return {"items": items, "next_cursor": next_cursor, "next_url": next_url}


@incidents_router.get(
    "/{event_id}",
    summary="The incident an event belongs to: its events and all their claims side by side",
    responses=problems(404, 422),
)
async def get_incident(
    event_id: PathId, response: Response, session: SessionDep, _key: ReadKey
) -> dict[str, Any]:
    body = await service.represent_incident(session, event_id)
    response.headers["ETag"] = etag_of(body)
    return body
