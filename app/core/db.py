"""Engines and sessions. Reads and writes take different paths (see ARCHITECTURE.md).

- A read session (`SessionDep`) lives for the request (until the response is sent); it never
  writes. A service whose reads are Core statements alone may take a connection of the read
  engine for them instead (the list of events). On PostgreSQL reads take their connections
  from a pool of their own whose connections stay in autocommit (`make_read_engine`): each
  statement is its own transaction, which under READ COMMITTED is what a read transaction
  gave anyway (every statement its own snapshot), without the BEGIN and COMMIT round trips.
  Statements that need a transaction (`SET LOCAL`) open one in their own round trip
  (`driver_result`'s `settings`). Streamed exports read through sessions of their own, in
  transactions.
- A write session (`WriteSessionDep`) is a unit of work around the route function: it begins
  before the route runs and commits after the route returns but before the response is sent,
  so a 2xx means committed. Any exception rolls it back.
- SQLite has one writer at a time: writes take an in-process lock, then `BEGIN IMMEDIATE` on a
  dedicated connection (so a second process waits on the busy timeout instead of failing to
  upgrade a read lock), with `synchronous=FULL`. A writer that cannot get in within the
  timeout is a 503 with Retry-After, never a 500.
"""

from __future__ import annotations

import asyncio
import select
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager, nullcontext
from typing import Any

from fastapi import Request
from psycopg import sql as psql
from psycopg.adapt import Loader
from sqlalchemy import Executable, event, exc
from sqlalchemy.engine import Engine, create_engine
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from app.core.config import sync_database_url
from app.core.errors import ServiceBusy
from app.core.geo import register_sqlite_functions

# How long a SQLite writer waits for the write lock (in process, then across processes).
WRITE_WAIT_SECONDS = 30.0


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={int(WRITE_WAIT_SECONDS * 1000)}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_writer_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # A committed write survives a power cut, not only a killed process.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()
    # The driver must not open transactions itself: the "begin" hook below does.
    dbapi_connection.isolation_level = None


def _begin_immediate(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(
    url: str,
    *,
    echo: bool = False,
    autocommit: bool = False,
    pool_size: int = 10,
    max_overflow: int = 10,
) -> AsyncEngine:
    """An async engine; SQLite connections get foreign keys, WAL and a busy timeout.
    `autocommit` (PostgreSQL): every connection of its pool in autocommit (`make_read_engine`).
    `pool_size`, `max_overflow`: PostgreSQL's pool (settings `pool_size`, `pool_max_overflow`)."""
    kwargs: dict[str, Any] = {"echo": echo}
    if autocommit and not url.startswith("sqlite"):
        kwargs["isolation_level"] = "AUTOCOMMIT"
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"timeout": WRITE_WAIT_SECONDS}
        kwargs.update(pool_size=20, max_overflow=20, pool_timeout=WRITE_WAIT_SECONDS)
    else:
        # No pre-ping (a round trip per checkout): `_replace_if_dropped` looks at the socket.
        kwargs.update(pool_size=pool_size, max_overflow=max_overflow)
        # No JIT: PostgreSQL compiles a statement whose estimated cost passes 100,000, and
        # correlated subqueries (a page's actors, claims) inflate estimates: a 100-row ACLED
        # page spent 490 ms compiling to run 6 ms. Statements here are short by design.
        # extra_float_digits 1 (PostgreSQL's default, made sure of): float8 written as text or
        # JSON is its shortest exact form, which pages built as JSON by the database rely on.
        kwargs["connect_args"] = {"options": "-c jit=off -c extra_float_digits=1"}
    engine = create_async_engine(url, **kwargs)
    if url.startswith("sqlite"):
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "connect", register_sqlite_functions)
    else:
        event.listen(engine.sync_engine, "checkout", _replace_if_dropped)
    return engine


def _replace_if_dropped(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Hand out no pooled connection the server has dropped (a restart, an administrator's
    pg_terminate_backend): the pool connects anew instead, and the request never sees it.

    A pooled connection is idle, so PostgreSQL has nothing to send it: anything to read on its
    socket (the server's "terminating connection" and the close) means it is gone. This looks
    at the socket without a round trip, where SQLAlchemy's pre-ping ran `SELECT 1` on every
    checkout (~10% of a first page's CPU). A connection lost without a word (a network cut)
    is found by the statement's error, as with pre-ping's own limits."""
    driver = dbapi_connection.driver_connection
    if driver.closed or driver.broken:
        raise exc.DisconnectionError("connection closed")
    poll = select.poll()
    poll.register(driver.fileno(), select.POLLIN | select.POLLPRI)
    if poll.poll(0):
        raise exc.DisconnectionError("the server has closed the connection")


def make_write_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """SQLite: one connection that begins every transaction IMMEDIATE. Elsewhere: `make_engine`."""
    if not url.startswith("sqlite"):
        return make_engine(url, echo=echo)
    engine = create_async_engine(
        url,
        echo=echo,
        connect_args={"timeout": WRITE_WAIT_SECONDS},
        pool_size=1,
        max_overflow=0,
        pool_timeout=WRITE_WAIT_SECONDS,
    )
    event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    event.listen(engine.sync_engine, "connect", _sqlite_writer_pragmas)
    event.listen(engine.sync_engine, "connect", register_sqlite_functions)
    event.listen(engine.sync_engine, "begin", _begin_immediate)
    return engine


def make_sync_engine(url: str, *, echo: bool = False) -> Engine:
    """A synchronous engine on the same database (migrations, bulk imports, CLI)."""
    sync_url = sync_database_url(url)
    engine = create_engine(sync_url, echo=echo)
    if sync_url.startswith("sqlite"):
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "connect", register_sqlite_functions)
    return engine


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


def make_read_engine(
    url: str,
    engine: AsyncEngine,
    *,
    echo: bool = False,
    pool_size: int = 10,
    max_overflow: int = 10,
) -> AsyncEngine:
    """The engine of reads (module docstring). PostgreSQL: a pool of its own whose connections
    stay in autocommit; the same isolation set per checkout on `engine`'s pool (execution
    options) cost ~45 us of CPU a request, switching each connection to autocommit and back.
    SQLite: `engine` itself (its reads keep their transaction: a read transaction there is one
    snapshot, and costs no round trip)."""
    if url.startswith("sqlite"):
        return engine
    return make_engine(
        url, echo=echo, autocommit=True, pool_size=pool_size, max_overflow=max_overflow
    )


async def _driver(on: AsyncSession | AsyncConnection) -> Any:
    conn = await on.connection() if isinstance(on, AsyncSession) else on
    raw = await conn.get_raw_connection()
    return raw.driver_connection


def _own_transaction(driver: Any) -> AbstractAsyncContextManager[Any]:
    """A transaction of psycopg's where its connection is in autocommit; elsewhere (in a
    transaction already, or not psycopg) none."""
    return driver.transaction() if getattr(driver, "autocommit", False) else nullcontext()


class WriteGate:
    """Who may write now: one writer at a time on SQLite, anyone on PostgreSQL."""

    def __init__(self, single_writer: bool) -> None:
        self._lock = asyncio.Lock() if single_writer else None

    async def acquire(self) -> None:
        if self._lock is None:
            return
        try:
            await asyncio.wait_for(self._lock.acquire(), WRITE_WAIT_SECONDS)
        except TimeoutError as exc:
            raise ServiceBusy("too many writes are waiting; retry shortly") from exc

    def release(self) -> None:
        if self._lock is not None:
            self._lock.release()


async def driver_rows(
    on: AsyncSession | AsyncConnection,
    sql: str,
    params: dict[str, Any],
    *,
    generic_plan: bool = False,
) -> list[tuple[Any, ...]]:
    """PostgreSQL: the rows of a constant statement (SQL compiled once, psycopg's placeholders),
    run by psycopg on the session's (or connection's) own connection, in its transaction if any. For
    the hot read paths: no SQLAlchemy statement, cache key or result processing (~0.3 ms a
    statement); psycopg prepares the statement on the server after a few runs.

    `generic_plan`: run it with PostgreSQL's generic plan of the prepared statement, not one
    planned anew for each run's values. For the statements over a page's ids: with one id
    PostgreSQL kept planning them afresh, its estimate of a generic plan being the higher (the
    page JSON of one event: 2.7 ms a run, 0.35 ms on the generic plan; ACLED's rows 1.4 against
    0.27 ms), and from 1 to 5,000 ids the generic plan was as fast as the custom ones. The
    setting is sent and ended in the statement's round trip (`driver_result`'s `settings`).
    """
    return (await _run(on, sql, params, generic_plan, None, None, named=False))[1]


async def driver_result(
    on: AsyncSession | AsyncConnection,
    sql: str,
    params: dict[str, Any],
    *,
    generic_plan: bool = False,
    settings: Mapping[str, str] | None = None,
    loaders: Mapping[str, type[Loader]] | None = None,
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """`driver_rows`' rows with the names of their columns.

    `settings`: PostgreSQL settings (names and values from the code, never from a request) for
    this statement alone. They and `generic_plan`'s are sent in the statement's round trip (a
    pipeline: BEGIN where in autocommit, SET LOCAL, the statement, RESET, COMMIT) and end in it,
    so they reach nothing else. `loaders`: psycopg's loaders of this statement's values by
    PostgreSQL type name, in place of the connection's."""
    return await _run(on, sql, params, generic_plan, settings, loaders, named=True)


async def _run(
    on: AsyncSession | AsyncConnection,
    sql: str,
    params: dict[str, Any],
    generic_plan: bool,
    settings: Mapping[str, str] | None,
    loaders: Mapping[str, type[Loader]] | None,
    *,
    named: bool,
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """`driver_result`; without the columns' names unless `named` (psycopg builds a Column
    object for each, ~10 us a statement that `driver_rows` does not use)."""
    driver = await _driver(on)
    local = dict(settings or {})
    if generic_plan:
        local["plan_cache_mode"] = "force_generic_plan"
    if not local:
        async with driver.cursor() as cur:
            _use_loaders(cur, loaders)
            await cur.execute(sql, params)
            rows = list(await cur.fetchall())
            return _names(cur) if named else [], rows
    # SET LOCAL needs a transaction: in autocommit its BEGIN and COMMIT join the pipeline.
    async with (
        driver.pipeline(),
        driver.cursor() as setting,
        driver.cursor() as cur,
        _own_transaction(driver),
    ):
        _use_loaders(cur, loaders)
        for name, value in local.items():
            await setting.execute(
                psql.SQL("SET LOCAL {} = {}").format(psql.Identifier(name), psql.Literal(value))
            )
        await cur.execute(sql, params)
        for name in local:
            await setting.execute(psql.SQL("RESET {}").format(psql.Identifier(name)))
        rows = list(await cur.fetchall())  # in a pipeline, the description comes with them
        return _names(cur) if named else [], rows


def _use_loaders(cur: Any, loaders: Mapping[str, type[Loader]] | None) -> None:
    for type_name, loader in (loaders or {}).items():
        cur.adapters.register_loader(type_name, loader)  # this cursor's map: a copy on write


def _names(cur: Any) -> list[str]:
    return [c.name for c in cur.description or ()]


def compiled_sql(conn: AsyncConnection, stmt: Executable) -> tuple[str, dict[str, Any]]:
    """PostgreSQL: the SQL string and psycopg parameters of a Core statement, as SQLAlchemy
    would send them: compiled through the engine's statement cache (a statement of the same
    shape is compiled once), its values bound, IN lists expanded, bind processors applied.
    For `driver_rows`: a hot read's dynamic statement without SQLAlchemy's execution context and
    result objects. Relies on SQLAlchemy's compiled-cache internals (pinned in pyproject); a
    test runs every list filter through it."""
    sync = conn.sync_connection
    assert sync is not None
    compiled: Any
    compiled, extracted, collected, _ = stmt._compile_w_cache(
        dialect=sync.dialect,
        compiled_cache=sync.engine._compiled_cache,
        column_keys=[],
        for_executemany=False,
        schema_translate_map=None,
        linting=0,
    )
    params: dict[str, Any] = compiled.construct_params(
        extracted_parameters=extracted, escape_names=False, _collected_params=collected
    )
    processors: dict[str, Any] = compiled._bind_processors
    sql: str = compiled.string
    if compiled.literal_execute_params or compiled.post_compile_params:
        expanded = compiled._process_parameters_for_postcompile(params)
        sql = expanded.statement
        processors = {**processors, **expanded.processors}
    escaped = compiled.escaped_bind_names or {}
    return sql, {
        escaped.get(k, k): processors[k](v) if k in processors else v for k, v in params.items()
    }


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's read session; open until the response is sent, ended then.

    Autocommit on PostgreSQL (`make_read_engine`), where the COMMIT below sends nothing.
    On SQLite reads never write, so COMMIT or ROLLBACK is the same to the database. A failed
    read rolls back. A session the request never used (a dependency that asks for it but had
    nothing to check, `auth.require_read` on an open read) is dropped as it is: it holds no
    connection, and its commit and close cost ~60 us of CPU for nothing."""
    factory: async_sessionmaker[AsyncSession] = request.app.state.read_sessionmaker
    session = factory()
    try:
        yield session
    except BaseException:
        if _touched(session):
            async with session:
                await session.rollback()
        raise
    if _touched(session):
        async with session:  # closed when done
            await session.commit()


def _touched(session: AsyncSession) -> bool:
    """Whether `session` began a transaction (holds a connection) or holds anything."""
    return session.in_transaction() or bool(session.identity_map) or bool(session.new)


Reader = AsyncSession | AsyncConnection
"""What the read paths run their statements on: the request's session, or a connection of the
read engine (`app.state.read_engine`) where a service needs no ORM objects."""


def dialect_name(on: Reader) -> str:
    return on.get_bind().dialect.name if isinstance(on, AsyncSession) else on.dialect.name


def orm_session(on: Reader) -> AbstractAsyncContextManager[AsyncSession]:
    """A session for ORM entities on `on`: `on` itself if it is one, else a session on that
    connection (which leaves a transaction the connection was in to it, `join_transaction_mode`'s
    default), closed at the end of the block."""
    if isinstance(on, AsyncSession):
        return nullcontext(on)
    return AsyncSession(bind=on)


async def get_write_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One unit of work: commits after the route returns and before the response is sent."""
    gate: WriteGate = request.app.state.write_gate
    factory: async_sessionmaker[AsyncSession] = request.app.state.write_sessionmaker
    await gate.acquire()
    try:
        async with factory() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise
    finally:
        gate.release()
