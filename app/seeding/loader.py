"""Placeholder; replaced by the seed loader."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

DEFAULT_SEEDS_DIR = Path(__file__).resolve().parents[2] / "seeds"


async def load_seeds(session: AsyncSession, seeds_dir: Path = DEFAULT_SEEDS_DIR) -> str:
    raise NotImplementedError
