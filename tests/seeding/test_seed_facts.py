"""The seed report's facts, read back through the HTTP API."""

from __future__ import annotations

import re
from typing import Any

from tests.conftest import Api, shared_file

DATASET = "conflictdb_seed"
SYRIA_ARMY = "Military Forces of Syria (2000-)"
RUSSIA_FORCES = "Military Forces of Russia (2000-)"
TITLE = "Syria Army in 'Vast Offensive' Backed by Russian Strikes"


async def _get(api: Api, url: str, **params: Any) -> Any:
    response = await api.get(url, params=params, headers=api.read_auth)
    assert response.status_code == 200, response.text
    return response.json()


async def _events(api: Api, **params: Any) -> dict[str, dict[str, Any]]:
    body = await _get(api, "/v1/events", dataset=DATASET, limit=1000, **params)
    assert body["next_cursor"] is None
    return {e["external_id"]: e for e in body["items"]}


def _one(events: dict[str, dict[str, Any]], pred: Any) -> dict[str, Any]:
    hits = [e for e in events.values() if pred(e)]
    assert len(hits) == 1, [e["external_id"] for e in hits]
    return hits[0]


def _claim(event: dict[str, Any], source: str) -> dict[str, Any]:
    hits: list[dict[str, Any]] = [c for c in event["claims"] if c["source"]["name"] == source]
    assert hits, f"no claim by {source} on {event['external_id']}"
    return hits[0]


def _actors(event: dict[str, Any], role: str) -> dict[str, dict[str, Any]]:
    return {a["name"]: a for a in event["actors"] if a["role"] == role}


async def _place(api: Api, name: str, kind: str) -> dict[str, Any]:
    page = await _get(api, "/v1/places", q=name, kind=kind)
    hits = [p for p in page["items"] if p["name"] == name]
    assert len(hits) == 1, page
    return await _get(api, f"/v1/places/{hits[0]['id']}")  # type: ignore[no-any-return]


async def _campaign(api: Api, name: str) -> dict[str, Any]:
    page = await _get(api, "/v1/campaigns", q=name)
    hits = [c for c in page["items"] if c["name"] == name]
    assert len(hits) == 1, page
    return await _get(api, f"/v1/campaigns/{hits[0]['id']}")  # type: ignore[no-any-return]


def _words(text: str) -> str:
    return " ".join(text.split())


async def test_every_event_is_loaded_and_cites_the_report(seeded_api: Api) -> None:
    events = await _events(seeded_api)
    assert sorted(events) == [f"SYR-20151008-{n:02d}" for n in range(1, 15)]
    document_ids = {c["document_id"] for e in events.values() for c in e["claims"]}
    assert len(document_ids) == 1 and None not in document_ids
    for event in events.values():
        assert event["claims"], event["external_id"]
        assert event["extras"]["seed_digest"]


async def test_quotes_are_the_reports_own_words(seeded_api: Api) -> None:
    article = _words(shared_file("../seed-article.txt").read_text(encoding="utf-8"))
    assert TITLE in article
    events = await _events(seeded_api)
    claims = [c for e in events.values() for c in e["claims"]]
    for name in ("Russian air campaign in Syria", "Syrian army 'vast offensive' (October 2015)"):
        claims += (await _campaign(seeded_api, name))["claims"]
    assert len(claims) > 20
    for claim in claims:
        assert claim["quote"], claim
        for part in claim["quote"].split("[...]"):
            assert _words(part) in article, part


async def test_the_observatory_toll_on_one_event(seeded_api: Api) -> None:
    events = await _events(seeded_api)
    event = _one(
        events, lambda e: any(f["casualty_group"] == "regime_forces" for f in e["casualties"])
    )
    figures = {f["casualty_group"]: f for f in event["casualties"]}
    regime, rebels = figures["regime_forces"], figures["rebels"]
    assert (regime["low"], regime["best"], regime["high"]) == (13, 13, None)
    assert regime["qualifier"] == "at least 13"
    assert regime["outcome"] == rebels["outcome"] == "killed"
    assert regime["actor"]["name"] == SYRIA_ARMY
    assert (rebels["low"], rebels["best"], rebels["high"]) == (11, 11, None)
    claim = _claim(event, "Syrian Observatory for Human Rights")
    assert regime["claim_id"] == rebels["claim_id"] == claim["id"]
    assert claim["via_source"]["name"] == "AFP"
    assert claim["grade"] == "weak"
    assert (event["fatalities_low"], event["fatalities_best"]) == (24, 24)
    assert event["fatalities_high"] is None


async def test_state_tv_hama_militants_and_armored_vehicles(seeded_api: Api) -> None:
    events = await _events(seeded_api)
    event = _one(events, lambda e: any(f["casualty_group"] == "militants" for f in e["casualties"]))
    (killed,) = event["casualties"]
    assert (killed["low"], killed["best"], killed["outcome"]) == (32, 32, "killed")
    (vehicles,) = event["materiel_losses"]
    assert (vehicles["item"], vehicles["outcome"], vehicles["best"]) == (
        "armored vehicle",
        "destroyed",
        4,
    )
    claim = _claim(event, "Syrian state TV")
    assert killed["claim_id"] == vehicles["claim_id"] == claim["id"]
    assert event["place"]["name"] == "Hama" and event["place"]["kind"] == "province"
    assert event["geo_precision"] == 3


async def test_helicopter_owner_unknown_two_possible_targets(seeded_api: Api) -> None:
    events = await _events(seeded_api, sub_event_type="aircraft_shot_down")
    (event,) = events.values()
    (loss,) = event["materiel_losses"]
    assert loss["outcome"] == "shot_down" and loss["owner"] is None
    assert "helicopter" in loss["item"]
    targets = _actors(event, "target")
    assert set(targets) == {SYRIA_ARMY, RUSSIA_FORCES}
    assert {a["status"] for a in targets.values()} == {"possible"}
    assert _claim(event, "Rami Abdel Rahman")["source"]["kind"] == "person"
    assert event["fatalities_best"] is None
    assert event["casualties"] == []


async def test_airspace_violations_at_least_twice(seeded_api: Api) -> None:
    events = await _events(seeded_api, sub_event_type="airspace_violation")
    (event,) = events.values()
    (violation,) = event["airspace_violations"]
    assert violation["violated_country_code"] == "TR"
    assert (violation["low"], violation["high"]) == (2, None)
    assert violation["qualifier"] == "at least twice"
    assert violation["violating_actor"]["name"] == RUSSIA_FORCES
    assert event["date_precision"] == "week"
    assert (event["date_start"], event["date_end"]) == ("2015-10-02", "2015-10-08")
    assert event["place"]["kind"] == "airspace"
    assert _claim(event, "Jens Stoltenberg")["stance"] == "confirms"


async def test_around_a_dozen_villages_per_al_watan(seeded_api: Api) -> None:
    events = await _events(seeded_api, source="Al-Watan")
    (event,) = events.values()
    (change,) = event["territory_changes"]
    assert (change["low"], change["best"], change["high"]) == (10, 12, 14)
    assert change["qualifier"] == "around a dozen villages"
    assert change["place"] is None and change["place_kind"] == "village"
    assert change["gained_by"]["name"] == SYRIA_ARMY
    assert change["claim_id"] == _claim(event, "Al-Watan")["id"]
    assert event["place"]["name"] == "Hama"
    assert event["date_precision"] == "range"


async def test_jeb_al_ahmar_seized_and_confirmed(seeded_api: Api) -> None:
    events = await _events(seeded_api, sub_event_type="government_regains_territory")
    event = _one(events, lambda e: e["place"]["name"] == "Jeb al-Ahmar")
    assert (event["date_start"], event["date_precision"]) == ("2015-10-08", "day")
    (change,) = event["territory_changes"]
    assert change["place"]["name"] == "Jeb al-Ahmar"
    assert change["qualifier"] == "most of the hilly region"
    assert change["low"] is None and change["best"] is None
    assert _claim(event, "Syrian military source")["via_source"]["name"] == "AFP"
    assert _claim(event, "Syrian Observatory for Human Rights")["stance"] == "confirms"
    support = _actors(event, "initiator_support")
    assert {"Hezbollah", RUSSIA_FORCES} <= set(support)
    assert support["Hezbollah"]["country_code"] == "LB"


async def test_aliases_name_one_actor(seeded_api: Api) -> None:
    army = await _get(seeded_api, "/v1/actors/resolve", name="Syrian army")
    assert army["name"] == SYRIA_ARMY and army["actor_type"] == 1
    for alias in ("regime forces", "the army", "Regime Troops", "Assad's ground troops"):
        assert (await _get(seeded_api, "/v1/actors/resolve", name=alias))["id"] == army["id"]
    nusra = await _get(seeded_api, "/v1/actors/resolve", name="Al-Nusra Front")
    assert nusra["parent"]["name"] == "Al-Qaida"
    assert nusra["affiliation"] == "Syrian affiliate"
    hizbullah = await _get(seeded_api, "/v1/actors/resolve", name="Hizbullah")
    assert hizbullah["name"] == "Hezbollah" and hizbullah["country_code"] == "LB"
    # Filtering events by an alias finds the actor's events.
    by_alias = await _events(seeded_api, actor="regime forces")
    by_name = await _events(seeded_api, actor=SYRIA_ARMY)
    assert by_alias.keys() == by_name.keys() and len(by_name) >= 6


async def test_places_are_nested(seeded_api: Api) -> None:
    plain = await _place(seeded_api, "Sahl al-Ghab", "plain")
    assert [a["name"] for a in plain["ancestors"]] == ["Syria", "Hama"]
    assert abs(plain["latitude"] - 35.63) < 0.2 and abs(plain["longitude"] - 36.35) < 0.2
    ridge = await _place(seeded_api, "Jeb al-Ahmar", "mountain_range")
    assert [a["name"] for a in ridge["ancestors"]] == ["Syria", "Latakia"]
    # West of the plain, east of the city of Latakia, as the report has it.
    assert 35.79 < ridge["longitude"] < plain["longitude"]
    hama = plain["ancestors"][-1]
    inside_hama = await _events(seeded_api, place_id=hama["id"])
    assert {e["place"]["name"] for e in inside_hama.values()} == {"Hama", "Sahl al-Ghab"}
    strikes = _one(inside_hama, lambda e: e["place"]["name"] == "Sahl al-Ghab")
    assert strikes["sub_event_type"]["code"] == "air_drone_strike"
    assert strikes["date_start"] == "2015-10-08"
    attrs = _claim(strikes, "Military source in Sahl al-Ghab")["attributes"]
    assert attrs["villages_targeted"]["low"] == 3


async def test_russian_air_campaign_and_the_disputed_targets(seeded_api: Api) -> None:
    campaign = await _campaign(seeded_api, "Russian air campaign in Syria")
    assert campaign["start_date"] == "2015-09-30" and campaign["end_date"] is None
    assert campaign["initiator"]["name"] == RUSSIA_FORCES
    claims = {c["source"]["name"]: c for c in campaign["claims"]}
    moscow = claims["Government of Russia"]
    assert moscow["kind"] == "targeting" and moscow["grade"] == "contested"
    for disputer in (
        "US Government",
        "John Kirby",
        "Non-jihadist rebels and their international backers",
    ):
        assert claims[disputer]["disputes_claim_id"] == moscow["id"], disputer
        assert claims[disputer]["stance"] == "disputes"
        assert claims[disputer]["grade"] == "contested"
    assert claims["US Government"]["attributes"]["share_percent"]["low"] == 90
    assert moscow["disputes_claim_id"] is None
    events = await _events(seeded_api, campaign=campaign["id"])
    assert "SYR-20151008-06" in events and "SYR-20151008-03" in events
    cruise = events["SYR-20151008-03"]
    assert cruise["place"]["name"] == "Caspian Sea" and cruise["place"]["kind"] == "sea"
    assert (cruise["date_start"], cruise["date_end"]) == ("2015-09-30", "2015-10-08")


async def test_announced_offensive_is_not_dated_to_the_day(seeded_api: Api) -> None:
    events = await _events(seeded_api, sub_event_type="announced_offensive")
    (event,) = events.values()
    assert event["date_precision"] == "range"
    assert (event["date_start"], event["date_end"]) == ("2015-10-07", "2015-10-08")
    assert _claim(event, "Ali Abdullah Ayoub")["kind"] == "statement"
    offensive = await _campaign(seeded_api, "Syrian army 'vast offensive' (October 2015)")
    assert offensive["start_date"] is None
    assert offensive["initiator"]["name"] == SYRIA_ARMY


async def test_suqur_al_jabal_depots_and_several_wounded(seeded_api: Api) -> None:
    events = await _events(seeded_api, actor="Falcons of the Mountain")
    (event,) = events.values()
    (wounded,) = event["casualties"]
    assert wounded["outcome"] == "wounded"
    assert (wounded["low"], wounded["best"], wounded["high"]) == (2, 3, None)
    assert wounded["qualifier"] == "several of its fighters"
    (depots,) = event["materiel_losses"]
    assert depots["owner"]["name"] == "Suqur al-Jabal"
    assert (depots["low"], depots["best"], depots["high"]) == (None, None, None)
    assert _claim(event, "Suqur al-Jabal")["source"]["kind"] == "armed_group"


async def test_statements_of_carter_stoltenberg_erdogan(seeded_api: Api) -> None:
    events = await _events(seeded_api, sub_event_type="political_statement")
    by_speaker = {e["claims"][0]["source"]["name"]: e for e in events.values()}
    assert set(by_speaker) == {"Ashton Carter", "Jens Stoltenberg", "Recep Tayyip Erdogan"}
    for speaker in ("Ashton Carter", "Jens Stoltenberg"):
        assert by_speaker[speaker]["place"]["name"] == "Brussels"
    assert by_speaker["Recep Tayyip Erdogan"]["place"] is None
    assert {e["date_start"] for e in events.values()} == {"2015-10-08"}
    assert re.search(r"troubling escalation", by_speaker["Jens Stoltenberg"]["claims"][0]["quote"])
