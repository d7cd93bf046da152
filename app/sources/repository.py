"""Every SQL statement of the sources domain (sources and documents)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.core.names import fold_name
from app.models import Claim, Document, Source


async def find_source_by_name(session: AsyncSession, name: str) -> Source | None:
    """The source whose name folds like `name` (an index lookup on the folded key)."""
    stmt = select(Source).where(Source.name_key == fold_name(name))
    return (await session.execute(stmt)).scalars().first()


# ---- sources ----


async def get_source(session: AsyncSession, source_id: int) -> Source | None:
    stmt = (
        select(Source)
        .where(Source.id == source_id)
        .options(selectinload(Source.parent))
        .execution_options(populate_existing=True)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def source_exists(session: AsyncSession, source_id: int) -> bool:
    stmt = select(Source.id).where(Source.id == source_id)
    return (await session.execute(stmt)).first() is not None


async def source_name_taken(session: AsyncSession, name: str, exclude_id: int | None) -> bool:
    stmt = select(Source.id).where(Source.name_key == fold_name(name))
    if exclude_id is not None:
        stmt = stmt.where(Source.id != exclude_id)
    return (await session.execute(stmt.limit(1))).first() is not None


async def source_parent_id(session: AsyncSession, source_id: int) -> int | None:
    stmt = select(Source.parent_id).where(Source.id == source_id)
    return (await session.execute(stmt)).scalar_one_or_none()


@dataclass(frozen=True)
class SourceFilter:
    """What a list of sources is narrowed to; empty lists mean no restriction."""

    q: str | None = None
    kinds: Sequence[str] = field(default_factory=list)
    country_codes: Sequence[str] = field(default_factory=list)
    parent_id: int | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        conds: list[ColumnElement[bool]] = []
        if self.q:
            conds.append(Source.name_key.contains(fold_name(self.q), autoescape=True))
        if self.kinds:
            conds.append(Source.kind.in_(list(self.kinds)))
        if self.country_codes:
            conds.append(Source.country_code.in_(list(self.country_codes)))
        if self.parent_id is not None:
            conds.append(Source.parent_id == self.parent_id)
        return conds


async def list_sources(
    session: AsyncSession, where: SourceFilter, *, after_id: int | None, limit: int
) -> list[Source]:
    stmt = (
        select(Source)
        .where(*where.conditions())
        .order_by(Source.id)
        .limit(limit)
        .options(selectinload(Source.parent))
    )
    if after_id is not None:
        stmt = stmt.where(Source.id > after_id)
    return list((await session.execute(stmt)).scalars().all())


async def count_sources(session: AsyncSession, where: SourceFilter) -> int:
    stmt = select(func.count()).select_from(Source).where(*where.conditions())
    return int((await session.execute(stmt)).scalar_one())


async def source_usage(session: AsyncSession, source_id: int) -> dict[str, int]:
    """What cites the source, by kind (only non-zero kinds)."""
    counts = {
        "claims": select(func.count()).where(
            or_(Claim.source_id == source_id, Claim.via_source_id == source_id)
        ),
        "documents": select(func.count()).where(Document.publisher_id == source_id),
    }
    result: dict[str, int] = {}
    for what, stmt in counts.items():
        n = int((await session.execute(stmt)).scalar_one())
        if n:
            result[what] = n
    return result


async def delete_source(session: AsyncSession, source_id: int) -> None:
    await session.execute(delete(Source).where(Source.id == source_id))


# ---- documents ----


async def get_document(session: AsyncSession, document_id: int) -> Document | None:
    stmt = (
        select(Document)
        .where(Document.id == document_id)
        .options(selectinload(Document.publisher))
        .execution_options(populate_existing=True)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def document_exists(session: AsyncSession, document_id: int) -> bool:
    stmt = select(Document.id).where(Document.id == document_id)
    return (await session.execute(stmt)).first() is not None


async def document_taken(
    session: AsyncSession, title: str, published_on: dt.date | None, exclude_id: int | None
) -> bool:
    """Whether another document has this title and date (an unknown date counts as a value)."""
    stmt = select(Document.id).where(
        Document.title == title, Document.published_on.is_not_distinct_from(published_on)
    )
    if exclude_id is not None:
        stmt = stmt.where(Document.id != exclude_id)
    return (await session.execute(stmt.limit(1))).first() is not None


@dataclass(frozen=True)
class DocumentFilter:
    """What a list of documents is narrowed to; empty lists mean no restriction."""

    q: str | None = None
    publisher_ids: Sequence[int] = field(default_factory=list)
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        conds: list[ColumnElement[bool]] = []
        if self.q:
            # A title search, not an identity, so no stored key: on SQLite lower() folds ASCII
            # only, so a non-ASCII `q` may miss a differently cased title there.
            conds.append(func.lower(Document.title).contains(fold_name(self.q), autoescape=True))
        if self.publisher_ids:
            conds.append(Document.publisher_id.in_(list(self.publisher_ids)))
        if self.date_from is not None:
            conds.append(Document.published_on >= self.date_from)
        if self.date_to is not None:
            conds.append(Document.published_on <= self.date_to)
        return conds


async def list_documents(
    session: AsyncSession, where: DocumentFilter, *, after_id: int | None, limit: int
) -> list[Document]:
    stmt = (
        select(Document)
        .where(*where.conditions())
        .order_by(Document.id)
        .limit(limit)
        .options(selectinload(Document.publisher))
    )
    if after_id is not None:
        stmt = stmt.where(Document.id > after_id)
    return list((await session.execute(stmt)).scalars().all())


async def count_documents(session: AsyncSession, where: DocumentFilter) -> int:
    stmt = select(func.count()).select_from(Document).where(*where.conditions())
    return int((await session.execute(stmt)).scalar_one())


async def document_usage(session: AsyncSession, document_id: int) -> int:
    stmt = select(func.count()).where(Claim.document_id == document_id)
    return int((await session.execute(stmt)).scalar_one())


async def delete_document(session: AsyncSession, document_id: int) -> None:
    await session.execute(delete(Document).where(Document.id == document_id))


def event_ids_citing(source_id: int) -> Select[Any]:
    """Ids of the events with a claim of the source, directly or relayed (via_source)."""
    return select(Claim.event_id).where(
        Claim.event_id.is_not(None),
        or_(Claim.source_id == source_id, Claim.via_source_id == source_id),
    )
