"""HTTP endpoints for campaigns."""

from fastapi import APIRouter

router = APIRouter(prefix="/campaigns", tags=["campaigns"])
