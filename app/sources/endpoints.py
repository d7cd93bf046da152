"""HTTP endpoints for sources and the documents they publish."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request, Response

from app.auth.dependencies import ReadKey, WriteKey
from app.core.deps import SessionDep, WriteSessionDep
from app.core.etag import IfMatchDep, etag_of
from app.core.querymodel import query_model
from app.core.rest import Page, PathId, cursor_after_id, keyset_page, problems
from app.sources import service
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

router = APIRouter(prefix="/sources", tags=["sources"])
documents_router = APIRouter(prefix="/documents", tags=["sources"])


@router.get("", summary="List sources", responses=problems(400, 422))
async def list_sources(
    request: Request,
    response: Response,
    session: SessionDep,
    _key: ReadKey,
    query: Annotated[SourceQuery, query_model(SourceQuery)],
) -> Page[SourceRead]:
    after_id = cursor_after_id(request, query.cursor)
    rows, total = await service.list_sources(session, query, after_id)
    items = [SourceRead.model_validate(r) for r in rows]
    return keyset_page(request, response, items, query.limit, total)


@router.post("", status_code=201, summary="Create a source", responses=problems(401, 403, 409, 422))
async def create_source(
    data: SourceCreate, response: Response, session: WriteSessionDep, _key: WriteKey
) -> SourceRead:
    source = await service.create_source(session, data)
    response.headers["Location"] = f"/v1/sources/{source.id}"
    return SourceRead.model_validate(source)


@router.get("/{source_id}", summary="Get a source", responses=problems(404, 422))
async def get_source(
    source_id: PathId, response: Response, session: SessionDep, _key: ReadKey
) -> SourceRead:
    body = await service.represent_source(session, source_id)
    response.headers["ETag"] = etag_of(body)
    return SourceRead.model_validate(body)


@router.patch(
    "/{source_id}",
    summary="Change some of a source's fields",
    responses=problems(400, 401, 403, 404, 409, 412, 422, 428),
)
async def update_source(
    source_id: PathId,
    patch: SourcePatch,
    response: Response,
    session: WriteSessionDep,
    _key: WriteKey,
    if_match: IfMatchDep,
) -> SourceRead:
    await service.update_source(session, source_id, patch, if_match=if_match)
    body = await service.represent_source(session, source_id)
    response.headers["ETag"] = etag_of(body)
    return SourceRead.model_validate(body)


@router.delete(
    "/{source_id}",
    status_code=204,
    response_class=Response,
    summary="Delete a source that no claim or document cites",
    responses=problems(400, 401, 403, 404, 409, 412, 422, 428),
)
async def delete_source(
    source_id: PathId, session: WriteSessionDep, _key: WriteKey, if_match: IfMatchDep
) -> None:
    await service.delete_source(session, source_id, if_match=if_match)


@documents_router.get("", summary="List documents", responses=problems(400, 422))
async def list_documents(
    request: Request,
    response: Response,
    session: SessionDep,
    _key: ReadKey,
    query: Annotated[DocumentQuery, query_model(DocumentQuery)],
) -> Page[DocumentRead]:
    after_id = cursor_after_id(request, query.cursor)
    rows, total = await service.list_documents(session, query, after_id)
    items = [DocumentRead.model_validate(r) for r in rows]
    return keyset_page(request, response, items, query.limit, total)


@documents_router.post(
    "", status_code=201, summary="Create a document", responses=problems(401, 403, 409, 422)
)
async def create_document(
    data: DocumentCreate, response: Response, session: WriteSessionDep, _key: WriteKey
) -> DocumentRead:
    document = await service.create_document(session, data)
    response.headers["Location"] = f"/v1/documents/{document.id}"
    return DocumentRead.model_validate(document)


@documents_router.get("/{document_id}", summary="Get a document", responses=problems(404, 422))
async def get_document(
    document_id: PathId, response: Response, session: SessionDep, _key: ReadKey
) -> DocumentRead:
    body = await service.represent_document(session, document_id)
    response.headers["ETag"] = etag_of(body)
    return DocumentRead.model_validate(body)


@documents_router.patch(
    "/{document_id}",
    summary="Change some of a document's fields",
    responses=problems(400, 401, 403, 404, 409, 412, 422, 428),
)
async def update_document(
    document_id: PathId,
    patch: DocumentPatch,
    response: Response,
    session: WriteSessionDep,
    _key: WriteKey,
    if_match: IfMatchDep,
) -> DocumentRead:
    await service.update_document(session, document_id, patch, if_match=if_match)
    body = await service.represent_document(session, document_id)
    response.headers["ETag"] = etag_of(body)
    return DocumentRead.model_validate(body)


@documents_router.delete(
    "/{document_id}",
    status_code=204,
    response_class=Response,
    summary="Delete a document that no claim cites",
    responses=problems(400, 401, 403, 404, 409, 412, 422, 428),
)
async def delete_document(
    document_id: PathId, session: WriteSessionDep, _key: WriteKey, if_match: IfMatchDep
) -> None:
    await service.delete_document(session, document_id, if_match=if_match)
