"""HTTP endpoints for claims."""

from fastapi import APIRouter

router = APIRouter(prefix="/claims", tags=["claims"])
