"""HTTP hardening, as pure ASGI middlewares: limits, early authentication, hosts, CORS, headers.

`GuardMiddleware` refuses what must not reach the app, before any body byte is read:
a URL longer than `max_url_bytes` (414), headers larger than `max_header_bytes` (431), a write
(POST/PUT/PATCH/DELETE under /v1) without any API key (401: its validity is checked by the route),
a Content-Length above the limit (413). /acled has no writes: its router answers any other method
405 in ACLED's shape without reading the body, so it is not guarded for a key here. A body
without Content-Length (chunked) is counted while the app reads it: past the limit the client
gets 413 and the app a disconnect. The limit is `max_upload_bytes` for multipart bodies (imports)
and `max_json_body_bytes` otherwise.
It also drops a Host header that is not trusted (`trusted_hosts`, the public base URL's host and
the server's own address), so that no URL the app builds can carry an arbitrary host.

`HeadersMiddleware` adds the security headers to every response and a Cache-Control:

- writes (any method but GET/HEAD/OPTIONS) and everything under /v1/imports: `no-store`
  (import reports show private file names and rejected values);
- /static-docs/ (the documentation's packaged assets): `public, max-age=86400`;
- every other GET: `private, max-age=0, must-revalidate`: a client may keep it but revalidates
  each time (with the ETag the response carries), and no shared cache serves it to another client
  (reads may require a key);
- any error (status >= 400): `no-store`.

A route that sets Cache-Control itself keeps it. HTML responses (/docs, /redoc) also get a
Content-Security-Policy allowing only this origin's scripts, styles, fonts and images.

`cors(app, settings)`: any origin may read (GET/HEAD/OPTIONS); writes are allowed from the
origins of `cors_write_origins` only. Starlette's CORSMiddleware does the work, one per policy.

`RedactSecrets` is a logging filter: `key=`, `email=`, `access_token=`, `token=` and `password=`
query values and `cdb_` keys are replaced by `REDACTED` in every record it sees.
"""

from __future__ import annotations

import logging
import re
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson
import uvicorn
from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from app.core.config import Settings

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_GUARDED_PREFIXES = ("/v1/",)
_KEY_HEADERS = (b"authorization", b"x-api-key")
_CHALLENGE = 'Bearer realm="conflictdb"'
STATIC_DOCS = "/static-docs"


def _problem(
    status: int, title: str, code: str, detail: str, path: str, headers: dict[str, str] | None
) -> tuple[dict[str, Any], bytes]:
    body = orjson.dumps(
        {
            "type": "about:blank",
            "title": title,
            "status": status,
            "code": code,
            "detail": detail,
            "instance": path[:200],
        }
    )
    return {"status": status, "headers": headers or {}}, body


async def send_problem(
    send: Send,
    status: int,
    title: str,
    code: str,
    detail: str,
    path: str,
    headers: dict[str, str] | None = None,
) -> None:
    """A problem+json response; the connection is closed after it (the body was not read)."""
    start, body = _problem(status, title, code, detail, path, headers)
    raw = [
        (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
        *((k.lower().encode(), v.encode()) for k, v in start["headers"].items()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def _host_name(host: str) -> str:
    """`example.org:8000` -> `example.org`; `[::1]:8000` -> `::1`."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class OverloadMiddleware:
    """At most `max_concurrent_requests` requests in flight per process; the next one is a 503
    with Retry-After at once (a client backs off) instead of waiting in an unbounded queue."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.limit = settings.max_concurrent_requests
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] == "/healthz":
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.limit:
            await send_problem(
                send,
                503,
                "Service Unavailable",
                "overloaded",
                f"the server is working on {self.limit} requests; retry shortly",
                scope["path"],
                headers={"Retry-After": "1"},
            )
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1


class BodyTooLarge(Exception):
    pass


class GuardMiddleware:
    """Limits, early authentication of writes and the trusted Host (see the module)."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.trusted = {h.lower() for h in settings.trusted_hosts}
        if settings.public_base_url:
            from urllib.parse import urlsplit

            public = urlsplit(settings.public_base_url).hostname
            if public:
                self.trusted.add(public.lower())

    def host_trusted(self, scope: Scope, host: str) -> bool:
        name = _host_name(host)
        if "*" in self.trusted or name in self.trusted:
            return True
        server: tuple[str, int | None] | None = scope.get("server")
        return server is not None and name == str(server[0]).lower()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        settings = self.settings
        path: str = scope["path"]
        raw_path: bytes = scope.get("raw_path") or path.encode()
        query: bytes = scope.get("query_string", b"")
        if len(raw_path) + len(query) + 1 > settings.max_url_bytes:
            await send_problem(
                send,
                414,
                "URI Too Long",
                "uri_too_long",
                f"the URL is limited to {settings.max_url_bytes:,} bytes",
                path,
            )
            return
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        if sum(len(k) + len(v) + 4 for k, v in headers) > settings.max_header_bytes:
            await send_problem(
                send,
                431,
                "Request Header Fields Too Large",
                "headers_too_large",
                f"the request's headers are limited to {settings.max_header_bytes:,} bytes",
                path,
            )
            return
        host = next((v for k, v in headers if k == b"host"), None)
        if host is not None and not self.host_trusted(scope, host.decode("latin-1")):
            # An untrusted Host is dropped: URLs the app builds use the server's own address.
            scope = dict(scope)
            scope["headers"] = [(k, v) for k, v in headers if k != b"host"]
            scope["state"] = {**scope.get("state", {}), "untrusted_host": True}
            headers = scope["headers"]
        method: str = scope["method"]
        if method not in WRITE_METHODS:
            await self.app(scope, receive, send)
            return
        if path.startswith(_GUARDED_PREFIXES) and not self._has_key(headers):
            await send_problem(
                send,
                401,
                "Unauthorized",
                "missing_api_key",
                "this request needs an API key",
                path,
                {"WWW-Authenticate": _CHALLENGE},
            )
            return
        hdrs = Headers(raw=headers)
        multipart = hdrs.get("content-type", "").lower().startswith("multipart/")
        limit = settings.max_upload_bytes if multipart else settings.max_json_body_bytes
        length = hdrs.get("content-length")
        if length is not None:
            try:
                declared = int(length)
            except ValueError:
                declared = -1
            if declared > limit:
                await self._too_large(send, limit, path)
                return
        await self._counted(scope, receive, send, limit)

    @staticmethod
    def _has_key(headers: list[tuple[bytes, bytes]]) -> bool:
        return any(k in _KEY_HEADERS and v.strip() for k, v in headers)

    @staticmethod
    async def _too_large(send: Send, limit: int, path: str) -> None:
        await send_problem(
            send,
            413,
            "Content Too Large",
            "payload_too_large",
            f"this request's body is limited to {limit:,} bytes",
            path,
        )

    async def _counted(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        """Count the body as the app reads it; past the limit answer 413 (if nothing was sent
        yet) and tell the app the client left, so it stops and its response is dropped."""
        received = 0
        refused = False
        started = False

        async def counting_receive() -> Message:
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    refused = True
                    if not started:
                        await self._too_large(send, limit, scope["path"])
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, counting_receive, guarded_send)


def _cache_control(method: str, path: str) -> str:
    if method not in SAFE_METHODS or path.startswith("/v1/imports"):
        return "no-store"
    if path.startswith(STATIC_DOCS + "/"):
        return "public, max-age=86400"
    return "private, max-age=0, must-revalidate"


DOCS_CSP = (
    "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; "
    "worker-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)


class HeadersMiddleware:
    """Security headers on every response, Cache-Control per route (see the module)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cache = _cache_control(scope["method"], scope["path"])

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("Referrer-Policy", "no-referrer")
                status = message["status"]
                headers.setdefault("Cache-Control", "no-store" if status >= 400 else cache)
                if headers.get("content-type", "").startswith("text/html"):
                    headers.setdefault("Content-Security-Policy", DOCS_CSP)
            await send(message)

        await self.app(scope, receive, with_headers)


_CORS_HEADERS = ["Authorization", "X-API-Key", "Content-Type", "If-Match", "If-None-Match"]
_CORS_EXPOSED = ["ETag", "Link", "Location", "Retry-After", "WWW-Authenticate"]


class CorsMiddleware:
    """Two CORS policies over the same app: the write origins' (every method), everyone
    else's (reads only). Preflights and headers are Starlette's CORSMiddleware."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.write_origins = set(settings.cors_write_origins)
        self.writers = CORSMiddleware(
            app,
            allow_origins=list(settings.cors_write_origins),
            allow_methods=["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=_CORS_HEADERS,
            expose_headers=_CORS_EXPOSED,
            max_age=600,
        )
        self.readers = CORSMiddleware(
            app,
            allow_origins=list(settings.cors_read_origins),
            allow_methods=["GET", "HEAD", "OPTIONS"],
            allow_headers=_CORS_HEADERS,
            expose_headers=_CORS_EXPOSED,
            max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        origin = None
        if scope["type"] == "http":
            origin = Headers(scope=scope).get("origin")
        if origin is not None and origin in self.write_origins:
            await self.writers(scope, receive, send)
        else:
            await self.readers(scope, receive, send)


_SECRET_PARAMS = re.compile(
    r"(?i)((?:^|[?&;\s])(?:key|email|access_token|token|password|api_key)=)[^&;\s\"']*"
)
_SECRET_KEYS = re.compile(r"cdb_[A-Za-z0-9_\-]+")
REDACTED = "REDACTED"


def redact(text: str) -> str:
    """The text with secret query values and conflictdb keys replaced by REDACTED."""
    text = _SECRET_PARAMS.sub(lambda m: m.group(1) + REDACTED, text)
    return _SECRET_KEYS.sub(REDACTED, text)


_MAX_LOGGED = 2048


def _redact_value(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if len(value) > _MAX_LOGGED:
        # A 300 KB URL is refused (414) but must not flood the log either.
        value = f"{value[:_MAX_LOGGED]}...[{len(value) - _MAX_LOGGED:,} more characters]"
    return redact(value)


class RedactSecrets(logging.Filter):
    """Redacts keys and e-mail addresses from a record's message and arguments (uvicorn's
    access log passes the path with its query string as an argument)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_redact_value(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: _redact_value(v) for k, v in record.args.items()}
        return True


def log_config(base: dict[str, Any]) -> dict[str, Any]:
    """uvicorn's logging config with `RedactSecrets` on each of its handlers."""
    import copy

    config = copy.deepcopy(base)
    config.setdefault("filters", {})["redact_secrets"] = {"()": RedactSecrets}
    for handler in config.get("handlers", {}).values():
        filters: Iterable[str] = handler.get("filters", [])
        handler["filters"] = [*filters, "redact_secrets"]
    return config


class NoDelayConfig(uvicorn.Config):
    """uvicorn's Config, binding a TCP socket that says it is TCP.

    asyncio sets TCP_NODELAY on an accepted connection only when the listening socket's `proto`
    is IPPROTO_TCP. uvicorn creates the socket it shares between workers with proto 0, so with
    `--workers` above 1 Nagle's algorithm holds each response's body behind its headers until the
    client's delayed ACK, ~40 ms: 144 req/s on /healthz with two workers against 640 with one
    (measured 2026-12-02, wrk -c8). The same descriptor, relabelled, fixes it.
    """

    def bind_socket(self) -> socket.socket:
        sock = super().bind_socket()
        if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.proto != socket.IPPROTO_TCP:
            sock = socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())
        return sock


# httptools.parse_url keeps offsets in 16 bits: a longer URL could not be parsed at all.
PARSED_URL_LIMIT = 65_535
# How long a refused head's connection may stay open while the rest of the head is dropped.
REFUSED_LINGER_SECONDS = 10.0
# The head's bound when the config sets none (h11's own default).
DEFAULT_HEAD_LIMIT = 16 * 1024


@dataclass(frozen=True)
class _Refusal:
    status: int
    title: str
    code: str
    detail: str


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol (its C parser: ~9% more requests/s than h11 on a small
    read), with the bound h11 had on a request head.

    httptools keeps a head whole however large it grows, and cannot parse a URL over 64 KiB
    (uvicorn answers a bare 400). Here a head past `h11_max_incomplete_event_size` (our
    `max_request_head_bytes`) is refused with 431 as soon as it is, and a URL past what httptools
    parses with 414, both problem+json, before the app: below those sizes the app's own limits
    (`max_url_bytes`, `max_header_bytes`, GuardMiddleware) answer as they always did.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_bytes = 0  # bytes received since the current head began
        self._in_head = True
        # Once refused: the rest of the head is read and dropped (closing with unread bytes
        # would reset the connection, and the client could lose the answer), then closed.
        self._refused = False
        self._refusal: _Refusal | None = None  # what the parser's callbacks found
        self._tail = b""

    def data_received(self, data: bytes) -> None:
        if self._refused:
            self._drain(data)
            return
        if self._in_head:
            self._head_bytes += len(data)
            limit = self._limit()
            if self._head_bytes > limit:
                detail = f"the request head is limited to {limit:,} bytes"
                title = "Request Header Fields Too Large"
                self._refuse(_Refusal(431, title, "headers_too_large", detail), data)
                return
        super().data_received(data)
        if self._refusal is not None:
            self._refuse(self._refusal, data)

    # The parser's callbacks; an exception raised in one would reach uvicorn as a bare 400.

    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        if len(self.url) > PARSED_URL_LIMIT and self._refusal is None:
            detail = f"the URL is limited to {PARSED_URL_LIMIT:,} bytes"
            self._refusal = _Refusal(414, "URI Too Long", "uri_too_long", detail)

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._head_bytes = 0
        if self._refusal is None:
            super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if self._refusal is None:
            super().on_body(body)

    def on_message_complete(self) -> None:
        self._in_head = True
        if self._refusal is None:
            super().on_message_complete()

    def _limit(self) -> int:
        return self.config.h11_max_incomplete_event_size or DEFAULT_HEAD_LIMIT

    def _refuse(self, refused: _Refusal, data: bytes) -> None:
        self._refused = True
        path = self.url.split(b"?", 1)[0].decode("latin-1", "replace")
        _, body = _problem(refused.status, refused.title, refused.code, refused.detail, path, None)
        head = (
            f"HTTP/1.1 {refused.status} {refused.title}\r\n"
            "content-type: application/problem+json\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
        )
        self.transport.write(head.encode("latin-1") + body)
        # Whatever happens, the connection goes within seconds.
        self.loop.call_later(REFUSED_LINGER_SECONDS, self.transport.close)
        self._head_bytes = 0
        self._drain(data)

    def _drain(self, data: bytes) -> None:
        """Drop the refused head's bytes; close at its end, or past the bound once more."""
        self._head_bytes += len(data)
        seen = self._tail + data
        self._tail = seen[-3:]
        if b"\r\n\r\n" in seen or self._head_bytes > self._limit():
            self.transport.close()
