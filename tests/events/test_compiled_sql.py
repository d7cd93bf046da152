"""`core.db.compiled_sql`: a list page's statement compiled through SQLAlchemy's cache and run by
psycopg (`events.repository.page_ids` on PostgreSQL) returns what SQLAlchemy's own execution of
the same statement returns, for every kind of value a filter binds: IN lists (expanded), dates
and timestamps, numbers, search words, a bbox, subqueries by name, and a cursor's seek."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.acled_api import repository as acled
from app.acled_api.service import parse_events
from app.core.db import compiled_sql, driver_rows, make_engine
from app.events.queries import EventFilters, conditions, cursor_payload, keyset_page
from app.events.spatial import detect_context
from tests.conftest import load_seed_data, truncate_all

pytestmark = pytest.mark.asyncio

QUERIES: list[dict[str, Any]] = [
    {},
    {"limit": "2"},
    {"country": ["SY", "IQ"]},
    {"country": ["SY"], "date_from": "2015-10-01", "date_to": "2015-10-31"},
    {"sub_event_type": ["air_drone_strike", "armed_clash", "shelling_artillery_missile_attack"]},
    {"event_type": ["battles"]},
    {"actor": ["Military Forces of Russia (2015-)", "1"], "actor_role": ["initiator"]},
    {"source": ["Reuters"]},
    {"claim_grade": ["confirmed", "fair", "contested"]},
    {"fatalities_min": "1", "fatalities_max": "1000"},
    {"q": "air strikes"},
    {"q": "army -rebels"},
    {"bbox": "35,33,39,37"},
    {"lat": "35.1", "lon": "36.7", "radius_km": "100"},
    {"lat": "35.1", "lon": "36.7", "radius_km": "100", "sort": "distance"},
    {"updated_since": "2000-01-01T00:00:00Z", "sort": "-updated_at"},
    {"sort": "-fatalities", "limit": "1"},
    {"sort": "date", "limit": "1"},
]


async def test_a_page_compiled_for_psycopg_equals_sqlalchemys_own(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        return  # SQLite's pages run through SQLAlchemy
    truncate_all(database_url)
    await load_seed_data(database_url)
    engine = make_engine(database_url)
    try:
        ctx = await detect_context(engine)
        matched = 0
        async with engine.connect() as conn:
            for query in QUERIES:
                filters = EventFilters.model_validate(query)
                where = conditions(filters, ctx, country_on_event=True)
                cursor = None
                for _ in range(3):  # the first page, then pages after a cursor
                    stmt = keyset_page(filters, where, cursor, ctx)
                    own = [tuple(r) for r in (await conn.execute(stmt)).all()]
                    sql, params = compiled_sql(conn, stmt)
                    assert await driver_rows(conn, sql, params) == own, (query, sql, params)
                    matched += bool(own)
                    if len(own) <= filters.limit:
                        break
                    cursor = cursor_payload(filters, own[filters.limit - 1][:2])
        assert matched >= len(QUERIES) // 2  # most queries find events: rows were compared
    finally:
        await engine.dispose()


# ACLED's grammar (`/acled/acled/read`): each operator and kind of value its filters bind.
ACLED_QUERIES: list[list[tuple[str, str]]] = [
    [],
    [("country", "Syria")],
    [("country", "Syria|Iraq"), ("limit", "3")],
    [("iso", "760")],
    [("event_date", "2015-10-01|2015-10-31"), ("event_date_where", "BETWEEN")],
    [("event_date", "2015-10-08"), ("event_date_where", ">=")],
    [("year", "2015")],
    [("fatalities", "0"), ("fatalities_where", ">")],
    [("event_type", "Battles")],
    [("sub_event_type", "Air/drone strike")],
    [("actor1", "Military Forces of Russia"), ("actor1_where", "LIKE")],
    [("notes", "air"), ("notes_where", "LIKE")],
    [("admin1", "Latakia|Hama")],
    [("country", "Syria"), ("limit", "2"), ("page", "2")],
]


async def test_an_acled_page_compiled_for_psycopg_equals_sqlalchemys_own(
    database_url: str,
) -> None:
    """The ACLED API's page statement (`acled_api.repository.acled_page_keys`) too."""
    if not database_url.startswith("postgresql"):
        return
    truncate_all(database_url)
    await load_seed_data(database_url)
    engine = make_engine(database_url)
    try:
        matched = 0
        async with engine.connect() as conn:
            for params in ACLED_QUERIES:
                query = parse_events(params)
                async with AsyncSession(bind=conn) as session:
                    found = await acled.domains(session, query)
                where = [*acled.event_conditions(query, found, "postgresql"), acled.acled_coded()]
                stmt = acled._ids_and_stamps(
                    acled._page(where, query.limit, query.offset, "postgresql")
                )
                own = [tuple(r) for r in (await conn.execute(stmt)).all()]
                sql, bound = compiled_sql(conn, stmt)
                assert await driver_rows(conn, sql, bound) == own, (params, sql, bound)
                matched += bool(own[0][0])
        assert matched >= len(ACLED_QUERIES) // 2  # most queries find events: ids compared
    finally:
        await engine.dispose()
