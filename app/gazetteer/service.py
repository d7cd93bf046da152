"""The gazetteer's use cases: load the shipped units, attach places to them, match names.

Rules (ARCHITECTURE.md, "The gazetteer"):
- A place's unit comes from its admin1 name when a key of that name (`names.name_keys`, tried
  in order) names a unit of the place's country; the names are Natural Earth's (shipped), and
  those learned from the data.
- A name no unit has is learned from the places that carry it: their points (precision 1 or 2,
  not a country) are located in the polygons, and when at least `LEARN_SHARE` of them (and
  `LEARN_MIN_VOTES` places) fall in
  one unit of that country the name becomes that unit's (source "points") for every place
  that carries it (ACLED's "Rural Damascus": 5 of 7 points in Rif Dimashq, 2 at al-Tanf,
  which Natural Earth draws in Homs).
- A place with coordinates of precision 1 or 2 and no admin1 name, or with a name nobody could
  learn, is attached by point in polygon. Coarser coordinates (a region's or a country's
  centroid) never decide a unit.
- admin2 is kept as the datasets spell it; `admin2_key` is its loosest key, so that a filter
  matches its variants.
"""

from __future__ import annotations

import functools
from collections import Counter, defaultdict
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from app.core.errors import Conflict, NotFound
from app.core.names import fold_name
from app.events import history
from app.gazetteer import data, repository
from app.gazetteer.names import loose_key, name_keys
from app.gazetteer.schemas import AdminUnitName, AdminUnitRead, ResolvedUnits

LEARN_SHARE = 2 / 3
# ... of at least this many places: one or two points learn nothing (a point near a border,
# or a dataset whose admin-1 is coarser than Natural Earth's, as ACLED's Italian regions
# against Natural Earth's provinces).
LEARN_MIN_VOTES = 3
LEARNED = "points"
# Points that are the place or near it (ACLED geo_precision 1, 2) may decide a unit.
PRECISE = frozenset({1, 2, None})


@functools.cache
def reference_rows() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The admin_units and admin_unit_names rows of the shipped file (built once a process)."""
    units: list[dict[str, Any]] = []
    best: dict[tuple[str, str], tuple[int, str, str]] = {}
    ambiguous: set[tuple[str, str]] = set()
    for u in data.units():
        units.append(
            {
                "code": u.code,
                "country_code": u.country,
                "level": 1,
                "name": u.name,
                "unit_type": u.type,
            }
        )
        spellings = [u.code, u.name, *u.aliases]
        for s_rank, spelling in enumerate(spellings):
            for k_rank, key in enumerate(name_keys(spelling)):
                if len(key) > 765:
                    continue
                rank = min(s_rank, 1) * 100 + s_rank * 4 + k_rank
                slot = (u.country, key)
                held = best.get(slot)
                if held is None or rank < held[0]:
                    best[slot] = (rank, u.code, spelling[:255])
                    ambiguous.discard(slot)
                elif rank == held[0] and held[1] != u.code:
                    ambiguous.add(slot)
    names = [
        {
            "country_code": country,
            "name_key": key,
            "unit_code": code,
            "name": spelling,
            "source": repository.SHIPPED,
            "rank": rank,
        }
        for (country, key), (rank, code, spelling) in best.items()
        if (country, key) not in ambiguous
    ]
    return units, names


def load_gazetteer(conn: Connection) -> str:
    """Write the shipped units and names when they differ from what is loaded, then attach
    every place not attached yet. Idempotent; a second run only counts."""
    units, names = reference_rows()
    changed = 0
    if repository.unit_count(conn) != len(units) or repository.shipped_name_count(conn) != len(
        names
    ):
        repository.replace_reference(conn, units, names)
        changed = len(units)
    attached = attach_places(conn)
    return f"gazetteer: {len(units)} admin-1 units ({changed} written), {attached} places attached"


def _lookup(keys: dict[str, str], name: str) -> str | None:
    for key in name_keys(name):
        code = keys.get(key)
        if code is not None:
            return code
    return None


def attach_places(
    conn: Connection, ids: Sequence[int] | None = None, *, own: Collection[int] = ()
) -> int:
    """Attach every place that has no unit yet (see the module's rules), or those of `ids`;
    returns how many got a unit.

    Events show their places' `admin1_code`: the events of every place whose unit changed go
    back into the change feed (`history.touch_events_of_places`), a spelling learned now
    relabelling places that earlier events show. `own`: places the caller's transaction made,
    whose events are in the feed already (an import: touching the events of its own new places
    would rewrite every event it loaded)."""
    rows = repository.unattached(conn, ids)
    if not rows or repository.unit_count(conn) == 0:
        # No units loaded (a schema migrated without `load_reference`): nothing to attach to,
        # and a name learned from the shipped outlines would name a unit that is not there.
        return 0
    keys = repository.keys_of(conn, (r.country_code for r in rows))
    usable = [
        r
        for r in rows
        if r.admin1_code is None
        and r.latitude is not None
        and r.kind != "country"
        and r.geo_precision in PRECISE
    ]
    located = dict(
        zip(
            (r.id for r in usable),
            data.locator().locate(
                [(r.longitude, r.latitude) for r in usable], [r.country_code for r in usable]
            ),
            strict=True,
        )
    )
    by_name: dict[tuple[str, str], str | None] = {}
    votes: dict[tuple[str, str], Counter[str | None]] = defaultdict(Counter)
    for r in rows:
        if r.admin1_code is not None or not r.admin1:
            continue
        slot = (r.country_code, r.admin1)
        if slot not in by_name:
            by_name[slot] = _lookup(keys.get(r.country_code, {}), r.admin1)
        if by_name[slot] is None and r.id in located:
            votes[slot][located[r.id]] += 1
    learned = []
    relabel = []
    # The places attached earlier by their own points vote too.
    earlier = repository.earlier_votes(conn, votes) if votes else {}
    for (country, name), counter in votes.items():
        for code_before, n in earlier.get((country, name), []):
            counter[code_before] += n
        (code, top), total = counter.most_common(1)[0], sum(counter.values())
        key = fold_name(name)
        if code is None or top < max(LEARN_SHARE * total, LEARN_MIN_VOTES):
            continue
        if not key or len(key) > 765:
            continue
        by_name[(country, name)] = code
        relabel.append((country, name, code))
        country_keys = keys.setdefault(country, {})
        for k in name_keys(name):
            if k not in country_keys:
                country_keys[k] = code
                learned.append(
                    {
                        "country_code": country,
                        "name_key": k,
                        "unit_code": code,
                        "name": name[:255],
                        "source": LEARNED,
                        "rank": 1000,
                    }
                )
    repository.learn(conn, learned)
    moved: set[int] = set()
    for country, name, code in relabel:
        moved.update(repository.set_named(conn, country, name, code))
    updates = []
    attached = 0
    for r in rows:
        code = r.admin1_code
        if code is None and r.admin1:
            code = by_name.get((r.country_code, r.admin1))
        if code is None:
            code = located.get(r.id)
        key2 = r.admin2_key if r.admin2_key else (loose_key(r.admin2) if r.admin2 else None)
        if key2 is not None:
            key2 = key2[:765]
        if code != r.admin1_code or key2 != r.admin2_key:
            attached += code is not None and r.admin1_code is None
            updates.append({"pid": r.id, "code": code, "key2": key2})
            if code != r.admin1_code:
                moved.add(r.id)
    repository.set_places(conn, updates)
    history.touch_events_of_places(conn, [i for i in moved if i not in own])
    return attached


def detach_places(conn: Connection, ids: Sequence[int]) -> None:
    """Forget the units of these places (their admin names or coordinates changed)."""
    repository.set_places(conn, [{"pid": i, "code": None, "key2": None} for i in ids])


async def attach(session: AsyncSession, place_ids: Sequence[int], *, renew: bool = False) -> None:
    """`attach_places` for these places, on an async session (API writes, JSON imports, seed)."""

    def run(sync: Session) -> None:
        conn = sync.connection()
        if renew:
            detach_places(conn, place_ids)
        attach_places(conn, place_ids)

    await session.flush()
    await session.run_sync(run)


async def _reads(session: AsyncSession, codes: Sequence[str]) -> list[AdminUnitRead]:
    units = await repository.find_units(session, codes)
    names: dict[str, list[AdminUnitName]] = defaultdict(list)
    seen: set[tuple[str, str]] = set()
    for code, name, source in await repository.names_of(session, codes):
        if (code, name) not in seen:
            seen.add((code, name))
            names[code].append(AdminUnitName(name=name, source=source))
    return [
        AdminUnitRead(
            code=u.code,
            country_code=u.country_code,
            level=u.level,
            name=u.name,
            unit_type=u.unit_type,
            names=names[u.code],
        )
        for u in units
    ]


async def get_unit(session: AsyncSession, code: str) -> AdminUnitRead:
    found = await _reads(session, [code.upper()])
    if not found:
        raise NotFound("admin unit", code)
    return found[0]


async def resolve(session: AsyncSession, name: str, country: str | None) -> ResolvedUnits:
    """Per country, the unit of the first key of `name` that names one."""
    keys = name_keys(name)
    rows = await repository.keys_matching(session, keys, country)
    order = {k: i for i, k in enumerate(keys)}
    best: dict[str, tuple[int, str]] = {}
    for country_code, key, code in rows:
        if country_code not in best or order[key] < best[country_code][0]:
            best[country_code] = (order[key], code)
    if not best:
        raise NotFound("admin unit named", name)
    codes = sorted({code for _, code in best.values()})
    return ResolvedUnits(name=name, units=await _reads(session, codes))


ADDED = "api"


async def add_name(session: AsyncSession, code: str, name: str) -> AdminUnitRead:
    """Add `name` to the unit `code` (see the endpoint); returns the unit as it now reads."""
    code = code.upper()
    units = await repository.find_units(session, [code])
    if not units:
        raise NotFound("admin unit", code)
    country = units[0].country_code
    keys = [k for k in name_keys(name) if len(k) <= 765]
    taken = {
        key: unit_code
        for _, key, unit_code in await repository.keys_matching(session, keys, country)
    }
    others = sorted({c for c in taken.values() if c != code})
    if taken.get(keys[0] if keys else "") not in (None, code):
        raise Conflict(f"{name!r} already names {others[0]} in {country}", code="duplicate")
    new = [
        {
            "country_code": country,
            "name_key": key,
            "unit_code": code,
            "name": name,
            "source": ADDED,
            "rank": 500,
        }
        for key in keys
        if key not in taken
    ]

    def write(sync: Session) -> None:
        conn = sync.connection()
        repository.learn(conn, new)
        repository.set_named(conn, country, name, code)

    await session.run_sync(write)
    # Their places' admin1_code may have changed: the events show it (app/events/history).
    await history.touch_events(session, repository.event_ids_named(country, name))
    return await get_unit(session, code)
