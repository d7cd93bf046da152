"""`conflictdb link`: one run of the matcher in one transaction (the CLI's side of POST
/v1/links/propose)."""

from __future__ import annotations

from app.core.db import make_engine, make_sessionmaker
from app.links import service
from app.links.schemas import ProposeParams, ProposeResult


async def run_link(database_url: str, params: ProposeParams) -> ProposeResult:
    engine = make_engine(database_url)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            return await service.propose(session, params)
    finally:
        await engine.dispose()


def describe(result: ProposeResult) -> str:
    p = result.params
    return (
        f"candidates={result.candidates} matched={result.matched} proposed={result.proposed} "
        f"refreshed={result.refreshed} kept={result.kept} "
        f"rejected_skipped={result.rejected_skipped} "
        f"(spatial_km={p['spatial_km']} days={p['days']} min_score={p['min_score']})"
    )
