"""The project's own shape: a JSON array (or {"items": [...]}) or NDJSON of EventCreate objects.

These rows go through the events service itself, so an imported event means exactly what the
same body POSTed to /v1/events means (actors and sources must exist, places are found or made,
claims, figures and campaigns as the API takes them). That is row by row: fine for thousands of
events; bulk data comes as ACLED or UCDP CSV.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import ProblemError
from app.core.jsonrules import safe_text
from app.events.repository import get_event_by_key
from app.events.schemas import EventCreate
from app.events.service import create_event, replace_event
from app.imports.problems import ImportFailed, ImportReport, Problem

# A JSON array is parsed whole; NDJSON streams. Keep big files in NDJSON (or CSV).
MAX_JSON_BYTES = 256 * 1024 * 1024
Progress = Callable[[int], None]


def _line_of(text: str, offset: int, cache: list[int]) -> int:
    """1-based line of a character offset, counting forward from the last answer."""
    last_offset, last_line = cache
    line = last_line + text.count("\n", last_offset, offset)
    cache[0], cache[1] = offset, line
    return line


def _json_elements(path: Path) -> Iterator[tuple[int, Any]]:
    if path.stat().st_size > MAX_JSON_BYTES:
        raise ImportFailed(f"a JSON array file is limited to {MAX_JSON_BYTES} bytes; use NDJSON")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFailed(f"not UTF-8: {exc}") from None
    decoder = json.JSONDecoder()
    i = len(text) - len(text.lstrip())
    cache = [0, 1]
    if text.startswith("{", i):
        # {"items": [...]} (a page of our own API) is accepted too.
        try:
            body = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ImportFailed(f"line {exc.lineno}: invalid JSON: {exc.msg}") from None
        except RecursionError:
            raise ImportFailed("invalid JSON: nested too deep") from None
        items = body.get("items") if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise ImportFailed('a JSON object must hold the events in "items"')
        for item in items:
            yield 0, item
        return
    if not text.startswith("[", i):
        raise ImportFailed("a JSON import is an array of events (or NDJSON, one per line)")
    i += 1
    while True:
        while i < len(text) and text[i] in " \t\r\n,":
            i += 1
        if i >= len(text):
            raise ImportFailed("the JSON array is not closed")
        if text[i] == "]":
            return
        try:
            obj, end = decoder.raw_decode(text, i)
        except json.JSONDecodeError as exc:
            raise ImportFailed(f"line {exc.lineno}: invalid JSON: {exc.msg}") from None
        except RecursionError:
            raise ImportFailed(f"line {_line_of(text, i, cache)}: nested too deep") from None
        yield _line_of(text, i, cache), obj
        i = end


def _ndjson_elements(path: Path) -> Iterator[tuple[int, Any]]:
    with path.open(encoding="utf-8-sig") as fh:
        for line_no, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                obj = _BadJson(exc.msg)
            except RecursionError:
                obj = _BadJson("nested too deep")
            yield line_no, obj


class _BadJson:
    def __init__(self, msg: str) -> None:
        self.msg = msg


def row_digest(data: EventCreate) -> str:
    body = data.model_dump(mode="json", exclude={"dataset", "external_id"})
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.blake2b(canonical.encode(), digest_size=16).hexdigest()


def parse_native(
    path: Path, fmt: str, dataset: str | None, report: ImportReport
) -> Iterator[tuple[int, EventCreate, str]]:
    """(line, validated event, digest); invalid rows are reported, one problem per field."""
    elements = _ndjson_elements(path) if fmt == "ndjson" else _json_elements(path)
    seen: dict[tuple[str, str], int] = {}
    for index, (line, obj) in enumerate(elements):
        report.rows += 1
        where = line or index + 1
        if isinstance(obj, _BadJson):
            report.add(Problem(where, "", "", f"invalid JSON: {obj.msg}"))
            continue
        if not isinstance(obj, dict):
            report.add(Problem(where, "", _shown(obj), "an event is a JSON object"))
            continue
        if dataset is not None:
            obj.setdefault("dataset", dataset)
        try:
            data = EventCreate.model_validate(obj)
            data = EventCreate.model_validate(data.model_dump(mode="json"))
        except ValidationError as exc:
            external_id = (
                obj.get("external_id") if isinstance(obj.get("external_id"), str) else None
            )
            for err in exc.errors():
                report.add(
                    Problem(
                        where,
                        ".".join(_shown(p) for p in err["loc"]),
                        # A rule about the whole event has no one value to show.
                        _shown(err.get("input")) if err["loc"] else "",
                        err["msg"],
                        "reject",
                        external_id,
                    )
                )
            continue
        digest = row_digest(data)
        if data.external_id is None:
            # No id: one made from the content, so that the same file imports once.
            data.external_id = f"h{digest[:20]}"
        key = (data.dataset, data.external_id)
        if key in seen:
            report.add(
                Problem(
                    where,
                    "external_id",
                    data.external_id,
                    f"duplicate key within the file (first at line {seen[key]})",
                    "reject",
                    data.external_id,
                )
            )
            continue
        seen[key] = where
        yield where, data, digest


async def load_native(
    session: AsyncSession,
    rows: Iterator[tuple[int, EventCreate, str]],
    report: ImportReport,
    *,
    partial: bool,
    api_key_id: int | None,
    progress: Progress | None = None,
) -> None:
    """Create or replace each event through the events service, in the caller's transaction."""
    for n, (line, data, digest) in enumerate(rows, 1):
        if progress is not None and n % 200 == 0:
            progress(n)
        assert data.external_id is not None
        existing = await get_event_by_key(session, data.dataset, data.external_id)
        if existing is not None and existing.content_hash == digest:
            report.unchanged += 1
            continue
        try:
            async with session.begin_nested():
                if existing is None:
                    event = await create_event(session, data, api_key_id=api_key_id)
                else:
                    event = await replace_event(
                        session, existing.id, data, api_key_id=api_key_id, operation="import"
                    )
                event.content_hash = digest
                await session.flush()
        except IntegrityError as exc:
            reason = f"breaks a database constraint: {str(exc.orig).splitlines()[0][:200]}"
            report.add(Problem(line, "", "", reason, "reject", data.external_id))
            continue
        except ProblemError as exc:
            for err in exc.errors or [{"loc": [], "msg": exc.detail}]:
                loc = [p for p in err["loc"] if p != "body"]
                report.add(
                    Problem(
                        line,
                        ".".join(_shown(p) for p in loc),
                        _value_at(data, loc),
                        str(err["msg"]),
                        "reject",
                        data.external_id,
                    )
                )
            continue
        if existing is None:
            report.inserted += 1
        else:
            report.updated += 1


def _value_at(data: EventCreate, loc: list[Any]) -> str:
    node: Any = data.model_dump(mode="json")
    for part in loc:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return ""
    return _shown(node)


def _shown(value: Any) -> str:
    """A rejected value as the report shows it: short, and encodable (no NUL, no surrogate)."""
    if value is None:
        return ""
    try:
        text = value if isinstance(value, str) else str(value)
    except ValueError:  # an integer too long to print
        return "(too long to show)"
    return safe_text(text[:200], 200)
