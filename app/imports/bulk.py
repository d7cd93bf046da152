"""The bulk loader for dataset files: parse in batches, stage, upsert set-based, in ONE transaction.

Batch by batch the parser's rows get their places, actors and sources resolved (found, or
created with reserved ids), then go into TEMP staging tables (COPY on PostgreSQL), and a handful
of set-based statements upsert the batch's events by natural key, skipping rows whose content
digest is unchanged, and rewrite the actors, claims and tags of the events written. The database
work of one batch runs on a second thread while the next is parsed. A reject in the default
all-or-nothing mode rolls everything back; `partial` commits the valid rows. Because it is one
transaction, a crash or kill -9 at any moment leaves the database as it was.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson
from sqlalchemy import Connection, text

from app.core.gcpolicy import spaced_collections
from app.events import history
from app.gazetteer.service import attach_places
from app.imports.keys import SeenKeys, batches
from app.imports.pipeline import DbThread
from app.imports.problems import ImportReport, Problem
from app.imports.resolve import NewRows, Resolver
from app.imports.rows import ClaimSpec, EventRow, PlaceLevel, SourceRef
from app.imports.staging import (
    ACTOR_COLUMNS,
    CLAIM_COLUMNS,
    CLAIM_SPEC_COLUMNS,
    EVENT_COLUMNS,
    TAG_COLUMNS,
    Staging,
    staging_for,
)
from app.models.base import utcnow

CHUNK = 20_000
# Loads of at least this many rows, into an events table at most half as big, rebuild the
# written tables' indexes and foreign keys at the end instead of maintaining them per row.
BULK_MIN_ROWS = 50_000
# Imports that write at least this many events refresh the planner's statistics of the tables
# they wrote, in their transaction (as pg_restore advises after a load): measured on 1M imported
# events with no statistics yet, a page of 100 nested events took 294 ms; after ANALYZE, 21 ms.
ANALYZE_MIN_ROWS = 10_000
# Part of every content digest: bump it when the reading of a file changes, so that the next
# import rewrites every event instead of calling them unchanged.
DIGEST_VERSION = 1
ProgressFn = Callable[[str, int, int], None]


class EventParser(Protocol):
    format: str
    dataset: str
    keeps_place_differences: bool
    one_claim_per_source: bool

    def events(self, report: ImportReport) -> Iterator[EventRow]: ...


@dataclass
class BulkOptions:
    partial: bool = False
    api_key_id: int | None = None
    chunk_size: int = CHUNK
    progress: ProgressFn | None = None
    bytes_read: Callable[[], int] = lambda: 0
    # True / False force the big-load path (see BULK_MIN_ROWS); None decides by size.
    bulk: bool | None = None
    # The file's size, to tell a big load from its first batch.
    total_bytes: int = 0
    # Sources whose claims an update of the dataset's events replaces (ACLED, UCDP GED).
    dataset_sources: list[SourceRef] = field(default_factory=list)


class _Stager:
    """Turns normalized rows into staging tuples with ids, a digest each."""

    def __init__(self, parser: EventParser, staging: Staging, resolver: Resolver) -> None:
        self.parser = parser
        self.staging = staging
        self.resolver = resolver
        self.ord = 0
        self.staged = 0
        # What each (reused) role object resolved to: the staged (actor id, role, status,
        # note), its (actor, role) pair (an event names each once) and its repr (the digest's).
        self._role_ids: dict[Any, tuple[tuple[Any, ...], tuple[Any, Any], str]] = {}
        # Each distinct claim: (spec id, source id, via source id), its row staged once; and the
        # repr of its (source id, via source id), the digest's.
        self._claim_specs: dict[Any, tuple[int, int | None, int | None]] = {}
        self._claim_reprs: dict[int, str] = {}
        # Per place chain (by identity: parsers reuse one per distinct place): the chain, what
        # it resolved to and what its row says that the resolved place doesn't.
        self._differences: dict[int, tuple[Any, Any, dict[str, Any] | None]] = {}
        self.now = utcnow()
        self.owned_sources: list[int] = []
        self.api_key_id: int | None = None
        # Set once a reject makes the import all-or-nothing-failed: nothing more to upsert.
        self.skip_upserts = False

    def stage(self, rows: list[EventRow], report: ImportReport, db: DbThread) -> None:
        """Resolve the batch (on the database thread, if anything is new), build its staging
        tuples here, and queue their writing and upsert for the database thread."""
        started = time.perf_counter()
        resolver = self.resolver
        resolver.resolve_places(r.place for r in rows if r.place)
        resolver.resolve_actors(a.actor for r in rows for a in r.actors if a not in self._role_ids)
        resolver.resolve_sources(
            s
            for r in rows
            for c in r.claims
            if c not in self._claim_specs
            for s in (c.source, c.via_source)
            if s is not None
        )
        new_rows = resolver.pending()
        resolved_at = time.perf_counter()
        _add(report.phases, "resolve", resolved_at - started)
        date, dataset = self.staging.date, self.parser.dataset
        keep_differences = self.parser.keeps_place_differences
        by_source = self.parser.one_claim_per_source
        role_ids, claim_specs, claim_reprs = self._role_ids, self._claim_specs, self._claim_reprs
        differences = self._differences
        n = self.ord
        new_specs: list[tuple[Any, ...]] = []
        dumps, sort_keys, blake2b = orjson.dumps, orjson.OPT_SORT_KEYS, hashlib.blake2b
        events: list[tuple[Any, ...]] = []
        actors: list[tuple[Any, ...]] = []
        claims: list[tuple[Any, ...]] = []
        tags: list[tuple[Any, ...]] = []
        for row in rows:
            extras = row.extras
            place_id = row.place_id
            if row.place:
                resolved = resolver.place(row.place)
                place_id = resolved.id
                if keep_differences:
                    known = differences.get(id(row.place))
                    if known is None or known[0] is not row.place or known[1] is not resolved:
                        known = (row.place, resolved, _place_differences(row.place[-1], resolved))
                        differences[id(row.place)] = known
                    if known[2]:
                        extras = {**(extras or {}), **known[2]}
            event_actors: list[tuple[Any, ...]] = []
            actor_reprs: list[str] = []
            seen: set[Any] = set()
            unresolved = None
            for i, link in enumerate(row.actors):
                cached = role_ids.get(link)
                if cached is None:
                    actor_id = resolver.actor(link.actor)
                    if actor_id is None:
                        unresolved = (i, link.actor.name)
                        break
                    resolved_role = (actor_id, link.role, link.status, link.note)
                    cached = (resolved_role, resolved_role[:2], repr(resolved_role))
                    role_ids[link] = cached
                if cached[1] not in seen:
                    seen.add(cached[1])
                    event_actors.append(cached[0])
                    actor_reprs.append(cached[2])
            if unresolved is not None:
                report.add(
                    Problem(
                        row.line,
                        f"actors.{unresolved[0]}",
                        unresolved[1],
                        "unknown actor",
                        "reject",
                        row.external_id,
                    )
                )
                continue
            event_claims: list[tuple[int, int | None, int | None]] = []
            claim_texts: list[str] = []
            seen.clear()
            for claim in row.claims:
                spec = claim_specs.get(claim)
                if spec is None:
                    spec = self._new_spec(claim, new_specs)
                    claim_specs[claim] = spec
                    claim_reprs[spec[0]] = repr(spec[1:])
                source_id = spec[1]
                if source_id is None or (by_source and source_id in seen):
                    continue
                seen.add(source_id)
                event_claims.append(spec)
                claim_texts.append(claim_reprs[spec[0]])
            extras_json = dumps(extras, option=sort_keys).decode() if extras else None
            start = date(row.date_start)
            # Most events are dated to one day: its text once.
            end = start if row.date_end == row.date_start else date(row.date_end)
            values = (
                dataset,
                row.external_id,
                start,
                end,
                row.date_precision,
                row.sub_event_type_code,
                place_id,
                row.geo_precision,
                row.summary,
                row.notes,
                row.civilian_targeting,
                row.fatalities_low,
                row.fatalities_best,
                row.fatalities_high,
                row.type_of_violence,
                row.conflict_id,
                row.dyad_id,
                extras_json,
            )
            if row.source_text is not None:
                # The raw record decides everything else; what the database resolved it to
                # (place, actors, sources) and what the place could not hold are added.
                # (The reprs of `event_actors` and of its claims' (source, via) pairs, joined
                # from each one's repr made once.)
                text = (
                    f"{DIGEST_VERSION}\x1e{row.source_text}\x1e{place_id}\x1e{extras_json}"
                    f"\x1e[{', '.join(actor_reprs)}]\x1e[{', '.join(claim_texts)}]"
                )
            else:
                text = repr((values, event_actors, event_claims, row.tags))
            digest = blake2b(text.encode(), digest_size=16).hexdigest()
            n += 1
            events.append((n, *values, digest))
            for pos, a in enumerate(event_actors):
                actors.append((n, pos, a[0], a[1]))
            for pos, c in enumerate(event_claims):
                claims.append((n, pos, c[0]))
            for tag in row.tags:
                tags.append((n, tag))
        self.ord = n
        _add(report.phases, "build", time.perf_counter() - resolved_at)
        self.staged += len(events)
        # Staged here, once the previous batch's upsert is done (the connection is free then):
        # the driver binds each row in Python, and beside a database thread that needs the GIL
        # too, it waited for it row after row (1M ACLED rows on SQLite: 77 s of wall time for
        # 15 s of work). The upsert, all in the database, runs on the thread meanwhile.
        db.run(self._write, new_rows, new_specs, events, actors, claims, tags, report)
        if not self.skip_upserts:
            db.submit(self._upsert, report)

    def _new_spec(
        self, claim: ClaimSpec, new_specs: list[tuple[Any, ...]]
    ) -> tuple[int, int | None, int | None]:
        source_id = self.resolver.source(claim.source)
        via_id = self.resolver.source(claim.via_source) if claim.via_source else None
        spec = len(self._claim_specs) + 1
        new_specs.append(
            (
                spec,
                source_id,
                via_id,
                claim.kind,
                claim.stance,
                claim.assertion,
                claim.quote,
                self.staging.date(claim.claimed_on),
            )
        )
        return spec, source_id, via_id

    def _write(
        self,
        new_rows: NewRows | None,
        new_specs: list[tuple[Any, ...]],
        events: list[tuple[Any, ...]],
        actors: list[tuple[Any, ...]],
        claims: list[tuple[Any, ...]],
        tags: list[tuple[Any, ...]],
        report: ImportReport,
    ) -> None:
        """Stage one batch (and the places, actors and sources it created)."""
        started = time.perf_counter()
        if new_rows is not None:
            self.resolver.write(new_rows, self.staging.write)
            _add(report.phases, "db_new_dims", time.perf_counter() - started)
        write = self.staging.write
        write("stg_claim_specs", CLAIM_SPEC_COLUMNS, new_specs)
        write("stg_events", EVENT_COLUMNS, events)
        write("stg_actors", ACTOR_COLUMNS, actors)
        write("stg_claims", CLAIM_COLUMNS, claims)
        write("stg_tags", TAG_COLUMNS, tags)
        _add(report.phases, "db_stage", time.perf_counter() - started)

    def _upsert(self, report: ImportReport) -> None:
        """On the database thread: move the staged batch into the real tables."""
        started = time.perf_counter()
        now = self.now
        inserted, updated = self.staging.upsert_events(now)
        self.staging.replace_children(now, self.owned_sources, self.api_key_id, updated)
        report.inserted += inserted
        report.updated += updated
        self.staging.clear()
        _add(report.phases, "db_upsert", time.perf_counter() - started)


def _add(phases: dict[str, float], name: str, seconds: float) -> None:
    phases[name] = phases.get(name, 0.0) + seconds


def _place_differences(leaf: PlaceLevel, resolved: Any) -> dict[str, Any] | None:
    """What a row says about its place that the stored place doesn't (a lossless export)."""
    diff: dict[str, Any] = {}
    if leaf.latitude is not None and (
        leaf.latitude != resolved.latitude or leaf.longitude != resolved.longitude
    ):
        diff["latitude"] = leaf.latitude
        diff["longitude"] = leaf.longitude
    for name, mine, theirs in (
        ("location", leaf.name, resolved.name),
        ("admin1", leaf.admin1, resolved.admin1),
        ("admin2", leaf.admin2, resolved.admin2),
        ("admin3", leaf.admin3, resolved.admin3),
    ):
        if mine != theirs:
            diff[name] = mine or ""
    return diff or None


def load_events(
    conn: Connection, parser: EventParser, report: ImportReport, options: BulkOptions
) -> None:
    """Stage and upsert the parser's rows on `conn`, inside the caller's transaction.

    Parsing and building run on this thread; staging and upserting each batch run on a
    database thread meanwhile (the drivers release the GIL while the database works), so the
    two cores work at once. All statements still go through the one connection, in order.
    """
    started = time.perf_counter()
    staging = staging_for(conn)
    staging.settings()
    staging.create(
        "stg_events", "stg_actors", "stg_claims", "stg_tags", "stg_claim_specs", "stg_map"
    )
    staging.start(parser.dataset)
    db = DbThread()
    resolver = Resolver(conn, staging.timestamp(utcnow()))
    resolver.preload()
    stager = _Stager(parser, staging, resolver)
    stager.api_key_id = options.api_key_id
    resolver.resolve_sources(options.dataset_sources)
    stager.owned_sources = [
        i for i in (resolver.source(s) for s in options.dataset_sources) if i is not None
    ]
    if (new_rows := resolver.pending()) is not None:
        resolver.write(new_rows, staging.write)
    seen = SeenKeys()
    progress = options.progress
    restore: Callable[[], None] | None = None

    with db, closing(seen), spaced_collections():
        for n, parsed in enumerate(batches(parser.events(report), options.chunk_size)):
            batch = seen.fresh(parsed, report)
            if report.rejects and not options.partial:
                # All or nothing: nothing will be committed, so the rest of the file is only
                # checked, not staged.
                stager.skip_upserts = True
            else:
                if n == 0:
                    estimate = _estimate_rows(report.rows, options)
                    if db.run(_is_big, conn, estimate, options.bulk):
                        restore = db.run(staging.suspend_constraints)
                stager.stage(batch, report, db)
            if progress is not None:
                progress("parse", report.rows, options.bytes_read())
        report.phases["read"] = time.perf_counter() - started
        # Duplicates are found batch by batch, after the parser's own rejects of the batch.
        report.rejects.sort(key=lambda p: p.line)
        if progress is not None:
            progress("upsert", report.rows, options.bytes_read())
        drain = time.perf_counter()
    finished = time.perf_counter()
    report.phases["drain"] = finished - drain
    if report.rejects and not options.partial:
        return
    if restore is not None:
        restore()
        report.phases["rebuild"] = time.perf_counter() - finished
    report.unchanged = stager.staged - report.inserted - report.updated
    attaching = time.perf_counter()
    # The new places' admin-1 units (app/gazetteer); earlier places it relabels bring their
    # events back into the change feed.
    attach_places(conn, own=resolver.new_place_ids)
    # Earlier places the import gave coordinates: their earlier events show them now.
    history.touch_events_of_places(conn, resolver.filled_place_ids)
    report.phases["gazetteer"] = time.perf_counter() - attaching
    if staging.analyzes and report.inserted + report.updated >= ANALYZE_MIN_ROWS:
        analyzed = time.perf_counter()
        staging.analyze()
        report.phases["analyze"] = time.perf_counter() - analyzed
    report.phases["finish"] = time.perf_counter() - finished


def _estimate_rows(rows_so_far: int, options: BulkOptions) -> int:
    done = options.bytes_read()
    if done <= 0 or options.total_bytes <= 0:
        return rows_so_far
    return int(rows_so_far * max(options.total_bytes / done, 1.0))


def _is_big(conn: Connection, rows: int, bulk: bool | None) -> bool:
    """A large load into a table at most half its size: rebuild indexes, don't maintain them.

    (Not for a re-import of the whole table: its updates delete children per batch, which
    wants the indexes.)
    """
    if bulk is not None:
        return bulk
    if rows < BULK_MIN_ROWS:
        return False
    existing = conn.execute(text("SELECT count(*) FROM events")).scalar_one()
    return rows >= 2 * int(existing)


__all__ = ["BulkOptions", "load_events"]
