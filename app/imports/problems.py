"""What an import reports: rejects and warnings ({line, column, value, reason}), and counts."""

from __future__ import annotations

import csv
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

Severity = Literal["reject", "warning"]
# A report keeps this many problems of each severity in full; the counts are always exact.
REPORT_LIMIT = 1000


@dataclass(slots=True, frozen=True)
class Problem:
    """One bad value: where it is in the file (physical line, column), what it was, and why."""

    line: int
    column: str
    value: str
    reason: str
    severity: Severity = "reject"
    external_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class RowRejected(Exception):
    """Raised inside a parser for a row that cannot be loaded."""

    def __init__(self, column: str, value: object, reason: str) -> None:
        super().__init__(reason)
        self.column = column
        self.value = "" if value is None else str(value)
        self.reason = reason


class ImportFailed(Exception):
    """The file as a whole cannot be imported (unreadable, a required column missing, ...)."""


@dataclass
class ImportReport:
    format: str
    dataset: str | None
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    rejects: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    committed: bool = False
    seconds: float = 0.0
    # Seconds per phase (parse+stage, upsert, commit), for benchmarks and the CLI summary.
    phases: dict[str, float] = field(default_factory=dict)

    @property
    def rejected(self) -> int:
        return len(self.rejects)

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0

    def add(self, problem: Problem) -> None:
        (self.warnings if problem.severity == "warning" else self.rejects).append(problem)

    def counts(self) -> dict[str, int]:
        return {
            "rows": self.rows,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "deleted": self.deleted,
            "rejected": self.rejected,
            "warnings": len(self.warnings),
        }

    def as_dict(self, limit: int = REPORT_LIMIT) -> dict[str, Any]:
        return {
            "format": self.format,
            "dataset": self.dataset,
            **self.counts(),
            "committed": self.committed,
            "seconds": round(self.seconds, 3),
            "rejects": [p.as_dict() for p in self.rejects[:limit]],
            "warnings_list": [p.as_dict() for p in self.warnings[:limit]],
            "truncated": len(self.rejects) > limit or len(self.warnings) > limit,
        }


PROBLEM_COLUMNS = ["line", "column", "value", "reason", "severity", "external_id"]


def write_problems(path: Path, problems: list[Problem]) -> None:
    """Rejects (and warnings) as CSV, one per bad value, in file order."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(PROBLEM_COLUMNS)
        for p in sorted(problems, key=lambda p: (p.line, p.severity, p.column)):
            writer.writerow([p.line, p.column, p.value, p.reason, p.severity, p.external_id or ""])
