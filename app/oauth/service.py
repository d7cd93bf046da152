"""ACLED's OAuth password flow, on conflictdb API keys.

- `grant_type=password`: `password` is a conflictdb API key (read-only is enough); `username`
  is required, as ACLED's clients always send one (an e-mail), and is not checked: conflictdb
  keys carry no e-mail. So no new secret exists: the key is the password.
- The answer is an opaque access token (24 h) and refresh token (14 days), random, stored only
  as SHA-256 hashes with their expiry and the key they belong to (revoking the key ends them).
- Issuing a pair forgets the key's expired tokens, so the table stays small.
- `grant_type=refresh_token` rotates: the refresh token is used up, a new pair is issued; a used,
  expired or unknown refresh token is `invalid_grant`.
- Errors are OAuth's own (RFC 6749 section 5.2): `{"error": ..., "error_description": ...}`,
  400, or 401 for `invalid_client`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.service import verify_key
from app.models import ApiKey, OAuthToken
from app.models.base import utcnow
from app.oauth import repository

ACCESS_SECONDS = 24 * 3600
REFRESH_SECONDS = 14 * 24 * 3600
ACCESS_PREFIX = "cdbat_"
REFRESH_PREFIX = "cdbrt_"
GRANT_TYPES = ("password", "refresh_token")


class OAuthError(Exception):
    """An error of the token endpoint, in OAuth's JSON shape."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    refresh_token_expires_in: int


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


async def _issue(session: AsyncSession, key: ApiKey, now: dt.datetime) -> TokenPair:
    await repository.delete_expired(session, key.id, now)
    access = ACCESS_PREFIX + secrets.token_urlsafe(32)
    refresh = REFRESH_PREFIX + secrets.token_urlsafe(32)
    for kind, token, seconds in (
        ("access", access, ACCESS_SECONDS),
        ("refresh", refresh, REFRESH_SECONDS),
    ):
        session.add(
            OAuthToken(
                kind=kind,
                token_hash=token_hash(token),
                api_key_id=key.id,
                created_at=now,
                expires_at=now + dt.timedelta(seconds=seconds),
            )
        )
    return TokenPair(access, refresh, ACCESS_SECONDS, REFRESH_SECONDS)


def _required(form: dict[str, str], name: str) -> str:
    value = form.get(name, "")
    if not value.strip():
        raise OAuthError("invalid_request", f"{name} is required")
    if "\x00" in value or len(value) > 4096:
        raise OAuthError("invalid_request", f"{name} is not a valid value")
    return value


async def token(session: AsyncSession, form: dict[str, str]) -> TokenPair:
    """Answer one token request (its form fields, as strings)."""
    grant = _required(form, "grant_type")
    client_id = form.get("client_id", "")
    if client_id and client_id != "acled":
        raise OAuthError("invalid_client", "unknown client_id; use acled", 401)
    now = utcnow()
    if grant == "password":
        _required(form, "username")
        key = await verify_key(session, _required(form, "password"))
        if key is None:
            raise OAuthError(
                "invalid_grant",
                "the password must be a valid conflictdb API key (unknown or revoked)",
            )
        pair = await _issue(session, key, now)
    elif grant == "refresh_token":
        presented = _required(form, "refresh_token")
        found = await repository.find_live(session, token_hash(presented), "refresh", now)
        if found is None or not await repository.revoke_unused(session, found[0].id, now):
            raise OAuthError("invalid_grant", "the refresh token is unknown, used or expired")
        pair = await _issue(session, found[1], now)
    else:
        raise OAuthError(
            "unsupported_grant_type", f"grant_type must be one of {', '.join(GRANT_TYPES)}"
        )
    await session.flush()
    return pair


async def verify_access(session: AsyncSession, presented: str) -> ApiKey | None:
    """The API key behind a live access token; None when unknown, expired or revoked."""
    if not presented.startswith(ACCESS_PREFIX) or "\x00" in presented:
        return None
    found = await repository.find_live(session, token_hash(presented), "access", utcnow())
    return found[1] if found is not None else None


def is_access_token(presented: str) -> bool:
    return presented.startswith(ACCESS_PREFIX)
