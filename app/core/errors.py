"""RFC 9457 problem+json: one error shape for every route, with a stable snake_case `code`."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as SATimeoutError
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("conflictdb")

PROBLEM_JSON = "application/problem+json"


class FieldError(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class Problem(BaseModel):
    """The body of every error response."""

    type: str = "about:blank"
    title: str
    status: int
    code: str
    detail: str | None = None
    instance: str | None = None
    errors: list[FieldError] | None = None


class ProblemError(Exception):
    """An expected failure, rendered as problem+json."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.errors = errors
        self.headers = headers
        # Members beyond RFC 9457's (a 412's current_version and current_etag).
        self.extra = extra


class NotFound(ProblemError):
    def __init__(self, what: str, key: object) -> None:
        super().__init__(404, "not_found", f"{what} {key!r} does not exist")


class Conflict(ProblemError):
    def __init__(self, detail: str, code: str = "conflict") -> None:
        super().__init__(409, code, detail)


class Invalid(ProblemError):
    """A 422 raised by a service for a rule that pydantic cannot check alone."""

    def __init__(self, loc: list[str | int], msg: str, type_: str = "value_error") -> None:
        super().__init__(
            422,
            "validation_error",
            f"{'.'.join(str(p) for p in loc)}: {msg}",
            errors=[{"loc": loc, "msg": msg, "type": type_}],
        )


class PreconditionFailed(ProblemError):
    """If-Match named another version: nothing was written; the body says what is current."""

    def __init__(self, what: str, current_etag: str, current_version: int | None) -> None:
        super().__init__(
            412,
            "precondition_failed",
            f"the {what} changed since the ETag given in If-Match; "
            "read it again and retry with its current ETag",
            headers={"ETag": current_etag},
            extra={"current_etag": current_etag, "current_version": current_version},
        )


class PreconditionRequired(ProblemError):
    def __init__(self) -> None:
        super().__init__(
            428,
            "precondition_required",
            "this server requires If-Match on PUT, PATCH and DELETE: "
            "send the ETag of the version you read",
        )


class ServiceBusy(ProblemError):
    """The database could not take the write in time: retry, nothing was written."""

    def __init__(self, detail: str, retry_after: int = 1) -> None:
        super().__init__(503, "busy", detail, headers={"Retry-After": str(retry_after)})


class BadRequest(ProblemError):
    def __init__(self, detail: str, code: str = "bad_request") -> None:
        super().__init__(400, code, detail)


def problem_response(
    request: Request,
    status: int,
    code: str,
    detail: str | None,
    *,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "code": code,
        "detail": detail,
        "instance": request.url.path,
    }
    if errors is not None:
        body["errors"] = errors
    if extra:
        body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    412: "precondition_failed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
}


def is_transient(exc: DBAPIError) -> bool:
    """A lock or deadlock the client may simply retry (SQLite busy, PostgreSQL deadlock)."""
    text = str(exc.orig).lower()
    return any(
        marker in text
        for marker in ("database is locked", "deadlock detected", "could not serialize")
    )


def _busy(request: Request) -> JSONResponse:
    return problem_response(
        request,
        503,
        "busy",
        "the database is busy with other writes; nothing was written, retry shortly",
        headers={"Retry-After": "1"},
    )


def _jsonable_loc(loc: tuple[Any, ...] | list[Any]) -> list[str | int]:
    return [p if isinstance(p, int) else str(p) for p in loc]


def _safe_msg(msg: Any) -> str:
    return str(msg)[:500]


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ProblemError)
    async def _problem(request: Request, exc: ProblemError) -> JSONResponse:
        return problem_response(
            request,
            exc.status,
            exc.code,
            exc.detail,
            errors=exc.errors,
            headers=exc.headers,
            extra=exc.extra,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {
                "loc": _jsonable_loc(e.get("loc", ())),
                "msg": _safe_msg(e.get("msg", "")),
                "type": str(e.get("type", "value_error")),
            }
            for e in exc.errors()
        ]
        detail = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in errors[:5]
        )
        return problem_response(request, 422, "validation_error", detail, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no route matches {request.url.path}"
        headers = dict(exc.headers) if exc.headers else None
        return problem_response(request, exc.status_code, code, detail, headers=headers)

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError) -> JSONResponse:
        # Reaching here means a service missed a check; the constraint still protected the data.
        text = str(exc.orig).lower()
        if "unique" in text or "duplicate" in text:
            return problem_response(
                request, 409, "duplicate", "a record with the same natural key already exists"
            )
        return problem_response(
            request, 409, "constraint_violation", "the write breaks a database constraint"
        )

    @app.exception_handler(OperationalError)
    async def _operational(request: Request, exc: OperationalError) -> JSONResponse:
        if is_transient(exc):
            return _busy(request)
        log.exception("database error on %s %s", request.method, request.url.path)
        return problem_response(request, 500, "internal_error", "an unexpected error occurred")

    @app.exception_handler(SATimeoutError)
    async def _pool_timeout(request: Request, exc: SATimeoutError) -> JSONResponse:
        return _busy(request)

    @app.exception_handler(StaleDataError)
    async def _stale(request: Request, exc: StaleDataError) -> JSONResponse:
        return problem_response(
            request, 409, "conflict", "the record was changed or deleted by another write"
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(request, 500, "internal_error", "an unexpected error occurred")
