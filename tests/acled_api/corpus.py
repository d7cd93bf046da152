"""A small corpus built through POST /v1/events, with the ACLED row each event should give.

Newest first (the order of /acled/read): TUR2002, TUR2001, SYR1001, SYR1003, SYR1002,
conflictdb-X-1.
"""

from __future__ import annotations

from typing import Any

from tests.conftest import Api
from tests.factories import create_actor, create_source

SYRIA_ARMY = "Military Forces of Syria (2000-)"
RUSSIA = "Military Forces of Russia (2000-)"
REBELS = "Opposition Rebels (Syria)"
CIVILIANS = "Civilians (Syria)"
HEZBOLLAH = "Hezbollah"
PROTESTERS = "Protesters (Turkey)"
POLICE = "Police Forces of Turkey (2014-)"

ORDER = ["TUR2002", "TUR2001", "SYR1001", "SYR1003", "SYR1002", "conflictdb-X-1"]


def _place(name: str, country: str, admin1: str, lat: float, lon: float) -> dict[str, Any]:
    return {
        "name": name,
        "kind": "town",
        "country_code": country,
        "admin1": admin1,
        "latitude": lat,
        "longitude": lon,
        "geo_precision": 1,
    }


def _claim(source: str) -> dict[str, Any]:
    return {"source": source, "kind": "occurrence", "assertion": "it happened"}


EVENTS: list[dict[str, Any]] = [
    {
        "dataset": "acled",
        "external_id": "SYR1001",
        "date_start": "2015-10-08",
        "sub_event_type": "armed_clash",
        "place": _place("Kafr Nabudah", "SY", "Hama", 35.41667, 36.5),
        "summary": "Regime forces backed by Hezbollah clashed with rebels in Kafr Nabudah.",
        "actors": [
            {"actor": SYRIA_ARMY, "role": "initiator"},
            {"actor": HEZBOLLAH, "role": "initiator_support"},
            {"actor": REBELS, "role": "target"},
        ],
        "claims": [_claim("SOHR")],
        "fatalities_best": 13,
        "tags": ["offensive"],
        "extras": {"source_scale": "National"},
    },
    {
        "dataset": "acled",
        "external_id": "SYR1002",
        "date_start": "2015-10-01",
        "sub_event_type": "air_drone_strike",
        "place": _place("Latamneh", "SY", "Hama", 35.32, 36.62),
        "summary": "Russian air strikes hit civilians in Latamneh.",
        "civilian_targeting": True,
        "actors": [
            {"actor": RUSSIA, "role": "initiator"},
            {"actor": CIVILIANS, "role": "target"},
        ],
        "claims": [_claim("AFP")],
        "fatalities_best": 5,
        "tags": ["russian-campaign", "offensive"],
    },
    {
        "dataset": "acled",
        "external_id": "SYR1003",
        "date_start": "2015-10-03",
        "date_end": "2015-10-09",
        "date_precision": "week",
        "sub_event_type": "shelling_artillery_missile_attack",
        "place": _place("Idlib", "SY", "Idlib", 35.9306, 36.6339),
        "summary": "Regime artillery shelled rebel positions around Idlib during the week.",
        "actors": [
            {"actor": SYRIA_ARMY, "role": "initiator"},
            {"actor": REBELS, "role": "target"},
        ],
        "claims": [_claim("SOHR"), _claim("AFP")],
    },
    {
        "dataset": "acled",
        "external_id": "TUR2001",
        "date_start": "2015-10-10",
        "sub_event_type": "peaceful_protest",
        "place": _place("Istanbul", "TR", "Istanbul", 41.0138, 28.9497),
        "summary": "Protesters marched in Istanbul against the Ankara bombing.",
        "actors": [{"actor": PROTESTERS, "role": "initiator"}],
        "claims": [_claim("Anadolu")],
        "fatalities_best": 0,
    },
    {
        "dataset": "acled",
        "external_id": "TUR2002",
        "date_start": "2015-11-02",
        "sub_event_type": "protest_with_intervention",
        "place": _place("Ankara", "TR", "Ankara", 39.9199, 32.8543),
        "summary": "Police dispersed protesters in Ankara after the election.",
        "actors": [
            {"actor": PROTESTERS, "role": "initiator"},
            {"actor": POLICE, "role": "target"},
        ],
        "claims": [_claim("Anadolu")],
        "fatalities_best": 0,
    },
    {
        "external_id": "X-1",
        "date_start": "2015-09-01",
        "date_end": "2015-09-30",
        "date_precision": "month",
        "sub_event_type": "agreement",
        "place": _place("Beirut", "LB", "Beirut", 33.8886, 35.4955),
        "summary": "Hezbollah and the Syrian government agreed on a local truce.",
        "actors": [
            {"actor": HEZBOLLAH, "role": "initiator"},
            {"actor": SYRIA_ARMY, "role": "target"},
        ],
    },
]


async def build(api: Api) -> dict[str, int]:
    """Actors and sources written directly, events through the API; returns ids by ACLED id."""
    url = api.database_url
    for name, code, country in (
        (SYRIA_ARMY, 1, "SY"),
        (RUSSIA, 8, "RU"),
        (REBELS, 2, "SY"),
        (CIVILIANS, 7, "SY"),
        (HEZBOLLAH, 3, "LB"),
        (PROTESTERS, 6, "TR"),
        (POLICE, 1, "TR"),
    ):
        create_actor(url, name, code, country_code=country)
    for source in ("SOHR", "AFP", "Anadolu"):
        create_source(url, source, "news_agency")
    ids: dict[str, int] = {}
    for body in EVENTS:
        response = await api.post("/v1/events", json=body)
        assert response.status_code == 201, response.text
        dataset = body.get("dataset", "conflictdb")
        key = body["external_id"] if dataset == "acled" else f"{dataset}-{body['external_id']}"
        ids[key] = response.json()["id"]
    return ids
