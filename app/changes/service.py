"""The change feed: what changed and what was deleted, in commit order, without clocks.

Every write stamps the events it changes (and the tombstones it leaves) with a position,
`change_seq` (app/events/history.py):
- PostgreSQL: the writing transaction's id. Ids are handed out in start order, not commit
  order, so the feed only serves positions below the oldest transaction still running
  (from `pg_current_snapshot()`; transactions that pg_stat_activity shows in another database
  are left out, see repository.high_water): every lower one has ended, and one that commits
  later has a larger id than the mark served. A long-running write delays the feed; it never
  loses a row.
- SQLite: a counter bumped inside each writing transaction. One writer at a time makes the
  counter's order the commit order, and a reader's transaction sees a counter value only with
  the rows written under it.
A client keeps `high_water_seq` and sends it back as `since_seq`: it then gets every change
committed since, whatever the servers' clocks say. `since` (a time) still works, with the
old overlap of SETTLE_SECONDS, for clients that sync by time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.changes import repository
from app.changes.repository import Position
from app.changes.schemas import ChangesQuery
from app.core.errors import BadRequest
from app.core.pagination import decode_cursor, encode_cursor
from app.events.listing import load_event_dicts
from app.events.serialize import utc_iso

SETTLE_SECONDS = 60


@dataclass
class ChangesPage:
    body: dict[str, Any]
    next_cursor: str | None


def _fingerprint(q: ChangesQuery) -> list[Any]:
    return [q.since, q.since_seq, sorted(q.dataset), q.view]


def _position(raw: Any) -> Position | None:
    if raw is None:
        return None
    if (
        not isinstance(raw, list)
        or len(raw) != 2
        or not all(isinstance(x, int) and not isinstance(x, bool) for x in raw)
    ):
        raise ValueError("bad position")
    return raw[0], raw[1]


async def changes_page(session: AsyncSession, query: ChangesQuery, secret: str) -> ChangesPage:
    """One page of the feed; follow `next_cursor`, then keep `high_water_seq`."""
    after_changed = after_deleted = None
    changed_done = deleted_done = False
    if query.cursor:
        payload = decode_cursor(secret, query.cursor)
        if payload.get("f") != _fingerprint(query):
            raise BadRequest(
                "this cursor belongs to another query; restart from the first page",
                code="invalid_cursor",
            )
        try:
            after_changed = _position(payload.get("c"))
            after_deleted = _position(payload.get("d"))
            mark = dt.datetime.fromisoformat(str(payload["m"]))
            upto = int(payload["h"])
            changed_done = bool(payload.get("cd"))
            deleted_done = bool(payload.get("dd"))
        except (KeyError, TypeError, ValueError) as exc:
            raise BadRequest("the cursor is malformed", code="invalid_cursor") from exc
    else:
        upto = await repository.high_water(session)
        since = query.since_at
        mark = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=SETTLE_SECONDS)
        if since is not None and since > mark:
            mark = since
    window: dict[str, Any] = {
        "since_seq": query.since_seq,
        "since": query.since_at,
        "upto": upto,
        "datasets": query.dataset,
        "limit": query.limit,
    }
    changed_rows = (
        []
        if changed_done
        else await repository.changed_page(session, after=after_changed, **window)
    )
    deleted_rows = (
        []
        if deleted_done
        else await repository.deleted_page(session, after=after_deleted, **window)
    )
    more_changed = len(changed_rows) > query.limit
    more_deleted = len(deleted_rows) > query.limit
    changed_rows = changed_rows[: query.limit]
    deleted_rows = deleted_rows[: query.limit]
    if query.view == "full":
        changed = await load_event_dicts(session, [r[1] for r in changed_rows])
    else:
        changed = [
            {
                "id": r[1],
                "dataset": r[2],
                "external_id": r[3],
                "updated_at": utc_iso(r[4]),
                "change_seq": r[0],
            }
            for r in changed_rows
        ]
    deleted = [
        {
            "event_id": t.event_id,
            "dataset": t.dataset,
            "external_id": t.external_id,
            "deleted_at": utc_iso(t.deleted_at),
            "change_seq": t.change_seq,
        }
        for t in deleted_rows
    ]
    body: dict[str, Any] = {
        "changed": changed,
        "deleted": deleted,
        "next_cursor": None,
        "next_url": None,
        "high_water_mark": utc_iso(mark),
        "high_water_seq": max(upto, query.since_seq or 0),
    }
    token = None
    if more_changed or more_deleted:
        last_c = changed_rows[-1] if changed_rows else None
        last_d = deleted_rows[-1] if deleted_rows else None
        token = encode_cursor(
            secret,
            {
                "f": _fingerprint(query),
                "m": mark.isoformat(),
                "h": upto,
                "c": [last_c[0], last_c[1]] if last_c else _raw(after_changed),
                "d": [last_d.change_seq, last_d.id] if last_d else _raw(after_deleted),
                "cd": not more_changed,
                "dd": not more_deleted,
            },
        )
    return ChangesPage(body=body, next_cursor=token)


def _raw(position: Position | None) -> list[int] | None:
    return None if position is None else [position[0], position[1]]
