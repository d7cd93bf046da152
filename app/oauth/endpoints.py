"""POST /oauth/token: ACLED's token endpoint, so ACLED's OAuth clients log in to conflictdb.

Form-encoded (`application/x-www-form-urlencoded`, as the `acled` package and httr2 send it),
multipart (acledR's `acled_token`) or a JSON object. See app/oauth/service.py for the rules.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.datastructures import UploadFile

from app.core.deps import WriteSessionDep
from app.oauth import service
from app.oauth.service import OAuthError

router = APIRouter(tags=["acled-compatible"])
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def oauth_error(exc: OAuthError) -> JSONResponse:
    headers = dict(_NO_STORE)
    if exc.status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="conflictdb"'
    return JSONResponse(
        {"error": exc.error, "error_description": exc.description},
        status_code=exc.status,
        headers=headers,
    )


async def _fields(request: Request) -> dict[str, str]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        try:
            body: Any = json.loads(await request.body())
        except (ValueError, UnicodeDecodeError):
            raise OAuthError("invalid_request", "the body is not valid JSON") from None
        if not isinstance(body, dict):
            raise OAuthError("invalid_request", "the body must be a JSON object")
        return {str(k): v for k, v in body.items() if isinstance(v, str)}
    if content_type not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        raise OAuthError(
            "invalid_request", "send the fields form-encoded (application/x-www-form-urlencoded)"
        )
    try:
        form = await request.form(max_files=0, max_fields=20)
    except Exception:  # a malformed body of either form type
        raise OAuthError("invalid_request", "the form body cannot be read") from None
    fields: dict[str, str] = {}
    for name, value in form.multi_items():
        if isinstance(value, UploadFile):
            continue
        if name in fields and fields[name] != value:
            raise OAuthError("invalid_request", f"{name} is given twice")
        fields[name] = value
    return fields


@router.post(
    "/oauth/token",
    summary="ACLED's OAuth token endpoint: a conflictdb API key as the password",
    responses={
        200: {"description": "access_token, refresh_token, expires_in, token_type"},
        400: {"description": "OAuth error: invalid_request, invalid_grant, ..."},
        401: {"description": "OAuth error: invalid_client"},
    },
)
async def token(request: Request, session: WriteSessionDep) -> JSONResponse:
    try:
        pair = await service.token(session, await _fields(request))
    except OAuthError as exc:
        return oauth_error(exc)
    return JSONResponse(
        {
            "token_type": "Bearer",
            "access_token": pair.access_token,
            "expires_in": pair.expires_in,
            "refresh_token": pair.refresh_token,
            "refresh_token_expires_in": pair.refresh_token_expires_in,
        },
        headers=_NO_STORE,
    )


def mount(app: FastAPI) -> None:
    app.include_router(router)
