"""GET /v1/changes: what changed and what was deleted since a moment (like ACLED's /deleted/read).

Sync without gaps: page through until `next_cursor` is null, then keep `high_water_mark` and send
it as `since` next time. Pages follow (updated_at, id) and (deleted_at, id), so ties on a
timestamp never drop a row. The mark lags the server clock by SETTLE_SECONDS: a write whose
transaction commits after the feed was read but stamped just before it is still seen next time
(the overlap repeats a few rows; clients upsert by id, so repeats are harmless). Apply deletions
by `event_id`: a re-created event gets a new id.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from app.auth.dependencies import ReadKey
from app.changes import repository
from app.changes.schemas import ChangesQuery
from app.core.deps import SessionDep, SettingsDep
from app.core.errors import BadRequest, Problem
from app.core.pagination import decode_cursor, encode_cursor
from app.core.responses import json_response
from app.events.listing import load_event_dicts, utc_iso

router = APIRouter(prefix="/changes", tags=["changes"])

SETTLE_SECONDS = 60


def _position(raw: Any) -> tuple[dt.datetime, int] | None:
    if raw is None:
        return None
    if not isinstance(raw, list) or len(raw) != 2:
        raise ValueError("bad position")
    at = dt.datetime.fromisoformat(str(raw[0]))
    if at.tzinfo is None or isinstance(raw[1], bool) or not isinstance(raw[1], int):
        raise ValueError("bad position")
    return at, raw[1]


def _fingerprint(q: ChangesQuery) -> list[Any]:
    return [q.since, sorted(q.dataset), q.view]


@router.get(
    "",
    summary="Events changed and deleted since a moment, for incremental sync",
    responses={400: {"model": Problem, "description": "Invalid cursor"}},
)
async def changes(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    query: Annotated[ChangesQuery, Query()],
    _key: ReadKey,
) -> Response:
    """`{changed, deleted, next_cursor, next_url, high_water_mark}`; see the module notes."""
    since = query.since_at
    after_changed = after_deleted = None
    changed_done = deleted_done = False
    if query.cursor:
        payload = decode_cursor(settings.cursor_secret, query.cursor)
        if payload.get("f") != _fingerprint(query):
            raise BadRequest(
                "this cursor belongs to another query; restart from the first page",
                code="invalid_cursor",
            )
        try:
            after_changed = _position(payload.get("c"))
            after_deleted = _position(payload.get("d"))
            mark = dt.datetime.fromisoformat(str(payload["m"]))
            changed_done = bool(payload.get("cd"))
            deleted_done = bool(payload.get("dd"))
        except (KeyError, TypeError, ValueError) as exc:
            raise BadRequest("the cursor is malformed", code="invalid_cursor") from exc
    else:
        mark = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=SETTLE_SECONDS)
        if since is not None and since > mark:
            mark = since
    changed_rows = (
        []
        if changed_done
        else await repository.changed_page(
            session, since, query.dataset, after_changed, query.limit
        )
    )
    deleted_rows = (
        []
        if deleted_done
        else await repository.deleted_page(
            session, since, query.dataset, after_deleted, query.limit
        )
    )
    more_changed = len(changed_rows) > query.limit
    more_deleted = len(deleted_rows) > query.limit
    changed_rows = changed_rows[: query.limit]
    deleted_rows = deleted_rows[: query.limit]
    if query.view == "full":
        changed = await load_event_dicts(session, [r[1] for r in changed_rows])
    else:
        changed = [
            {"id": r[1], "dataset": r[2], "external_id": r[3], "updated_at": utc_iso(r[0])}
            for r in changed_rows
        ]
    deleted = [
        {
            "event_id": t.event_id,
            "dataset": t.dataset,
            "external_id": t.external_id,
            "deleted_at": utc_iso(t.deleted_at),
        }
        for t in deleted_rows
    ]
    body: dict[str, Any] = {
        "changed": changed,
        "deleted": deleted,
        "next_cursor": None,
        "next_url": None,
        "high_water_mark": utc_iso(mark),
    }
    headers: dict[str, str] = {}
    if more_changed or more_deleted:
        last_c = changed_rows[-1] if changed_rows else None
        last_d = deleted_rows[-1] if deleted_rows else None
        token = encode_cursor(
            settings.cursor_secret,
            {
                "f": _fingerprint(query),
                "m": mark.isoformat(),
                "c": [last_c[0].isoformat(), last_c[1]] if last_c else _raw(after_changed),
                "d": [last_d.deleted_at.isoformat(), last_d.id] if last_d else _raw(after_deleted),
                "cd": not more_changed,
                "dd": not more_deleted,
            },
        )
        url = request.url.include_query_params(cursor=token)
        body["next_cursor"] = token
        body["next_url"] = str(url)
        headers["Link"] = f'<{url}>; rel="next"'
    return json_response(body, headers=headers)


def _raw(position: tuple[dt.datetime, int] | None) -> list[Any] | None:
    return None if position is None else [position[0].isoformat(), position[1]]
