"""Settings, read from the environment (and a `.env` file when present)."""

from __future__ import annotations

from typing import Annotated

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_SQLITE_URL = "sqlite+aiosqlite:///./conflictdb.sqlite3"


def normalize_database_url(url: str) -> str:
    """Map the URL forms users paste (postgres://, sqlite:///) onto our async drivers."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://") :]
    if url.startswith("sqlite://") and not url.startswith("sqlite+"):
        return "sqlite+aiosqlite://" + url[len("sqlite://") :]
    return url


def sync_database_url(url: str) -> str:
    """The same database through a synchronous driver (Alembic, bulk loads)."""
    url = normalize_database_url(url)
    url = url.replace("postgresql+asyncpg://", "postgresql+psycopg://", 1)
    return url.replace("sqlite+aiosqlite://", "sqlite+pysqlite://", 1)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CONFLICTDB_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default=DEFAULT_SQLITE_URL,
        validation_alias=AliasChoices("DATABASE_URL", "CONFLICTDB_DATABASE_URL"),
    )
    # Reads are open by default; set CONFLICTDB_READ_REQUIRES_KEY=true to close them.
    read_requires_key: bool = False
    # Signs pagination cursors so that a tampered cursor is detected (400), not executed.
    cursor_secret: str = "conflictdb-dev-cursor-secret"
    default_page_size: int = 100
    max_page_size: int = 1000
    public_base_url: str | None = None
    # When true, PUT/PATCH/DELETE without If-Match are refused (428): no blind overwrites.
    require_if_match: bool = False
    echo_sql: bool = False
    # Limits (app/core/http.py): 413 / 414 / 431 before the body is read.
    max_json_body_bytes: int = 1024 * 1024
    max_upload_bytes: int = 2 * 1024 * 1024 * 1024
    max_url_bytes: int = 16 * 1024
    max_header_bytes: int = 64 * 1024
    # Requests one process works on at once; beyond it a 503 with Retry-After at once, not a
    # queue that grows without bound (/healthz is exempt).
    max_concurrent_requests: int = 256
    # What uvicorn buffers of a request line and headers (`conflictdb serve`); it must exceed
    # the two limits above for their 414 / 431 to be answered instead of a dropped connection.
    max_request_head_bytes: int = 4 * 1024 * 1024
    # Hosts whose Host header may appear in the URLs we build (next_url, Link); the server's
    # own address is trusted too. Others are dropped (public_base_url wins when set).
    trusted_hosts: Annotated[list[str], NoDecode] = ["localhost", "127.0.0.1", "::1", "testserver"]
    # CORS: who may read (GET/HEAD/OPTIONS) and who may also write, by Origin.
    cors_read_origins: Annotated[list[str], NoDecode] = ["*"]
    cors_write_origins: Annotated[list[str], NoDecode] = []
    # Redis, e.g. redis://127.0.0.1:6379/0: rate-limit counters and cached answers shared by
    # every worker and replica; unset: both kept in each process's memory.
    redis_url: str | None = None
    # The exact response cache of repeated reads (app/core/cache.py).
    cache_enabled: bool = True
    cache_max_bytes: int = 256 * 1024 * 1024  # per process (with Redis: in front of it)
    cache_entry_max_bytes: int = 4 * 1024 * 1024
    cache_ttl_seconds: int = 24 * 3600  # Redis entries unread this long are dropped
    # PostgreSQL: each of a process's two pools (reads, writes) keeps up to `pool_size`
    # connections and opens up to `pool_max_overflow` more under bursts (README, workers).
    pool_size: int = Field(default=10, ge=1)
    pool_max_overflow: int = Field(default=10, ge=0)
    # Each event's JSON kept while its change_seq stays (app/core/doccache.py), per process;
    # 0 turns it off. ~1.3 KB an event of ACLED's: 64 MiB keeps ~45,000.
    doc_cache_max_bytes: int = 64 * 1024 * 1024

    @field_validator("database_url")
    @classmethod
    def _normalize(cls, value: str) -> str:
        return normalize_database_url(value)

    @field_validator("trusted_hosts", "cors_read_origins", "cors_write_origins", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        # From the environment: `a.example,b.example` (a JSON list works too).
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                import json

                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
