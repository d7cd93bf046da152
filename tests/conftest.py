"""The same suite on SQLite (a file) and PostgreSQL (a throwaway database per run), over HTTP."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from app.auth.service import mint_key
from app.core.config import Settings, sync_database_url
from app.core.db import make_engine, make_sessionmaker, make_sync_engine
from app.core.migrations import migrate
from app.gazetteer.repository import SHIPPED
from app.main import create_app
from app.models import Base

PG_ADMIN_URL = os.environ.get(
    "CONFLICTDB_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
# ../shared/data beside the checkout; a clone elsewhere on the same machine finds /work/shared.
_SHARED_CANDIDATES = [
    Path(__file__).resolve().parents[1].parent / "shared" / "data",
    Path("/work/shared/data"),
]
SHARED_DATA = next((p for p in _SHARED_CANDIDATES if p.is_dir()), _SHARED_CANDIDATES[0])
REFERENCE_TABLES = {
    "event_types",
    "sub_event_types",
    "admin_units",
    "admin_unit_names",
    "alembic_version",
    "spatial_ref_sys",
}


def shared_file(relative: str) -> Path:
    """A file from ../shared/data; missing fails under CI=true, skips elsewhere."""
    path = Path(os.environ.get("CONFLICTDB_SHARED_DATA", SHARED_DATA)) / relative
    if not path.exists():
        if IN_CI:
            pytest.fail(f"required data file {path} is missing (CI=true)")
        pytest.skip(f"data file {path} not present")
    return path


def _pg_available() -> str | None:
    try:
        engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:
        return str(exc).splitlines()[0]
    return None


def _migrate(url: str) -> None:
    migrate(url)


def new_pg_database(prefix: str) -> str:
    """A new empty PostgreSQL database named `prefix` + a random suffix; its URL. Under
    CI=true an unreachable PostgreSQL fails the test, elsewhere it skips it."""
    problem = _pg_available()
    if problem:
        if IN_CI:
            pytest.fail(f"PostgreSQL is unreachable under CI=true: {problem}")
        pytest.skip(f"PostgreSQL unreachable: {problem}")
    name = f"{prefix}{uuid.uuid4().hex[:10]}"
    _admin_sql(f'CREATE DATABASE "{name}"')
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


# The databases of a test or a module are dropped when this test process's run ends, not when
# they are done with: DROP DATABASE makes PostgreSQL checkpoint and waits for it, and in mid-run,
# with every other process's writes to sync (~20,000 files), that wait was 35-41 s of the
# teardowns that dropped one (the explorer's, a migration test's), one CI run in every three.
_DROP_AT_END: list[str] = []


def drop_pg_database(url: str) -> None:
    """Drop a database `new_pg_database` made, whoever is still connected to it, when this test
    process's run ends (above)."""
    _DROP_AT_END.append(url)


@pytest.hookimpl(trylast=True)  # after the session's fixtures are torn down (they add to it)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    while _DROP_AT_END:
        _admin_sql(f'DROP DATABASE IF EXISTS "{_DROP_AT_END.pop().rsplit("/", 1)[1]}" WITH (FORCE)')


def _admin_sql(statement: str) -> None:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(statement))
    finally:
        admin.dispose()


@dataclass
class _Databases:
    urls: dict[str, str] = field(default_factory=dict)
    # Every PostgreSQL database made, migrated or not: dropped at the end of the run.
    postgresql_urls: list[str] = field(default_factory=list)


@pytest.fixture(scope="session")
def _databases() -> Iterator[_Databases]:
    """The run's databases by kind, each made and migrated once per test process.

    `database_url` is parametrized by kind, and pytest sets a parametrized session fixture up
    again each time the kind changes between two tests; under `--dist loadscope` a process
    runs a module's SQLite tests then its PostgreSQL tests, so the kind changes twice a module.
    Made afresh each time, that was a database and a migration per module and kind (~4 s).
    Kept here, the change costs nothing; each test empties what it uses (`truncate_all`).
    """
    made = _Databases()
    yield made
    for url in made.postgresql_urls:
        drop_pg_database(url)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    _databases: _Databases,
) -> str:
    """A migrated database with the taxonomy loaded, for the whole run."""
    kind = request.param
    if kind in _databases.urls:
        return _databases.urls[kind]
    if kind == "sqlite":
        path = tmp_path_factory.mktemp("sqlite") / "conflictdb-test.sqlite3"
        url = f"sqlite+aiosqlite:///{path}"
    else:
        url = new_pg_database("conflictdb_test_")
        _databases.postgresql_urls.append(url)
    _migrate(url)
    _databases.urls[kind] = url
    return url


def truncate_all(url: str) -> None:
    """Empty every data table, keeping the reference vocabularies (the gazetteer's shipped
    spellings, not those learned or added)."""
    engine = make_sync_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM admin_unit_names WHERE source <> :s"), {"s": SHIPPED})
    tables = [t for t in Base.metadata.sorted_tables if t.name not in REFERENCE_TABLES]
    extra = ["event_tombstones", "event_changes", "import_jobs"]
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            existing = set(
                conn.execute(
                    text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
                ).scalars()
            )
            names = [t.name for t in tables] + [n for n in extra if n in existing]
            quoted = ", ".join(f'"{n}"' for n in names)
            conn.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
    else:
        with engine.connect() as conn:
            # Self-referencing rows (places in places) need the checks off while emptying.
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.commit()
            with conn.begin():
                existing = set(
                    conn.execute(
                        text("SELECT name FROM sqlite_master WHERE type='table'")
                    ).scalars()
                )
                for t in reversed(tables):
                    conn.execute(t.delete())
                for n in extra:
                    if n in existing:
                        conn.execute(text(f'DELETE FROM "{n}"'))
                if "sqlite_sequence" in existing:
                    conn.execute(text("DELETE FROM sqlite_sequence"))
            conn.exec_driver_sql("PRAGMA foreign_keys=ON")
            conn.commit()
    engine.dispose()


def count_rows(url: str, table: str) -> int:
    engine = create_engine(sync_database_url(url))
    with engine.connect() as conn:
        n = conn.execute(text(f'SELECT count(*) FROM "{table}"')).scalar_one()
    engine.dispose()
    return int(n)


@dataclass
class Api:
    """An HTTP client on the app in process, with a write key and a read-only key."""

    client: httpx.AsyncClient
    database_url: str
    write_key: str
    read_key: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.write_key}"}

    @property
    def read_auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.read_key}"}

    async def get(self, url: str, **kw: Any) -> httpx.Response:
        return await self.client.get(url, **kw)

    async def post(self, url: str, **kw: Any) -> httpx.Response:
        kw.setdefault("headers", self.auth)
        return await self.client.post(url, **kw)

    async def patch(self, url: str, **kw: Any) -> httpx.Response:
        kw.setdefault("headers", self.auth)
        return await self.client.patch(url, **kw)

    async def put(self, url: str, **kw: Any) -> httpx.Response:
        kw.setdefault("headers", self.auth)
        return await self.client.put(url, **kw)

    async def delete(self, url: str, **kw: Any) -> httpx.Response:
        kw.setdefault("headers", self.auth)
        return await self.client.delete(url, **kw)

    def count(self, table: str) -> int:
        return count_rows(self.database_url, table)


def mint_keys(url: str) -> tuple[str, str]:
    engine = make_sync_engine(url)
    with Session(engine) as session, session.begin():
        write = mint_key(session, "tests-write", can_write=True).key
        read = mint_key(session, "tests-read", can_write=False).key
    engine.dispose()
    return write, read


async def make_api(url: str, **settings: Any) -> AsyncIterator[Api]:
    app = create_app(Settings(database_url=url, **settings))
    write, read = mint_keys(url)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield Api(client=client, database_url=url, write_key=write, read_key=read)


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[Api]:
    """An empty database (reference vocabularies only) and a client on it."""
    truncate_all(database_url)
    async for api in make_api(database_url):
        yield api


@pytest.fixture
async def seeded_api(database_url: str) -> AsyncIterator[Api]:
    """The seed report loaded, and a client on it."""
    truncate_all(database_url)
    await load_seed_data(database_url)
    async for api in make_api(database_url):
        yield api


async def load_seed_data(url: str) -> Any:
    from app.seeding.loader import load_seeds

    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            return await load_seeds(session)
    finally:
        await engine.dispose()


__all__ = ["IN_CI", "Api", "AsyncSession", "count_rows", "shared_file"]
