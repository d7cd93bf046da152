"""UCDP's API at its own path: `GET /api/gedevents/{version}` with `x-ucdp-access-token`.

The token is a conflictdb API key (read-only is enough); without one the answer is UCDP's 401
"API token required". Envelope `{TotalCount, TotalPages, PreviousPageUrl, NextPageUrl, Result}`;
`NextPageUrl` is "" on the last page (R clients loop until it is). Errors: `{"Message": ...}`
with the status. See app/ucdp_api/service.py for the parameters.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, FastAPI, Header, Request
from fastapi.responses import JSONResponse, Response

from app.auth.service import verify_key
from app.core.deps import SessionDep
from app.core.rest import public_url
from app.ucdp_api import service
from app.ucdp_api.service import UcdpError

router = APIRouter(tags=["ucdp-compatible"])
TOKEN_REQUIRED = "API token required. Send a conflictdb API key in the x-ucdp-access-token header."


def _error(exc: UcdpError) -> JSONResponse:
    return JSONResponse({"Message": exc.message}, status_code=exc.status)


def _page_url(request: Request, page: int) -> str:
    return public_url(request, request.url.include_query_params(page=page))


def _param(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


_TEXT = {"type": "string"}
PARAMETERS = [
    _param("pagesize", {"type": "integer", "minimum": 1, "maximum": 1000}, "Rows per page"),
    _param("page", {"type": "integer", "minimum": 0}, "The page, from 0"),
    _param("Country", _TEXT, "Gleditsch-Ward codes, comma-separated"),
    _param("StartDate", {"type": "string", "format": "date"}, "date_start on or after"),
    _param("EndDate", {"type": "string", "format": "date"}, "date_end on or before"),
    _param("TypeOfViolence", _TEXT, "1, 2, 3, comma-separated"),
    _param("Geography", _TEXT, "A box: lat lon,lat lon"),
    _param("Dyad", _TEXT, "dyad_new_id, comma-separated"),
    _param("Actor", _TEXT, "side_a_new_id or side_b_new_id, comma-separated"),
    _param("Id", _TEXT, "GED ids, comma-separated"),
]


@router.get(
    "/api/gedevents/{version}",
    openapi_extra={"parameters": PARAMETERS},
    summary="UCDP GED events, as UCDP's API serves them (every version: the current data)",
    responses={
        200: {"description": "{TotalCount, TotalPages, PreviousPageUrl, NextPageUrl, Result}"},
        400: {"description": '{"Message": ...}'},
        401: {"description": '{"Message": "API token required..."}'},
    },
)
async def gedevents(
    request: Request,
    version: str,
    session: SessionDep,
    x_ucdp_access_token: Annotated[str | None, Header()] = None,
) -> Response:
    try:
        token = (x_ucdp_access_token or "").strip()
        if not token:
            raise UcdpError(401, TOKEN_REQUIRED)
        if await verify_key(session, token) is None:
            raise UcdpError(401, "The API token is unknown or revoked.")
        service.check_version(version)
        query = service.parse(dict(request.query_params))
        page = await service.read(session, query)
    except UcdpError as exc:
        return _error(exc)
    last = max(page.pages - 1, 0)
    body: dict[str, Any] = {
        "TotalCount": page.total,
        "TotalPages": page.pages,
        "PreviousPageUrl": _page_url(request, min(query.page - 1, last)) if query.page > 0 else "",
        "NextPageUrl": _page_url(request, query.page + 1) if query.page < last else "",
        "Result": page.rows,
    }
    return Response(orjson.dumps(body), media_type="application/json")


def mount(app: FastAPI) -> None:
    app.include_router(router)
