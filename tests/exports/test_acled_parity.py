"""The ACLED CSV is the same whichever way it is made: PostgreSQL's COPY or Python's rows.

On PostgreSQL GET /v1/events?format=csv is written by the database (COPY); the Python mapping
(acled.acled_row over the streamed export rows) serves SQLite and is the reference. Real UCDP
rows (CC BY 4.0, see tests/aggregates/ucdp_load.py) give varied actors, sources and places.
"""

from __future__ import annotations

import csv
import io

import pytest

from app.core.db import make_engine, make_sessionmaker
from app.events.queries import EventFilters, QueryContext, conditions, ordered
from app.exports.rows import export_columns, stream_export_rows
from app.exports.stream import export_stream
from tests.aggregates.ucdp_load import load_ucdp
from tests.conftest import Api, shared_file

pytestmark = pytest.mark.asyncio


async def python_csv(url: str, dialect: str) -> str:
    engine = make_engine(url)
    try:
        ctx = QueryContext(dialect, False)
        f = EventFilters(sort="id")
        stmt = ordered(f, conditions(f, ctx), None, ctx, *export_columns(dialect), details=True)
        chunks = [
            b
            async for b in export_stream("csv", stream_export_rows(make_sessionmaker(engine), stmt))
        ]
    finally:
        await engine.dispose()
    return b"".join(chunks).decode()


@pytest.mark.parametrize("set_based", [False, True])
async def test_copy_equals_python_rows(
    api: Api, monkeypatch: pytest.MonkeyPatch, set_based: bool
) -> None:
    n = load_ucdp(
        api.database_url, shared_file("ucdp/ged-syria-2016-01-to-2019-11.csv"), limit=3000
    )
    params = {"format": "csv", "sort": "id"}
    if set_based:
        # A whole-table export in id order (no sort= given): lists joined, not looked up.
        monkeypatch.setattr("app.events.reads.SET_BASED_FROM_ROWS", 10)
        del params["sort"]
    r = await api.get("/v1/events", params=params)
    assert r.status_code == 200
    dialect = "postgresql" if api.database_url.startswith("postgresql") else "sqlite"
    expected = await python_csv(api.database_url, dialect)
    got_rows = list(csv.reader(io.StringIO(r.text)))
    want_rows = list(csv.reader(io.StringIO(expected)))
    assert len(got_rows) == n + 1
    for got, want in zip(got_rows, want_rows, strict=True):
        assert got == want
