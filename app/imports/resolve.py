"""Places, actors and sources an import refers to: found by natural key, or created.

These tables are small next to the events (thousands of rows against millions), so the import
reads their keys once, up front, and resolves every row in memory: a new place, actor or source
gets an id reserved from its sequence (paths are made of ids) and its INSERT is queued to run,
in order, before the events that use it. Parsing never waits for the database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Connection, bindparam, func, select, text, update

from app.imports.rows import ActorRef, PlaceChain, PlaceLevel, SourceRef
from app.imports.staging import sqlite_last_id
from app.models import ActorNameKey, Place, Source

NewRows = dict[str, list[tuple[Any, ...]]]
Writer = Callable[[str, Sequence[str], list[tuple[Any, ...]]], None]
NEW_COLUMNS = {
    "places": (
        "id",
        "name",
        "kind",
        "country_code",
        "admin1",
        "admin2",
        "admin3",
        "latitude",
        "longitude",
        "geo_precision",
        "parent_id",
        "path",
        "natural_key",
        "created_at",
        "updated_at",
    ),
    # name_key is fold_name(name), as the models' validators set it; the actor's row in
    # actor_name_keys comes from the database's trigger.
    "actors": ("id", "name", "name_key", "actor_type", "created_at", "updated_at"),
    "sources": ("id", "name", "name_key", "kind", "created_at", "updated_at"),
}
# The most ids reserved from a PostgreSQL sequence at once (unused ones are a harmless gap).
ID_BLOCK = 20_000


@dataclass(slots=True, frozen=True)
class ResolvedPlace:
    id: int
    path: str
    name: str
    admin1: str | None
    admin2: str | None
    admin3: str | None
    latitude: float | None
    longitude: float | None

    @classmethod
    def of(cls, row: Any) -> ResolvedPlace:
        return cls(
            row.id,
            row.path,
            row.name,
            row.admin1,
            row.admin2,
            row.admin3,
            row.latitude,
            row.longitude,
        )


class Resolver:
    """Ids for the places, actors and sources of the rows, inside the import's transaction.

    `pending()` hands over the INSERTs for the rows created since the last call.
    """

    def __init__(self, conn: Connection, stamp: Any) -> None:
        self.conn = conn
        # created_at / updated_at of every row the import creates, as the driver takes it.
        self.stamp = stamp
        self.places: dict[str, ResolvedPlace] = {}
        self.country_places: dict[str, ResolvedPlace] = {}
        self.actors: dict[str, int] = {}
        self.sources: dict[str, int] = {}
        self.created = {"places": 0, "actors": 0, "sources": 0}
        # The places this import made (their events are in the change feed with it).
        self.new_place_ids: set[int] = set()
        # Earlier places this import gave coordinates (`_fill`): what their events show changed.
        self.filled_place_ids: set[int] = set()
        self._ids: dict[str, list[int]] = {}
        self._next: dict[str, int] = {}
        self._sequences: dict[str, str] = {}
        self._refills: dict[str, int] = {}
        self._new: NewRows = {"places": [], "actors": [], "sources": [], "fills": []}

    def preload(self) -> None:
        """Every existing place key, actor name and alias, source name (one query each)."""
        conn = self.conn
        cols = (
            Place.id,
            Place.path,
            Place.name,
            Place.admin1,
            Place.admin2,
            Place.admin3,
            Place.latitude,
            Place.longitude,
        )
        stmt = select(Place.natural_key, Place.kind, Place.country_code, *cols).order_by(Place.id)
        for row in conn.execute(stmt):
            resolved = ResolvedPlace.of(row)
            self.places[row.natural_key] = resolved
            if row.kind == "country":
                self.country_places.setdefault(row.country_code, resolved)
        # Actor names and aliases share one key space (actor_name_keys).
        names = select(ActorNameKey.name_key, ActorNameKey.actor_id)
        self.actors.update((key, actor_id) for key, actor_id in conn.execute(names))
        sources = select(Source.name_key, Source.id)
        self.sources.update((key, source_id) for key, source_id in conn.execute(sources))
        for table in ("places", "actors", "sources"):
            if conn.dialect.name == "postgresql":
                stmt2 = text("SELECT pg_get_serial_sequence(:t, 'id')")
                self._sequences[table] = str(conn.execute(stmt2, {"t": table}).scalar_one())
            else:
                # SQLite: the import holds the write lock, so the ids cannot move under it.
                self._next[table] = sqlite_last_id(conn, table) + 1

    def _allocate(self, table: str, count: int) -> list[int]:
        if table in self._next:
            first = self._next[table]
            self._next[table] = first + count
            return list(range(first, first + count))
        pool = self._ids.setdefault(table, [])
        if len(pool) < count:
            # Blocks double (16, 32, ... ID_BLOCK): few wasted ids for a few new rows, few
            # round trips for many.
            refills = self._refills.get(table, 0)
            self._refills[table] = refills + 1
            size = max(count, min(ID_BLOCK, 16 << refills))
            pool.extend(self._reserve(self._sequences[table], size))
        taken, self._ids[table] = pool[:count], pool[count:]
        return taken

    def _reserve(self, sequence: str, count: int) -> list[int]:
        """Ids from a PostgreSQL sequence, through a connection of their own.

        Sequences are not transactional (a rolled-back import leaves a gap, as any rollback
        does), so the import's own connection, busy on the database thread, is not needed.
        """
        with self.conn.engine.connect() as other:
            stmt = text("SELECT nextval(CAST(:s AS regclass)) FROM generate_series(1, :n)")
            ids = [int(i) for i in other.execute(stmt, {"s": sequence, "n": count}).scalars()]
            other.commit()
        return ids

    # ---- places ----

    def resolve_places(self, chains: Iterable[PlaceChain]) -> None:
        """Make sure every level of every chain has an id; afterwards `place(chain)` works."""
        places, countries = self.places, self.country_places
        for chain in chains:
            leaf = chain[-1]
            known = places.get(leaf.key)
            if known is not None:
                if known.latitude is None and leaf.latitude is not None:
                    self._fill(leaf, known)
                continue
            parent: ResolvedPlace | None = None
            for level in chain:
                found = places.get(level.key)
                # A coarse row (a district's or governorate's own coordinates) names a place
                # an earlier row made as a parent, without coordinates: keep them.
                if (
                    found is not None
                    and level is leaf
                    and found.latitude is None
                    and level.latitude is not None
                ):
                    found = self._fill(level, found)
                if found is None and level.kind == "country":
                    # One place per country whatever a dataset calls it ("Myanmar (Burma)").
                    found = countries.get(level.country_code)
                    if found is not None:
                        places[level.key] = found
                if found is None:
                    found = self._new_place(level, parent)
                parent = found

    def _new_place(self, lv: PlaceLevel, parent: ResolvedPlace | None) -> ResolvedPlace:
        [new_id] = self._allocate("places", 1)
        self.new_place_ids.add(new_id)
        path = f"{parent.path if parent else '/'}{new_id}/"
        resolved = ResolvedPlace(
            new_id, path, lv.name, lv.admin1, lv.admin2, lv.admin3, lv.latitude, lv.longitude
        )
        self.places[lv.key] = resolved
        if lv.kind == "country":
            self.country_places.setdefault(lv.country_code, resolved)
        self._new["places"].append(
            (
                new_id,
                lv.name,
                lv.kind,
                lv.country_code,
                lv.admin1,
                lv.admin2,
                lv.admin3,
                lv.latitude,
                lv.longitude,
                lv.geo_precision,
                parent.id if parent else None,
                path,
                lv.key,
                self.stamp,
                self.stamp,
            )
        )
        self.created["places"] += 1
        return resolved

    def _fill(self, lv: PlaceLevel, found: ResolvedPlace) -> ResolvedPlace:
        """Give a place that has no coordinates those of `lv` (written by `write`)."""
        filled = replace(found, latitude=lv.latitude, longitude=lv.longitude)
        for key, value in list(self.places.items()):
            if value is found:
                self.places[key] = filled
        for key, value in list(self.country_places.items()):
            if value is found:
                self.country_places[key] = filled
        self._new["fills"].append((found.id, lv.latitude, lv.longitude, lv.geo_precision))
        if found.id not in self.new_place_ids:
            self.filled_place_ids.add(found.id)
        return filled

    def place(self, chain: PlaceChain) -> ResolvedPlace:
        return self.places[chain[-1].key]

    # ---- actors and sources ----

    def resolve_actors(self, refs: Iterable[ActorRef]) -> None:
        for ref in refs:
            if ref.key in self.actors or ref.actor_type is None:
                continue
            [new_id] = self._allocate("actors", 1)
            self.actors[ref.key] = new_id
            self._new["actors"].append(
                (new_id, ref.name, ref.key, ref.actor_type, self.stamp, self.stamp)
            )
            self.created["actors"] += 1

    def actor(self, ref: ActorRef) -> int | None:
        return self.actors.get(ref.key)

    def resolve_sources(self, refs: Iterable[SourceRef]) -> None:
        for ref in refs:
            if ref.key in self.sources or ref.kind is None:
                continue
            [new_id] = self._allocate("sources", 1)
            self.sources[ref.key] = new_id
            self._new["sources"].append(
                (new_id, ref.name, ref.key, ref.kind, self.stamp, self.stamp)
            )
            self.created["sources"] += 1

    def source(self, ref: SourceRef) -> int | None:
        return self.sources.get(ref.key)

    # ---- writing ----

    def pending(self) -> NewRows | None:
        """The rows created since the last call, for `write` (None when there are none)."""
        if not any(self._new.values()):
            return None
        new, self._new = self._new, {"places": [], "actors": [], "sources": [], "fills": []}
        return new

    def write(self, new: NewRows, writer: Writer) -> None:
        """Insert the created rows (COPY or executemany, like the staging tables); a parent
        comes before its children, as they were created in that order."""
        for table in ("places", "actors", "sources"):
            if new[table]:
                writer(table, NEW_COLUMNS[table], new[table])
        if new["fills"]:
            self.conn.execute(
                update(Place)
                .where(Place.id == bindparam("pid"))
                .values(
                    latitude=bindparam("lat"),
                    longitude=bindparam("lon"),
                    geo_precision=func.coalesce(Place.geo_precision, bindparam("geo")),
                ),
                [{"pid": i, "lat": la, "lon": lo, "geo": g} for i, la, lo, g in new["fills"]],
            )
