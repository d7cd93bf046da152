"""GET /v1/aggregates equals what a client computes from the list itself, on real UCDP data."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from typing import Any

import pytest
import sqlalchemy as sa

from app.aggregates.repository import json_rows
from app.aggregates.schemas import AggregateQuery
from app.aggregates.service import _sort_key as sort_key
from app.aggregates.service import aggregate as aggregate_rows
from app.core.config import Settings, sync_database_url
from app.core.statements import StatementMemo
from app.main import create_app
from tests.aggregates.measures import assert_whole_numbers
from tests.aggregates.ucdp_load import load_ucdp
from tests.conftest import Api, make_api, shared_file, truncate_all
from tests.support import assert_problem, error_locs

pytestmark = pytest.mark.asyncio

MEASURES = ("events", "fatalities_low", "fatalities_best", "fatalities_high")
UCDP_SYRIA = "ucdp/ged-syria-2016-01-to-2019-11.csv"


@pytest.fixture(scope="module")
async def ucdp_api(database_url: str) -> AsyncIterator[tuple[Api, int]]:
    """UCDP's Syria file, loaded once per database for the two tests that read it."""
    truncate_all(database_url)
    loaded = load_ucdp(database_url, shared_file(UCDP_SYRIA))
    async for api in make_api(database_url):
        yield api, loaded


def bucket(day: str, interval: str | None) -> str | None:
    d = dt.date.fromisoformat(day)
    if interval is None:
        return None
    if interval == "week":
        d -= dt.timedelta(days=d.weekday())
    elif interval == "month":
        d = d.replace(day=1)
    elif interval == "year":
        d = d.replace(month=1, day=1)
    return d.isoformat()


def values(e: dict[str, Any], dim: str, roles: list[str]) -> list[Any]:
    actors = [a for a in e["actors"] if not roles or a["role"] in roles]
    found: list[Any] = {
        "event_type": [e["event_type"]],
        "sub_event_type": [e["sub_event_type"]],
        "disorder_type": [e["disorder_type"]],
        "country": [e["country_code"]],
        "admin1": [e["admin1"]],
        "admin2": [e["admin2"]],
        "place": [e["place_id"]],
        "actor": sorted({a["name"] for a in actors}),
        "actor_role": sorted({a["role"] for a in actors}),
        "source": sorted(set(e["sources"])),
        "campaign": sorted(set(e["campaigns"])),
    }[dim]
    return found or [None]


def client_side(
    events: list[dict[str, Any]],
    interval: str | None,
    group_by: list[str],
    roles: list[str] | None = None,
) -> Counter[tuple[Any, ...]]:
    """{(bucket, dims..., measure): value} summed the way a dashboard would."""
    acc: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for e in events:
        for combo in itertools.product(*(values(e, d, roles or []) for d in group_by)):
            cell = acc[(bucket(e["date_start"], interval), *combo)]
            cell[0] += 1
            best = e["fatalities_best"]
            # an unknown low counts as the best estimate; UCDP gives every high (an open one
            # would make the row's high null: tests/aggregates/test_basis.py)
            low = e["fatalities_low"] if e["fatalities_low"] is not None else best
            high = e["fatalities_high"] if e["fatalities_high"] is not None else best
            cell[1] += low or 0
            cell[2] += best or 0
            cell[3] += high or 0
    return Counter({k: tuple(v) for k, v in acc.items()})  # type: ignore[misc]


def server_side(
    rows: list[dict[str, Any]], interval: str | None, group_by: list[str]
) -> Counter[tuple[Any, ...]]:
    return Counter(
        {
            (r.get("bucket") if interval else None, *(r[d] for d in group_by)): tuple(
                r[m] for m in MEASURES
            )
            for r in rows
        }
    )  # type: ignore[misc]


async def all_events(api: Api, **filters: Any) -> list[dict[str, Any]]:
    r = await api.get("/v1/events", params={"format": "ndjson", **filters})
    assert r.status_code == 200, r.text
    return [json.loads(line) for line in r.text.splitlines()]


async def aggregate(api: Api, **params: Any) -> list[dict[str, Any]]:
    r = await api.get("/v1/aggregates", params=params)
    assert r.status_code == 200, r.text
    rows: list[dict[str, Any]] = r.json()["rows"]
    assert_whole_numbers(rows)
    return rows


CASES: list[tuple[dict[str, Any], str | None, list[str]]] = [
    ({}, None, []),
    ({}, "week", ["admin1"]),
    ({}, "month", ["event_type", "sub_event_type"]),
    ({}, "year", ["actor"]),
    ({}, "day", ["actor_role"]),
    ({}, None, ["source"]),
    ({}, "week", ["admin2"]),
    ({}, "year", ["place"]),
    ({}, "month", ["country", "disorder_type"]),
    ({"actor_role": "target"}, "year", ["actor"]),
    (
        {
            "admin1": ["Idlib governorate", "Aleppo governorate"],
            "date_from": "2017-03-01",
            "date_to": "2018-06-30",
            "fatalities_min": 1,
        },
        "week",
        ["admin1", "actor"],
    ),
    ({"bbox": "36,35,37,36.5"}, "month", ["admin2"]),
    # Place filters with a place dimension: the filters go on the join (see conditions()).
    ({"country": ["SY"], "admin2": ["Markaz Idlib district"]}, "week", ["admin1"]),
    ({"bbox": "36,35,37,36.5", "date_from": "2018-01-01"}, None, ["country", "place"]),
]


async def test_aggregates_equal_client_side(ucdp_api: tuple[Api, int]) -> None:
    api, ucdp = ucdp_api
    everything = await all_events(api)
    assert len(everything) == ucdp == 16566
    for filters, interval, group_by in CASES:
        events = everything if not filters else await all_events(api, **filters)
        params: dict[str, Any] = {**filters, "group_by": group_by}
        if interval:
            params["interval"] = interval
        rows = await aggregate(api, **params)
        assert rows, params  # every case matches something
        roles = [filters["actor_role"]] if "actor_role" in filters else None
        assert server_side(rows, interval, group_by) == client_side(
            events, interval, group_by, roles
        ), params
    # The ungrouped total is the file's own sum.
    (total,) = await aggregate(api)
    assert total["events"] == 16566
    assert total["fatalities_best"] == sum(e["fatalities_best"] for e in everything)


def query_of(params: dict[str, Any]) -> AggregateQuery:
    """The query a request with these parameters gives (one value of a list field, a list)."""
    lists = {n for n, f in AggregateQuery.model_fields.items() if "list" in str(f.annotation)}
    return AggregateQuery.model_validate(
        {k: [v] if k in lists and not isinstance(v, list) else v for k, v in params.items()}
    )


ORDER_CASES: list[dict[str, Any]] = [
    *({**f, "group_by": g, **({"interval": i} if i else {})} for f, i, g in CASES),
    {"interval": "month", "group_by": ["admin1"], "country": ["SY"]},
    {"group_by": ["place", "admin2"]},  # numbers ordered by their text, absent values first
    {"interval": "year", "group_by": ["actor"], "basis": "source"},
    {"interval": "year", "group_by": ["admin1"], "basis": "incident"},
    {"group_by": ["admin1"], "date_from": "2030-01-01"},  # no rows
]


async def test_postgresql_writes_the_rows_python_would(ucdp_api: tuple[Api, int]) -> None:
    """On PostgreSQL a plain aggregate's rows (no top, no fill, no sources statement of their
    own) are written as JSON by the database, sorted there (`repository.run_json`): the same
    rows in the same order, each with the same members in the same order, as the Python path
    builds. Its statement is built once per query, and a query differing in any field is not
    answered with another's."""
    api, _ = ucdp_api
    if not api.database_url.startswith("postgresql"):
        return  # SQLite's rows are built in Python
    app = create_app(Settings(database_url=api.database_url))
    async with app.router.lifespan_context(app), app.state.read_sessionmaker() as session:
        ctx = app.state.query_context
        memo = StatementMemo()
        answers = []
        for params in ORDER_CASES:
            q = query_of(params)
            written = await aggregate_rows(session, q, ctx, memo)
            assert written.rows_json is not None and not written.rows, params
            built = await aggregate_rows(session, q, ctx, by_database=False)
            assert built.rows_json is None
            rows = json.loads(written.rows_json)
            assert rows == json.loads(json.dumps(built.rows)), params
            assert [list(r) for r in rows] == [list(r) for r in built.rows], params
            answers.append(rows)
        assert (memo.misses, memo.hits) == (len(ORDER_CASES), 0)
        for params, answer in zip(ORDER_CASES, answers, strict=True):
            q = query_of(params)
            again = await aggregate_rows(session, q, ctx, memo)
            assert again.rows_json is not None and json.loads(again.rows_json) == answer
        assert (memo.misses, memo.hits) == (len(ORDER_CASES), len(ORDER_CASES))
    # Through HTTP, the answer is the same object with its rows last.
    r = await api.get("/v1/aggregates", params={"group_by": "admin1", "interval": "year"})
    assert r.status_code == 200, r.text
    assert list(r.json()) == ["interval", "group_by", "date_from", "date_to", "basis", "rows"]
    assert_whole_numbers(r.json()["rows"])


def test_the_databases_order_of_rows_is_pythons_whatever_the_collation(
    database_url: str,
) -> None:
    """`json_rows` sorts labels by their text in code point order, as `service._sort_key`
    does, even where the column's collation would not (here ICU's en-US, a deployment's
    default: there "_x" < "10" < "9" < "a" < "B" < "Ḥimṣ" < "Zab")."""
    if not database_url.startswith("postgresql"):
        return
    data = [
        ("2020-01-01", name, events)
        for name, events in [
            ("a", 3),
            ("B", 3),
            ("Ḥimṣ", 3),
            ("Zab", 3),
            ("_x", 3),
            ("10", 3),
            ("9", 3),
            (None, 3),
            ("c", 5),
            (None, 1),
            ("d", 1),
        ]
    ] + [("2019-12-01", "z", 1), ("2019-12-01", "A", 1)]
    table = sa.values(
        sa.column("bucket", sa.Date),
        sa.column("admin1", sa.String),
        sa.column("events", sa.Integer),
        name="v",
    ).data([(dt.date.fromisoformat(b), n, e) for b, n, e in data])
    stmt = sa.select(
        table.c.bucket, table.c.admin1.collate("en-US-x-icu").label("admin1"), table.c.events
    )
    engine = sa.create_engine(sync_database_url(database_url))
    with engine.connect() as conn:
        count, text = conn.execute(json_rows(stmt, 100, ["admin1"])).one()
    engine.dispose()
    expected = [{"bucket": b, "admin1": n, "events": e} for b, n, e in data]
    expected.sort(key=sort_key(["admin1"]))
    assert count == len(data) and json.loads(text) == expected


async def test_top_and_fill(ucdp_api: tuple[Api, int]) -> None:
    api, _ = ucdp_api
    params = {
        "interval": "month",
        "group_by": "admin1",
        "top": 3,
        "fill": "true",
        "date_from": "2016-01-01",
        "date_to": "2019-12-31",
    }
    rows = await aggregate(api, **params)
    full = client_side(
        await all_events(api, date_from="2016-01-01", date_to="2019-12-31"), "month", ["admin1"]
    )
    totals: Counter[Any] = Counter()
    for (_, admin1), m in full.items():
        totals[admin1] += m[0]
    top3 = {k for k, _ in sorted(totals.items(), key=lambda kv: (-kv[1], str(kv[0])))[:3]}
    months = 48
    groups = {r["admin1"] for r in rows}
    assert groups == top3 | {"other"}
    assert len(rows) == months * 4  # every month, zero-filled, for the 3 groups and 'other'
    per_group: Counter[Any] = Counter()
    for r in rows:
        per_group[r["admin1"]] += r["events"]
    for g in top3:
        assert per_group[g] == totals[g]
    assert per_group["other"] == sum(v for k, v in totals.items() if k not in top3)
    assert sum(r["fatalities_best"] for r in rows) == sum(m[2] for m in full.values())
    weeks = await aggregate(
        api, interval="week", fill="true", date_from="2019-11-01", date_to="2019-12-31"
    )
    got = [r["bucket"] for r in weeks]
    assert all(dt.date.fromisoformat(b).weekday() == 0 for b in got)  # weeks start on Monday
    # Zero-filled from the week of date_from to that of date_to; events that began earlier
    # but overlap the range keep their own (earlier) bucket.
    assert [b for b in got if b >= "2019-10-28"] == [
        (dt.date(2019, 10, 28) + dt.timedelta(weeks=i)).isoformat() for i in range(10)
    ]
    assert weeks[-1]["events"] == 0


@pytest.mark.parametrize(
    ("params", "loc"),
    [
        ({"group_by": "bogus"}, ["query", "group_by", 0]),
        ({"interval": "hour"}, ["query", "interval"]),
        ({"fill": "true", "interval": "week"}, ["query"]),
        ({"top": 0}, ["query", "top"]),
        ({"contry": "SY"}, ["query", "contry"]),
    ],
)
async def test_bad_parameters(api: Api, params: dict[str, Any], loc: list[Any]) -> None:
    body = assert_problem(await api.get("/v1/aggregates", params=params), 422, "validation_error")
    assert loc in error_locs(body)


async def test_empty_and_too_many(api: Api) -> None:
    assert (await aggregate(api))[0]["events"] == 0
    r = await api.get(
        "/v1/aggregates",
        params={
            "interval": "day",
            "fill": "true",
            "date_from": "1800-01-01",
            "date_to": "2100-01-01",
            "group_by": "admin1",
        },
    )
    assert r.status_code in (200, 422)
    r = await api.get(
        "/v1/aggregates",
        params={
            "interval": "day",
            "fill": "true",
            "date_from": "1000-01-01",
            "date_to": "9000-01-01",
        },
    )
    assert_problem(r, 422, "too_many_groups")


async def test_seed_sums_stay_ordered(seeded_api: Api) -> None:
    """'At least 13' has no high: a sum with it has none either (null, counted in open_high);
    the others still read low <= best <= high."""
    r = await seeded_api.get("/v1/aggregates", params={"group_by": "sub_event_type"})
    assert r.status_code == 200, r.text
    rows = r.json()["rows"]
    clash = next(row for row in rows if row["sub_event_type"] == "armed_clash")
    assert clash["fatalities_best"] > 0
    assert clash["fatalities_high"] is None and clash["open_high"] == 1
    for row in rows:
        assert row["fatalities_low"] <= row["fatalities_best"], row
        if row["open_high"]:
            assert row["fatalities_high"] is None, row
        else:
            assert row["fatalities_best"] <= row["fatalities_high"], row
