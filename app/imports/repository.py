"""Every SQL statement about import jobs (the import itself is in bulk.py and staging.py).

Jobs are written through their own short transactions, never the import's: a job's status must
be readable while its import runs, and must survive the import's rollback. One exception:
`job_succeeded`, executed inside the import's transaction just before its commit, so that the
import's data and its job's `succeeded` are committed together or not at all. A job left
`queued` or `running` by a server that died therefore wrote nothing (see recovery.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine, Row, Update, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.imports.problems import ImportReport
from app.models import ImportJob
from app.models.base import utcnow

UNFINISHED = ("queued", "running")
# id, status, format, dataset, rows_read, worker, upload_path
LeftJob = Row[int, str, str, str | None, int, str | None, str | None]


def create_job(engine: Engine, **values: Any) -> int:
    with engine.begin() as conn:
        stmt = insert(ImportJob).values(created_at=utcnow(), **values).returning(ImportJob.id)
        return int(conn.execute(stmt).scalar_one())


def update_job(engine: Engine, job_id: int, **values: Any) -> None:
    with engine.begin() as conn:
        conn.execute(update(ImportJob).where(ImportJob.id == job_id).values(**values))


def fail_job(engine: Engine, job_id: int, error: str) -> None:
    """A job `failed`, unless it has ended already (its import committed: never undone)."""
    stmt = (
        update(ImportJob)
        .where(ImportJob.id == job_id, ImportJob.status.in_(UNFINISHED))
        .values(status="failed", error=error, finished_at=utcnow())
    )
    with engine.begin() as conn:
        conn.execute(stmt)


def job_succeeded(job_id: int, report: ImportReport) -> Update:
    """The job `succeeded`, with its counts and report: in the import's transaction, pre-COMMIT.

    The job's own update after the commit (service.run_job) then completes the report (timings).
    """
    counts = report.counts()
    return (
        update(ImportJob)
        .where(ImportJob.id == job_id)
        .values(
            status="succeeded",
            dataset=report.dataset,
            rows_read=counts.pop("rows"),
            **counts,
            report={**report.as_dict(), "committed": True},
            error=None,
            finished_at=utcnow(),
        )
    )


def jobs_left(engine: Engine) -> Sequence[LeftJob]:
    """What a worker that stopped may have left: jobs unfinished, or whose upload is still kept."""
    stmt = (
        select(
            ImportJob.id,
            ImportJob.status,
            ImportJob.format,
            ImportJob.dataset,
            ImportJob.rows_read,
            ImportJob.worker,
            ImportJob.upload_path,
        )
        .where(or_(ImportJob.status.in_(UNFINISHED), ImportJob.upload_path.is_not(None)))
        .order_by(ImportJob.id)
    )
    with engine.connect() as conn:
        return conn.execute(stmt).all()


def settle_left_job(
    engine: Engine, job_id: int, *, seen_status: str, worker: str | None, **values: Any
) -> bool:
    """Update a job of a stopped worker if it is still as seen; False if anything changed it."""
    stmt = (
        update(ImportJob)
        .where(
            ImportJob.id == job_id,
            ImportJob.status == seen_status,
            ImportJob.worker == worker,
        )
        .values(**values)
    )
    with engine.begin() as conn:
        return conn.execute(stmt).rowcount == 1


async def get_job(session: AsyncSession, job_id: int) -> ImportJob | None:
    stmt = select(ImportJob).where(ImportJob.id == job_id).execution_options(populate_existing=True)
    return (await session.execute(stmt)).scalar_one_or_none()
