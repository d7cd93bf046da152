"""CSV files read by header name, with the physical line where each record starts."""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from app.imports.problems import ImportFailed, ImportReport, Problem

# Notes and source texts can be long; the csv module's default limit is 128 KiB.
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


@dataclass
class CsvFile:
    """An open CSV: its header, and `bytes_read()` for progress."""

    raw: BinaryIO
    text: io.TextIOWrapper
    header: list[str]
    reader: Iterator[list[str]]
    line_num: int = 1

    def bytes_read(self) -> int:
        return self.raw.tell()

    def records(self) -> Iterator[tuple[int, list[str]]]:
        """(line where the record starts, fields); blank lines are skipped."""
        reader = self.reader
        last: int = reader.line_num  # type: ignore[attr-defined]
        while True:
            try:
                fields = next(reader)
            except StopIteration:
                return
            except (csv.Error, UnicodeDecodeError) as exc:
                raise ImportFailed(f"line {last + 1}: the CSV cannot be read: {exc}") from None
            start = last + 1
            last = reader.line_num  # type: ignore[attr-defined]
            if fields:
                yield start, fields

    def full_records(self, report: ImportReport) -> Iterator[tuple[int, list[str]]]:
        """`records()` counted in the report, a record whose width is not the header's
        rejected there (and not yielded)."""
        width = len(self.header)
        for line, rec in self.records():
            report.rows += 1
            if len(rec) != width:
                reason = f"the row has {len(rec)} fields, the header {width}"
                report.add(Problem(line, "", str(len(rec)), reason))
                continue
            if "\x00" in "".join(rec):
                bad = next(i for i, value in enumerate(rec) if "\x00" in value)
                # No database keeps a NUL in text (PostgreSQL refuses it): the row is refused.
                value = rec[bad].replace("\x00", "\\x00")[:200]
                report.add(Problem(line, self.header[bad], value, "contains a NUL character"))
                continue
            yield line, rec

    def close(self) -> None:
        self.text.close()


def open_csv(path: Path) -> CsvFile:
    raw = path.open("rb")
    text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
    reader = csv.reader(text)
    try:
        header = next(reader)
    except StopIteration:
        text.close()
        raise ImportFailed("the file is empty") from None
    except (csv.Error, UnicodeDecodeError) as exc:
        text.close()
        raise ImportFailed(f"not a readable UTF-8 CSV file: {exc}") from None
    header = [h.strip() for h in header]
    if len(set(header)) != len(header):
        text.close()
        dupes = sorted({h for h in header if header.count(h) > 1})
        raise ImportFailed(f"the header repeats column(s) {', '.join(dupes)}")
    return CsvFile(raw, text, header, reader)


def require_columns(header: list[str], required: tuple[str, ...], what: str) -> None:
    missing = [c for c in required if c not in header]
    if missing:
        raise ImportFailed(f"not {what}: the header lacks {', '.join(missing)}")
