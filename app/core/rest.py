"""Shared pieces of the REST surface: id and text types, keyset pages, documented errors."""

from __future__ import annotations

import math
from typing import Annotated, Any, Generic, Protocol, TypeVar

from fastapi import Path, Request, Response
from pydantic import AfterValidator, BaseModel, Field, StringConstraints

from app.core.errors import BadRequest, Problem
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

_JSON_INT_LIMIT = 2**63 - 1


def check_json(value: Any, loc: str = "") -> Any:
    """Reject what JSON columns or the response encoder cannot hold: NUL, NaN, huge integers."""
    if isinstance(value, str):
        no_nul(value)
    elif isinstance(value, bool) or value is None:
        pass
    elif isinstance(value, int):
        if abs(value) > _JSON_INT_LIMIT:
            raise ValueError(f"{loc or 'value'}: integer out of range")
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{loc or 'value'}: numbers must be finite")
    elif isinstance(value, dict):
        for key, item in value.items():
            no_nul(key)
            check_json(item, f"{loc}.{key}" if loc else key)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            check_json(item, f"{loc}[{i}]")
    return value


JsonObject = Annotated[dict[str, Any], AfterValidator(check_json)]


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


def _next_url(request: Request, cursor: str) -> str:
    url = request.url.include_query_params(cursor=cursor)
    base: str | None = request.app.state.settings.public_base_url
    if base:
        return f"{base.rstrip('/')}{url.path}?{url.query}"
    return str(url)


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


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the problem+json errors a route documents."""
    descriptions = {
        400: "Bad request (e.g. `invalid_cursor`, `invalid_if_match`)",
        401: "Missing or invalid API key (`missing_api_key`, `invalid_api_key`)",
        403: "The API key may not write (`forbidden`)",
        404: "No such record (`not_found`)",
        409: "Conflicts with stored data (`duplicate`, `in_use`)",
        412: "If-Match names another version (`precondition_failed`; the body carries "
        "`current_version` and `current_etag`)",
        422: "Invalid input: `errors` lists each field and why (`validation_error`)",
        428: "This server requires If-Match on writes (`precondition_required`)",
    }
    return {s: {"model": Problem, "description": descriptions[s]} for s in statuses}


WRITE_ERRORS = (401, 403, 422)
