"""HTTP endpoints for claims."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request, Response

from app.auth.dependencies import ReadKey, WriteKey
from app.claims import service
from app.claims.schemas import ClaimCreate, ClaimPatch, ClaimQuery, ClaimRead
from app.core.deps import SessionDep, WriteSessionDep
from app.core.etag import IfMatchDep
from app.core.querymodel import query_model
from app.core.rest import Page, PathId, cursor_after_id, keyset_page, problems

router = APIRouter(prefix="/claims", tags=["claims"])


@router.get("", summary="List claims", responses=problems(400, 422))
async def list_claims(
    request: Request,
    response: Response,
    session: SessionDep,
    _key: ReadKey,
    query: Annotated[ClaimQuery, query_model(ClaimQuery)],
) -> Page[ClaimRead]:
    after_id = cursor_after_id(request, query.cursor)
    rows, total = await service.list_claims(session, query, after_id)
    items = [ClaimRead.model_validate(r) for r in rows]
    return keyset_page(request, response, items, query.limit, total)


@router.post(
    "",
    status_code=201,
    summary="Record a source's claim about an event or a campaign, with the figures it gives",
    responses=problems(401, 403, 422),
)
async def create_claim(
    data: ClaimCreate, response: Response, session: WriteSessionDep, key: WriteKey
) -> ClaimRead:
    claim = await service.create_claim(session, data, api_key_id=key.id)
    body, etag = service.representation(claim)
    response.headers["Location"] = f"/v1/claims/{claim.id}"
    response.headers["ETag"] = etag
    return ClaimRead.model_validate(body)


@router.get("/{claim_id}", summary="Get a claim", responses=problems(404, 422))
async def get_claim(
    claim_id: PathId, response: Response, session: SessionDep, _key: ReadKey
) -> ClaimRead:
    body, etag = await service.read_claim(session, claim_id)
    response.headers["ETag"] = etag
    return ClaimRead.model_validate(body)


@router.patch(
    "/{claim_id}",
    summary="Change some of a claim's fields (If-Match: the ETag you read)",
    responses=problems(400, 401, 403, 404, 412, 422, 428),
)
async def update_claim(
    claim_id: PathId,
    patch: ClaimPatch,
    response: Response,
    session: WriteSessionDep,
    key: WriteKey,
    if_match: IfMatchDep,
) -> ClaimRead:
    claim = await service.update_claim(
        session, claim_id, patch, if_match=if_match, api_key_id=key.id
    )
    body, etag = service.representation(claim)
    response.headers["ETag"] = etag
    return ClaimRead.model_validate(body)


@router.delete(
    "/{claim_id}",
    status_code=204,
    response_class=Response,
    summary="Delete a claim (If-Match: the ETag you read)",
    responses=problems(400, 401, 403, 404, 412, 422, 428),
)
async def delete_claim(
    claim_id: PathId, session: WriteSessionDep, key: WriteKey, if_match: IfMatchDep
) -> None:
    await service.delete_claim(session, claim_id, if_match=if_match, api_key_id=key.id)
