"""Shared FastAPI dependency aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.db import get_session, get_write_session

# Reads: lives until the response is sent. Writes: commits before it is sent (ARCHITECTURE.md).
SessionDep = Annotated[AsyncSession, Depends(get_session)]
WriteSessionDep = Annotated[AsyncSession, Depends(get_write_session, scope="function")]


async def get_settings(request: Request) -> Settings:
    # async: FastAPI runs a plain `def` dependency on its thread pool, a thread hop a request.
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings)]
