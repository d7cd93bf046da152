"""HTTP endpoints for actors."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request, Response

from app.actors import service
from app.actors.schemas import ActorCreate, ActorPatch, ActorQuery, ActorRead, ResolveQuery
from app.auth.dependencies import ReadKey, WriteKey
from app.core.deps import SessionDep, WriteSessionDep
from app.core.etag import IfMatchDep, etag_of
from app.core.querymodel import query_model
from app.core.rest import Page, PathId, cursor_after_id, keyset_page, problems

router = APIRouter(prefix="/actors", tags=["actors"])


@router.get("", summary="List actors", responses=problems(400, 422))
async def list_actors(
    request: Request,
    response: Response,
    session: SessionDep,
    _key: ReadKey,
    query: Annotated[ActorQuery, query_model(ActorQuery)],
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
    data: ActorCreate, response: Response, session: WriteSessionDep, _key: WriteKey
) -> ActorRead:
    actor = await service.create_actor(session, data)
    body = await service.represent_actor(session, actor.id)
    response.headers["Location"] = f"/v1/actors/{actor.id}"
    response.headers["ETag"] = etag_of(body)
    return ActorRead.model_validate(body)


@router.get(
    "/resolve",
    summary="Find the actor known by a name or alias",
    responses=problems(404, 422),
)
async def resolve_actor(
    session: SessionDep, _key: ReadKey, query: Annotated[ResolveQuery, query_model(ResolveQuery)]
) -> ActorRead:
    return ActorRead.model_validate(await service.resolve_actor(session, query.name))


@router.get("/{actor_id}", summary="Get an actor", responses=problems(404, 422))
async def get_actor(
    actor_id: PathId, response: Response, session: SessionDep, _key: ReadKey
) -> ActorRead:
    body = await service.represent_actor(session, actor_id)
    response.headers["ETag"] = etag_of(body)
    return ActorRead.model_validate(body)


@router.patch(
    "/{actor_id}",
    summary="Change some of an actor's fields",
    responses=problems(400, 401, 403, 404, 409, 412, 422, 428),
)
async def update_actor(
    actor_id: PathId,
    patch: ActorPatch,
    response: Response,
    session: WriteSessionDep,
    _key: WriteKey,
    if_match: IfMatchDep,
) -> ActorRead:
    await service.update_actor(session, actor_id, patch, if_match=if_match)
    body = await service.represent_actor(session, actor_id)
    response.headers["ETag"] = etag_of(body)
    return ActorRead.model_validate(body)


@router.delete(
    "/{actor_id}",
    status_code=204,
    response_class=Response,
    summary="Delete an actor that no event mentions",
    responses=problems(400, 401, 403, 404, 409, 412, 422, 428),
)
async def delete_actor(
    actor_id: PathId, session: WriteSessionDep, _key: WriteKey, if_match: IfMatchDep
) -> None:
    await service.delete_actor(session, actor_id, if_match=if_match)
