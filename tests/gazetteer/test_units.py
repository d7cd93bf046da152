"""GET /v1/admin-units: the units Natural Earth ships, by code or by any spelling."""

from __future__ import annotations

from tests.conftest import Api


async def test_a_unit_by_code_with_its_spellings(api: Api) -> None:
    r = await api.get("/v1/admin-units/SY-LA")
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["code"], body["country_code"], body["name"]) == ("SY-LA", "SY", "Latakia")
    spellings = {n["name"] for n in body["names"]}
    # Natural Earth's own spellings of the governorate.
    assert {"Lattakia", "Latakia", "Al Ladhiqiyah", "Muhafazat al Ladhiqiyah"} <= spellings
    assert {n["source"] for n in body["names"]} == {"natural_earth"}
    assert (await api.get("/v1/admin-units/sy-la")).json()["code"] == "SY-LA"
    missing = await api.get("/v1/admin-units/XX-YY")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    assert (await api.get("/v1/admin-units/a%20b")).status_code == 422


async def test_resolve_any_spelling(api: Api) -> None:
    for name in ("Hamah Governorate", "Hama", "Ḥamāh", "SY-HM", "muhafazat hamah"):
        r = await api.get("/v1/admin-units/resolve", params={"name": name, "country": "SY"})
        assert r.status_code == 200, (name, r.text)
        assert [u["code"] for u in r.json()["units"]] == ["SY-HM"], name
    # Damascus is the city's governorate (SY-DI), though Natural Earth's WOE name of the
    # countryside (SY-RD) is "Damascus" too: a unit's own name is surer than another's alias.
    r = await api.get("/v1/admin-units/resolve", params={"name": "Damascus", "country": "SY"})
    assert [u["code"] for u in r.json()["units"]] == ["SY-DI"]
    r = await api.get("/v1/admin-units/resolve", params={"name": "Nowhere at all"})
    assert r.status_code == 404
    r = await api.get("/v1/admin-units/resolve", params={"name": "Hama", "country": "Syria"})
    assert r.status_code == 422
