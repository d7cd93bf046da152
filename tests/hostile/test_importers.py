"""Hostile values in every column of the ACLED and UCDP files: the importers reject or repair
each with its line and column, never crash, and every read still answers afterwards.

One file per format: the fixture's first row, then one row per (column, hostile value), each with
its own id, loaded with partial=true so that the rows that pass are written beside the rejects.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from tests.conftest import Api
from tests.imports.support import FIXTURES, run_file

pytestmark = pytest.mark.asyncio

HOSTILE = [
    "\x00",
    "a\x00b",
    "1180591620717411303424",
    "-1180591620717411303424",
    "NaN",
    "Infinity",
    "-1e309",
    "1e308",
    "9" * 400,
    "x" * 70_000,
    "\ufffd\ufffe",
    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
    '{"a": {"b": [1, 2, {"c": null}]}}',
    "' OR 1=1 --",
    "",
    " ",
    "-1",
    "2147483648",
    "0001-01-01",
    "9999-12-31",
    "2022-02-30",
]


def hostile_file(template: Path, id_column: str, out: Path) -> tuple[Path, int]:
    with template.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        columns = list(reader.fieldnames or [])
        base = next(reader)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerow(base)
    cases = 0
    for column in columns:
        if column == id_column:
            continue
        for value in HOSTILE:
            row = dict(base)
            row[column] = value
            row[id_column] = f"{base[id_column]}{cases + 1000}"
            writer.writerow(row)
            cases += 1
    out.write_bytes(buffer.getvalue().encode("utf-8", "surrogatepass"))
    return out, cases


@pytest.mark.parametrize(
    ("fmt", "template", "id_column"),
    [
        ("acled", FIXTURES / "acled-current.csv", "event_id_cnty"),
        ("ucdp", FIXTURES / "ucdp-syria-excerpt.csv", "id"),
    ],
)
async def test_every_column_takes_every_hostile_value(
    api: Api, tmp_path: Path, fmt: str, template: Path, id_column: str
) -> None:
    path, cases = hostile_file(template, id_column, tmp_path / f"{fmt}.csv")
    report = await run_file(api.database_url, path, fmt, partial=True)
    print(
        f"\n[{fmt}] {cases} hostile rows: inserted={report.inserted} "
        f"rejected={report.rejected} warnings={len(report.warnings)}"
    )
    assert report.committed
    assert report.inserted + report.rejected == cases + 1
    for problem in report.rejects:
        assert problem.line >= 2 and problem.reason
    for url in (
        "/v1/events?limit=1000",
        "/v1/events?format=csv",
        "/v1/events?format=ndjson",
        "/v1/events?format=geojson",
        "/v1/events?format=csv&shape=ucdp",
        "/v1/aggregates?group_by=country",
        "/v1/aggregates?interval=month",
        "/v1/changes",
        "/acled/acled/read?limit=0",
    ):
        r = await api.get(url)
        assert r.status_code == 200, (url, r.text[:300])
