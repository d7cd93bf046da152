"""Every SQL statement of the gazetteer (synchronous Core, for imports and async callers alike)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Select, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from app.models import AdminUnit, AdminUnitName, Event, Place

SHIPPED = "natural_earth"


def unit_count(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(AdminUnit)).scalar_one())


def shipped_name_count(conn: Connection) -> int:
    stmt = select(func.count()).select_from(AdminUnitName).where(AdminUnitName.source == SHIPPED)
    return int(conn.execute(stmt).scalar_one())


def replace_reference(
    conn: Connection, units: list[dict[str, Any]], names: list[dict[str, Any]]
) -> None:
    """The shipped units and spellings, written anew; learned spellings that a shipped one now
    claims are dropped, the others kept."""
    existing = set(conn.execute(select(AdminUnit.code)).scalars())
    new = [u for u in units if u["code"] not in existing]
    if new:
        conn.execute(insert(AdminUnit), new)
    for u in units:
        if u["code"] in existing:
            conn.execute(
                update(AdminUnit)
                .where(AdminUnit.code == u["code"])
                .values(name=u["name"], unit_type=u["unit_type"], country_code=u["country_code"])
            )
    conn.execute(delete(AdminUnitName).where(AdminUnitName.source == SHIPPED))
    learned = {
        (r.country_code, r.name_key)
        for r in conn.execute(select(AdminUnitName.country_code, AdminUnitName.name_key))
    }
    clash = [n for n in names if (n["country_code"], n["name_key"]) in learned]
    for n in clash:
        conn.execute(
            delete(AdminUnitName).where(
                AdminUnitName.country_code == n["country_code"],
                AdminUnitName.name_key == n["name_key"],
            )
        )
    if names:
        conn.execute(insert(AdminUnitName), names)


def keys_of(conn: Connection, countries: Iterable[str]) -> dict[str, dict[str, str]]:
    """{country: {name_key: unit_code}} for these countries."""
    wanted = sorted(set(countries))
    out: dict[str, dict[str, str]] = {c: {} for c in wanted}
    for i in range(0, len(wanted), 500):
        stmt = select(
            AdminUnitName.country_code, AdminUnitName.name_key, AdminUnitName.unit_code
        ).where(AdminUnitName.country_code.in_(wanted[i : i + 500]))
        for country, key, code in conn.execute(stmt):
            out[country][key] = code
    return out


def unattached(conn: Connection, ids: Sequence[int] | None = None) -> list[Any]:
    """Places the gazetteer has not placed yet, or whose admin2 has no key yet (of `ids`)."""
    stmt = select(
        Place.id,
        Place.kind,
        Place.country_code,
        Place.admin1,
        Place.admin2,
        Place.admin2_key,
        Place.admin1_code,
        Place.latitude,
        Place.longitude,
        Place.geo_precision,
    ).where(
        or_(
            Place.admin1_code.is_(None) & (Place.admin1.is_not(None) | Place.latitude.is_not(None)),
            Place.admin2.is_not(None) & Place.admin2_key.is_(None),
        )
    )
    if ids is not None:
        stmt = stmt.where(Place.id.in_(list(ids)))
    return list(conn.execute(stmt))


def set_places(conn: Connection, values: Sequence[dict[str, Any]]) -> None:
    if not values:
        return
    stmt = (
        update(Place)
        .where(Place.id == bindparam("pid"))
        .values(admin1_code=bindparam("code"), admin2_key=bindparam("key2"))
    )
    conn.execute(stmt, list(values))


def learn(conn: Connection, names: Sequence[dict[str, Any]]) -> None:
    if names:
        conn.execute(insert(AdminUnitName), list(names))


def units_named(keys: Sequence[str]) -> Any:
    """SELECT the codes of the units any of these keys names (in any country)."""
    return select(AdminUnitName.unit_code).where(AdminUnitName.name_key.in_(list(keys)))


def admin1_condition(keys: Sequence[str], folded: Sequence[str]) -> ColumnElement[bool]:
    """A place in a unit one of `keys` names, or whose admin1 is spelled so (a name the
    gazetteer has not learned yet still finds what it was given for)."""
    return or_(
        Place.admin1_code.in_(units_named(keys)),
        func.lower(Place.admin1).in_(list(folded)),
    )


def unit_rows(conn: Connection, codes: Sequence[str]) -> list[Any]:
    stmt = select(AdminUnit).where(AdminUnit.code.in_(list(codes)))
    return list(conn.execute(stmt))


async def find_units(session: AsyncSession, codes: Sequence[str]) -> list[AdminUnit]:
    stmt = select(AdminUnit).where(AdminUnit.code.in_(list(codes))).order_by(AdminUnit.code)
    return list((await session.execute(stmt)).scalars())


async def names_of(session: AsyncSession, codes: Sequence[str]) -> list[Any]:
    """(unit_code, name, source) of these units' keys, shipped before learned, surest first."""
    stmt = (
        select(AdminUnitName.unit_code, AdminUnitName.name, AdminUnitName.source)
        .where(AdminUnitName.unit_code.in_(list(codes)))
        .order_by(AdminUnitName.unit_code, AdminUnitName.rank, AdminUnitName.name)
    )
    return list(await session.execute(stmt))


async def keys_matching(
    session: AsyncSession, keys: Sequence[str], country: str | None
) -> list[Any]:
    """(country_code, name_key, unit_code) of the stored keys among `keys`."""
    stmt = select(
        AdminUnitName.country_code, AdminUnitName.name_key, AdminUnitName.unit_code
    ).where(AdminUnitName.name_key.in_(list(keys)))
    if country is not None:
        stmt = stmt.where(AdminUnitName.country_code == country)
    return list(await session.execute(stmt))


def earlier_votes(
    conn: Connection, slots: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], list[tuple[str, int]]]:
    """{(country, admin1): [(admin1_code, places)]} of the places already attached (by their
    points) that carry these unknown names."""
    wanted = set(slots)
    names = sorted({name for _, name in wanted})
    out: dict[tuple[str, str], list[tuple[str, int]]] = {}
    for i in range(0, len(names), 500):
        stmt = (
            select(Place.country_code, Place.admin1, Place.admin1_code, func.count())
            .where(
                Place.admin1.in_(names[i : i + 500]),
                Place.admin1_code.is_not(None),
                Place.latitude.is_not(None),
                Place.kind != "country",
                or_(Place.geo_precision.is_(None), Place.geo_precision <= 2),
            )
            .group_by(Place.country_code, Place.admin1, Place.admin1_code)
        )
        for country, name, code, n in conn.execute(stmt):
            if name is not None and code is not None and (country, name) in wanted:
                out.setdefault((country, name), []).append((code, int(n)))
    return out


def event_ids_named(country: str, admin1: str) -> Select[Any]:
    """Ids of the events at places that carry the admin1 name (set_named moves them)."""
    places = select(Place.id).where(Place.country_code == country, Place.admin1 == admin1)
    return select(Event.id).where(Event.place_id.in_(places))


def set_named(conn: Connection, country: str, admin1: str, code: str) -> list[int]:
    """Every place that carries the name, in the unit it was learned for; returns the ids of
    those that were in another unit, or none, before."""
    named = (Place.country_code == country, Place.admin1 == admin1)
    moved = select(Place.id).where(*named, Place.admin1_code.is_distinct_from(code))
    ids = list(conn.execute(moved).scalars())
    if ids:
        conn.execute(update(Place).where(*named).values(admin1_code=code))
    return ids
