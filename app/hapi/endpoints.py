"""HDX HAPI's conflict events at its own path: `/api/v2/coordination-context/conflict-events`.

HAPI identifies an application by `app_identifier` (query) or `X-HDX-HAPI-APP-IDENTIFIER`
(header); here that identifier is a conflictdb API key (read-only is enough). Without one the
answer is a 401, with a wrong one a 401 too, `{"detail": ...}` as HAPI's errors. JSON is
`{"data": [...]}`; `output_format=csv` the same columns as CSV. See app/hapi/service.py.
"""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Header, Request
from fastapi.responses import JSONResponse, Response

from app.auth.service import verify_key
from app.core.deps import SessionDep
from app.hapi import service
from app.hapi.service import COLUMNS, HapiError

router = APIRouter(tags=["hdx-hapi-compatible"])


def _param(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema}


_TEXT = {"type": "string"}
PARAMETERS = [
    _param("app_identifier", _TEXT),
    _param("location_code", _TEXT),
    _param("event_type", {"type": "string", "enum": list(service.EVENT_TYPES)}),
    _param("start_date", {"type": "string", "format": "date"}),
    _param("end_date", {"type": "string", "format": "date"}),
    _param("admin_level", {"type": "integer", "enum": [0, 1, 2]}),
    _param("admin1_name", _TEXT),
    _param("admin2_name", _TEXT),
    _param("output_format", {"type": "string", "enum": ["json", "csv"]}),
    _param("limit", {"type": "integer", "minimum": 1, "maximum": service.MAX_LIMIT}),
    _param("offset", {"type": "integer", "minimum": 0}),
]


@router.get(
    "/api/v2/coordination-context/conflict-events",
    openapi_extra={"parameters": PARAMETERS},
    summary="HDX HAPI conflict events: monthly events and fatalities per place and type",
    responses={
        200: {"description": '{"data": [...]}, or CSV with output_format=csv'},
        400: {"description": '{"detail": ...}'},
        401: {"description": '{"detail": ...}: app_identifier missing or not a key'},
    },
)
async def conflict_events(
    request: Request,
    session: SessionDep,
    x_hdx_hapi_app_identifier: Annotated[str | None, Header()] = None,
) -> Response:
    params = dict(request.query_params)
    try:
        identifier = (params.get("app_identifier") or x_hdx_hapi_app_identifier or "").strip()
        if not identifier:
            raise HapiError(
                401,
                "app_identifier is required: send a conflictdb API key as app_identifier "
                "or in the X-HDX-HAPI-APP-IDENTIFIER header",
            )
        if await verify_key(session, identifier) is None:
            raise HapiError(401, "app_identifier is not a valid conflictdb API key")
        query = service.parse(params)
        rows = await service.read(session, query)
    except HapiError as exc:
        return JSONResponse({"detail": exc.detail}, status_code=exc.status)
    if query.output_format == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8")
    return JSONResponse({"data": rows})


def mount(app: FastAPI) -> None:
    app.include_router(router)
