"""`conflictdb import`: a progress bar with rows/s, then a summary and the rejects."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Literal

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from app.imports.problems import ImportFailed, ImportReport, write_problems
from app.imports.service import ImportRequest, run_import

ProgressMode = Literal["auto", "bar", "lines", "none"]
SHOWN_PROBLEMS = 20


class _Lines:
    """One plain line per batch (for logs, pipes, and tests that watch a running import)."""

    def __init__(self) -> None:
        self.started = time.perf_counter()

    def __call__(self, phase: str, rows: int, bytes_read: int) -> None:
        rate = rows / max(time.perf_counter() - self.started, 1e-9)
        print(f"progress phase={phase} rows={rows} rows_per_s={rate:.0f}", flush=True)


class _Bar:
    def __init__(self, progress: Progress, task: TaskID) -> None:
        self.progress = progress
        self.task = task
        self.started = time.perf_counter()

    def __call__(self, phase: str, rows: int, bytes_read: int) -> None:
        rate = rows / max(time.perf_counter() - self.started, 1e-9)
        label = "reading" if phase == "parse" else "writing"
        self.progress.update(
            self.task, completed=bytes_read, rows=rows, rate=rate, description=label
        )


def import_file(
    database_url: str,
    path: Path,
    fmt: str,
    *,
    dataset: str | None,
    partial: bool,
    rejects_path: Path | None,
    progress: ProgressMode,
    chunk_size: int,
    bulk: bool | None = None,
) -> int:
    """Run the import with a console UI; returns the process exit code."""
    console = Console(stderr=True)
    mode = progress
    if mode == "auto":
        mode = "bar" if console.is_terminal else "none"
    request = ImportRequest(
        path, fmt, dataset=dataset, partial=partial, chunk_size=chunk_size, bulk=bulk
    )
    try:
        if mode == "bar":
            columns = (
                TextColumn("{task.description}"),
                BarColumn(),
                DownloadColumn(),
                TextColumn("{task.fields[rows]:>10,} rows"),
                TextColumn("{task.fields[rate]:>8,.0f} rows/s"),
                TimeElapsedColumn(),
            )
            with Progress(*columns, console=console, transient=False) as bar:
                task = bar.add_task("reading", total=path.stat().st_size, rows=0, rate=0.0)
                request.progress = _Bar(bar, task)
                report = run_import(database_url, request)
                bar.update(task, completed=path.stat().st_size, description="done")
        else:
            if mode == "lines":
                request.progress = _Lines()
            report = run_import(database_url, request)
    except ImportFailed as exc:
        console.print(f"[red]import failed:[/red] {escape(str(exc))}")
        return 1
    except SQLAlchemyError as exc:
        # Rolled back; the first line of the driver's message says what the database refused.
        first = str(getattr(exc, "orig", exc)).splitlines()[0]
        console.print(f"[red]import failed, nothing was written:[/red] {escape(first)}")
        return 1
    if rejects_path is not None and (report.rejects or report.warnings):
        write_problems(rejects_path, report.rejects + report.warnings)
    _summary(console, report, rejects_path)
    if report.rejects and not report.committed:
        return 2
    return 0


def _summary(console: Console, report: ImportReport, rejects_path: Path | None) -> None:
    table = Table(title=f"{report.format} import ({report.dataset})", show_header=False)
    for name, value in report.counts().items():
        table.add_row(name, f"{value:,}")
    table.add_row("seconds", f"{report.seconds:.2f}")
    table.add_row("rows/s", f"{report.rows_per_second:,.0f}")
    table.add_row("committed", "yes" if report.committed else "no")
    console.print(table)
    out = Console(file=sys.stdout)
    out.print(
        "inserted={inserted} updated={updated} unchanged={unchanged} deleted={deleted} "
        "rejected={rejected} warnings={warnings}".format(**report.counts())
        + f" committed={str(report.committed).lower()} seconds={report.seconds:.2f}",
        highlight=False,
        soft_wrap=True,
    )
    for problem in (report.rejects + report.warnings)[:SHOWN_PROBLEMS]:
        console.print(
            f"line {problem.line} [{problem.severity}] {problem.column}={problem.value!r}: "
            f"{problem.reason}",
            highlight=False,
            markup=False,
        )
    more = report.rejected + len(report.warnings) - SHOWN_PROBLEMS
    if more > 0:
        where = f" (all in {rejects_path})" if rejects_path else " (--rejects FILE writes all)"
        console.print(f"... and {more:,} more{where}", markup=False)
    if report.rejects and not report.committed:
        console.print(
            "[yellow]nothing was written (all or nothing); --partial loads the valid rows[/yellow]"
        )
