"""The ORM entity graph in one package: events, actors, places, sources, claims form one graph."""

from sqlalchemy import Integer

from app.models.actors import Actor, ActorAlias, ActorNameKey
from app.models.auth import ApiKey
from app.models.base import Base
from app.models.campaigns import Campaign
from app.models.events import (
    AirspaceViolation,
    CasualtyFigure,
    Event,
    EventActor,
    EventTag,
    MaterielLoss,
    TerritoryChange,
    campaign_events,
)
from app.models.gazetteer import AdminUnit, AdminUnitName
from app.models.history import ChangeCounter, EventRevision, EventTombstone
from app.models.imports import ImportJob
from app.models.links import EventLink, EventLinkChange, IncidentMember
from app.models.oauth import OAuthToken
from app.models.places import Place
from app.models.sources import Claim, Document, Source
from app.models.taxonomy import EventType, SubEventType

__all__ = [
    "Actor",
    "ActorAlias",
    "ActorNameKey",
    "AdminUnit",
    "AdminUnitName",
    "AirspaceViolation",
    "ApiKey",
    "Base",
    "Campaign",
    "CasualtyFigure",
    "ChangeCounter",
    "Claim",
    "Document",
    "Event",
    "EventActor",
    "EventLink",
    "EventLinkChange",
    "EventRevision",
    "EventTag",
    "EventTombstone",
    "EventType",
    "ImportJob",
    "IncidentMember",
    "MaterielLoss",
    "OAuthToken",
    "Place",
    "Source",
    "SubEventType",
    "TerritoryChange",
    "campaign_events",
]


def _ids_never_reused() -> None:
    """SQLite: AUTOINCREMENT on every table keyed by one INTEGER `id`.

    Without it SQLite hands out max(id) + 1, so deleting the newest row frees its id for the
    next insert (a new event once showed a deleted one's revisions). PostgreSQL's sequences
    never go back. Migration 0009 rebuilt the existing tables so; new tables get it from here.
    """
    for table in Base.metadata.tables.values():
        key = list(table.primary_key.columns)
        if len(key) == 1 and key[0].name == "id" and type(key[0].type) is Integer:
            table.dialect_kwargs["sqlite_autoincrement"] = True


_ids_never_reused()
