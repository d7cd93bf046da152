"""Byte streams for the export formats, over chunks of export rows."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Callable
from typing import Any

import orjson

from app.acled import format as acled_format
from app.exports import acled, ucdp
from app.exports.flat import flat_record, geojson_feature
from app.exports.rows import ExportRow

MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8; header=present",
    "geojson": "application/geo+json",
    "ndjson": "application/x-ndjson",
}

SHAPES: dict[str, tuple[tuple[str, ...], dict[str, str], Callable[[ExportRow], list[Any]]]] = {
    "acled": (acled_format.COLUMNS, acled_format.HXL, acled.acled_row),
    "ucdp": (ucdp.COLUMNS, ucdp.HXL, ucdp.ucdp_row),
}


async def csv_bytes(
    chunks: AsyncIterator[list[ExportRow]], shape: str, hxl: bool
) -> AsyncIterator[bytes]:
    columns, tags, to_row = SHAPES[shape]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    if hxl:
        writer.writerow([tags.get(c, "") for c in columns])
    yield buffer.getvalue().encode()
    async for rows in chunks:
        buffer.seek(0)
        buffer.truncate()
        writer.writerows([to_row(r) for r in rows])
        yield buffer.getvalue().encode()


async def ndjson_bytes(chunks: AsyncIterator[list[ExportRow]]) -> AsyncIterator[bytes]:
    async for rows in chunks:
        yield b"".join(orjson.dumps(flat_record(r)) + b"\n" for r in rows)


async def geojson_bytes(chunks: AsyncIterator[list[ExportRow]]) -> AsyncIterator[bytes]:
    yield b'{"type":"FeatureCollection","features":['
    first = True
    async for rows in chunks:
        if not rows:
            continue
        body = b",".join(orjson.dumps(geojson_feature(r)) for r in rows)
        yield body if first else b"," + body
        first = False
    yield b"]}"


def export_stream(
    fmt: str, chunks: AsyncIterator[list[ExportRow]], shape: str = "acled", hxl: bool = False
) -> AsyncIterator[bytes]:
    if fmt == "csv":
        return csv_bytes(chunks, shape, hxl)
    if fmt == "geojson":
        return geojson_bytes(chunks)
    return ndjson_bytes(chunks)


_ACCEPT_TYPES = {
    "application/json": "json",
    "application/*": "json",
    "*/*": "json",
    "text/csv": "csv",
    "text/*": "csv",
    "application/geo+json": "geojson",
    "application/x-ndjson": "ndjson",
    "application/ndjson": "ndjson",
    "application/jsonl": "ndjson",
}
_PREFERENCE = ("json", "csv", "geojson", "ndjson")


def negotiate(fmt: str | None, accept: str | None) -> str | None:
    """The output format: `format=` wins; else the best Accept match; None if nothing fits."""
    if fmt:
        return fmt
    if not accept or not accept.strip():
        return "json"
    best: tuple[float, int, int] | None = None
    choice: str | None = None
    for index, item in enumerate(accept.split(",")):
        media, *params = (p.strip() for p in item.split(";"))
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        found = _ACCEPT_TYPES.get(media.lower())
        if found is None or quality <= 0:
            continue
        # Highest q wins; then a specific type over a wildcard; then the order given.
        rank = (quality, 0 if "*" in media else 1, -index)
        if best is None or rank > best:
            best, choice = rank, found
    return choice


def csv_head(shape: str, hxl: bool) -> bytes:
    columns, tags, _ = SHAPES[shape]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    if hxl:
        writer.writerow([tags.get(c, "") for c in columns])
    return buffer.getvalue().encode()


async def prefixed(head: bytes, body: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    yield head
    async for chunk in body:
        yield chunk
