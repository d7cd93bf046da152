"""Staging tables and the set-based statements that move them into the real tables.

Everything runs in the import's one transaction: the staging tables are TEMP (PostgreSQL drops
them at commit, SQLite with the connection), so a killed import leaves nothing behind.
PostgreSQL is fed by COPY; SQLite by executemany. The statements differ where the databases do:
PostgreSQL upserts with INSERT .. ON CONFLICT .. RETURNING in one statement; SQLite classifies
the staged rows first, then updates and inserts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, bindparam, column, select, text
from sqlalchemy import table as table_clause
from sqlalchemy.types import Integer

from app.links.repository import incidents_of_sync
from app.models.base import UTCDateTime

EVENT_COLUMNS = (
    "ord",
    "dataset",
    "external_id",
    "date_start",
    "date_end",
    "date_precision",
    "sub_event_type_code",
    "place_id",
    "geo_precision",
    "summary",
    "notes",
    "civilian_targeting",
    "fatalities_low",
    "fatalities_best",
    "fatalities_high",
    "type_of_violence",
    "conflict_id",
    "dyad_id",
    "extras",
    "content_hash",
)
# Dataset rows name actors in confirmed roles, without notes: (ord, pos, actor, role) is all.
ACTOR_COLUMNS = ("ord", "pos", "actor_id", "role")
# A claim is staged as a reference to its spec: thousands of distinct claims, millions of uses.
CLAIM_COLUMNS = ("ord", "pos", "spec")
CLAIM_SPEC_COLUMNS = (
    "spec",
    "source_id",
    "via_source_id",
    "kind",
    "stance",
    "assertion",
    "quote",
    "claimed_on",
)
TAG_COLUMNS = ("ord", "tag")
DELETION_COLUMNS = ("dataset", "external_id", "deleted_at")
# The tables an import writes row by row, whose indexes a big load rebuilds instead.
BULK_TABLES = ("events", "event_actors", "claims", "event_tags")
# SQLite's page cache (KiB) while a big load rebuilds indexes: it also bounds each sort's memory.
SQLITE_INDEXING_CACHE_KIB = 32 * 1024

# The event columns an import sets (beyond the key); an update rewrites exactly these.
_SET = EVENT_COLUMNS[3:]
# Statements are assembled from the column tuples above, never from input (hence the noqa).
_COLS = ", ".join(EVENT_COLUMNS[1:])
_S_COLS = ", ".join(f"s.{c}" for c in EVENT_COLUMNS[1:])
_UPDATED = "SELECT event_id FROM stg_map WHERE NOT inserted"
# The change feed's position of what this transaction writes (app/changes/service.py).
PG_CHANGE_SEQ = "pg_current_xact_id()::text::bigint"
_PG_UPSERT = (
    "WITH up AS (INSERT INTO events AS e "  # noqa: S608
    f"({_COLS}, version, created_at, updated_at, change_seq) "
    f"SELECT {_COLS}, 1, :now, :now, {PG_CHANGE_SEQ} FROM stg_events ORDER BY ord "
    "ON CONFLICT (dataset, external_id) DO UPDATE SET "
    + ", ".join(f"{c} = EXCLUDED.{c}" for c in _SET)
    + ", version = e.version + 1, updated_at = EXCLUDED.updated_at, "
    "change_seq = EXCLUDED.change_seq "
    "WHERE e.content_hash IS DISTINCT FROM EXCLUDED.content_hash "
    "RETURNING e.id, e.dataset, e.external_id, (e.xmax = 0) AS inserted) "
    "INSERT INTO stg_map (ord, event_id, inserted) "
    "SELECT s.ord, up.id, up.inserted FROM up JOIN stg_events s "
    "ON s.dataset = up.dataset AND s.external_id = up.external_id"
)
_SQLITE_UPDATE = (
    "UPDATE events SET "  # noqa: S608
    + ", ".join(f"{c} = s.{c}" for c in _SET)
    + ", version = events.version + 1, updated_at = :now, change_seq = :seq "
    "FROM stg_events s JOIN stg_map m ON m.ord = s.ord "
    "WHERE NOT m.inserted AND events.id = m.event_id"
)
_SQLITE_INSERT = (
    f"INSERT INTO events ({_COLS}, version, created_at, updated_at, change_seq) "  # noqa: S608
    f"SELECT {_S_COLS}, 1, :now, :now, :seq FROM stg_events s "
    "JOIN stg_map m ON m.ord = s.ord WHERE m.inserted ORDER BY s.ord"
)

_TABLES = {
    "stg_events": (
        "ord {int} PRIMARY KEY, dataset TEXT NOT NULL, external_id TEXT NOT NULL, "
        "date_start DATE NOT NULL, date_end DATE NOT NULL, date_precision TEXT NOT NULL, "
        "sub_event_type_code TEXT NOT NULL, place_id {int}, geo_precision {int}, "
        "summary TEXT NOT NULL, notes TEXT, civilian_targeting BOOLEAN NOT NULL, "
        "fatalities_low {int}, fatalities_best {int}, fatalities_high {int}, "
        "type_of_violence {int}, conflict_id {int}, dyad_id {int}, extras {json}, "
        "content_hash TEXT NOT NULL"
    ),
    "stg_actors": "ord {int}, pos {int}, actor_id {int}, role TEXT",
    "stg_claims": "ord {int}, pos {int}, spec {int}",
    "stg_claim_specs": (
        "spec {int} PRIMARY KEY, source_id {int}, via_source_id {int}, kind TEXT, stance TEXT, "
        "assertion TEXT, quote TEXT, claimed_on DATE"
    ),
    "stg_tags": "ord {int}, tag TEXT",
    # Each upsert's outcome: the staged rows inserted or changed, and their event ids.
    "stg_map": "ord {int} PRIMARY KEY, event_id {int}, inserted BOOLEAN",
    "stg_deletions": "dataset TEXT, external_id TEXT, deleted_at {ts}",
}


def _now_param(name: str = "now") -> Any:
    return bindparam(name, type_=UTCDateTime())


class Staging:
    """The dialect-neutral half; subclasses feed the tables and upsert the events."""

    int_type = "INTEGER"
    json_type = "TEXT"
    ts_type = "TEXT"
    temp = "TEMP"

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._seq: int | None = None

    def change_seq(self) -> int:
        """SQLite: the change feed's position for this import's writes, a counter bumped once
        (the import holds the writer throughout). PostgreSQL writes PG_CHANGE_SEQ instead."""
        if self._seq is None:
            self._seq = int(
                self.conn.exec_driver_sql(
                    "INSERT INTO change_counter (id, value) VALUES (1, 1) "
                    "ON CONFLICT (id) DO UPDATE SET value = change_counter.value + 1 "
                    "RETURNING value"
                ).scalar_one()
            )
        return self._seq

    def settings(self) -> None:
        """Per-transaction tuning, where the database has any."""

    def start(self, dataset: str) -> None:
        """Called once, before the first batch, with the dataset the import loads."""

    def create(self, *tables: str) -> None:
        for name in tables:
            cols = _TABLES[name].format(int=self.int_type, json=self.json_type, ts=self.ts_type)
            self.conn.exec_driver_sql(f"CREATE {self.temp} TABLE {name} ({cols}){self.suffix}")

    suffix = ""

    def write(self, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        raise NotImplementedError

    def date(self, value: dt.date | None) -> Any:
        return value

    def timestamp(self, value: dt.datetime) -> Any:
        return value

    def upsert_events(self, now: dt.datetime) -> tuple[int, int]:
        """Upsert the staged events; returns (inserted, updated).

        Fills stg_map(ord, event_id, inserted) for the staged rows inserted or changed (except
        SQLite's fresh load, whose event ids follow from `ord`)."""
        raise NotImplementedError

    def clear(self) -> None:
        """Empty the staging tables for the next batch (stg_map is emptied by each upsert)."""
        raise NotImplementedError

    def suspend_constraints(self) -> Callable[[], None] | None:
        """For a big load: stop maintaining indexes and checks row by row (see PostgreSQL)."""
        return None

    # Whether `analyze` does anything here.
    analyzes = False

    def analyze(self) -> None:
        """Fresh planner statistics for the tables an import writes (see PostgreSQL)."""

    # ---- dialect-neutral statements ----

    def replace_children(
        self, now: dt.datetime, claim_sources: list[int], api_key_id: int | None, updated: int
    ) -> None:
        """Actors, tags and the import's own claims of every written event, rewritten.

        `updated`: how many of the batch's events existed before. Without any, the deletes and
        revisions are skipped: on a big load they would scan tables whose indexes are dropped.
        """
        conn = self.conn
        if updated:
            self._clear_updated(claim_sources)
        join, event_id = self._event_of("a")
        conn.execute(
            text(
                "INSERT INTO event_actors (event_id, actor_id, role, status) "  # noqa: S608
                f"SELECT {event_id}, a.actor_id, a.role, 'confirmed' "
                f"FROM stg_actors a {join} ORDER BY a.ord, a.pos"
            ),
            self._event_params(),
        )
        join, event_id = self._event_of("c")
        conn.execute(
            text(
                "INSERT INTO claims (event_id, source_id, via_source_id, kind, stance, assertion, "  # noqa: S608
                f"quote, claimed_on, created_at, updated_at) SELECT {event_id}, k.source_id, "
                "k.via_source_id, k.kind, k.stance, k.assertion, k.quote, k.claimed_on, :now, :now "
                f"FROM stg_claims c {join} "
                "JOIN stg_claim_specs k ON k.spec = c.spec ORDER BY c.ord, c.pos"
            ).bindparams(_now_param()),
            {"now": now, **self._event_params()},
        )
        join, event_id = self._event_of("t")
        conn.execute(
            text(
                "INSERT INTO event_tags (event_id, tag) "  # noqa: S608
                f"SELECT {event_id}, t.tag FROM stg_tags t {join}"
            ),
            self._event_params(),
        )
        # A key deleted before and imported again keeps its tombstone: the old event id stays
        # deleted (ids are never reused); ACLED's /deleted/read hides keys that are live again.
        if updated:
            conn.execute(
                text(
                    "INSERT INTO event_revisions (event_id, version, operation, changed_at, "
                    "api_key_id) SELECT m.event_id, e.version, 'import', :now, :key "
                    "FROM stg_map m JOIN events e ON e.id = m.event_id WHERE NOT m.inserted"
                ).bindparams(_now_param(), bindparam("key", type_=Integer())),
                {"now": now, "key": api_key_id},
            )

    def _event_of(self, alias: str) -> tuple[str, str]:
        """(join, expression): the event id of the staged row `alias`.ord, from the batch's map."""
        return f"JOIN stg_map m ON m.ord = {alias}.ord", "m.event_id"

    def _event_params(self) -> dict[str, Any]:
        return {}

    def _clear_updated(self, claim_sources: list[int]) -> None:
        """The children of the batch's updated events that the import rewrites, deleted."""
        conn = self.conn
        conn.execute(text(f"DELETE FROM event_actors WHERE event_id IN ({_UPDATED})"))  # noqa: S608
        conn.execute(text(f"DELETE FROM event_tags WHERE event_id IN ({_UPDATED})"))  # noqa: S608
        if claim_sources:
            # Only the claims an import made (relayed by, or from, the dataset): claims added
            # through the API stay.
            ids = ", ".join(str(int(i)) for i in claim_sources)
            conn.execute(
                text(
                    f"DELETE FROM claims WHERE event_id IN ({_UPDATED}) "  # noqa: S608
                    f"AND (source_id IN ({ids}) OR via_source_id IN ({ids}))"
                )
            )

    def written(self) -> tuple[int, int]:
        """(inserted, updated) by the batch just upserted."""
        row = self.conn.execute(
            text(
                "SELECT count(*) AS n, coalesce(sum(CASE WHEN inserted THEN 1 ELSE 0 END), 0) AS i "
                "FROM stg_map"
            )
        ).one()
        return int(row.i), int(row.n) - int(row.i)

    def delete_listed(
        self, now: dt.datetime, reason: str, api_key_id: int | None
    ) -> tuple[int, list[int]]:
        """Delete the staged keys' events, leaving tombstones; returns how many went and the
        incidents that lost events (to be regrouped: `links.service.regroup_after_deletions`)."""
        conn = self.conn
        seq = PG_CHANGE_SEQ if conn.dialect.name == "postgresql" else str(self.change_seq())
        conn.exec_driver_sql(
            f"CREATE {self.temp} TABLE stg_gone AS SELECT e.id AS event_id, "  # noqa: S608
            "e.dataset AS dataset, "
            "e.external_id AS external_id, e.version AS version, s.deleted_at AS deleted_at "
            "FROM stg_deletions s JOIN events e "
            "ON e.dataset = s.dataset AND e.external_id = s.external_id"
        )
        conn.execute(
            text(
                "INSERT INTO event_revisions (event_id, version, operation, changed_at, "
                "api_key_id) SELECT event_id, version + 1, 'delete', :now, :key FROM stg_gone"
            ).bindparams(_now_param(), bindparam("key", type_=Integer())),
            {"now": now, "key": api_key_id},
        )
        conn.execute(
            text(
                "INSERT INTO event_tombstones "  # noqa: S608
                "(event_id, dataset, external_id, deleted_at, reason, change_seq) "
                f"SELECT event_id, dataset, external_id, deleted_at, :reason, {seq} "
                "FROM stg_gone WHERE 1 = 1 "
                "ON CONFLICT (event_id) DO NOTHING"
            ),
            {"reason": reason},
        )
        # The incidents that lose events (app/links), read before their memberships go.
        incidents = incidents_of_sync(
            conn, select(column("event_id")).select_from(table_clause("stg_gone"))
        )
        result = conn.execute(
            text("DELETE FROM events WHERE id IN (SELECT event_id FROM stg_gone)")
        )
        return int(result.rowcount), incidents


class PostgresStaging(Staging):
    json_type = "JSONB"
    ts_type = "TIMESTAMPTZ"
    suffix = " ON COMMIT DROP"

    def settings(self) -> None:
        # Memory for the joins and sorts over the staged rows, for this transaction only; the
        # staging tables' buffers (settable before the session's first temp table only).
        self.conn.exec_driver_sql("SET LOCAL work_mem = '256MB'")
        self.conn.exec_driver_sql("SET LOCAL temp_buffers = '256MB'")

    def write(self, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        raw = self.conn.connection.driver_connection
        assert raw is not None
        with raw.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as cp:
            for row in rows:
                cp.write_row(row)

    def suspend_constraints(self) -> Callable[[], None]:
        """Drop the written tables' secondary indexes and foreign keys; returns their restorer.

        What pg_restore does for a big load: one index build and one validating join per
        foreign key cost far less than maintaining them row by row. Inside the transaction,
        so a failure or a kill leaves them as they were; but the tables are locked (ACCESS
        EXCLUSIVE) until commit, which is why only big loads do it.
        """
        conn = self.conn
        params = {"tables": list(BULK_TABLES)}
        indexes = conn.execute(
            text(
                "SELECT i.relname AS name, pg_get_indexdef(i.oid) AS definition FROM pg_index x "
                "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
                "JOIN pg_namespace n ON n.oid = t.relnamespace "
                "WHERE n.nspname = current_schema() AND t.relname = ANY(:tables) "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)"
            ),
            params,
        ).all()
        foreign_keys = conn.execute(
            text(
                "SELECT c.conrelid::regclass::text AS tab, c.conname AS name, "
                "pg_get_constraintdef(c.oid) AS definition FROM pg_constraint c "
                "JOIN pg_class t ON t.oid = c.conrelid "
                "JOIN pg_namespace n ON n.oid = t.relnamespace "
                "WHERE c.contype = 'f' AND n.nspname = current_schema() "
                "AND t.relname = ANY(:tables)"
            ),
            params,
        ).all()
        for fk in foreign_keys:
            conn.exec_driver_sql(f'ALTER TABLE {fk.tab} DROP CONSTRAINT "{fk.name}"')
        for index in indexes:
            conn.exec_driver_sql(f'DROP INDEX "{index.name}"')

        def restore() -> None:
            conn.exec_driver_sql("SET LOCAL maintenance_work_mem = '512MB'")
            for index in indexes:
                conn.exec_driver_sql(index.definition)
            for fk in foreign_keys:
                conn.exec_driver_sql(
                    f'ALTER TABLE {fk.tab} ADD CONSTRAINT "{fk.name}" {fk.definition}'
                )

        return restore

    analyzes = True

    def analyze(self) -> None:
        # Sampled, so about as quick for 1M rows as for 20k (~3 s here); transactional: a
        # rolled-back import leaves the old statistics. (SQLite keeps none unless asked, and
        # plans these queries well without them, so it is left alone.)
        self.conn.exec_driver_sql(
            "ANALYZE events, event_actors, claims, event_tags, places, actors, sources"
        )

    def upsert_events(self, now: dt.datetime) -> tuple[int, int]:
        self.conn.exec_driver_sql("TRUNCATE stg_map")
        self.conn.execute(text(_PG_UPSERT).bindparams(_now_param()), {"now": now})
        self.conn.exec_driver_sql("ANALYZE stg_map")
        return self.written()

    def clear(self) -> None:
        self.conn.exec_driver_sql("TRUNCATE stg_events, stg_actors, stg_claims, stg_tags")


class SqliteStaging(Staging):
    def suspend_constraints(self) -> Callable[[], None]:
        """Drop the written tables' secondary indexes and the full-text insert trigger.

        Measured on 1M ACLED rows: the batches' upserts went from 77 to 32 s, for 21 s of
        rebuilding at the end (SQLite builds an index by sorting). Inside the transaction, so
        a failure or kill leaves the schema as it was; other connections keep reading the
        committed data meanwhile (WAL), and SQLite has one writer anyway.
        """
        conn = self.conn
        indexes = conn.execute(
            text(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                "AND tbl_name IN :tables"
            ).bindparams(bindparam("tables", expanding=True)),
            {"tables": list(BULK_TABLES)},
        ).all()
        trigger = conn.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'events_fts_ai'"
        ).scalar_one()
        before = conn.exec_driver_sql("SELECT coalesce(max(id), 0) FROM events").scalar_one()
        for index in indexes:
            conn.exec_driver_sql(f'DROP INDEX "{index.name}"')
        conn.exec_driver_sql("DROP TRIGGER events_fts_ai")

        def restore() -> None:
            # SQLite sorts an index's keys in memory up to the page cache's size before it
            # spills sorted runs to the temp store: with the cache full of the load's pages that
            # doubled it (2M ACLED rows: 390 MB through the load, 518 MB while indexing). A
            # smaller cache while indexing bounds the two together.
            cache = conn.exec_driver_sql("PRAGMA cache_size").scalar_one()
            conn.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_INDEXING_CACHE_KIB}")
            for index in indexes:
                conn.exec_driver_sql(index.sql)
            # The loaded events, indexed in one pass (SQLite gives new rows ids above the
            # largest; the update and delete triggers stayed, for the rows that existed).
            conn.execute(
                text(
                    "INSERT INTO events_fts (rowid, summary, notes) "
                    "SELECT id, summary, notes FROM events WHERE id > :before"
                ),
                {"before": before},
            )
            conn.exec_driver_sql(trigger)
            conn.exec_driver_sql(f"PRAGMA cache_size = {int(cache)}")

        return restore

    def write(self, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        raw = self.conn.connection.driver_connection
        assert raw is not None
        marks = ", ".join("?" for _ in columns)
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608
        raw.executemany(sql, rows)

    def date(self, value: dt.date | None) -> Any:
        return None if value is None else value.isoformat()

    def timestamp(self, value: dt.datetime) -> Any:
        # The format SQLAlchemy's DateTime writes on SQLite (naive UTC).
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")

    def clear(self) -> None:
        for table in ("stg_events", "stg_actors", "stg_claims", "stg_tags"):
            self.conn.exec_driver_sql(f"DELETE FROM {table}")  # noqa: S608

    def start(self, dataset: str) -> None:
        """A dataset with no event yet is loaded fresh: every staged row is a new event.

        The import holds SQLite's write lock from its first statement to its commit, and the
        file's keys are unique (`SeenKeys`), so nothing can match a staged row: the batches
        skip the lookups of the upsert (`stg_map`) and give their events the ids after the
        largest ever handed out (AUTOINCREMENT's record, as `Resolver` does for places), in
        `ord`er: a staged row's event id is `base + ord`. The unique key stays enforced.
        """
        conn = self.conn
        taken = conn.execute(
            text("SELECT 1 FROM events WHERE dataset = :d LIMIT 1"), {"d": dataset}
        ).first()
        if taken is not None:
            return
        self._base = sqlite_last_id(conn, "events")

    _base: int | None = None

    def _event_of(self, alias: str) -> tuple[str, str]:
        if self._base is None:
            return super()._event_of(alias)
        return "", f"{alias}.ord + :base"

    def _event_params(self) -> dict[str, Any]:
        return {} if self._base is None else {"base": self._base}

    def upsert_events(self, now: dt.datetime) -> tuple[int, int]:
        conn = self.conn
        if self._base is not None:
            result = conn.execute(
                text(
                    f"INSERT INTO events (id, {_COLS}, version, created_at, updated_at, "  # noqa: S608
                    f"change_seq) SELECT ord + :base, {_COLS}, 1, :now, :now, :seq "
                    "FROM stg_events ORDER BY ord"
                ).bindparams(_now_param()),
                {"now": now, "seq": self.change_seq(), "base": self._base},
            )
            return int(result.rowcount), 0
        # Emptied, not dropped and created again: a schema change makes the driver prepare
        # every statement anew, and each of its calls waits for the parsing thread's GIL.
        conn.exec_driver_sql("DELETE FROM stg_map")
        conn.exec_driver_sql(
            "INSERT INTO stg_map (ord, event_id, inserted) SELECT s.ord, e.id, e.id IS NULL "
            "FROM stg_events s LEFT JOIN main.events e "
            "ON e.dataset = s.dataset AND e.external_id = s.external_id "
            "WHERE e.id IS NULL OR e.content_hash IS NOT s.content_hash"
        )
        inserted, updated = self.written()
        if updated:  # any staged row that exists already
            conn.execute(
                text(_SQLITE_UPDATE).bindparams(_now_param()),
                {"now": now, "seq": self.change_seq()},
            )
        conn.execute(
            text(_SQLITE_INSERT).bindparams(_now_param()), {"now": now, "seq": self.change_seq()}
        )
        conn.exec_driver_sql(
            "UPDATE stg_map SET event_id = (SELECT e.id FROM stg_events s JOIN main.events e "
            "ON e.dataset = s.dataset AND e.external_id = s.external_id "
            "WHERE s.ord = stg_map.ord) WHERE inserted"
        )
        return inserted, updated


def sqlite_last_id(conn: Connection, table: str) -> int:
    """SQLite: the largest id `table` ever handed out (AUTOINCREMENT's record, or the largest
    present), 0 for none. The ids after it are free for a writer holding the write lock: a
    deleted row's id is never given again."""
    top = conn.execute(
        text(
            f"SELECT max(coalesce((SELECT max(id) FROM {table}), 0), "  # noqa: S608
            "coalesce((SELECT seq FROM sqlite_sequence WHERE name = :t), 0))"
        ),
        {"t": table},
    ).scalar()
    return int(top or 0)


def vacuum_written(conn: Connection) -> None:
    """VACUUM the tables an import writes row by row (PostgreSQL, after the commit)."""
    conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
        f"VACUUM {', '.join(BULK_TABLES)}"
    )


def staging_for(conn: Connection) -> Staging:
    if conn.dialect.name == "postgresql":
        return PostgresStaging(conn)
    return SqliteStaging(conn)
