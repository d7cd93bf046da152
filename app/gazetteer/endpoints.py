"""GET /v1/admin-units/resolve and /v1/admin-units/{code}: the gazetteer, read."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from app.auth.dependencies import ReadKey
from app.core.deps import SessionDep
from app.core.rest import problems
from app.gazetteer import service
from app.gazetteer.schemas import AdminUnitRead, ResolvedUnits, ResolveQuery

router = APIRouter(prefix="/admin-units", tags=["gazetteer"])
Code = Annotated[str, Path(min_length=2, max_length=16, pattern=r"^[A-Za-z0-9~-]+$")]


@router.get(
    "/resolve",
    summary="The admin-1 units a spelling or ISO 3166-2 code names",
    responses=problems(404, 422),
)
async def resolve_units(
    session: SessionDep, _key: ReadKey, query: Annotated[ResolveQuery, Query()]
) -> ResolvedUnits:
    """The keys of the name are tried in order (docs/gazetteer.md), per country: the first
    that names a unit decides. `admin1=` on /v1/events matches the same way."""
    return await service.resolve(session, query.name, query.country)


@router.get("/{code}", summary="An admin-1 unit and its spellings", responses=problems(404, 422))
async def get_unit(code: Code, session: SessionDep, _key: ReadKey) -> AdminUnitRead:
    return await service.get_unit(session, code)
