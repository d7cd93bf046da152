"""Rate limits per API key and per client address, answered 429 problem+json with `Retry-After`.

A pure ASGI middleware, outermost, so a refused request costs no body read and no database work.

- A request that presents a key (`Authorization: Bearer`, `X-API-Key`, ACLED's `?key=`, UCDP's
  `x-ucdp-access-token`, HAPI's `app_identifier` or its header) counts against that key's
  budget, `CONFLICTDB_RATE_LIMIT_PER_KEY`. The key is not verified here (that needs the
  database); the counter is named by a SHA-256 of the presented string, never the key.
- Any other request counts against its client address, `CONFLICTDB_RATE_LIMIT_ANONYMOUS`. The
  address is the ASGI client host: behind a reverse proxy that is the proxy, so run uvicorn with
  `--proxy-headers --forwarded-allow-ips=<the proxy>` to have the real client address here.
- `/healthz` is never limited.

Every limited response carries the IETF `RateLimit-Limit`, `RateLimit-Remaining` and
`RateLimit-Reset` (seconds) headers; a 429 adds `Retry-After`. Fixed windows from the `limits`
library: counters live in Redis when `CONFLICTDB_REDIS_URL` is set (shared by every worker and
replica), in process memory otherwise. If Redis is unreachable the request is let through and a
warning is logged (then Redis is retried after 5 s): an outage of the counter store must not become
an outage of the API.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from dataclasses import dataclass
from typing import Any

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import FixedWindowRateLimiter
from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import Problem, problem_response
from app.core.rest import problems

log = logging.getLogger("conflictdb.ratelimit")

UNLIMITED_PATHS = frozenset({"/healthz"})
STORE_RETRY_SECONDS = 5


class RateLimitSettings(BaseSettings):
    """Read from the environment like `Settings` (same `CONFLICTDB_` prefix and `.env`)."""

    model_config = SettingsConfigDict(env_prefix="CONFLICTDB_", env_file=".env", extra="ignore")

    # Off only on purpose: CONFLICTDB_RATE_LIMIT_ENABLED=false.
    rate_limit_enabled: bool = True
    # `limits` notation: "<count>/<second|minute|hour|day>", e.g. "600/minute".
    rate_limit_per_key: str = "6000/minute"
    rate_limit_anonymous: str = "1200/minute"
    # e.g. redis://127.0.0.1:6379/0; unset: counters in process memory (one per worker).
    redis_url: str | None = None
    # Prefix of the Redis keys, so that several deployments can share one Redis.
    rate_limit_prefix: str = "conflictdb:ratelimit"

    @field_validator("rate_limit_per_key", "rate_limit_anonymous")
    @classmethod
    def _parses(cls, value: str) -> str:
        parse(value)
        return value


def _storage(config: RateLimitSettings) -> Storage:
    if not config.redis_url:
        return MemoryStorage()
    url = config.redis_url
    if not url.startswith("async+"):
        url = "async+" + url
    return RedisStorage(
        url,
        wrap_exceptions=True,
        implementation="redispy",
        key_prefix=config.rate_limit_prefix,
        socket_connect_timeout=2,
        socket_timeout=2,
    )


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    reset: int  # seconds until the window resets

    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset),
        }


# The other services' credential headers (docs/compat.md): UCDP's token, HAPI's app identifier.
_SERVICE_KEY_HEADERS = ("x-ucdp-access-token", "x-hdx-hapi-app-identifier")


def presented_key(scope: Scope) -> str | None:
    """The credential a request presents, checked or not: X-API-Key, Bearer, UCDP's and HAPI's
    headers, then `?key=` (ACLED) or `?app_identifier=` (HAPI)."""
    headers = Headers(scope=scope)
    key = headers.get("x-api-key")
    if key:
        return key
    scheme, _, credentials = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    for name in _SERVICE_KEY_HEADERS:
        value = headers.get(name, "").strip()
        if value:
            return value
    query: bytes = scope.get("query_string", b"")
    if b"key=" not in query and b"app_identifier=" not in query and b"%" not in query:
        return None  # neither name is in it, nor could be once decoded: no parse (~10 us)
    params = Request(scope).query_params
    return params.get("key") or params.get("app_identifier") or None


def key_identity(key: str) -> str:
    return "key:" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def address_identity(scope: Scope) -> str:
    client = scope.get("client")
    return "addr:" + (str(client[0]) if client else "unknown")


class RateLimiter:
    """The configured limits and their counter store; `app.state.rate_limiter`."""

    def __init__(self, config: RateLimitSettings) -> None:
        self.config = config
        self.per_key: RateLimitItem = parse(config.rate_limit_per_key)
        self.anonymous: RateLimitItem = parse(config.rate_limit_anonymous)
        self.storage = _storage(config)
        self.strategy = FixedWindowRateLimiter(self.storage)
        # After a store failure, requests go unlimited for a while instead of each waiting for
        # a connect timeout.
        self._down_until = 0.0

    async def check(self, scope: Scope) -> Verdict | None:
        """Count this request; None when it is not limited (or the store failed)."""
        if not self.config.rate_limit_enabled or scope.get("path") in UNLIMITED_PATHS:
            return None
        if time.monotonic() < self._down_until:
            return None
        key = presented_key(scope)
        if key is not None:
            item, identity = self.per_key, key_identity(key)
        else:
            item, identity = self.anonymous, address_identity(scope)
        try:
            allowed = await self.strategy.hit(item, identity)
            stats = await self.strategy.get_window_stats(item, identity)
        except Exception:
            log.warning("rate-limit store unavailable; unlimited for %d s", STORE_RETRY_SECONDS)
            self._down_until = time.monotonic() + STORE_RETRY_SECONDS
            return None
        reset = max(1, math.ceil(stats.reset_time - time.time()))
        return Verdict(allowed, item.amount, max(0, stats.remaining), reset)

    async def aclose(self) -> None:
        """Close the Redis connections, or stop the memory store's expiry task."""
        if isinstance(self.storage, RedisStorage):
            client: Any = getattr(self.storage.bridge, "storage", None)
            if client is not None:
                await client.aclose()
        timer: Any = getattr(self.storage, "timer", None)
        if timer is not None:
            timer.cancel()


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, state: Any) -> None:
        self.app = app
        # The limiter is looked up per request, so a later `install_rate_limits` replaces it.
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limiter: RateLimiter | None = getattr(self.state, "rate_limiter", None)
        if scope["type"] == "lifespan" and limiter is not None:
            await self.app(scope, self._closing(receive, limiter), send)
            return
        if scope["type"] != "http" or limiter is None:
            await self.app(scope, receive, send)
            return
        verdict = await limiter.check(scope)
        if verdict is None:
            await self.app(scope, receive, send)
            return
        headers = verdict.headers()
        if not verdict.allowed:
            headers["Retry-After"] = str(verdict.reset)
            response = problem_response(
                Request(scope),
                429,
                "rate_limited",
                f"more than {verdict.limit} requests in the current window; "
                f"retry after {verdict.reset} s",
                headers=headers,
            )
            await response(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                mutable = MutableHeaders(scope=message)
                for name, value in headers.items():
                    mutable[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)

    @staticmethod
    def _closing(receive: Receive, limiter: RateLimiter) -> Receive:
        async def wrapped() -> Message:
            message = await receive()
            if message["type"] == "lifespan.shutdown":
                try:
                    await limiter.aclose()
                except Exception:
                    log.warning("could not close the rate-limit store", exc_info=True)
            return message

        return wrapped


_HEADER_DOCS = {
    "Retry-After": "Seconds to wait before retrying",
    "RateLimit-Limit": "Requests allowed in the current window",
    "RateLimit-Remaining": "Requests left in the current window",
    "RateLimit-Reset": "Seconds until the window resets",
}
_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})


def document_429(schema: dict[str, Any]) -> None:
    """Add the 429 to every limited operation, and `Problem` to components (what `problems()`
    responses refer to, whether or not a route still names it as a `model`)."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    problem = Problem.model_json_schema(
        ref_template="#/components/schemas/{model}", mode="serialization"
    )
    for name, definition in problem.pop("$defs", {}).items():
        components.setdefault(name, definition)
    components.setdefault(Problem.__name__, problem)
    response = problems(429)[429]
    response["headers"] = {
        name: {"description": text, "schema": {"type": "integer"}}
        for name, text in _HEADER_DOCS.items()
    }
    for path, item in schema.get("paths", {}).items():
        if path in UNLIMITED_PATHS:
            continue
        for method, operation in item.items():
            if method in _METHODS:
                operation.setdefault("responses", {}).setdefault("429", response)


def _document(app: Any) -> None:
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            cached: dict[str, Any] = app.openapi_schema
            return cached
        schema: dict[str, Any] = build()
        document_429(schema)
        return schema

    app.openapi = openapi


_FIELDS = tuple(RateLimitSettings.model_fields)


def install_rate_limits(
    app: Any, settings: object | None = None, config: RateLimitSettings | None = None
) -> RateLimiter:
    """Limit every request of `app` but `/healthz`.

    `config` defaults to `RateLimitSettings()` (the environment); a field of the same name on
    `settings` (the app's `Settings`, once it carries them) takes precedence. Calling this again
    replaces the limiter, it never stacks a second middleware.
    """
    if config is None:
        overrides = {name: getattr(settings, name) for name in _FIELDS if hasattr(settings, name)}
        config = RateLimitSettings(**overrides)
    limiter = RateLimiter(config)
    installed = getattr(app.state, "rate_limiter", None) is not None
    app.state.rate_limiter = limiter
    if not installed:
        app.add_middleware(RateLimitMiddleware, state=app.state)
        _document(app)
    return limiter
