"""Alembic environment: the URL comes from the caller (CLI, tests) or DATABASE_URL."""

from __future__ import annotations

import os
import warnings
from typing import Any

from alembic import context
from sqlalchemy.engine import Connection

from app.core.config import DEFAULT_SQLITE_URL, sync_database_url
from app.core.db import make_sync_engine
from app.models import Base
from app.models.base import UTCDateTime

config = context.config
# PostGIS's geography column is managed by hand in a migration; reflection need not know it.
warnings.filterwarnings("ignore", message="Did not recognize type 'geography'")
target_metadata = Base.metadata


def _url() -> str:
    url = config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url")
    if not url:
        url = os.environ.get("DATABASE_URL") or os.environ.get(
            "CONFLICTDB_DATABASE_URL", DEFAULT_SQLITE_URL
        )
    return sync_database_url(url)


def run_migrations_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_sync_engine(_url())

    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # A batch migration rebuilds a table (create, copy, drop, rename); with foreign keys on,
        # dropping a parent would delete its children's rows by ON DELETE CASCADE. SQLite only
        # honours the pragma outside a transaction: off for the run, checked before the commit.
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.commit()
    try:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=True,
            compare_type=True,
            include_object=_include_object,
            render_item=_render_item,
        )
        with context.begin_transaction():
            before = context.get_context().get_current_heads()
            context.run_migrations()
            if sqlite and context.get_context().get_current_heads() != before:
                _check_foreign_keys(connection)
    finally:
        if sqlite:
            connection.rollback()
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()


def _check_foreign_keys(connection: Connection) -> None:
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    if broken:
        listed = "; ".join(f"{r[0]} rowid {r[1]} -> {r[2]}" for r in broken[:20])
        raise RuntimeError(f"the migration left rows whose foreign key points nowhere: {listed}")


def _render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    # Revisions never import `app`: our UTC type is rendered as the plain type it wraps.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    # PostGIS and FTS objects are managed by hand in migrations, not by the models.
    if type_ == "table" and name and (name == "spatial_ref_sys" or name.startswith("events_fts")):
        return False
    if type_ == "column" and name in ("geog", "search_vector"):
        return False
    # The copy of the place's country on events (migrations 0014 and 0016, kept by triggers).
    table = getattr(getattr(obj, "table", None), "name", None)
    if type_ == "column" and name == "country_code" and table == "events":
        return False
    return not (
        type_ == "index"
        and reflected
        and name
        in {
            "ix_events_fts",
            "ix_places_geog",
            "ix_events_fatalities_sort",
            "ix_events_acled_day",
            "ix_places_lat_lon",
            "ix_events_place_date_cover",
            "ix_events_country_date",
            "ix_events_country_acled_day",
        }
    )


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
