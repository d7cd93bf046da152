"""HTTP endpoints for campaigns."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request, Response

from app.auth.dependencies import ReadKey, WriteKey
from app.campaigns import service
from app.campaigns.schemas import (
    CampaignCreate,
    CampaignPatch,
    CampaignQuery,
    CampaignRead,
    CampaignSummary,
)
from app.core.deps import SessionDep, WriteSessionDep
from app.core.etag import IfMatchDep, etag_of
from app.core.querymodel import query_model
from app.core.rest import Page, PathId, cursor_after_id, keyset_page, problems

router = APIRouter(prefix="/campaigns", tags=["campaigns"])


@router.get("", summary="List campaigns", responses=problems(400, 422))
async def list_campaigns(
    request: Request,
    response: Response,
    session: SessionDep,
    _key: ReadKey,
    query: Annotated[CampaignQuery, query_model(CampaignQuery)],
) -> Page[CampaignSummary]:
    after_id = cursor_after_id(request, query.cursor)
    items, total = await service.list_campaigns(session, query, after_id)
    return keyset_page(request, response, items, query.limit, total)


@router.post(
    "", status_code=201, summary="Create a campaign", responses=problems(401, 403, 409, 422)
)
async def create_campaign(
    data: CampaignCreate, response: Response, session: WriteSessionDep, key: WriteKey
) -> CampaignRead:
    campaign = await service.create_campaign(session, data, api_key_id=key.id)
    response.headers["Location"] = f"/v1/campaigns/{campaign.id}"
    response.headers["ETag"] = etag_of(campaign.model_dump(mode="json"))
    return campaign


@router.get(
    "/{campaign_id}",
    summary="Get a campaign with its events and the claims about it",
    responses=problems(404, 422),
)
async def get_campaign(
    campaign_id: PathId, response: Response, session: SessionDep, _key: ReadKey
) -> CampaignRead:
    body = await service.represent_campaign(session, campaign_id)
    response.headers["ETag"] = etag_of(body)
    return CampaignRead.model_validate(body)


@router.patch(
    "/{campaign_id}",
    summary="Change some of a campaign's fields; `event_ids` replaces its events",
    responses=problems(400, 401, 403, 404, 409, 412, 422, 428),
)
async def update_campaign(
    campaign_id: PathId,
    patch: CampaignPatch,
    response: Response,
    session: WriteSessionDep,
    key: WriteKey,
    if_match: IfMatchDep,
) -> CampaignRead:
    await service.update_campaign(session, campaign_id, patch, if_match=if_match, api_key_id=key.id)
    body = await service.represent_campaign(session, campaign_id)
    response.headers["ETag"] = etag_of(body)
    return CampaignRead.model_validate(body)


@router.delete(
    "/{campaign_id}",
    status_code=204,
    response_class=Response,
    summary="Delete a campaign no claim is about (its events stay)",
    responses=problems(400, 401, 403, 404, 409, 412, 422, 428),
)
async def delete_campaign(
    campaign_id: PathId, session: WriteSessionDep, key: WriteKey, if_match: IfMatchDep
) -> None:
    await service.delete_campaign(session, campaign_id, if_match=if_match, api_key_id=key.id)
