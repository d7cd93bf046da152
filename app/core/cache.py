"""An exact response cache for repeated reads: dashboards polling the same URLs.

A GET under `/v1`, `/acled` or `/api` is answered from the cache when the same request was
answered before and **the data has not changed since**. Nothing expires by time to be correct:
every entry is stored with the data version it was computed under, and a lookup is a hit only
when the version is still current.

The data version:
- PostgreSQL: `pg_current_snapshot()`. Two equal snapshots see exactly the same committed
  transactions, so the same data; any commit anywhere changes it (the API's writes, an import,
  the CLI, a user's own SQL). Writes to other databases of the same server change it too: a
  miss, never a wrong answer.
- SQLite: `PRAGMA data_version` on a connection of the probe's own, which changes whenever any
  other connection (this process's writer, an import, another process) commits. Its values mean
  nothing across connections, so a process counts the changes it sees: the version is
  (this process, that count), and SQLite's entries are this process's own, Redis or not.

The version is read before the route runs, so an entry holds data at least as new as its
version: a request that arrives after a write's 2xx reads a newer version and misses.
Concurrent lookups share one probe query, but only one sent after they arrived.

The store: a per-process LRU bounded in bytes and, when `CONFLICTDB_REDIS_URL` is set, Redis
behind it (shared by every worker and replica of a PostgreSQL deployment; `TieredStore`). One
entry per request key (the newest version wins). An entry keeps the response as the inner
layers sent it (status, headers, body with its ETag); the outer middleware (CORS, security
headers, rate limits) still runs on a hit. Only complete 200 answers up to
`cache_entry_max_bytes` are kept: streamed exports, errors and time-dependent routes
(`/v1/changes`, `/v1/imports`) are not.

The key: method, path, query string, and the request headers that can change an answer
(`Accept`, `Host`, credentials: `Authorization`, `X-API-Key` and the other services' token
headers), hashed. Credentials are part of the key, so an answer is only ever served to a request
presenting the same credentials; a revoked key is a committed write, so a new version.

Credentials that expire with time (OAuth access tokens) would make an answer depend on the
clock: such requests bypass the cache (`bypass`, given by the app).

`If-None-Match` on a hit is answered 304 without running anything. `Cache-Control: no-cache`
from the client skips the lookup (the answer is still stored). `X-Cache: hit|miss` says which.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.db import driver_rows
from app.core.etag import etag_matches

log = logging.getLogger("conflictdb.cache")

CACHED_PREFIXES = ("/v1/", "/acled/", "/api/")
UNCACHED_PREFIXES = ("/v1/changes", "/v1/imports")
# Request headers that can change an answer; every other header is ignored by the routes.
KEY_HEADERS = frozenset(
    {
        b"accept",
        b"host",
        b"authorization",
        b"x-api-key",
        b"x-ucdp-access-token",
        b"x-hdx-hapi-app-identifier",
    }
)
# Response headers a stored entry does not keep (per request, or set by outer layers).
_DROPPED = frozenset({b"date", b"server", b"x-cache", b"set-cookie"})
PROBE_RETRY_SECONDS = 5


class VersionProbe:
    """The current data version, one probe query at a time, shared by concurrent lookups."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self._conn: AsyncConnection | None = None
        self._started = 0  # probes started
        self._inflight: asyncio.Future[str] | None = None
        self._inflight_number = 0
        # SQLite: the last PRAGMA data_version seen and how many changes were seen.
        self._last: Any = None
        self._changes = 0
        self._process = uuid.uuid4().hex[:12]
        # SQLite's versions are this process's own: so are its entries, even in a shared Redis.
        self.key_suffix = b"" if self.dialect == "postgresql" else self._process.encode()

    async def current(self) -> str:
        """A version read by a probe that started after this call began."""
        arrived = self._started
        while True:
            inflight = self._inflight
            if inflight is None:
                return await self._probe()
            if self._inflight_number > arrived:
                return await asyncio.shield(inflight)
            # The probe in flight may have been sent before we arrived: wait, then probe anew.
            with contextlib.suppress(Exception):  # its failure is the next probe's to report
                await asyncio.shield(inflight)

    async def _probe(self) -> str:
        self._started += 1
        number = self._started
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._inflight, self._inflight_number = future, number
        try:
            version = await self._read()
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: no "never retrieved" warning when nobody waits
            raise
        else:
            future.set_result(version)
            return version
        finally:
            if self._inflight is future:
                self._inflight = None

    async def _read(self) -> str:
        try:
            if self._conn is None:
                conn = await self.engine.connect()
                self._conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            if self.dialect == "postgresql":
                # On psycopg's connection itself: through SQLAlchemy the probe cost ~0.2 ms
                # more of the ~1 ms a hit takes.
                [(snapshot,)] = await driver_rows(
                    self._conn, "SELECT pg_current_snapshot()::text", {}
                )
                return "pg:" + str(snapshot)
            result = await self._conn.exec_driver_sql("PRAGMA data_version")
            value = result.scalar_one()
            if value != self._last:
                self._last = value
                self._changes += 1
            return f"sqlite:{self._process}:{self._changes}"
        except BaseException:
            await self.aclose()
            raise

    async def aclose(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                await conn.close()
            except Exception:
                log.debug("could not close the cache's probe connection", exc_info=True)


@dataclass(frozen=True)
class Entry:
    version: str
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes

    def etag(self) -> bytes | None:
        for name, value in self.headers:
            if name == b"etag":
                return value
        return None

    def dumps(self) -> bytes:
        head = orjson.dumps(
            [
                self.version,
                self.status,
                [[n.decode("latin-1"), v.decode("latin-1")] for n, v in self.headers],
            ]
        )
        return len(head).to_bytes(4, "big") + head + self.body

    @classmethod
    def loads(cls, blob: bytes) -> Entry:
        size = int.from_bytes(blob[:4], "big")
        version, status, headers = orjson.loads(blob[4 : 4 + size])
        return cls(
            version=version,
            status=status,
            headers=[(n.encode("latin-1"), v.encode("latin-1")) for n, v in headers],
            body=blob[4 + size :],
        )


class MemoryStore:
    """Entries of this process, least recently used first out, at most `max_bytes` in all."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self._entries: OrderedDict[bytes, Entry] = OrderedDict()

    async def get(self, key: bytes, version: str) -> Entry | None:
        entry = self._entries.get(key)
        if entry is None or entry.version != version:
            return None
        self._entries.move_to_end(key)
        return entry

    async def put(self, key: bytes, entry: Entry) -> None:
        old = self._entries.pop(key, None)
        if old is not None:
            self.size -= len(old.body)
        self._entries[key] = entry
        self.size += len(entry.body)
        while self.size > self.max_bytes and self._entries:
            _, evicted = self._entries.popitem(last=False)
            self.size -= len(evicted.body)

    async def aclose(self) -> None:
        self._entries.clear()
        self.size = 0


class RedisStore:
    """Entries in Redis, shared by workers and replicas; each expires after `ttl` unread."""

    def __init__(self, url: str, prefix: str, ttl: int) -> None:
        from redis.asyncio import Redis

        self.client: Any = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        self.prefix = prefix.encode()
        self.ttl = ttl

    async def get(self, key: bytes, version: str) -> Entry | None:
        blob = await self.client.get(self.prefix + key)
        entry = Entry.loads(blob) if blob else None
        return entry if entry is not None and entry.version == version else None

    async def put(self, key: bytes, entry: Entry) -> None:
        await self.client.set(self.prefix + key, entry.dumps(), ex=self.ttl)

    async def aclose(self) -> None:
        await self.client.aclose()


class TieredStore:
    """Redis behind this process's own memory. An entry found in memory at the current version
    is answered without Redis's round trip and without decoding the entry again (one worker
    repeating a list URL: the hits' share of Redis was 18% of its time); an entry found only
    in Redis is kept in memory too. Exact as each tier is: an entry is used only at the version
    it was computed under, so a stale one in memory sends the lookup on to Redis, where
    another worker may have stored the current one."""

    def __init__(self, memory: MemoryStore, shared: RedisStore) -> None:
        self.memory = memory
        self.shared = shared

    async def get(self, key: bytes, version: str) -> Entry | None:
        entry = await self.memory.get(key, version)
        if entry is None:
            entry = await self.shared.get(key, version)
            if entry is not None:
                await self.memory.put(key, entry)
        return entry

    async def put(self, key: bytes, entry: Entry) -> None:
        await self.memory.put(key, entry)
        await self.shared.put(key, entry)

    async def aclose(self) -> None:
        await self.memory.aclose()
        await self.shared.aclose()


Store = MemoryStore | TieredStore


class ResponseCache:
    """The probe and the store of one process: `app.state.response_cache`."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        redis_url: str | None,
        namespace: str,
        max_bytes: int,
        entry_max_bytes: int,
        ttl_seconds: int,
        bypass: Callable[[Scope], bool] | None = None,
    ) -> None:
        self.probe = VersionProbe(engine)
        # Requests whose answer depends on more than the request and the data (e.g. credentials
        # that expire with time): never looked up, never stored.
        self.bypass = bypass or (lambda _scope: False)
        self.entry_max_bytes = entry_max_bytes
        self.namespace = namespace.encode()
        self.store: Store = (
            TieredStore(
                MemoryStore(max_bytes),
                RedisStore(redis_url, f"conflictdb:cache:{namespace}:", ttl_seconds),
            )
            if redis_url
            else MemoryStore(max_bytes)
        )
        self._down_until = 0.0

    def usable(self) -> bool:
        return time.monotonic() >= self._down_until

    def failed(self, what: str) -> None:
        log.warning("response cache: %s failed; bypassed for %d s", what, PROBE_RETRY_SECONDS)
        self._down_until = time.monotonic() + PROBE_RETRY_SECONDS

    async def aclose(self) -> None:
        await self.probe.aclose()
        await self.store.aclose()


def cache_namespace(database_url: str) -> str:
    """Which database a Redis entry belongs to: deployments sharing one Redis never mix."""
    from sqlalchemy.engine import make_url

    url = make_url(database_url).set(password=None).render_as_string(hide_password=True)
    return hashlib.blake2b(url.encode(), digest_size=8).hexdigest()


def request_key(scope: Scope) -> bytes:
    parts = [
        scope["method"].encode(),
        scope.get("raw_path") or scope["path"].encode(),
        scope.get("query_string", b""),
        scope.get("scheme", "http").encode(),
    ]
    headers = sorted((n, v) for n, v in scope["headers"] if n in KEY_HEADERS)
    for name, value in headers:
        parts.append(name + b":" + value)
    return hashlib.blake2b(b"\x00".join(parts), digest_size=20).digest()


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None


def _cacheable(scope: Scope) -> bool:
    if scope["type"] != "http" or scope["method"] != "GET":
        return False
    path: str = scope["path"]
    return path.startswith(CACHED_PREFIXES) and not path.startswith(UNCACHED_PREFIXES)


def _not_modified(entry_headers: list[tuple[bytes, bytes]], extra: bytes) -> Message:
    kept = [(n, v) for n, v in entry_headers if n not in (b"content-length", b"content-type")]
    kept.append((b"x-cache", extra))
    return {"type": "http.response.start", "status": 304, "headers": kept}


class ResponseCacheMiddleware:
    def __init__(self, app: ASGIApp, state: Any) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        cache: ResponseCache | None = getattr(self.state, "response_cache", None)
        if cache is None or not _cacheable(scope) or not cache.usable() or cache.bypass(scope):
            await self.app(scope, receive, send)
            return
        try:
            version = await cache.probe.current()
        except Exception:
            cache.failed("the data-version probe")
            await self.app(scope, receive, send)
            return
        key = request_key(scope) + cache.probe.key_suffix
        if_none_match = _header(scope, b"if-none-match")
        no_cache = b"no-cache" in (_header(scope, b"cache-control") or b"")
        if not no_cache:
            try:
                entry = await cache.store.get(key, version)
            except Exception:
                cache.failed("the store")
                entry = None
            if entry is not None:
                etag = entry.etag()
                if (
                    if_none_match
                    and etag
                    and etag_matches(if_none_match.decode("latin-1"), etag.decode("latin-1"))
                ):
                    await send(_not_modified(entry.headers, b"hit"))
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
                    return
                await send(
                    {
                        "type": "http.response.start",
                        "status": entry.status,
                        "headers": [*entry.headers, (b"x-cache", b"hit")],
                    }
                )
                await send({"type": "http.response.body", "body": entry.body, "more_body": False})
                return
        await self._miss(cache, scope, receive, send, key, version, if_none_match)

    async def _miss(
        self,
        cache: ResponseCache,
        scope: Scope,
        receive: Receive,
        send: Send,
        key: bytes,
        version: str,
        if_none_match: bytes | None,
    ) -> None:
        # The inner layers answer in full (no 304), so that the answer can be stored; the 304 is
        # decided here from the ETag they send.
        inner_scope = scope
        if if_none_match is not None:
            inner_scope = {
                **scope,
                "headers": [(n, v) for n, v in scope["headers"] if n != b"if-none-match"],
            }
        status = 0
        headers: list[tuple[bytes, bytes]] = []
        chunks: list[bytes] = []
        size = 0
        keep = False
        not_modified = False

        async def capture(message: Message) -> None:
            nonlocal status, headers, size, keep, not_modified
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(bytes(n).lower(), bytes(v)) for n, v in message.get("headers", [])]
                keep = status == 200 and not any(n == b"set-cookie" for n, _ in headers)
                etag = next((v for n, v in headers if n == b"etag"), None)
                if (
                    status == 200
                    and if_none_match
                    and etag
                    and etag_matches(if_none_match.decode("latin-1"), etag.decode("latin-1"))
                ):
                    not_modified = True
                    await send(_not_modified(headers, b"miss"))
                    return
                await send(
                    {**message, "headers": [*message.get("headers", []), (b"x-cache", b"miss")]}
                )
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            body = message.get("body", b"")
            more = message.get("more_body", False)
            if keep:
                size += len(body)
                if size > cache.entry_max_bytes:
                    keep = False
                    chunks.clear()
                else:
                    chunks.append(body)
            if not_modified:
                if not more:
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
            else:
                await send(message)
            if keep and not more:
                entry = Entry(
                    version=version,
                    status=status,
                    headers=[(n, v) for n, v in headers if n not in _DROPPED],
                    body=b"".join(chunks),
                )
                try:
                    await cache.store.put(key, entry)
                except Exception:
                    cache.failed("the store")

        await self.app(inner_scope, receive, capture)
