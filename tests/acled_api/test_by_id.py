"""GET /acled/acled/read naming events by `event_id_cnty` alone: on PostgreSQL read by the
events' keys with two constant statements (`repository.exact_event_keys`), on SQLite through the
general filter. Held equal, answer for answer, to the same events selected through the general
filter: `:OR:` makes the same selection a query of two filters, which never takes the keys' path."""

from __future__ import annotations

from typing import Any

from sqlalchemy import create_engine, text

from app.acled_api import repository
from app.acled_api.service import parse_events
from app.core.db import sync_database_url
from tests.acled_api import corpus
from tests.conftest import Api

READ = "/acled/acled/read"
# Ids as a client sends them: ACLED's, repeated, another dataset's (prefixed), unknown.
CASES = [
    ["SYR1001"],
    ["SYR1003", "TUR2002", "SYR1001"],
    ["SYR1001", "SYR1001"],
    ["conflictdb-X-1"],
    ["ucdp-77", "SYR1002"],
    ["NOPE-1"],
]
OPTIONS: list[dict[str, Any]] = [
    {},
    {"all_datasets": "true"},
    {"limit": 1, "page": 2},
    {"fields": "event_id_cnty|event_date|notes"},
    {"export_type": "monadic", "inter_num": 1},
]


async def _ucdp_coded(api: Api) -> None:
    """An event of another dataset in UCDP's coding: hidden unless all_datasets is asked."""
    body = {
        "dataset": "ucdp",
        "external_id": "77",
        "date_start": "2016-02-01",
        "sub_event_type": "armed_clash",
        "summary": "clashes north of Aleppo",
    }
    response = await api.post("/v1/events", json=body)
    assert response.status_code == 201, response.text
    # As a UCDP import codes it (the API has no type_of_violence to write).
    engine = create_engine(sync_database_url(api.database_url))
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE events SET type_of_violence = 1 WHERE id = :id"),
            {"id": response.json()["id"]},
        )
    engine.dispose()


async def test_events_by_id_equal_the_general_filter(api: Api) -> None:
    await corpus.build(api)
    await _ucdp_coded(api)
    seen = set()
    for ids in CASES:
        named = "|".join(ids)
        fast_params = {"event_id_cnty": named}
        # The same selection, as two filters ORed: the general path.
        general_params = {"event_id_cnty": f"{ids[0]}:OR:event_id_cnty={named}"}
        assert repository.exact_event_keys(_parsed(fast_params)) is not None
        assert repository.exact_event_keys(_parsed(general_params)) is None
        for options in OPTIONS:
            fast = await api.get(READ, params={**fast_params, **options})
            general = await api.get(READ, params={**general_params, **options})
            assert fast.status_code == general.status_code == 200, (fast.text, general.text)
            assert fast.json() == general.json(), (ids, options)
            seen.add(frozenset(r["event_id_cnty"] for r in fast.json()["data"]))
    # The cases reach rows: ACLED's ids, a prefixed one, UCDP's only with all_datasets.
    for reached in ({"SYR1003", "TUR2002", "SYR1001"}, {"conflictdb-X-1"}, {"SYR1002"}):
        assert reached in seen
    assert {"ucdp-77", "SYR1002"} in seen and set() in seen


def _parsed(params: dict[str, str]) -> Any:
    return parse_events(list(params.items()))
