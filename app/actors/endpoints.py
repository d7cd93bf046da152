"""HTTP endpoints for actors."""

from fastapi import APIRouter

router = APIRouter(prefix="/actors", tags=["actors"])
