"""Writes need a key with write rights; reads are open unless the settings close them.

A key presented on an open read is checked all the same: unknown or revoked is a 401.
A credential is a conflictdb key (X-API-Key or Bearer) or an OAuth access token minted for one
by POST /oauth/token (Bearer): the same key, its rights and its revocation, on every path.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.service import verify_key
from app.core.db import get_session, get_write_session
from app.core.errors import ProblemError
from app.models import ApiKey
from app.oauth.service import is_access_token, verify_access

_bearer = HTTPBearer(auto_error=False, description="An API key minted by `conflictdb create-key`")
_header = APIKeyHeader(name="X-API-Key", auto_error=False)

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="conflictdb"'}


async def _key_from_request(
    request: Request,
    session: AsyncSession,
    bearer: HTTPAuthorizationCredentials | None,
    header: str | None,
) -> ApiKey:
    presented = header or (bearer.credentials if bearer else None)
    if not presented:
        presented = getattr(request.state, "legacy_api_key", None)
    if not presented:
        raise ProblemError(
            401, "missing_api_key", "this request needs an API key", headers=_CHALLENGE
        )
    return await key_for(session, presented)


async def key_for(session: AsyncSession, presented: str) -> ApiKey:
    """The live key behind a presented credential (a key or an OAuth access token), else 401."""
    if is_access_token(presented):
        key = await verify_access(session, presented)
        if key is None:
            raise ProblemError(
                401,
                "invalid_token",
                "the access token is unknown, revoked or expired: refresh it at /oauth/token",
                headers=_CHALLENGE,
            )
        return key
    key = await verify_key(session, presented)
    if key is None:
        raise ProblemError(
            401, "invalid_api_key", "the API key is unknown or revoked", headers=_CHALLENGE
        )
    return key


async def require_write(
    request: Request,
    # The write's own unit of work: no second transaction stays open beside it.
    session: Annotated[AsyncSession, Depends(get_write_session, scope="function")],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    header: Annotated[str | None, Depends(_header)],
) -> ApiKey:
    key = await _key_from_request(request, session, bearer, header)
    if not key.can_write:
        raise ProblemError(403, "forbidden", "this API key may read but not write")
    return key


async def require_write_detached(
    request: Request,
    session: Annotated[AsyncSession, Depends(get_session)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    header: Annotated[str | None, Depends(_header)],
) -> ApiKey:
    """A write key, checked on the read session: for a write that runs in its own
    transaction (an import), which must not wait on the request's unit of work."""
    key = await _key_from_request(request, session, bearer, header)
    if not key.can_write:
        raise ProblemError(403, "forbidden", "this API key may read but not write")
    # Nothing of this transaction is needed any more: end it before the long work starts.
    key_copy = ApiKey(id=key.id, name=key.name, prefix=key.prefix, can_write=key.can_write)
    await session.rollback()
    return key_copy


def _no_key_to_check(
    request: Request, bearer: HTTPAuthorizationCredentials | None, header: str | None
) -> bool:
    """An open read that presents no key. Open reads still refuse a wrong or revoked key: a
    client using one should hear it now, not when reads are closed."""
    if request.app.state.settings.read_requires_key:
        return False
    return not (header or bearer or getattr(request.state, "legacy_api_key", None))


async def require_read(
    request: Request,
    session: Annotated[AsyncSession, Depends(get_session)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    header: Annotated[str | None, Depends(_header)],
) -> ApiKey | None:
    if _no_key_to_check(request, bearer, header):
        return None
    return await _key_from_request(request, session, bearer, header)


async def require_read_alone(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    header: Annotated[str | None, Depends(_header)],
) -> ApiKey | None:
    """`require_read` for a route that reads on connections of its own (the list of events),
    not on the request's session: an open read without a key takes no session at all (the
    session dependency, its exit stack and its object were ~5% of a first page's CPU), and a
    presented key is checked on a short read session, closed before the route reads."""
    if _no_key_to_check(request, bearer, header):
        return None
    async with request.app.state.read_sessionmaker() as session:
        return await _key_from_request(request, session, bearer, header)


WriteKey = Annotated[ApiKey, Depends(require_write)]
WriteKeyDetached = Annotated[ApiKey, Depends(require_write_detached)]
ReadKey = Annotated[ApiKey | None, Depends(require_read)]
# For routes that take no request session (SessionDep): see require_read_alone.
ReadKeyAlone = Annotated[ApiKey | None, Depends(require_read_alone)]
