"""Every SQL statement of the places domain."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Place


def place_natural_key(
    name: str, kind: str, country_code: str, admin1: str | None, admin2: str | None
) -> str:
    parts = [name, kind, country_code, admin1 or "", admin2 or ""]
    return "|".join(" ".join(p.casefold().split()) for p in parts)


async def find_by_natural_key(session: AsyncSession, key: str) -> Place | None:
    return (
        await session.execute(select(Place).where(Place.natural_key == key))
    ).scalar_one_or_none()
