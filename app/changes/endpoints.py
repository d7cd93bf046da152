"""GET /v1/changes: what changed and what was deleted, for incremental sync (like ACLED's
/deleted/read). How positions work: app/changes/service.py and docs/queries.md.

Sync without gaps: page through until `next_cursor` is null, then keep `high_water_seq` and
send it as `since_seq` next time. Apply deletions by `event_id` (ids are never reused).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request, Response

from app.auth.dependencies import ReadKey
from app.changes import service
from app.changes.schemas import ChangesQuery
from app.core.deps import SessionDep, SettingsDep
from app.core.querymodel import query_model
from app.core.responses import json_response
from app.core.rest import problems, public_url

router = APIRouter(prefix="/changes", tags=["changes"])


@router.get(
    "",
    summary="Events changed and deleted since a position (or a moment), for incremental sync",
    responses=problems(400, documented={400: "Invalid cursor"}),
)
async def changes(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    query: Annotated[ChangesQuery, query_model(ChangesQuery)],
    _key: ReadKey,
) -> Response:
    """`{changed, deleted, next_cursor, next_url, high_water_seq, high_water_mark}`."""
    page = await service.changes_page(session, query, settings.cursor_secret)
    headers: dict[str, str] = {}
    if page.next_cursor is not None:
        url = public_url(request, request.url.include_query_params(cursor=page.next_cursor))
        page.body["next_cursor"] = page.next_cursor
        page.body["next_url"] = url
        headers["Link"] = f'<{url}>; rel="next"'
    return json_response(page.body, headers=headers)
