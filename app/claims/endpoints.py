"""HTTP endpoints for claims."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from app.auth.dependencies import ReadKey, WriteKey
from app.claims import service
from app.claims.schemas import ClaimCreate, ClaimPatch, ClaimQuery, ClaimRead
from app.core.deps import SessionDep
from app.core.rest import Page, PathId, cursor_after_id, keyset_page, problems

router = APIRouter(prefix="/claims", tags=["claims"])


@router.get("", summary="List claims", responses=problems(400, 422))
async def list_claims(
    request: Request,
    response: Response,
    session: SessionDep,
    _key: ReadKey,
    query: Annotated[ClaimQuery, Query()],
) -> Page[ClaimRead]:
    after_id = cursor_after_id(request, query.cursor)
    rows, total = await service.list_claims(session, query, after_id)
    items = [ClaimRead.model_validate(r) for r in rows]
    return keyset_page(request, response, items, query.limit, total)


@router.post(
    "",
    status_code=201,
    summary="Record a source's claim about an event or a campaign",
    responses=problems(401, 403, 422),
)
async def create_claim(
    data: ClaimCreate, response: Response, session: SessionDep, _key: WriteKey
) -> ClaimRead:
    claim = await service.create_claim(session, data)
    response.headers["Location"] = f"/v1/claims/{claim.id}"
    return ClaimRead.model_validate(claim)


@router.get("/{claim_id}", summary="Get a claim", responses=problems(404, 422))
async def get_claim(claim_id: PathId, session: SessionDep, _key: ReadKey) -> ClaimRead:
    return ClaimRead.model_validate(await service.get_claim(session, claim_id))


@router.patch(
    "/{claim_id}",
    summary="Change some of a claim's fields",
    responses=problems(401, 403, 404, 422),
)
async def update_claim(
    claim_id: PathId, patch: ClaimPatch, session: SessionDep, _key: WriteKey
) -> ClaimRead:
    return ClaimRead.model_validate(await service.update_claim(session, claim_id, patch))


@router.delete(
    "/{claim_id}",
    status_code=204,
    response_class=Response,
    summary="Delete a claim",
    responses=problems(401, 403, 404, 422),
)
async def delete_claim(claim_id: PathId, session: SessionDep, _key: WriteKey) -> None:
    await service.delete_claim(session, claim_id)
