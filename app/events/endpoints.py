"""HTTP endpoints for events."""

from fastapi import APIRouter

router = APIRouter(prefix="/events", tags=["events"])
