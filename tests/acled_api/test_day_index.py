"""ACLED's event_date (the middle of the span) is indexed (migration 0013), and the
expression the ACLED API orders by is the index's own on both databases: a bound parameter in it
(`/ $1`, `'+' || ? || ' days'`) would not match the index, and a page newest first would sort
every matching event again."""

from __future__ import annotations

from typing import Any

from sqlalchemy import create_engine, inspect, select, text

from app.acled_api.columns import Domains, event_date_expr
from app.acled_api.repository import _page, acled_coded, event_conditions
from app.acled_api.service import parse_events
from app.models import Event


def _sync(url: str) -> str:
    return url.replace("+aiosqlite", "")


def test_the_acled_day_order_reads_its_index(database_url: str) -> None:
    engine = create_engine(_sync(database_url))
    try:
        dialect = engine.dialect
        if dialect.name == "sqlite":  # SQLAlchemy does not reflect SQLite's expression indexes
            with engine.connect() as conn:
                found = conn.exec_driver_sql(
                    "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events'"
                )
                names = {r[0] for r in found}
        else:
            names = {ix["name"] for ix in inspect(engine).get_indexes("events")}
        assert "ix_events_acled_day" in names
        day = event_date_expr(dialect.name)
        stmt = select(Event.id).order_by(day.desc(), Event.id.desc()).limit(100)
        compiled = stmt.compile(dialect=dialect)
        with engine.connect() as conn:
            if dialect.name == "sqlite":
                rows = conn.exec_driver_sql(
                    "EXPLAIN QUERY PLAN " + str(compiled), tuple(compiled.params.values())
                )
                plan = "\n".join(str(r[-1]) for r in rows)
            else:
                # As the server runs it once psycopg has prepared it: a generic plan.
                plan = _generic_plan(conn, stmt, "acled_day")
        assert "ix_events_acled_day" in plan, plan
    finally:
        engine.dispose()


def _generic_plan(conn: Any, stmt: Any, name: str) -> str:
    """PostgreSQL's plan of `stmt` once psycopg has prepared it: generic, parameters unknown,
    with sequential scans and sorts priced out so an unusable index shows."""
    compiled = stmt.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    names = list(compiled.params)
    sql = str(compiled)
    for n, key in enumerate(names, 1):
        sql = sql.replace(f"%({key})s", f"${n}")
    conn.execute(text("SET enable_seqscan = off"))
    conn.execute(text("SET enable_sort = off"))
    conn.execute(text("SET plan_cache_mode = force_generic_plan"))
    conn.exec_driver_sql(f"PREPARE {name} AS " + sql)
    args = ", ".join(f"'{compiled.params[key]}'" for key in names)
    return "\n".join(r[0] for r in conn.exec_driver_sql(f"EXPLAIN EXECUTE {name}({args})"))


def test_one_country_newest_first_reads_its_index(database_url: str) -> None:
    """The ACLED API's page of one country filters on the event's copy of the country
    (migrations 0014 and 0016) and reads ix_events_country_acled_day (0015, 0016) in order."""
    engine = create_engine(_sync(database_url))
    dialect = engine.dialect.name
    query = parse_events(
        [("country", "Syria"), ("event_date", "2020-01-01"), ("event_date_where", ">=")]
    )
    where = event_conditions(query, Domains(["SY"], []), dialect)
    where.append(acled_coded())
    page = _page(where, 100, 0, dialect)
    stmt = select(page.c.id).order_by(page.c.day.desc(), page.c.id.desc())
    try:
        with engine.connect() as conn:
            if dialect == "sqlite":
                compiled = stmt.compile(
                    dialect=engine.dialect, compile_kwargs={"render_postcompile": True}
                )
                rows = conn.exec_driver_sql(
                    "EXPLAIN QUERY PLAN " + str(compiled), tuple(compiled.params.values())
                )
                plan = "\n".join(str(r[-1]) for r in rows)
                # The page's 100 rows are sorted again outside; the events are read in order.
                assert "SEARCH events USING INDEX ix_events_country_acled_day" in plan, plan
            else:
                plan = _generic_plan(conn, stmt, "acled_country_day")
                assert "Sort" not in plan, plan
        assert "ix_events_country_acled_day" in plan, plan
    finally:
        engine.dispose()
