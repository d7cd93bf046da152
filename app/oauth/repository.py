"""Every SQL statement of the OAuth token flow."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import ApiKey, OAuthToken


async def find_live(
    session: AsyncSession, token_hash: str, kind: str, now: dt.datetime
) -> tuple[OAuthToken, ApiKey] | None:
    """The token with this hash and kind, unexpired and unrevoked, with its live API key."""
    stmt = (
        select(OAuthToken, ApiKey)
        .join(ApiKey, ApiKey.id == OAuthToken.api_key_id)
        .where(
            OAuthToken.token_hash == token_hash,
            OAuthToken.kind == kind,
            OAuthToken.revoked_at.is_(None),
            OAuthToken.expires_at > now,
            ApiKey.revoked_at.is_(None),
        )
    )
    row = (await session.execute(stmt)).first()
    return (row[0], row[1]) if row is not None else None


async def revoke_unused(session: AsyncSession, token_id: int, now: dt.datetime) -> bool:
    """Mark a token used; False when another request used it first (a refresh race)."""
    stmt = (
        update(OAuthToken)
        .where(OAuthToken.id == token_id, OAuthToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    result = await session.execute(stmt)
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def delete_expired(session: AsyncSession, api_key_id: int, now: dt.datetime) -> None:
    """Forget a key's tokens that have expired (used or not): the table does not grow forever."""
    await session.execute(
        delete(OAuthToken).where(OAuthToken.api_key_id == api_key_id, OAuthToken.expires_at <= now)
    )
