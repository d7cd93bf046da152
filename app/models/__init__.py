"""The ORM entity graph in one package: events, actors, places, sources, claims form one graph."""

from app.models.actors import Actor, ActorAlias
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
from app.models.history import EventRevision, EventTombstone
from app.models.imports import ImportJob
from app.models.places import Place
from app.models.sources import Claim, Document, Source
from app.models.taxonomy import EventType, SubEventType

__all__ = [
    "Actor",
    "ActorAlias",
    "AirspaceViolation",
    "ApiKey",
    "Base",
    "Campaign",
    "CasualtyFigure",
    "Claim",
    "Document",
    "Event",
    "EventActor",
    "EventRevision",
    "EventTag",
    "EventTombstone",
    "EventType",
    "ImportJob",
    "MaterielLoss",
    "Place",
    "Source",
    "SubEventType",
    "TerritoryChange",
    "campaign_events",
]
