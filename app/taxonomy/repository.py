"""SQL for the event taxonomy."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import EventType, SubEventType


async def list_sub_event_types(session: AsyncSession) -> Sequence[SubEventType]:
    stmt = select(SubEventType).order_by(SubEventType.event_type_code, SubEventType.code)
    return (await session.execute(stmt)).scalars().all()


async def list_event_types(session: AsyncSession) -> Sequence[EventType]:
    return (await session.execute(select(EventType).order_by(EventType.code))).scalars().all()


async def get_sub_event_type(session: AsyncSession, code: str) -> SubEventType | None:
    return await session.get(SubEventType, code)
