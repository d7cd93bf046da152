"""The event taxonomy: ACLED's 25 sub-event types plus ours, each mapped to an ACLED pair."""

from __future__ import annotations

from fastapi import APIRouter

from app.auth.dependencies import ReadKey
from app.core.deps import SessionDep
from app.taxonomy import service
from app.taxonomy.schemas import SubEventTypeRead

router = APIRouter(prefix="/event-types", tags=["taxonomy"])


@router.get("", summary="List the sub-event types with their ACLED mapping")
async def list_event_types(session: SessionDep, _key: ReadKey) -> list[SubEventTypeRead]:
    rows = await service.list_sub_event_types(session)
    return [SubEventTypeRead.model_validate(r) for r in rows]
