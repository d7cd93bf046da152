"""JSON responses serialized with orjson, for bodies built as plain dicts."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Response

from app.core.jsonrules import encodable


def dumps(body: Any) -> bytes:
    """orjson, falling back to `encodable` for values stored before the JSON rules (an integer
    beyond 64 bits in extras comes out as its decimal string) so that one row cannot break a
    page for everyone."""
    try:
        return orjson.dumps(body)
    except orjson.JSONEncodeError:
        return orjson.dumps(encodable(body))


def json_response(
    body: Any, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        content=dumps(body),
        status_code=status_code,
        media_type="application/json",
        headers=headers,
    )


def json_response_with_text(
    key: str,
    text: str | bytes,
    rest: dict[str, Any],
    headers: dict[str, str] | None = None,
    *,
    last: bool = False,
) -> Response:
    """A JSON object whose member `key` is JSON text written elsewhere (a page the database
    wrote), sent as it is, with the members of `rest`: first (or `last`) of them. No parse and
    no second write of the large part."""
    raw = text.encode() if isinstance(text, str) else text
    member = (orjson.dumps(key), b":", raw)
    if last:
        head = dumps(rest)[:-1] + b"," if rest else b"{"
        body = b"".join((head, *member, b"}"))  # one copy of the large part
    else:
        tail = b"," + dumps(rest)[1:] if rest else b"}"
        body = b"".join((b"{", *member, tail))
    return Response(content=body, media_type="application/json", headers=headers)


def json_array(elements: list[bytes]) -> bytes:
    """The JSON array of elements that are JSON texts each, in one copy: a page's ~190 KB
    went through three (a join, then `b"[" + .. + b"]"`)."""
    if not elements:
        return b"[]"
    parts = [b"["]
    for element in elements:
        parts.append(element)
        parts.append(b",")
    parts[-1] = b"]"
    return b"".join(parts)
