"""HTTP endpoints for imports: upload a file, then read the job's status and report."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, Response, UploadFile
from starlette.concurrency import run_in_threadpool

from app.auth.dependencies import ReadKey, WriteKeyDetached
from app.core.deps import SessionDep
from app.core.errors import ProblemError
from app.core.rest import PathId, problems
from app.imports import service
from app.imports.recovery import UPLOAD_PREFIX
from app.imports.schemas import ImportJobRead
from app.imports.service import ImportFormat, ImportRequest

router = APIRouter(prefix="/imports", tags=["imports"])

_UPLOAD_ERRORS: dict[int | str, dict[str, Any]] = {
    **problems(401, 403, 422),
    **problems(413, documented={413: "The file is too large (`payload_too_large`)"}),
}
_CHUNK = 1024 * 1024


def _temporary() -> tempfile._TemporaryFileWrapper[bytes]:
    # Its path is recorded on the job (private), for recovery to remove it if the server dies.
    return tempfile.NamedTemporaryFile(prefix=UPLOAD_PREFIX, delete=False)


def _discard(path: Path) -> None:
    path.unlink(missing_ok=True)


async def _save(upload: UploadFile) -> tuple[Path, int]:
    """The upload in a file of our own (a background job outlives the request's copy)."""
    out = await run_in_threadpool(_temporary)
    path = Path(out.name)
    size = 0
    try:
        while chunk := await upload.read(_CHUNK):
            size += len(chunk)
            if size > service.MAX_UPLOAD_BYTES:
                raise ProblemError(
                    413,
                    "payload_too_large",
                    f"an import is limited to {service.MAX_UPLOAD_BYTES:,} bytes",
                )
            await run_in_threadpool(out.write, chunk)
    except BaseException:
        await run_in_threadpool(out.close)
        await run_in_threadpool(_discard, path)
        raise
    await run_in_threadpool(out.close)
    return path, size


@router.post(
    "",
    status_code=201,
    summary="Import a file (ACLED or UCDP CSV, JSON or NDJSON events, an ACLED deletion list)",
    description=(
        "One transaction, upserting by natural key (dataset + its id): a second upload of the "
        "same file changes nothing. By default one rejected row loads none (`partial=true` loads "
        "the valid rows). Files up to 2 MiB run inside the request (201, finished job); larger "
        "ones, or `background=true`, run as a job (202; poll `Location`). A job that rejected "
        "rows or could not read the file ends `failed` with its report; nothing was written."
    ),
    responses={
        202: {"model": ImportJobRead, "description": "Accepted as a background job"},
        **_UPLOAD_ERRORS,
    },
)
async def create_import(
    request: Request,
    response: Response,
    session: SessionDep,
    key: WriteKeyDetached,
    file: Annotated[UploadFile, File(description="The file to import.")],
    fmt: Annotated[ImportFormat, Form(alias="format", description="The file's format.")],
    dataset: Annotated[
        str | None,
        Form(
            min_length=1,
            max_length=32,
            pattern=r"^[a-z0-9_]+$",
            description="Dataset of the natural key (default acled / ucdp, or the rows' own).",
        ),
    ] = None,
    partial: Annotated[bool, Form(description="Load the valid rows, report the rest.")] = False,
    background: Annotated[
        bool | None, Form(description="Force (or forbid) a background job; default by size.")
    ] = None,
) -> ImportJobRead:
    path, size = await _save(file)
    database_url = request.app.state.settings.database_url
    job_request = ImportRequest(
        path, fmt, dataset=dataset, partial=partial, api_key_id=key.id, chunk_size=20_000
    )
    filename = (file.filename or "")[:255] or None
    try:
        job_id = await run_in_threadpool(
            service.create_job, database_url, job_request, filename=filename, size=size
        )
    except BaseException:
        await run_in_threadpool(_discard, path)
        raise
    in_background = background if background is not None else size > service.INLINE_MAX_BYTES
    if in_background:
        service.start_background_job(database_url, job_id, job_request)
        response.status_code = 202
    else:
        await run_in_threadpool(service.run_job, database_url, job_id, job_request, cleanup=True)
    response.headers["Location"] = f"/v1/imports/{job_id}"
    return ImportJobRead.of(await service.read_job(session, job_id))


@router.get(
    "/{job_id}",
    summary="An import job: status, counts, rejects (needs a key, even when reads are open)",
    responses=problems(401, 404, 422),
)
async def get_import(job_id: PathId, session: SessionDep, key: ReadKey) -> ImportJobRead:
    # Its report shows file names and the values of rejected rows, which were never published.
    if key is None:
        raise ProblemError(
            401,
            "missing_api_key",
            "an import job is readable with an API key only",
            headers={"WWW-Authenticate": 'Bearer realm="conflictdb"'},
        )
    job = await service.read_job(session, job_id)
    return ImportJobRead.of(job)
