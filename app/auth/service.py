"""Mint and verify API keys. A key is `cdb_<prefix>_<secret>`; only its SHA-256 is stored."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from app.models import ApiKey
from app.models.base import utcnow


@dataclass(frozen=True)
class MintedKey:
    id: int
    name: str
    key: str
    can_write: bool


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def mint_key(session: Session, name: str, *, can_write: bool = True) -> MintedKey:
    """Create a key; the plain key is returned once and never stored."""
    prefix = secrets.token_hex(4)
    key = f"cdb_{prefix}_{secrets.token_urlsafe(24)}"
    row = ApiKey(name=name, prefix=prefix, key_hash=_hash(key), can_write=can_write)
    session.add(row)
    session.flush()
    return MintedKey(id=row.id, name=name, key=key, can_write=can_write)


def list_keys(session: Session) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).order_by(ApiKey.id)))


def revoke_key(session: Session, which: str) -> ApiKey | None:
    """Revoke a key named by its id, its prefix or the whole key; None when there is none.

    Revoking twice keeps the first time. A revoked key is refused (401) from its next request.
    """
    parts = which.split("_", 2)
    prefix = parts[1] if len(parts) == 3 and parts[0] == "cdb" else which
    stmt = select(ApiKey).where(ApiKey.prefix == prefix)
    if which.isdigit():
        stmt = select(ApiKey).where((ApiKey.id == int(which)) | (ApiKey.prefix == which))
    rows = list(session.scalars(stmt))
    if len(rows) != 1:
        return None
    row = rows[0]
    if row.revoked_at is None:
        row.revoked_at = utcnow()
    return row


async def verify_key(session: AsyncSession, key: str) -> ApiKey | None:
    """The live key `key` names, or None. Every service's credential ends here (X-API-Key,
    Bearer, ACLED's OAuth password, UCDP's token header, HAPI's app_identifier): a string
    PostgreSQL cannot hold (NUL) is no key rather than a driver error."""
    if "\x00" in key:
        return None
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != "cdb":
        return None
    row = (
        await session.execute(select(ApiKey).where(ApiKey.prefix == parts[1]))
    ).scalar_one_or_none()
    if row is None or row.revoked_at is not None:
        return None
    if not hmac.compare_digest(row.key_hash, _hash(key)):
        return None
    return row
