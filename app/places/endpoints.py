"""HTTP endpoints for places."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from app.auth.dependencies import ReadKey, WriteKey
from app.core.deps import SessionDep
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
    query: Annotated[PlaceQuery, Query()],
) -> Page[PlaceRead]:
    after_id = cursor_after_id(request, query.cursor)
    items, total = await service.list_places(session, query, after_id)
    return keyset_page(request, response, items, query.limit, total)


@router.post("", status_code=201, summary="Create a place", responses=problems(401, 403, 409, 422))
async def create_place(
    data: PlaceCreate, response: Response, session: SessionDep, _key: WriteKey
) -> PlaceRead:
    place = await service.create_place(session, data)
    response.headers["Location"] = f"/v1/places/{place.id}"
    return place


@router.get("/{place_id}", summary="Get a place", responses=problems(404, 422))
async def get_place(place_id: PathId, session: SessionDep, _key: ReadKey) -> PlaceRead:
    return await service.get_place(session, place_id)


@router.patch(
    "/{place_id}",
    summary="Change some of a place's fields or move it into another place",
    responses=problems(401, 403, 404, 409, 422),
)
async def update_place(
    place_id: PathId, patch: PlacePatch, session: SessionDep, _key: WriteKey
) -> PlaceRead:
    return await service.update_place(session, place_id, patch)


@router.delete(
    "/{place_id}",
    status_code=204,
    response_class=Response,
    summary="Delete a place nothing refers to",
    responses=problems(401, 403, 404, 409, 422),
)
async def delete_place(place_id: PathId, session: SessionDep, _key: WriteKey) -> None:
    await service.delete_place(session, place_id)
