"""HTTP endpoints for places."""

from fastapi import APIRouter

router = APIRouter(prefix="/places", tags=["places"])
