"""Every SQL statement about import jobs (the import itself is in bulk.py and staging.py).

Jobs are written through their own short transactions, never the import's: a job's status must
be readable while its import runs, and must survive the import's rollback.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import ImportJob
from app.models.base import utcnow


def create_job(engine: Engine, **values: Any) -> int:
    with engine.begin() as conn:
        stmt = insert(ImportJob).values(created_at=utcnow(), **values).returning(ImportJob.id)
        return int(conn.execute(stmt).scalar_one())


def update_job(engine: Engine, job_id: int, **values: Any) -> None:
    with engine.begin() as conn:
        conn.execute(update(ImportJob).where(ImportJob.id == job_id).values(**values))


async def get_job(session: AsyncSession, job_id: int) -> ImportJob | None:
    stmt = select(ImportJob).where(ImportJob.id == job_id).execution_options(populate_existing=True)
    return (await session.execute(stmt)).scalar_one_or_none()
