"""The big-load path: indexes (and SQLite's full-text insert trigger) dropped for the load and
rebuilt before the commit. It must leave exactly what the row-by-row path leaves: the same rows,
the same search results, the same schema.

Forced here with `bulk=True` (the CLI's `--rebuild-indexes yes`) on real ACLED rows: a first
load of 6,000 rows, then the whole 9,000-row file with 40 notes rewritten (updates under the
dropped indexes) and 3,000 new rows; and the same two imports row by row, compared.
"""

from __future__ import annotations

import csv
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine
from sqlalchemy import event as sa_event

from app.core.config import sync_database_url
from app.core.migrations import migrate
from app.imports.service import SQLITE_CACHE_KIB, ImportRequest, run_import
from app.imports.staging import BULK_TABLES, SQLITE_INDEXING_CACHE_KIB
from tests.conftest import Api, shared_file, truncate_all
from tests.imports.support import query, run_file, schema

SOURCE = shared_file("acled/acled-dummy-2022h1.csv")
FIRST_ROWS = 6000
REWRITTEN = 40
NEW_WORD = "quixotically"


def write_files(tmp: Path) -> tuple[Path, Path, list[str]]:
    """The first 6,000 rows; the whole file with the first 40 rows' notes rewritten."""
    with SOURCE.open(newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        rows = list(reader)
    notes, key = header.index("notes"), header.index("event_id_cnty")
    first, changed = tmp / "first.csv", tmp / "changed.csv"
    with first.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([header, *rows[:FIRST_ROWS]])
    rewritten = []
    for row in rows[:REWRITTEN]:
        row[notes] = f"{row[notes]} Rewritten {NEW_WORD}."
        rewritten.append(row[key])
    with changed.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([header, *rows])
    return first, changed, sorted(rewritten)


def contents(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """What the imports wrote, by natural key (ids differ between runs)."""
    key = "e.dataset, e.external_id"
    sql = {
        "events": "SELECT e.dataset, e.external_id, e.date_start, e.date_end, e.date_precision, "
        "e.sub_event_type_code, p.natural_key, e.geo_precision, e.summary, e.notes, "
        "e.civilian_targeting, e.fatalities_low, e.fatalities_best, e.fatalities_high, "
        "CAST(e.extras AS TEXT), e.version, e.content_hash "
        "FROM events e LEFT JOIN places p ON p.id = e.place_id",
        "actors": f"SELECT {key}, a.name, x.role, x.status FROM event_actors x "
        "JOIN events e ON e.id = x.event_id JOIN actors a ON a.id = x.actor_id",
        "claims": f"SELECT {key}, s.name, v.name, c.kind, c.stance, c.assertion FROM claims c "
        "JOIN events e ON e.id = c.event_id JOIN sources s ON s.id = c.source_id "
        "LEFT JOIN sources v ON v.id = c.via_source_id",
        "tags": f"SELECT {key}, t.tag FROM event_tags t JOIN events e ON e.id = t.event_id",
        "revisions": f"SELECT {key}, r.version, r.operation FROM event_revisions r "
        "JOIN events e ON e.id = r.event_id",
    }
    return {name: sorted(tuple(map(str, r)) for r in query(url, s)) for name, s in sql.items()}


def without_digests(tables: dict[str, list[tuple[Any, ...]]]) -> dict[str, list[tuple[Any, ...]]]:
    return {**tables, "events": [e[:-1] for e in tables["events"]]}


async def found(api: Api, q: str) -> list[str]:
    response = await api.get("/v1/events", params={"q": q, "limit": 1000})
    assert response.status_code == 200, response.text
    return sorted(e["external_id"] for e in response.json()["items"])


def fts_is_consistent(url: str) -> None:
    """SQLite: FTS5 checks its index against the events it indexes (raises if they differ)."""
    if url.startswith("postgresql"):
        return
    engine = create_engine(sync_database_url(url))
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("INSERT INTO events_fts (events_fts) VALUES ('integrity-check')")
    finally:
        engine.dispose()


async def test_a_big_load_leaves_what_the_row_by_row_path_leaves(api: Api, tmp_path: Path) -> None:
    url = api.database_url
    first, changed, rewritten = write_files(tmp_path)
    before = schema(url)
    results: dict[bool, tuple[Any, ...]] = {}
    for bulk in (True, False):
        truncate_all(url)
        one = await run_file(url, first, "acled", bulk=bulk)
        assert (one.committed, one.inserted, one.rejected) == (True, FIRST_ROWS, 0)
        two = await run_file(url, changed, "acled", bulk=bulk)
        assert (two.committed, two.inserted, two.updated) == (True, 9000 - FIRST_ROWS, REWRITTEN)
        assert ("rebuild" in one.phases, "rebuild" in two.phases) == (bulk, bulk)
        assert schema(url) == before
        fts_is_consistent(url)
        assert await found(api, NEW_WORD) == rewritten
        searches = [await found(api, q) for q in ("protesters police", '"armed clash"', "killed")]
        assert all(searches)
        results[bulk] = (contents(url), searches)
    bulk_contents, bulk_searches = results[True]
    plain_contents, plain_searches = results[False]
    for table, rows in plain_contents.items():
        assert bulk_contents[table] == rows, table
    assert bulk_searches == plain_searches
    assert len(plain_contents["events"]) == 9000
    assert len(plain_contents["revisions"]) == REWRITTEN


async def test_a_first_load_leaves_what_the_upsert_path_leaves(api: Api, tmp_path: Path) -> None:
    """SQLite loads a dataset with no event yet without the upsert's lookups, the event ids
    following the rows (`SqliteStaging.start`); the same file into a dataset that has one of its
    events already goes through the upsert. Both must leave the same rows (PostgreSQL has one
    path: the same test holds there too)."""
    url = api.database_url
    first, _, _ = write_files(tmp_path)
    with first.open(newline="", encoding="utf-8") as fh:
        header, *rows = csv.reader(fh)
    # A row alone at its place: the places the two runs make are the same.
    where = [header.index(c) for c in ("country", "admin1", "admin2", "admin3", "location")]
    places = Counter(tuple(r[i] for i in where) for r in rows)
    alone = next(r for r in reversed(rows) if places[tuple(r[i] for i in where)] == 1)
    one_row = tmp_path / "one.csv"
    with one_row.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([header, alone])

    truncate_all(url)
    fresh = await run_file(url, first, "acled")
    assert (fresh.committed, fresh.inserted, fresh.updated) == (True, FIRST_ROWS, 0)
    fresh_contents = contents(url)
    fts_is_consistent(url)
    fresh_search = await found(api, "protesters police")

    truncate_all(url)
    await run_file(url, one_row, "acled")
    upserted = await run_file(url, first, "acled")
    assert (upserted.inserted, upserted.updated, upserted.unchanged) == (FIRST_ROWS - 1, 0, 1)
    fts_is_consistent(url)
    # The digests name the ids of the event's place, actors and sources, made in another order
    # here: everything else must be equal.
    assert without_digests(contents(url)) == without_digests(fresh_contents)
    assert await found(api, "protesters police") == fresh_search
    assert len(fresh_contents["events"]) == FIRST_ROWS and fresh_contents["actors"]


async def test_a_first_load_never_reuses_a_deleted_events_id(api: Api, tmp_path: Path) -> None:
    """Ids are never given twice (SQLite: AUTOINCREMENT), also to a dataset's first load after
    the newest events were deleted: its events come after the largest id ever handed out."""
    url = api.database_url
    first, _, _ = write_files(tmp_path)
    with first.open(newline="", encoding="utf-8") as fh:
        header, *rows = csv.reader(fh)
    two_rows = tmp_path / "two.csv"
    with two_rows.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([header, *rows[:2]])
    await run_file(url, two_rows, "acled")
    gone = sorted(int(r[0]) for r in query(url, "SELECT id FROM events"))
    for event in gone:
        response = await api.delete(f"/v1/events/{event}")
        assert response.status_code == 204, response.text
    assert query(url, "SELECT count(*) FROM events")[0][0] == 0

    report = await run_file(url, first, "acled")
    assert (report.committed, report.inserted) == (True, FIRST_ROWS)
    ids = [int(r[0]) for r in query(url, "SELECT id FROM events ORDER BY id")]
    assert len(ids) == FIRST_ROWS and ids[0] > gone[-1]
    # Every child points at an event of this load.
    orphans = query(
        url,
        "SELECT count(*) FROM event_actors x LEFT JOIN events e ON e.id = x.event_id "
        "WHERE e.id IS NULL",
    )
    assert orphans[0][0] == 0


def test_sqlite_rebuilds_with_a_small_page_cache_and_loads_with_the_imports(
    tmp_path: Path,
) -> None:
    """SQLite sorts an index's keys in memory up to the page cache's size: a big load builds its
    indexes and full-text rows with a smaller cache, then gives the import's cache back for what
    follows. (With the load's pages and the sort each taking the import's whole cache, 2M ACLED
    rows peaked at 518 MB; with the smaller one, 423 MB.)"""
    url = f"sqlite+aiosqlite:///{tmp_path / 'cache.sqlite3'}"
    migrate(url)
    first, _, _ = write_files(tmp_path)
    seen: list[tuple[str, int]] = []

    def cache_size(conn: Connection, cursor: Any, statement: str, *args: Any, **kw: Any) -> None:
        raw = conn.connection.driver_connection
        if not isinstance(raw, sqlite3.Connection) or not raw.in_transaction:
            return
        words = " ".join(statement.split()[:3]).upper()
        seen.append((words, raw.execute("PRAGMA cache_size").fetchone()[0]))

    sa_event.listen(Engine, "before_cursor_execute", cache_size)
    try:
        report = run_import(url, ImportRequest(first, "acled", bulk=True))
    finally:
        sa_event.remove(Engine, "before_cursor_execute", cache_size)
    assert (report.committed, report.inserted, "rebuild" in report.phases) == (True, 6000, True)
    built = [i for i, (words, _) in enumerate(seen) if words.startswith("CREATE INDEX")]
    fts = next(i for i, (words, _) in enumerate(seen) if words.startswith("INSERT INTO EVENTS_FTS"))
    trigger = next(i for i, (words, _) in enumerate(seen) if words.startswith("CREATE TRIGGER"))
    rebuilt = query(
        url,
        "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
        f"AND tbl_name IN {BULK_TABLES}",
    )[0][0]
    assert len(built) == rebuilt > 10
    small, whole = -SQLITE_INDEXING_CACHE_KIB, -SQLITE_CACHE_KIB
    assert {seen[i][1] for i in built} == {small}
    assert (seen[fts][1], seen[trigger][1]) == (small, small)
    # The load's statements had the import's cache, and so has the end of the import.
    assert {size for words, size in seen[: built[0]] if words.startswith("INSERT INTO")} == {whole}
    assert fts < trigger < len(seen) - 1 and seen[-1][1] == whole
    fts_is_consistent(url)
