"""ACLED's API under /acled, so ACLED scripts and clients work when pointed at conflictdb.

Point a client's host at `{base}/acled` (the `acled` package: ACLED_API_HOST); it then calls
`{host}/acled/read`, `{host}/deleted/read`, `{host}/actor/read`, ... as it would ACLED's.
Auth: ACLED's legacy `key` (a conflictdb API key; `email` is accepted and not checked), or
`Authorization: Bearer` / `X-API-Key`. Reads are open unless CONFLICTDB_READ_REQUIRES_KEY; a key
that is given must be valid.

The same routes answer under `/api` as ACLED serves them since 2025 (`/api/acled/read`, ...,
`/api/cast/read`), for OAuth clients: `Authorization: Bearer <access token>` from
`POST /oauth/token` (app/oauth), or a conflictdb key. Under `/api` a credential is always
required (ACLED's own API has no anonymous reads); an unknown or expired token is a 401, on
which ACLED's clients refresh their token once.

Errors under /acled and /api/<resource> come in ACLED's shape, with the same status:
`{"status": 400, "success": false, "error": [{"message": "..."}]}`; /v1 keeps problem+json.
Formats: `_format=json` (default), `csv`, `txt` (the same CSV as text/plain) and `xml` (the JSON
envelope's names as elements, one `<row>` per row; ACLED does not publish its XML schema, so
the element names are ours); or ACLED's path forms `read.csv`, `read.xml`, `read.txt`.
"""

from __future__ import annotations

import csv
import inspect
import io
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from http import HTTPStatus
from typing import Annotated, Any
from xml.sax.saxutils import escape

import orjson
from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from app.acled.grammar import (
    FORMATS,
    OPS,
    AcledQuery,
    AcledQueryError,
    Column,
    Format,
    parse_query,
)
from app.acled_api import repository, service
from app.acled_api.columns import EVENT_COLUMNS
from app.acled_api.schemas import CSV_RESPONSE, ERROR_RESPONSES, AcledEnvelope
from app.auth.dependencies import key_for
from app.core.deps import SessionDep
from app.core.errors import ProblemError
from app.hapi.endpoints import mount as mount_hapi
from app.models import ApiKey
from app.oauth.endpoints import mount as mount_oauth
from app.ucdp_api.endpoints import mount as mount_ucdp

PREFIX = "/acled"
# ACLED's current layout: `/api/<resource>/read`, beside `/api/gedevents` (UCDP) and
# `/api/v2/...` (HDX HAPI), which have shapes of their own.
API_PREFIX = "/api"
RESOURCES = ("acled", "deleted", "actor", "actortype", "country", "region", "cast")
router = APIRouter(tags=["acled-compatible"])

_bearer = HTTPBearer(auto_error=False, description="A conflictdb API key")
_header = APIKeyHeader(name="X-API-Key", auto_error=False)
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="conflictdb"'}
_KEPT_HEADERS = ("www-authenticate", "retry-after", "allow")
MEDIA_TYPES: dict[Format, str] = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "txt": "text/plain; charset=utf-8",
    "xml": "application/xml; charset=utf-8",
}
# ACLED's other way to ask for a format: `/acled/read.csv?...`.
SUFFIXES = {f".{fmt}": fmt for fmt in FORMATS}


async def acled_key(
    request: Request,
    session: SessionDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    header: Annotated[str | None, Depends(_header)],
) -> ApiKey | None:
    """ACLED's `key` query parameter or our headers; a key given is checked even on open reads."""
    legacy = request.query_params.get("key") or None
    if legacy:
        request.state.legacy_api_key = legacy
    presented = header or (bearer.credentials if bearer else None) or legacy
    if presented:
        return await key_for(session, presented)
    if _under_api(request.url.path):
        raise ProblemError(
            401,
            "missing_api_key",
            "this request needs Authorization: Bearer <access token from /oauth/token>",
            headers=_CHALLENGE,
        )
    if request.app.state.settings.read_requires_key:
        raise ProblemError(
            401,
            "missing_api_key",
            "this request needs an API key: add key=<your conflictdb key>&email=<you>",
            headers=_CHALLENGE,
        )
    return None


AcledKey = Annotated[ApiKey | None, Depends(acled_key)]


def _documented(columns: Iterable[str], options: Iterable[str], extra: str = "") -> dict[str, Any]:
    """OpenAPI parameters for the columns, their `_where` and the options (parsed by hand)."""
    params: list[dict[str, Any]] = [
        {"name": n, "in": "query", "required": False, "schema": {"type": "string"}} for n in options
    ]
    for name in columns:
        params.append(
            {"name": name, "in": "query", "required": False, "schema": {"type": "string"}}
        )
        params.append(
            {
                "name": f"{name}_where",
                "in": "query",
                "required": False,
                "schema": {"type": "string", "enum": list(OPS)},
            }
        )
    return {"parameters": params, "description": extra} if extra else {"parameters": params}


_COMMON = ("limit", "page", "_format", "with_total", "key", "email")
_GRAMMAR = (
    "Any column is a filter (`country=Syria`); `<column>_where` picks the operator (=, >, <, "
    ">=, <=, LIKE, BETWEEN); `|` separates values (OR for = and LIKE, the two ends for "
    "BETWEEN); `a=1:OR:b=2` ORs two columns. `limit` (default 5000, 0 = all), `page` (from 1)."
)
_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": AcledEnvelope, **CSV_RESPONSE},
    **ERROR_RESPONSES,
}


Endpoint = Callable[..., Awaitable[Response]]


def _read_route(path: str, **kwargs: Any) -> Callable[[Endpoint], Endpoint]:
    """A GET route at `path`, and at ACLED's `path.csv`, `.json`, `.xml`, `.txt` (not in the
    OpenAPI document: the same operation)."""

    def register(endpoint: Endpoint) -> Endpoint:
        for suffix in ("", *SUFFIXES):
            router.get(path + suffix, include_in_schema=not suffix, **kwargs)(endpoint)
        return endpoint

    return register


def _params(request: Request) -> list[tuple[str, str]]:
    """The query's (name, value) pairs, with the format a `read.<ext>` path asks for."""
    params = list(request.query_params.multi_items())
    dot = request.url.path.rfind(".")
    fmt = SUFFIXES.get(request.url.path[dot:]) if dot > 0 else None
    if fmt is None:
        return params
    given = {v.strip().lower() for k, v in params if k == "_format" and v.strip()}
    if given - {fmt}:
        raise AcledQueryError(f"_format: {sorted(given)[0]!r} contradicts the path's read.{fmt}")
    return [*params, ("_format", fmt)] if not given else params


def _envelope(last_update: int | None, total: int | None) -> dict[str, Any]:
    head: dict[str, Any] = {"status": 200, "success": True, "last_update": last_update}
    if total is not None:
        head["total_count"] = total
    head["messages"] = []
    return head


async def _json_stream(
    head: dict[str, Any], chunks: AsyncIterator[list[dict[str, Any]]]
) -> AsyncIterator[bytes]:
    """The envelope around rows that are still being read; `count` follows the data."""
    yield orjson.dumps(head)[:-1] + b',"data":['
    count = 0
    async for records in chunks:
        if not records:
            continue
        body = b",".join(orjson.dumps(r) for r in records)
        yield body if count == 0 else b"," + body
        count += len(records)
    yield b'],"count":' + str(count).encode() + b"}"


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4f}"
    return value


async def _csv_stream(
    columns: tuple[str, ...], chunks: AsyncIterator[list[dict[str, Any]]]
) -> AsyncIterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    yield buffer.getvalue().encode()
    async for records in chunks:
        buffer.seek(0)
        buffer.truncate()
        writer.writerows([[_csv_value(r.get(c)) for c in columns] for r in records])
        yield buffer.getvalue().encode()


# Characters XML 1.0 cannot carry, even escaped (free text may hold them): dropped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_element(name: str, value: Any) -> str:
    if value is None or value == []:
        return f"<{name}/>"
    if isinstance(value, bool):
        value = "true" if value else "false"
    return f"<{name}>{escape(_NOT_XML.sub('', str(value)))}</{name}>"


async def _xml_stream(
    head: dict[str, Any], columns: tuple[str, ...], chunks: AsyncIterator[list[dict[str, Any]]]
) -> AsyncIterator[bytes]:
    """The JSON envelope as XML: its names as elements, a `<row>` per row, `count` last."""
    opening = "".join(_xml_element(name, value) for name, value in head.items())
    yield f'<?xml version="1.0" encoding="UTF-8"?>\n<response>{opening}<data>'.encode()
    count = 0
    async for records in chunks:
        rows = (
            "<row>" + "".join(_xml_element(c, r.get(c)) for c in columns) + "</row>"
            for r in records
        )
        yield "".join(rows).encode()
        count += len(records)
    yield f"</data><count>{count}</count></response>".encode()


def _streamed(
    fmt: Format,
    columns: tuple[str, ...],
    head: dict[str, Any],
    chunks: AsyncIterator[list[dict[str, Any]]],
) -> StreamingResponse:
    body: AsyncIterator[bytes]
    if fmt in ("csv", "txt"):
        body = _csv_stream(columns, chunks)
    elif fmt == "xml":
        body = _xml_stream(head, columns, chunks)
    else:
        body = _json_stream(head, chunks)
    return StreamingResponse(body, media_type=MEDIA_TYPES[fmt])


async def _listing(
    session: AsyncSession,
    query: AcledQuery,
    columns: tuple[str, ...],
    records: list[dict[str, Any]],
    total: int | None,
) -> Response:
    if query.format in ("csv", "txt"):
        return _streamed(query.format, columns, {}, service.one_chunk(records))
    body = _envelope(await repository.last_update(session), total)
    if query.format == "xml":
        return _streamed(query.format, columns, body, service.one_chunk(records))
    body["count"] = len(records)
    body["data"] = records
    return Response(orjson.dumps(body), media_type=MEDIA_TYPES["json"])


@_read_route(
    "/acled/read",
    summary="ACLED events (ACLED's 31 columns, its filter grammar and envelope)",
    responses=_RESPONSES,
    openapi_extra=_documented(
        EVENT_COLUMNS,
        (*_COMMON, "fields", "inter_num", "export_type", service.ALL_DATASETS),
        _GRAMMAR + service.ALL_DATASETS_DOC,
    ),
)
async def read_events(request: Request, session: SessionDep, _key: AcledKey) -> Response:
    params, everything = service.all_datasets(_params(request))
    query = service.parse_events(params)
    result = await service.read_events(
        session,
        request.app.state.sessionmaker,
        query,
        all_datasets=everything,
        docs=request.app.state.doc_cache,
        statements=request.app.state.statements,
    )
    head = _envelope(result.last_update, result.total)
    if result.documents is not None:
        # The bytes `_json_stream` writes, of rows written as JSON already.
        data, count = b",".join(result.documents), str(len(result.documents)).encode()
        page = orjson.dumps(head)[:-1] + b',"data":[' + data + b'],"count":' + count + b"}"
        return Response(page, media_type=MEDIA_TYPES["json"])
    if result.records is not None and query.format == "json":
        # A page read at once: one body (the bytes `_json_stream` writes), no stream's tasks.
        body = {**head, "data": result.records, "count": len(result.records)}
        return Response(orjson.dumps(body), media_type=MEDIA_TYPES["json"])
    return _streamed(query.format, result.columns, head, result.chunks)


async def _simple(
    request: Request,
    session: AsyncSession,
    columns: dict[str, Any],
    read: Callable[[AsyncSession, AcledQuery], Awaitable[tuple[list[dict[str, Any]], int | None]]],
) -> Response:
    query = service.parse(_params(request), columns)
    records, total = await read(session, query)
    return await _listing(session, query, tuple(columns), records, total)


@_read_route(
    "/deleted/read",
    summary="Deleted events: event_id_cnty and deleted_timestamp (Unix seconds, >= by default)",
    responses=_RESPONSES,
    openapi_extra=_documented(service.DELETED_COLUMNS, _COMMON),
)
async def read_deleted(request: Request, session: SessionDep, _key: AcledKey) -> Response:
    return await _simple(request, session, service.DELETED_COLUMNS, service.read_deleted)


@_read_route(
    "/actor/read",
    summary="Actors with their first and last event dates and event count",
    responses=_RESPONSES,
    openapi_extra=_documented(service.ACTOR_COLUMNS, _COMMON),
)
async def read_actors(request: Request, session: SessionDep, _key: AcledKey) -> Response:
    return await _simple(request, session, service.ACTOR_COLUMNS, service.read_actors)


@_read_route(
    "/country/read",
    summary="Countries with events: name, ISO numeric and alpha-3, dates, event count",
    responses=_RESPONSES,
    openapi_extra=_documented(service.COUNTRY_COLUMNS, _COMMON),
)
async def read_countries(request: Request, session: SessionDep, _key: AcledKey) -> Response:
    return await _simple(request, session, service.COUNTRY_COLUMNS, service.read_countries)


@_read_route(
    "/region/read",
    summary="ACLED regions with events: number, name, dates, event count",
    responses=_RESPONSES,
    openapi_extra=_documented(service.REGION_COLUMNS, _COMMON),
)
async def read_regions(request: Request, session: SessionDep, _key: AcledKey) -> Response:
    return await _simple(request, session, service.REGION_COLUMNS, service.read_regions)


@_read_route(
    "/actortype/read",
    summary="Actor types (inter codes) with events: id, name, dates, event count",
    responses=_RESPONSES,
    openapi_extra=_documented(service.ACTOR_TYPE_COLUMNS, _COMMON),
)
async def read_actor_types(request: Request, session: SessionDep, _key: AcledKey) -> Response:
    return await _simple(request, session, service.ACTOR_TYPE_COLUMNS, service.read_actor_types)


# CAST (ACLED's forecasts): conflictdb makes none. The filters are checked as ACLED's are, and
# the answer is ACLED's envelope with no rows and a message saying why (never a 404: a script
# that reads forecasts keeps running).
CAST_COLUMNS: dict[str, Column] = {
    "country": Column("text"),
    "admin1": Column("text"),
    "month": Column("text"),
    "year": Column("int"),
    "total_forecast": Column("int"),
    "battles_forecast": Column("int"),
    "erv_forecast": Column("int"),
    "vac_forecast": Column("int"),
    "total_observed": Column("int"),
    "battles_observed": Column("int"),
    "erv_observed": Column("int"),
    "vac_observed": Column("int"),
    "timestamp": Column("timestamp", ">="),
}
CAST_MESSAGE = "conflictdb has no CAST forecasts: this endpoint answers no rows"


@_read_route(
    "/cast/read",
    summary="CAST forecasts: conflictdb has none, so no rows and a message",
    responses=_RESPONSES,
    openapi_extra=_documented(CAST_COLUMNS, (*_COMMON, "fields")),
)
async def read_cast(request: Request, session: SessionDep, _key: AcledKey) -> Response:
    query = parse_query(
        _params(request),
        CAST_COLUMNS,
        options=frozenset({"fields"}),
        field_names=tuple(CAST_COLUMNS),
    )
    columns = query.fields or tuple(CAST_COLUMNS)
    if query.format in ("csv", "txt"):
        return _streamed(query.format, columns, {}, service.one_chunk([]))
    body = _envelope(await repository.last_update(session), 0 if query.with_total else None)
    body["messages"] = [CAST_MESSAGE]
    if query.format == "xml":
        return _streamed(query.format, columns, body, service.one_chunk([]))
    body["count"] = 0
    body["data"] = []
    return Response(orjson.dumps(body), media_type=MEDIA_TYPES["json"])


# ---- ACLED's error shape, under the prefix only ----


def acled_error(response: Response) -> JSONResponse:
    """A problem+json response re-shaped as ACLED's error, same status and auth headers."""
    status = response.status_code
    message = HTTPStatus(status).phrase
    try:
        body = json.loads(bytes(response.body))
        message = str(body.get("detail") or body.get("title") or message)
    except (ValueError, AttributeError):
        pass
    headers = {k: v for k, v in response.headers.items() if k.lower() in _KEPT_HEADERS}
    return JSONResponse(
        {"status": status, "success": False, "error": [{"message": message}]},
        status_code=status,
        headers=headers,
    )


def _under_api(path: str) -> bool:
    parts = path.split("/")
    return len(parts) > 2 and parts[1] == API_PREFIX[1:] and parts[2].split(".")[0] in RESOURCES


def _under_prefix(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/") or _under_api(path)


Handler = Callable[[Request, Any], Any]


def _shaped(handler: Handler) -> Handler:
    async def wrapped(request: Request, exc: Exception) -> Response:
        response = handler(request, exc)
        if inspect.isawaitable(response):
            response = await response
        if not _under_prefix(request.url.path):
            return response  # type: ignore[no-any-return]
        return acled_error(response)

    return wrapped


def mount(app: FastAPI) -> None:
    """Add the routes under /acled and /api/<resource>, ACLED's error shape there (after the
    app's handlers), and the other services today's clients call at their own paths: ACLED's
    token endpoint, UCDP's API and HDX HAPI's conflict events (docs/compat.md)."""
    app.include_router(router, prefix=PREFIX)
    # The same operations at ACLED's current paths; one copy in the OpenAPI document.
    app.include_router(router, prefix=API_PREFIX, include_in_schema=False)
    mount_oauth(app)
    mount_ucdp(app)
    mount_hapi(app)
    for key, handler in list(app.exception_handlers.items()):
        app.exception_handlers[key] = _shaped(handler)
