"""Typed factories that write rows directly (for arranging a test; assertions go through HTTP)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from app.core.db import make_sync_engine
from app.models import Actor, ActorAlias, Campaign, Source


def _write(url: str, obj: Any) -> int:
    engine = make_sync_engine(url)
    with Session(engine) as session, session.begin():
        session.add(obj)
        session.flush()
        new_id = int(obj.id)
    engine.dispose()
    return new_id


def create_actor(
    url: str, name: str, actor_type: int = 1, aliases: list[str] | None = None, **kw: Any
) -> int:
    actor = Actor(name=name, actor_type=actor_type, **kw)
    actor.aliases = [ActorAlias(alias=a) for a in aliases or []]
    return _write(url, actor)


def create_source(url: str, name: str, kind: str = "news_agency", **kw: Any) -> int:
    return _write(url, Source(name=name, kind=kind, **kw))


def create_campaign(url: str, name: str, start: dt.date | None = None) -> int:
    return _write(url, Campaign(name=name, start_date=start))
