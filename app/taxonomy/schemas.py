"""Taxonomy as the API shows it."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class SubEventTypeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    event_type_code: str
    disorder_type: str
    is_acled: bool
    acled_event_type: str
    acled_sub_event_type: str
    description: str | None
