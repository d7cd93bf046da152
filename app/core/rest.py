"""Shared pieces of the REST surface: id and text types, keyset pages, documented errors."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Any, Generic, Protocol, TypeVar

from fastapi import Path, Request, Response
from pydantic import AfterValidator, BaseModel, Field, StringConstraints, WithJsonSchema
from starlette.datastructures import URL

from app.core.errors import BadRequest, Problem
from app.core.jsonrules import RULES as JSON_RULES
from app.core.jsonrules import check_json as check_json
from app.core.jsonrules import stored_json
from app.core.pagination import decode_cursor, encode_cursor
from app.core.schemas import StrictModel
from app.core.schemas import no_nul as no_nul

# Ids are 32-bit integers on PostgreSQL; a larger number can only be a miss, never a row.
MAX_ID = 2_147_483_647
MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 100

DbId = Annotated[int, Field(ge=1, le=MAX_ID)]
PathId = Annotated[int, Path(ge=1, le=MAX_ID)]


def _single_spaced(value: str) -> str:
    # Names are matched case- and space-folded; storing them single-spaced keeps lookups exact.
    return " ".join(no_nul(value).split())


NameStr = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=255),
    AfterValidator(_single_spaced),
]
LongText = Annotated[str, StringConstraints(max_length=20000), AfterValidator(no_nul)]
Url = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=1000, pattern=r"^https?://\S+$"),
    AfterValidator(no_nul),
]
SearchText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=255),
    AfterValidator(no_nul),
]

JsonObject = Annotated[
    dict[str, Any],
    AfterValidator(check_json),
    WithJsonSchema({"type": "object", "additionalProperties": True, "description": JSON_RULES}),
]
"""A free-form JSON object, checked against app.core.jsonrules (a 422 locates the member)."""
StoredJson = Annotated[dict[str, Any], AfterValidator(stored_json)]
"""A free-form JSON object as read back: values stored before the rules made encodable."""


class PageQuery(StrictModel):
    """Paging parameters shared by every list; unknown parameters are a 422."""

    limit: int = Field(
        default=DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, description="Items per page."
    )
    cursor: str | None = Field(
        default=None, max_length=1000, description="`next_cursor` of the previous page."
    )
    total: bool = Field(default=False, description="Also count every matching item.")


ItemT = TypeVar("ItemT")


class HasId(Protocol):
    @property
    def id(self) -> int: ...


RowT = TypeVar("RowT", bound=HasId)


class Page(BaseModel, Generic[ItemT]):
    """One page of a list; follow `next_url` (or the `Link` header) until it is null."""

    items: list[ItemT]
    next_cursor: str | None
    next_url: str | None
    total: int | None = None


def cursor_after_id(request: Request, cursor: str | None) -> int | None:
    """The id a cursor resumes after; a cursor we did not issue is a 400 `invalid_cursor`."""
    if cursor is None:
        return None
    payload = decode_cursor(request.app.state.settings.cursor_secret, cursor)
    after = payload.get("after_id")
    if not isinstance(after, int) or isinstance(after, bool) or not 0 <= after <= MAX_ID:
        raise BadRequest(
            "the cursor is not one this server issued; restart from the first page",
            code="invalid_cursor",
        )
    return after


def public_url(request: Request, url: URL) -> str:
    """A URL of ours to hand out (next_url, Link): on `public_base_url` when it is set, else on
    the request's host if that is trusted, else relative (the Host header is never echoed
    unchecked: GuardMiddleware drops an untrusted one and marks the request)."""
    return _public(request, str(url), url.path, url.query)


def public_url_with_query(request: Request, query: str) -> str:
    """`public_url` of this request's URL with `query` (encoded) for its own. The URL without
    its query is Starlette's, built once per scheme, server, host and path: building it from the
    scope was ~20 us of each first page's ~30 us next link."""
    scope = request.scope
    server = scope.get("server")
    full, path = _url_without_query(
        scope.get("scheme", "http"),
        tuple(server) if server else None,
        scope["path"],
        request.headers.get("host"),
    )
    return _public(request, f"{full}?{query}", path, query)


def _public(request: Request, full: str, path: str, query: str) -> str:
    base: str | None = request.app.state.settings.public_base_url
    tail = f"{path}?{query}" if query else path
    if base:
        return f"{base.rstrip('/')}{tail}"
    if getattr(request.state, "untrusted_host", False) or "host" not in request.headers:
        return tail
    return full


@lru_cache(maxsize=512)
def _url_without_query(
    scheme: str, server: tuple[Any, ...] | None, path: str, host: str | None
) -> tuple[str, str]:
    headers = [(b"host", host.encode("latin-1"))] if host is not None else []
    scope = {"type": "http", "scheme": scheme, "server": server, "path": path, "headers": headers}
    url = URL(scope=scope)
    return str(url), url.path


def _next_url(request: Request, cursor: str) -> str:
    return public_url(request, request.url.include_query_params(cursor=cursor))


def keyset_page(
    request: Request,
    response: Response,
    items: list[RowT],
    limit: int,
    total: int | None,
) -> Page[RowT]:
    """A page from `limit + 1` fetched rows ordered by id; sets the `Link: rel="next"` header."""
    next_cursor = next_url = None
    if len(items) > limit:
        items = items[:limit]
        next_cursor = encode_cursor(
            request.app.state.settings.cursor_secret, {"after_id": items[-1].id}
        )
        next_url = _next_url(request, next_cursor)
        response.headers["Link"] = f'<{next_url}>; rel="next"'
    return Page(items=items, next_cursor=next_cursor, next_url=next_url, total=total)


def problems(
    *statuses: int, documented: dict[int, str] | None = None
) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the problem+json errors a route documents.

    Declared as `application/problem+json`, the type the handlers send (a `model` would be
    documented as `application/json`), with the `Problem` schema from components; `documented`
    replaces a status's description for one route.
    """
    descriptions = {
        400: "Bad request (e.g. `invalid_cursor`, `invalid_if_match`)",
        401: "Missing or invalid API key (`missing_api_key`, `invalid_api_key`)",
        403: "The API key may not write (`forbidden`)",
        404: "No such record (`not_found`)",
        406: "No format in Accept that this route can produce (`not_acceptable`)",
        409: "Conflicts with stored data (`duplicate`, `in_use`)",
        412: "If-Match names another version (`precondition_failed`; the body carries "
        "`current_version` and `current_etag`)",
        413: "The body is too large (`payload_too_large`)",
        422: "Invalid input: `errors` lists each field and why (`validation_error`)",
        428: "This server requires If-Match on writes (`precondition_required`)",
        429: "Too many requests (`rate_limited`): retry after `Retry-After` seconds",
        503: "Busy or overloaded (`busy`): nothing was done, retry after `Retry-After` seconds",
        **(documented or {}),
    }
    schema = {"$ref": f"#/components/schemas/{Problem.__name__}"}
    content = {"application/problem+json": {"schema": schema}}
    return {s: {"description": descriptions[s], "content": content} for s in statuses}


WRITE_ERRORS = (401, 403, 422)
