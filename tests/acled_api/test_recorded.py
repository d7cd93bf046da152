"""/acled/acled/read on ACLED's own file: what the import recorded is what is shown and filtered.

An actor keeps one type, but ACLED codes each row: "Military Forces of Russia (2000-)" is State
forces (1) at home and External/other forces (8) abroad. The row's own inter codes, disorder
type and Kosovo's iso 0 must come back out of /acled/read, and its filters must select on the
same values they show.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from tests.conftest import Api, shared_file
from tests.imports.support import query, run_file

READ = "/acled/acled/read"


async def read(api: Api, **params: Any) -> list[dict[str, Any]]:
    response = await api.get(READ, params={"inter_num": 1, **params})
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()["data"]
    return rows


def file_rows() -> dict[str, dict[str, str]]:
    path = shared_file("acled/acled-dummy-2022h1.csv")
    with path.open(newline="", encoding="utf-8-sig") as fh:
        return {r["event_id_cnty"]: r for r in csv.DictReader(fh)}


async def test_rows_show_and_filter_on_what_acled_recorded(api: Api) -> None:
    path = shared_file("acled/acled-dummy-2022h1.csv")
    report = await run_file(api.database_url, path, "acled")
    assert report.committed and report.rejected == 0
    rows = file_rows()
    # Events whose actor1 has another type in the database than this row's inter1.
    recoded = [
        (r.external_id, int(r.actor_type))
        for r in query(
            api.database_url,
            "SELECT e.external_id, a.actor_type FROM events e "
            "JOIN event_actors ea ON ea.event_id = e.id AND ea.role = 'initiator' "
            "JOIN actors a ON a.id = ea.actor_id WHERE e.dataset = 'acled'",
        )
        if int(rows[r.external_id]["inter1"]) != int(r.actor_type)
    ]
    assert len(recoded) >= 10, recoded
    for external_id, stored_type in recoded[:5]:
        own = int(rows[external_id]["inter1"])
        [row] = await read(api, event_id_cnty=external_id)
        assert row["inter1"] == own
        assert row["interaction"] == int(rows[external_id]["interaction"])
        assert await read(api, event_id_cnty=external_id, inter1=own) == [row]
        assert await read(api, event_id_cnty=external_id, inter1=stored_type) == []
    # Every row shows the file's inter codes and interaction.
    shown = await read(api, limit=0, fields="event_id_cnty|inter1|inter2|interaction")
    assert len(shown) == len(rows)
    for row in shown:
        source = rows[row["event_id_cnty"]]
        assert (row["inter1"], row["inter2"], row["interaction"]) == (
            int(source["inter1"]),
            int(source["inter2"]),
            int(source["interaction"]),
        ), row


async def test_disorder_type_and_kosovo_as_recorded(api: Api) -> None:
    path = shared_file("acled/acled-dummy-2022h1.csv")
    assert (await run_file(api.database_url, path, "acled")).committed
    rows = file_rows()
    excessive = sorted(
        k for k, r in rows.items() if r["sub_event_type"] == "Excessive force against protesters"
    )
    assert excessive
    # The taxonomy says "Political violence; Demonstrations"; ACLED coded these rows
    # "Demostrations" (sic), stored corrected.
    shown = await read(api, sub_event_type="Excessive force against protesters", limit=0)
    assert sorted(r["event_id_cnty"] for r in shown) == excessive
    assert {r["disorder_type"] for r in shown} == {"Demonstrations"}
    picked = await read(
        api, sub_event_type="Excessive force against protesters", disorder_type="Demonstrations"
    )
    assert len(picked) == len(excessive)
    assert (
        await read(
            api,
            sub_event_type="Excessive force against protesters",
            disorder_type="Political violence; Demonstrations",
        )
        == []
    )
    kosovo = sorted(k for k, r in rows.items() if r["country"] == "Kosovo")
    assert kosovo
    shown = await read(api, iso=0, limit=0)
    assert sorted(r["event_id_cnty"] for r in shown) == kosovo
    assert {r["iso"] for r in shown} == {0}


async def test_a_short_range_is_within_a_week(api: Api) -> None:
    """time_precision 2 for a range of up to 7 days (UCDP's date_prec 2), 3 beyond."""
    for external_id, days in (("R3", 2), ("R7", 6), ("R8", 7)):
        start = dt.date(2016, 3, 1)
        response = await api.post(
            "/v1/events",
            json={
                "dataset": "ranges",
                "external_id": external_id,
                "date_start": start.isoformat(),
                "date_end": (start + dt.timedelta(days=days)).isoformat(),
                "date_precision": "range",
                "sub_event_type": "armed_clash",
                "summary": f"a clash over {days + 1} days",
            },
        )
        assert response.status_code == 201, response.text
    shown = {r["event_id_cnty"]: r["time_precision"] for r in await read(api, limit=0)}
    assert shown == {"ranges-R3": 2, "ranges-R7": 2, "ranges-R8": 3}
    week = await read(api, time_precision=2, limit=0)
    assert sorted(r["event_id_cnty"] for r in week) == ["ranges-R3", "ranges-R7"]
    month = await read(api, time_precision=3, limit=0)
    assert [r["event_id_cnty"] for r in month] == ["ranges-R8"]


async def test_extras_set_through_the_api_are_checked_not_trusted(api: Api) -> None:
    """Extras are free-form over the API: only well-typed ACLED values are written back."""
    bodies = {
        # A valid marker: the recorded codes and coordinates are used.
        "GOOD": {"inter1": 8, "inter2": 0, "latitude": 10.5, "longitude": 20.25},
        # Wrong types everywhere: the computed values are used, and nothing fails.
        "BAD": {"inter1": "x", "inter2": 99, "latitude": "north", "disorder_type": 5},
        # A fine value under a wrong marker is ignored too.
        "NOMARK": {"inter1": True, "inter2": 3, "location": "Elsewhere"},
    }
    for external_id, extras in bodies.items():
        response = await api.post(
            "/v1/events",
            json={
                "dataset": "forged",
                "external_id": external_id,
                "date_start": "2016-03-01",
                "date_precision": "day",
                "sub_event_type": "armed_clash",
                "summary": "a clash",
                "place": {
                    "name": "Somewhere",
                    "kind": "town",
                    "country_code": "SY",
                    "latitude": 35.0,
                    "longitude": 36.0,
                },
                "extras": extras,
            },
        )
        assert response.status_code == 201, response.text
    rows = {r["event_id_cnty"]: r for r in await read(api, limit=0)}
    good, bad, nomark = rows["forged-GOOD"], rows["forged-BAD"], rows["forged-NOMARK"]
    assert (good["inter2"], good["interaction"]) == (0, 80)
    assert (good["latitude"], good["longitude"]) == (10.5, 20.25)
    assert (bad["inter2"], bad["latitude"], bad["disorder_type"]) == (0, 35.0, "Political violence")
    assert (nomark["inter2"], nomark["location"]) == (0, "Somewhere")
    # Filters select on the same values, and never fail on what they find.
    assert [r["event_id_cnty"] for r in await read(api, inter2=99)] == []
    assert [r["event_id_cnty"] for r in await read(api, latitude=10.5)] == ["forged-GOOD"]
    assert len(await read(api, latitude=35, limit=0)) == 2
    assert [r["event_id_cnty"] for r in await read(api, location="Elsewhere")] == []
    for params in ({"inter1": "1"}, {"interaction": "18"}, {"disorder_type": "x"}):
        response = await api.get(READ, params=params)
        assert response.status_code == 200, response.text
    # The ACLED CSV export (COPY on PostgreSQL, Python on SQLite) writes the same.
    export = await api.get("/v1/events", params={"format": "csv", "dataset": "forged"})
    assert export.status_code == 200, export.text
    by_id = {r["event_id_cnty"]: r for r in csv.DictReader(io.StringIO(export.text))}
    assert by_id["forged-GOOD"]["latitude"] == "10.5000"
    assert by_id["forged-BAD"]["latitude"] == "35.0000"
    assert by_id["forged-BAD"]["inter2"] == "0"
    assert by_id["forged-NOMARK"]["location"] == "Somewhere"


async def test_a_page_read_at_once_equals_the_streamed_rows(api: Api) -> None:
    """Up to 5,000 rows PostgreSQL computes ACLED's columns (one statement); limit=0 streams
    every row through the exporter (Python). The two give the same rows, in every shape."""
    path = shared_file("acled/acled-dummy-2022h1.csv")
    assert (await run_file(api.database_url, path, "acled")).committed
    for params in (
        {},
        {"inter_num": "1"},
        {"export_type": "monadic"},
        {"fields": "event_id_cnty|latitude|iso|notes|tags|timestamp"},
    ):
        streamed = await api.get(READ, params={**params, "limit": 0})
        assert streamed.status_code == 200, streamed.text
        every = streamed.json()["data"]
        assert len(every) >= 9000
        for page in (1, 2):
            paged = await api.get(READ, params={**params, "limit": 4000, "page": page})
            assert paged.status_code == 200, paged.text
            start = (page - 1) * 4000 if "export_type" not in params else None
            rows = paged.json()["data"]
            # The page is one body, the full read a stream: the same envelope, key for key.
            head = {k: v for k, v in paged.json().items() if k not in ("data", "count")}
            assert head == {k: v for k, v in streamed.json().items() if k not in ("data", "count")}
            assert list(paged.json()) == list(streamed.json())
            assert paged.json()["count"] == len(rows)
            if start is not None:
                assert rows == every[start : start + 4000], params
            else:  # monadic: a page holds 4,000 events, up to two rows each
                assert rows == every[: len(rows)] if page == 1 else rows
    csv_page = await api.get(READ, params={"limit": 5000, "_format": "csv"})
    csv_all = await api.get(READ, params={"limit": 0, "_format": "csv"})
    assert csv_page.text.splitlines() == csv_all.text.splitlines()[:5001]
