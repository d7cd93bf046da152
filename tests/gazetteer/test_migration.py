"""Migration 0011 on a database with data: UCDP's coding copied out of the extras, and the
existing places attached by `conflictdb migrate`'s gazetteer load."""

from __future__ import annotations

from sqlalchemy import create_engine, text

from app.core.config import sync_database_url
from app.core.db import make_engine, make_sessionmaker
from app.core.migrations import check, upgrade
from app.gazetteer.service import load_gazetteer
from app.taxonomy.service import load_taxonomy
from tests.test_migrations import TIMESTAMP, execute, fresh_url  # noqa: F401 (a fixture)


def event(event_id: int, dataset: str, place_id: int, extras: str) -> str:
    return (
        "INSERT INTO events (id, dataset, external_id, date_start, date_end, date_precision, "
        "sub_event_type_code, place_id, summary, civilian_targeting, extras, version, "
        f"created_at, updated_at) VALUES ({event_id}, '{dataset}', 'E-{event_id}', "
        f"'2016-01-01', '2016-01-01', 'day', 'armed_clash', {place_id}, 'x', false, "
        f"'{extras}', 1, '{TIMESTAMP}', '{TIMESTAMP}')"
    )


async def test_0011_fills_ucdp_coding_and_attaches_old_places(fresh_url: str) -> None:  # noqa: F811
    url = fresh_url
    upgrade(url, "0010")
    engine = make_engine(url)
    async with make_sessionmaker(engine)() as session, session.begin():
        await load_taxonomy(session)
    await engine.dispose()
    execute(
        url,
        "INSERT INTO places (id, name, kind, country_code, admin1, latitude, longitude, path, "
        f"natural_key, created_at, updated_at) VALUES (1, 'Teir Maaleh village', 'village', "
        f"'SY', 'Homs Governorate', 34.802462, 36.707602, '/1/', 'k1', '{TIMESTAMP}', "
        f"'{TIMESTAMP}'), (2, 'Kafr Nabudah', 'village', 'SY', NULL, 35.13, 36.75, '/2/', 'k2', "
        f"'{TIMESTAMP}', '{TIMESTAMP}')",
        event(
            1, "ucdp", 1, '{"type_of_violence": 3, "conflict_new_id": 299, "dyad_new_id": 11973}'
        ),
        event(2, "acled", 2, '{"source_scale": "National", "type_of_violence": "n/a"}'),
    )
    upgrade(url)
    check(url)
    sync = create_engine(sync_database_url(url))
    with sync.begin() as conn:
        rows = conn.execute(
            text("SELECT id, type_of_violence, conflict_id, dyad_id FROM events ORDER BY id")
        ).all()
        assert [tuple(r) for r in rows] == [(1, 3, 299, 11973), (2, None, None, None)]
        # `conflictdb migrate` then loads the units and attaches the places already there.
        assert "2 places attached" in load_gazetteer(conn)
        places = conn.execute(text("SELECT id, admin1_code FROM places ORDER BY id")).all()
        assert [tuple(p) for p in places] == [(1, "SY-HI"), (2, "SY-HM")]
        assert "0 places attached" in load_gazetteer(conn)
    sync.dispose()
