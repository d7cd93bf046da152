"""Load a UCDP GED file into events, places, actors and claims with bulk Core inserts.

A stand-in for the importer (app/imports) in the aggregate tests: it stores only what the
aggregates need. Data: UCDP GED (CC BY 4.0; Sundberg & Melander 2013, Högbladh 2019).
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from sqlalchemy import insert

from app.core.db import make_sync_engine
from app.core.names import fold_name
from app.models import Actor, Claim, Event, EventActor, Place, Source
from app.models.base import utcnow

SUB_EVENT = {"1": "armed_clash", "2": "armed_clash", "3": "attack"}


def load_ucdp(url: str, path: Path, limit: int | None = None) -> int:
    """Insert the file's rows; returns the number of events."""
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))[:limit]
    now = utcnow()
    places: dict[tuple[str, str, str], dict[str, object]] = {}
    actors: dict[str, dict[str, object]] = {}
    sources: dict[str, dict[str, object]] = {}
    events, links, claims = [], [], []
    for event_id, row in enumerate(rows, start=1):
        key = (row["where_coordinates"], row["adm_1"], row["adm_2"])
        if key not in places:
            pid = len(places) + 1
            places[key] = {
                "id": pid,
                "name": key[0][:255],
                "kind": "village",
                "country_code": "SY",
                "admin1": key[1] or None,
                "admin2": key[2] or None,
                "latitude": float(row["latitude"]),
                "longitude": float(row["longitude"]),
                "path": f"/{pid}/",
                "natural_key": "|".join(key) + f"|{pid}",
                "created_at": now,
                "updated_at": now,
            }
        low, best, high = int(row["low"]), int(row["best"]), int(row["high"])
        start, end = (
            dt.date.fromisoformat(row["date_start"][:10]),
            dt.date.fromisoformat(row["date_end"][:10]),
        )
        events.append(
            {
                "id": event_id,
                "dataset": "ucdp",
                "external_id": row["id"],
                "date_start": start,
                "date_end": end,
                "date_precision": "day" if start == end else "range",
                "sub_event_type_code": SUB_EVENT[row["type_of_violence"]],
                "place_id": places[key]["id"],
                "summary": row["source_headline"][:500] or "-",
                "civilian_targeting": row["type_of_violence"] == "3",
                "fatalities_low": min(low, best, high),
                "fatalities_best": best,
                "fatalities_high": max(low, best, high),
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
        )
        for role, name in (("initiator", row["side_a"]), ("target", row["side_b"])):
            # Names that fold alike are one actor (actors.name_key is unique).
            actor_key = fold_name(name)
            if actor_key not in actors:
                actors[actor_key] = {
                    "id": len(actors) + 1,
                    "name": name,
                    "name_key": actor_key,
                    "actor_type": 1 if name.startswith("Government of") else 2,
                    "created_at": now,
                    "updated_at": now,
                }
            link = {
                "event_id": event_id,
                "actor_id": actors[actor_key]["id"],
                "role": role,
                "status": "confirmed",
            }
            if not any(
                x["actor_id"] == link["actor_id"] and x["event_id"] == event_id for x in links[-1:]
            ):
                links.append(link)
        for office in {s.strip() for s in row["source_office"].split(";") if s.strip()}:
            source_key = fold_name(office[:255])
            if source_key not in sources:
                sources[source_key] = {
                    "id": len(sources) + 1,
                    "name": office[:255],
                    "name_key": source_key,
                    "kind": "other",
                    "created_at": now,
                    "updated_at": now,
                }
            claims.append(
                {
                    "event_id": event_id,
                    "source_id": sources[source_key]["id"],
                    "kind": "occurrence",
                    "stance": "asserts",
                    "assertion": "UCDP GED",
                    "created_at": now,
                    "updated_at": now,
                }
            )
    engine = make_sync_engine(url)
    with engine.begin() as conn:
        conn.execute(insert(Place), list(places.values()))
        conn.execute(insert(Actor), list(actors.values()))
        conn.execute(insert(Source), list(sources.values()))
        conn.execute(insert(Event), events)
        conn.execute(insert(EventActor), links)
        conn.execute(insert(Claim), claims)
        if engine.dialect.name == "postgresql":
            for table in ("places", "actors", "sources", "events"):
                conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
    engine.dispose()
    return len(events)
