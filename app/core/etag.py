"""Weak ETags on GET JSON responses under /v1, and 304 Not Modified on If-None-Match.

A pure ASGI middleware: it buffers only complete JSON bodies (a response with a Content-Length),
hashes them, and answers 304 when the client already holds that version. Streamed exports pass
through untouched, so their memory stays flat.
"""

from __future__ import annotations

import hashlib
from typing import Any

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_JSON_TYPES = (b"application/json", b"application/geo+json")


def _matches(if_none_match: str, etag: str) -> bool:
    if if_none_match.strip() == "*":
        return True
    tags = [t.strip() for t in if_none_match.split(",")]
    opaque = etag.removeprefix("W/")
    return any(t.removeprefix("W/") == opaque for t in tags)


class ETagMiddleware:
    def __init__(self, app: ASGIApp, prefix: str = "/v1") -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in ("GET", "HEAD")
            or not scope["path"].startswith(self.prefix)
        ):
            await self.app(scope, receive, send)
            return
        if_none_match = Headers(scope=scope).get("if-none-match")
        start: dict[str, Any] | None = None
        chunks: list[bytes] = []
        buffering = False

        async def wrapped(message: Message) -> None:
            nonlocal start, buffering
            if message["type"] == "http.response.start":
                headers = Headers(raw=message["headers"])
                content_type = headers.get("content-type", "").encode()
                buffering = (
                    message["status"] == 200
                    and "content-length" in headers
                    and "etag" not in headers
                    and content_type.startswith(_JSON_TYPES)
                )
                if not buffering:
                    await send(message)
                    return
                start = dict(message)
                return
            if not buffering or message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = b"".join(chunks)
            assert start is not None
            etag = 'W/"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'
            headers = MutableHeaders(raw=list(start["headers"]))
            headers["ETag"] = etag
            if if_none_match and _matches(if_none_match, etag):
                for name in ("content-length", "content-type"):
                    del headers[name]
                start["status"] = 304
                start["headers"] = headers.raw
                await send(start)
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                return
            start["headers"] = headers.raw
            await send(start)
            await send({"type": "http.response.body", "body": body, "more_body": False})

        await self.app(scope, receive, wrapped)
