"""Every SQL statement of the sources domain (sources and documents)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Source


async def find_source_by_name(session: AsyncSession, name: str) -> Source | None:
    stmt = select(Source).where(func.lower(Source.name) == name.strip().casefold())
    return (await session.execute(stmt)).scalars().first()
