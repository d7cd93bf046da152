"""HTTP endpoints for places."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request, Response

from app.auth.dependencies import ReadKey, WriteKey
from app.core.deps import SessionDep, WriteSessionDep
from app.core.etag import IfMatchDep, etag_of
from app.core.querymodel import query_model
from app.core.rest import Page, PathId, cursor_after_id, keyset_page, problems
from app.places import service
from app.places.schemas import PlaceCreate, PlacePatch, PlaceQuery, PlaceRead

router = APIRouter(prefix="/places", tags=["places"])


@router.get("", summary="List places", responses=problems(400, 422))
async def list_places(
    request: Request,
    response: Response,
    session: SessionDep,
    _key: ReadKey,
    query: Annotated[PlaceQuery, query_model(PlaceQuery)],
) -> Page[PlaceRead]:
    after_id = cursor_after_id(request, query.cursor)
    items, total = await service.list_places(session, query, after_id)
    return keyset_page(request, response, items, query.limit, total)


@router.post("", status_code=201, summary="Create a place", responses=problems(401, 403, 409, 422))
async def create_place(
    data: PlaceCreate, response: Response, session: WriteSessionDep, _key: WriteKey
) -> PlaceRead:
    place = await service.create_place(session, data)
    response.headers["Location"] = f"/v1/places/{place.id}"
    return place


@router.get("/{place_id}", summary="Get a place", responses=problems(404, 422))
async def get_place(
    place_id: PathId, response: Response, session: SessionDep, _key: ReadKey
) -> PlaceRead:
    body = await service.represent_place(session, place_id)
    response.headers["ETag"] = etag_of(body)
    return PlaceRead.model_validate(body)


@router.patch(
    "/{place_id}",
    summary="Change some of a place's fields or move it into another place",
    responses=problems(400, 401, 403, 404, 409, 412, 422, 428),
)
async def update_place(
    place_id: PathId,
    patch: PlacePatch,
    response: Response,
    session: WriteSessionDep,
    _key: WriteKey,
    if_match: IfMatchDep,
) -> PlaceRead:
    await service.update_place(session, place_id, patch, if_match=if_match)
    body = await service.represent_place(session, place_id)
    response.headers["ETag"] = etag_of(body)
    return PlaceRead.model_validate(body)


@router.delete(
    "/{place_id}",
    status_code=204,
    response_class=Response,
    summary="Delete a place nothing refers to",
    responses=problems(400, 401, 403, 404, 409, 412, 422, 428),
)
async def delete_place(
    place_id: PathId, session: WriteSessionDep, _key: WriteKey, if_match: IfMatchDep
) -> None:
    await service.delete_place(session, place_id, if_match=if_match)
