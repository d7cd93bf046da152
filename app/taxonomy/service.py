"""The taxonomy is reference data: loaded from seeds/taxonomy.csv by `conflictdb migrate`."""

from __future__ import annotations

import csv
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from app.models import EventType, SubEventType
from app.taxonomy import repository

TAXONOMY_CSV = Path(__file__).resolve().parents[2] / "seeds" / "taxonomy.csv"


async def load_taxonomy(session: AsyncSession, path: Path = TAXONOMY_CSV) -> int:
    """Upsert the event and sub-event types; returns how many rows changed."""
    changed = 0
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    event_types = {row["event_type_code"]: row["event_type_name"] for row in rows}
    for code, name in event_types.items():
        et = await session.get(EventType, code)
        if et is None:
            session.add(EventType(code=code, name=name))
            changed += 1
        elif et.name != name:
            et.name = name
            changed += 1
    await session.flush()
    for row in rows:
        values = {
            "name": row["name"],
            "event_type_code": row["event_type_code"],
            "disorder_type": row["disorder_type"],
            "is_acled": row["is_acled"] == "true",
            "acled_event_type": row["acled_event_type"],
            "acled_sub_event_type": row["acled_sub_event_type"],
            "description": row["description"] or None,
        }
        st = await session.get(SubEventType, row["code"])
        if st is None:
            session.add(SubEventType(code=row["code"], **values))
            changed += 1
        elif any(getattr(st, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(st, k, v)
            changed += 1
    await session.flush()
    return changed


async def list_sub_event_types(session: AsyncSession) -> list[SubEventType]:
    return list(await repository.list_sub_event_types(session))
