"""HTTP endpoints for actors."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from app.actors import service
from app.actors.schemas import ActorCreate, ActorPatch, ActorQuery, ActorRead, ResolveQuery
from app.auth.dependencies import ReadKey, WriteKey
from app.core.deps import SessionDep
from app.core.rest import Page, PathId, cursor_after_id, keyset_page, problems

router = APIRouter(prefix="/actors", tags=["actors"])


@router.get("", summary="List actors", responses=problems(400, 422))
async def list_actors(
    request: Request,
    response: Response,
    session: SessionDep,
    _key: ReadKey,
    query: Annotated[ActorQuery, Query()],
) -> Page[ActorRead]:
    after_id = cursor_after_id(request, query.cursor)
    rows, total = await service.list_actors(session, query, after_id)
    items = [ActorRead.model_validate(r) for r in rows]
    return keyset_page(request, response, items, query.limit, total)


@router.post(
    "",
    status_code=201,
    summary="Create an actor",
    responses=problems(401, 403, 409, 422),
)
async def create_actor(
    data: ActorCreate, response: Response, session: SessionDep, _key: WriteKey
) -> ActorRead:
    actor = await service.create_actor(session, data)
    response.headers["Location"] = f"/v1/actors/{actor.id}"
    return ActorRead.model_validate(actor)


@router.get(
    "/resolve",
    summary="Find the actor known by a name or alias",
    responses=problems(404, 422),
)
async def resolve_actor(
    session: SessionDep, _key: ReadKey, query: Annotated[ResolveQuery, Query()]
) -> ActorRead:
    return ActorRead.model_validate(await service.resolve_actor(session, query.name))


@router.get("/{actor_id}", summary="Get an actor", responses=problems(404, 422))
async def get_actor(actor_id: PathId, session: SessionDep, _key: ReadKey) -> ActorRead:
    return ActorRead.model_validate(await service.get_actor(session, actor_id))


@router.patch(
    "/{actor_id}",
    summary="Change some of an actor's fields",
    responses=problems(401, 403, 404, 409, 422),
)
async def update_actor(
    actor_id: PathId, patch: ActorPatch, session: SessionDep, _key: WriteKey
) -> ActorRead:
    return ActorRead.model_validate(await service.update_actor(session, actor_id, patch))


@router.delete(
    "/{actor_id}",
    status_code=204,
    response_class=Response,
    summary="Delete an actor that no event mentions",
    responses=problems(401, 403, 404, 409, 422),
)
async def delete_actor(actor_id: PathId, session: SessionDep, _key: WriteKey) -> None:
    await service.delete_actor(session, actor_id)
