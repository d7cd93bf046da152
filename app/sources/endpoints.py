"""HTTP endpoints for sources."""

from fastapi import APIRouter

router = APIRouter(prefix="/sources", tags=["sources"])
