"""Source and document use cases: unique names, people under organisations, no lost citations."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import Conflict, Invalid, NotFound
from app.core.etag import IfMatch
from app.core.preconditions import require_current
from app.core.unique import unique_or_conflict
from app.events import history
from app.models import Document, Source
from app.sources import repository
from app.sources.repository import DocumentFilter, SourceFilter
from app.sources.schemas import (
    DocumentCreate,
    DocumentPatch,
    DocumentQuery,
    DocumentRead,
    SourceCreate,
    SourcePatch,
    SourceQuery,
    SourceRead,
)

_MAX_DEPTH = 1000


def _listed(usage: dict[str, int]) -> str:
    return ", ".join(f"{n} {what}" for what, n in usage.items())


# ---- sources ----


async def represent_source(session: AsyncSession, source_id: int) -> dict[str, Any]:
    """A source as GET shows it (its ETag is the hash of this)."""
    return SourceRead.model_validate(await get_source(session, source_id)).model_dump(mode="json")


async def get_source(session: AsyncSession, source_id: int) -> Source:
    source = await repository.get_source(session, source_id)
    if source is None:
        raise NotFound("source", source_id)
    return source


def _name_taken(name: str) -> str:
    return f"a source named {name!r} already exists (names are compared ignoring case)"


async def _check_name_free(session: AsyncSession, name: str, source_id: int | None) -> None:
    if await repository.source_name_taken(session, name, source_id):
        raise Conflict(_name_taken(name), code="duplicate")


async def _check_parent(session: AsyncSession, own_id: int | None, parent_id: int) -> None:
    """The parent exists and is not `own_id` itself or one of its affiliates."""
    if not await repository.source_exists(session, parent_id):
        raise Invalid(["body", "parent_id"], f"source {parent_id} does not exist")
    if own_id is None:
        return
    current: int | None = parent_id
    for _ in range(_MAX_DEPTH):
        if current is None:
            return
        if current == own_id:
            raise Invalid(["body", "parent_id"], "a source cannot speak for itself")
        current = await repository.source_parent_id(session, current)


async def list_sources(
    session: AsyncSession, query: SourceQuery, after_id: int | None
) -> tuple[list[Source], int | None]:
    """One more source than asked for (so the caller knows a next page exists), and the count."""
    where = SourceFilter(
        q=query.q, kinds=query.kind, country_codes=query.country_code, parent_id=query.parent_id
    )
    rows = await repository.list_sources(session, where, after_id=after_id, limit=query.limit + 1)
    total = await repository.count_sources(session, where) if query.total else None
    return rows, total


async def create_source(session: AsyncSession, data: SourceCreate) -> Source:
    await _check_name_free(session, data.name, None)
    if data.parent_id is not None:
        await _check_parent(session, None, data.parent_id)
    source = Source(**data.model_dump())
    async with unique_or_conflict(session, _name_taken(data.name)):
        session.add(source)
    return await get_source(session, source.id)


async def update_source(
    session: AsyncSession, source_id: int, patch: SourcePatch, *, if_match: IfMatch | None = None
) -> Source:
    await require_current(
        session, Source, source_id, "source", if_match, lambda: represent_source(session, source_id)
    )
    source = await get_source(session, source_id)
    fields = patch.model_fields_set
    if patch.name is not None:
        await _check_name_free(session, patch.name, source.id)
    if patch.parent_id is not None:
        await _check_parent(session, source.id, patch.parent_id)
    async with unique_or_conflict(session, _name_taken(patch.name or source.name)):
        for field in fields:
            setattr(source, field, getattr(patch, field))
    if fields & {"name", "kind"}:  # what a claim shows of its source: its events change
        await history.touch_events(session, repository.event_ids_citing(source.id))
    return await get_source(session, source.id)


async def delete_source(
    session: AsyncSession, source_id: int, *, if_match: IfMatch | None = None
) -> None:
    """Delete a source no claim or document cites; people who spoke for it lose the link."""
    await require_current(
        session, Source, source_id, "source", if_match, lambda: represent_source(session, source_id)
    )
    await get_source(session, source_id)
    usage = await repository.source_usage(session, source_id)
    if usage:
        raise Conflict(f"source {source_id} is cited by {_listed(usage)}", code="in_use")
    await repository.delete_source(session, source_id)


# ---- documents ----


async def represent_document(session: AsyncSession, document_id: int) -> dict[str, Any]:
    """A document as GET shows it (its ETag is the hash of this)."""
    document = await get_document(session, document_id)
    return DocumentRead.model_validate(document).model_dump(mode="json")


async def get_document(session: AsyncSession, document_id: int) -> Document:
    document = await repository.get_document(session, document_id)
    if document is None:
        raise NotFound("document", document_id)
    return document


async def _check_document(
    session: AsyncSession, document: DocumentCreate | Document, document_id: int | None
) -> None:
    if document.publisher_id is not None and not await repository.source_exists(
        session, document.publisher_id
    ):
        raise Invalid(["body", "publisher_id"], f"source {document.publisher_id} does not exist")
    if await repository.document_taken(session, document.title, document.published_on, document_id):
        raise Conflict(_document_taken(document), code="duplicate")


def _document_taken(document: DocumentCreate | Document) -> str:
    return (
        f"a document titled {document.title!r} published on "
        f"{document.published_on or 'an unknown date'} already exists"
    )


async def list_documents(
    session: AsyncSession, query: DocumentQuery, after_id: int | None
) -> tuple[list[Document], int | None]:
    where = DocumentFilter(
        q=query.q,
        publisher_ids=query.publisher_id,
        date_from=query.date_from,
        date_to=query.date_to,
    )
    rows = await repository.list_documents(session, where, after_id=after_id, limit=query.limit + 1)
    total = await repository.count_documents(session, where) if query.total else None
    return rows, total


async def create_document(session: AsyncSession, data: DocumentCreate) -> Document:
    await _check_document(session, data, None)
    document = Document(**data.model_dump())
    async with unique_or_conflict(session, _document_taken(data)):
        session.add(document)
    return await get_document(session, document.id)


async def update_document(
    session: AsyncSession,
    document_id: int,
    patch: DocumentPatch,
    *,
    if_match: IfMatch | None = None,
) -> Document:
    await require_current(
        session,
        Document,
        document_id,
        "document",
        if_match,
        lambda: represent_document(session, document_id),
    )
    document = await get_document(session, document_id)
    detail = "another document has this title and publication date"
    async with unique_or_conflict(session, detail):
        for field in patch.model_fields_set:
            setattr(document, field, getattr(patch, field))
        await _check_document(session, document, document.id)
    return await get_document(session, document.id)


async def delete_document(
    session: AsyncSession, document_id: int, *, if_match: IfMatch | None = None
) -> None:
    """Delete a document no claim cites."""
    await require_current(
        session,
        Document,
        document_id,
        "document",
        if_match,
        lambda: represent_document(session, document_id),
    )
    await get_document(session, document_id)
    cited = await repository.document_usage(session, document_id)
    if cited:
        raise Conflict(f"document {document_id} is cited by {cited} claims", code="in_use")
    await repository.delete_document(session, document_id)
