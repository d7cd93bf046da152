"""GET /v1/admin-units/resolve and /v1/admin-units/{code}: the gazetteer, read."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from app.auth.dependencies import ReadKey, WriteKey
from app.core.deps import SessionDep, WriteSessionDep
from app.core.querymodel import query_model
from app.core.rest import problems
from app.gazetteer import service
from app.gazetteer.schemas import (
    AdminUnitNameCreate,
    AdminUnitRead,
    ResolvedUnits,
    ResolveQuery,
)

router = APIRouter(prefix="/admin-units", tags=["gazetteer"])
Code = Annotated[str, Path(min_length=2, max_length=16, pattern=r"^[A-Za-z0-9~-]+$")]


@router.get(
    "/resolve",
    summary="The admin-1 units a spelling or ISO 3166-2 code names",
    responses=problems(404, 422),
)
async def resolve_units(
    session: SessionDep, _key: ReadKey, query: Annotated[ResolveQuery, query_model(ResolveQuery)]
) -> ResolvedUnits:
    """The keys of the name are tried in order (docs/gazetteer.md), per country: the first
    that names a unit decides. `admin1=` on /v1/events matches the same way."""
    return await service.resolve(session, query.name, query.country)


@router.get("/{code}", summary="An admin-1 unit and its spellings", responses=problems(404, 422))
async def get_unit(code: Code, session: SessionDep, _key: ReadKey) -> AdminUnitRead:
    return await service.get_unit(session, code)


@router.post(
    "/{code}/names",
    status_code=201,
    summary="Add a spelling that names an admin-1 unit",
    responses=problems(401, 403, 404, 409, 422),
)
async def add_name(
    code: Code,
    data: AdminUnitNameCreate,
    response: Response,
    session: WriteSessionDep,
    _key: WriteKey,
) -> AdminUnitRead:
    """The spelling's keys (docs/gazetteer.md) name the unit within its country from now on
    (source `api`); places that carry exactly this spelling move to the unit. A key that
    already names another unit of the country is a 409 `duplicate`; one that names this unit
    already is left as it is."""
    unit = await service.add_name(session, code, data.name)
    response.headers["Location"] = f"/v1/admin-units/{unit.code}"
    return unit
