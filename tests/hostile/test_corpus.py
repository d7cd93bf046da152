"""A corpus of hostile values through every free-form field, the NDJSON import and the query
parameters: no response >= 500, every rejection names its field, and afterwards every read
(lists, exports, aggregates, the change feed) still answers 200. Run with -s for the counts.

Values are spelled as raw JSON text (sent with `content=`), so that NaN, Infinity, 1e400, lone
surrogates and integers beyond 64 bits reach the server exactly as a hostile client sends them.
"""

from __future__ import annotations

import csv
import itertools
import json
from collections import Counter
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import create_engine, text

from app.core.config import sync_database_url
from app.core.jsonrules import MAX_BYTES, MAX_DEPTH, MAX_SAFE_INT
from tests.conftest import Api
from tests.factories import create_actor, create_source
from tests.imports.support import FIXTURES, run_file

pytestmark = pytest.mark.asyncio


def _deep(n: int) -> str:
    return "[" * n + "]" * n


# (label, raw JSON text, whether the JSON rules accept it)
VALUES: list[tuple[str, str, bool]] = [
    ("null", "null", True),
    ("true", "true", True),
    ("zero", "0", True),
    ("max safe int", str(MAX_SAFE_INT), True),
    ("min safe int", str(-MAX_SAFE_INT), True),
    ("2**53", str(2**53), False),
    ("-2**53", str(-(2**53)), False),
    ("2**63", str(2**63), False),
    ("2**70", str(2**70), False),
    ("10**400", "1" + "0" * 400, False),
    ("float", "-1234.5e-3", True),
    ("float 2**53", "9007199254740992.0", False),
    ("float 1.5e300", "1.5e300", False),
    ("tiny float", "5e-324", True),
    ("1e400 (inf)", "1e400", False),
    ("NaN", "NaN", False),
    ("Infinity", "Infinity", False),
    ("-Infinity", "-Infinity", False),
    ("string", '"plain"', True),
    ("empty string", '""', True),
    ("emoji pair", '"\\ud83d\\ude00"', True),
    ("NUL", '"a\\u0000b"', False),
    ("lone high surrogate", '"\\ud800"', False),
    ("lone low surrogate", '"\\udfff"', False),
    ("reversed pair", '"\\ude00\\ud83d"', False),
    ("big string", '"' + "x" * (MAX_BYTES + 10) + '"', False),
    ("empty array", "[]", True),
    ("empty object", "{}", True),
    ("array of bad", "[1, NaN, 2]", False),
    (f"depth {MAX_DEPTH - 2}", _deep(MAX_DEPTH - 2), True),
    (f"depth {MAX_DEPTH + 1}", _deep(MAX_DEPTH + 1), False),
    ("depth 900", _deep(900), False),
    ("depth 5000", _deep(5000), False),
    ("key NUL", '{"a\\u0000": 1}', False),
    ("key surrogate", '{"\\udfff": 1}', False),
    ("key empty", '{"": 1}', True),
    ("key long", '{"' + "k" * 300 + '": 1}', False),
    ("key odd chars", '{"a.b[0]/../$where": 1, "\\u202e": 2}', True),
    ("duplicate keys", '{"a": 1, "a": 2}', True),
    ("nested bad int", '{"a": [{"b": 1180591620717411303424}]}', False),
]
STRINGS = [v for v in VALUES if v[1].startswith('"')]


def _names_field(response: httpx.Response, field: str) -> None:
    """A rejection: problem+json whose errors[].loc names the field."""
    assert response.status_code < 500, (field, response.status_code, response.text[:300])
    if response.status_code < 400:
        return
    assert response.headers["content-type"].startswith("application/problem+json"), field
    body = response.json()
    if response.status_code == 422 and "errors" in body:
        locs = [e["loc"] for e in body["errors"]]
        assert any(field in [str(p) for p in loc] for loc in locs), (field, locs)


def _event(n: int, **parts: str) -> str:
    """An event body as raw JSON, some members given as raw JSON text."""
    body = {
        "external_id": f"H-{n}",
        "date_start": "2015-10-08",
        "sub_event_type": "air_drone_strike",
        "summary": "hostile corpus",
        "place": {"name": "Sahl al-Ghab", "country_code": "SY"},
        "actors": [{"actor": "Hostile Air Force", "role": "initiator"}],
    }
    raw = json.dumps(body)[:-1]
    for key, value in parts.items():
        if key.startswith("place."):
            raw = raw.replace('"name": "Sahl al-Ghab"', f'"name": {value}')
        elif key == "claims.attributes":
            raw += (
                ', "claims": [{"source": "Hostile Agency", "assertion": "x", '
                f'"attributes": {value}}}]'
            )
        else:
            raw = raw.replace(f', "{key}": "hostile corpus"', "")
            raw += f', "{key}": {value}'
    return raw + "}"


async def _send(api: Api, method: str, url: str, raw: str | bytes) -> httpx.Response:
    headers = {**api.auth, "content-type": "application/json"}
    content = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    return await api.client.request(method, url, content=content, headers=headers)


async def _reads_still_work(api: Api) -> None:
    urls = [
        "/v1/events?sort=-id",
        "/v1/events?date_from=2015-01-01&fields=id,extras,tags,summary",
        "/v1/events?format=ndjson",
        "/v1/events?format=csv",
        "/v1/events?format=geojson",
        "/v1/aggregates",
        "/v1/aggregates?interval=month&group_by=country",
        "/v1/changes",
        "/v1/claims",
        "/v1/actors",
        "/acled/acled/read",
    ]
    ids = [e["id"] for e in (await api.get("/v1/events?limit=1000&fields=id")).json()["items"]]
    urls += [f"/v1/events/{i}" for i in ids[:20]]
    for url in urls:
        response = await api.get(url, headers=api.read_auth)
        assert response.status_code == 200, (url, response.text[:300])


async def test_hostile_bodies(api: Api, tmp_path: Path) -> None:
    url = api.database_url
    create_actor(url, "Hostile Air Force", 8)
    create_source(url, "Hostile Agency")
    counts: Counter[str] = Counter()
    ids = itertools.count(2)

    # One good event to PUT, PATCH and attach claims to.
    base = await _send(api, "POST", "/v1/events", _event(1))
    assert base.status_code == 201, base.text
    event_id = base.json()["id"]
    claim = await api.post(
        "/v1/claims",
        json={"event_id": event_id, "source": "Hostile Agency", "assertion": "x"},
    )
    assert claim.status_code == 201, claim.text
    claim_id = claim.json()["id"]

    for label, raw, ok in VALUES:
        for field, body in [
            ("extras", _event(next(ids), extras=f'{{"k": {raw}}}')),
            ("claims.attributes", _event(next(ids), **{"claims.attributes": f'{{"k": {raw}}}'})),
        ]:
            response = await _send(api, "POST", "/v1/events", body)
            counts[f"POST /v1/events {field}"] += 1
            _names_field(response, field.split(".")[-1])
            assert (response.status_code == 201) == ok, (field, label, response.text[:300])
        # The value as the whole object, and in PUT.
        response = await _send(api, "POST", "/v1/events", _event(next(ids), extras=raw))
        counts["POST /v1/events extras (whole)"] += 1
        _names_field(response, "extras")
        response = await _send(
            api, "PUT", f"/v1/events/{event_id}", _event(1, extras=f'{{"k": {raw}}}')
        )
        counts["PUT /v1/events extras"] += 1
        _names_field(response, "extras")
        assert (response.status_code == 200) == ok, (label, response.text[:300])
        for field in ("summary", "tags", "place.name"):
            value = f"[{raw}]" if field == "tags" else raw
            response = await _send(api, "POST", "/v1/events", _event(next(ids), **{field: value}))
            counts[f"POST /v1/events {field}"] += 1
            _names_field(response, field.split(".")[-1])
        for field in ("summary", "tags"):
            value = f"[{raw}]" if field == "tags" else raw
            response = await _send(
                api, "PATCH", f"/v1/events/{event_id}", f'{{"{field}": {value}}}'
            )
            counts[f"PATCH /v1/events {field}"] += 1
            _names_field(response, field)
        response = await _send(
            api,
            "POST",
            "/v1/claims",
            f'{{"event_id": {event_id}, "source": "Hostile Agency", "assertion": "x", '
            f'"attributes": {{"k": {raw}}}}}',
        )
        counts["POST /v1/claims attributes"] += 1
        _names_field(response, "attributes")
        assert (response.status_code == 201) == ok, (label, response.text[:300])
        response = await _send(
            api, "PATCH", f"/v1/claims/{claim_id}", f'{{"attributes": {{"k": {raw}}}}}'
        )
        counts["PATCH /v1/claims attributes"] += 1
        _names_field(response, "attributes")
        for field in ("name", "aliases"):
            value = f"[{raw}]" if field == "aliases" else raw
            response = await _send(
                api,
                "POST",
                "/v1/actors",
                f'{{"{field}": {value}, "actor_type": 2}}'
                if field == "name"
                else f'{{"name": "Actor {next(ids)}", "actor_type": 2, "aliases": {value}}}',
            )
            counts[f"POST /v1/actors {field}"] += 1
            _names_field(response, field)

    # Bodies that are not JSON at all.
    for raw_body in [b"\xff\xfe", b'{"summary": "\xed\xa0\x80"}', b"", b"{" * 100_000, b"NaN"]:
        response = await _send(api, "POST", "/v1/events", raw_body)
        counts["POST /v1/events raw body"] += 1
        assert response.status_code < 500, response.text[:300]
        assert response.headers["content-type"].startswith("application/problem+json")

    # The NDJSON import: every value in extras, summary and tags; a bad row is a reject
    # with its line, never an exception, and the good rows are loaded.
    lines: list[str] = []
    expected_bad: set[int] = set()
    for _label, raw, ok in VALUES:
        for field in ("extras", "summary", "tags", "claims.attributes"):
            value = {"extras": f'{{"k": {raw}}}', "tags": f"[{raw}]"}.get(field, raw)
            lines.append(_event(100_000 + len(lines), **{field: value}))
            if field in ("extras", "claims.attributes") and not ok:
                expected_bad.add(len(lines))
    path = tmp_path / "hostile.ndjson"
    path.write_bytes("\n".join(lines).encode("utf-8", "surrogatepass") + b"\n")
    counts["NDJSON import rows"] = len(lines)
    report = await run_file(url, path, "ndjson", partial=True)
    assert report.committed
    rejected_lines = {p.line for p in report.rejects}
    assert expected_bad <= rejected_lines, sorted(expected_bad - rejected_lines)
    for problem in report.rejects:
        json.dumps(problem.as_dict()).encode("utf-8")  # encodable: no lone surrogate
    assert report.inserted + report.rejected == len(lines)
    # The same rows uploaded through the API (a small file runs inline): the job ends, with
    # the rejects in its report, which is served as JSON.
    rows = [_event(200_000 + i, summary=raw) for i, (_l, raw, _ok) in enumerate(VALUES)]
    upload = "\n".join(rows).encode("utf-8", "surrogatepass")
    response = await api.post(
        "/v1/imports",
        files={"file": ("hostile.ndjson", upload, "application/x-ndjson")},
        data={"format": "ndjson", "partial": "true"},
    )
    counts["POST /v1/imports ndjson rows (summary)"] = len(rows)
    assert response.status_code == 201, response.text[:300]
    job = response.json()
    assert job["status"] == "succeeded", job
    # Only "plain" and the emoji pair are a summary; every other row is a reject.
    assert (job["inserted"], job["rejected"]) == (2, len(rows) - 2), job
    fetched = await api.get(f"/v1/imports/{job['id']}", headers=api.auth)
    assert fetched.status_code == 200, fetched.text[:300]

    print("\nhostile corpus, cases per field:")
    for field, count in sorted(counts.items()):
        print(f"  {field}: {count}")
    print(f"  total: {sum(counts.values())} ({len(VALUES)} distinct values)")
    await _reads_still_work(api)


# (path, params): each at or past a bound. ACLED routes answer in ACLED's own error shape.
QUERIES: list[tuple[str, dict[str, str]]] = [
    *[
        ("/v1/events", {name: value})
        for name, values in {
            "limit": ["0", "1", "1000", "1001", "-1", str(2**31), str(2**63), "1" * 400],
            "fatalities_min": ["0", "-1", str(2**31 - 1), str(2**31), str(2**64), "NaN"],
            "date_from": ["0001-01-01", "9999-12-31", "0000-00-00", "10000-01-01", "x"],
            "updated_since": ["9999-12-31T23:59:59Z", "1e400"],
            "lat": ["90", "90.0001", "NaN", "Infinity", "1e400"],
            "radius_km": ["0", "20040", "20041", "inf"],
            "bbox": ["-180,-90,180,90", "-181,0,0,0", "nan,nan,nan,nan", "1e400,0,1,1", ","],
            "polygon": ["[" * 5000, "[" * 20 + "]" * 20, '{"type": "Polygon"}', "x" * 5000],
            "q": ["a\x00b", "\udfff", "x" * 256, "*" * 255, '"', "%_\\"],
            "actor": ["\x00", "x" * 1000, str(2**63)],
            "place_id": ["0", str(2**31), "-1"],
            "cursor": ["x", "x" * 2001, "eyJ9"],
            "fields": ["nope", "id," * 500],
            "sort": ["nope", "-distance"],
            "format": ["xml", "csv"],
        }.items()
        for value in values
    ],
    *[
        ("/v1/aggregates", {name: value})
        for name, values in {
            "top": ["0", "1", "1000", str(2**31), "-1"],
            "interval": ["day", "century"],
            "group_by": ["country", "nope"],
            "date_from": ["0001-01-01", "9999-12-31"],
            "fatalities_min": [str(2**40)],
        }.items()
        for value in values
    ],
    *[
        ("/v1/changes", {name: value})
        for name, values in {
            "since": ["0", "x", "9999-12-31T00:00:00Z", "\x00"],
            "since_seq": ["0", "-1", str(2**31), str(2**63), str(2**64)],
            "limit": ["0", "1000", "1001"],
            "cursor": ["x", "x" * 2001],
        }.items()
        for value in values
    ],
    *[
        ("/acled/acled/read", params)
        for params in [
            {"fatalities": str(2**31), "fatalities_where": ">"},
            {"fatalities": str(2**31 - 1), "fatalities_where": ">"},
            {"fatalities": str(-(2**31)), "fatalities_where": "<"},
            {"year": str(2**40)},
            {"iso": str(2**53)},
            {"geo_precision": "9" * 30},
            {"latitude": "1e400"},
            {"latitude": "1e300", "latitude_where": ">"},
            {"timestamp": str(2**63)},
            {"limit": str(2**31 + 1)},
            {"page": str(2**31)},
            {"event_date": "9999-12-31"},
            {"country": "\udfff"},
            {"fatalities": "", "fatalities_where": "bogus"},
        ]
    ],
    ("/acled/country/read", {"iso3": "", "iso3_where": "bogus"}),
    ("/acled/country/read", {"iso3": "SYR", "iso3_where": ""}),
    ("/acled/actortype/read", {"actor_type_id": "", "actor_type_id_where": "0"}),
    ("/acled/actortype/read", {"actor_type_id": str(2**31)}),
]


async def test_hostile_queries(api: Api) -> None:
    create_actor(api.database_url, "Hostile Air Force", 8)
    body = _event(1, extras='{"k": 1}')
    assert (await _send(api, "POST", "/v1/events", body)).status_code == 201
    counts: Counter[str] = Counter()
    for path, params in QUERIES:
        counts[path] += 1
        # Encoded by hand: a lone surrogate goes as its (invalid) UTF-8 bytes, %ED%BF%BF.
        query = "&".join(
            f"{quote(k)}={quote(v.encode('utf-8', 'surrogatepass'))}" for k, v in params.items()
        )
        response = await api.get(f"{path}?{query}", headers=api.read_auth)
        body_text = response.text  # streamed bodies are read whole: an error mid-stream shows
        assert response.status_code < 500, (path, params, body_text[:300])
        if path.startswith("/acled"):
            if response.status_code >= 400:
                assert response.status_code == 400, (path, params)
                error = response.json()
                assert error["success"] is False and error["error"][0]["message"]
            else:
                assert response.json()["success"] is True, (path, params)
            continue
        if response.status_code >= 400:
            assert response.headers["content-type"].startswith("application/problem+json")
            problem = response.json()
            if response.status_code == 422:
                [name] = params
                # The parameter is in a loc, or (a rule across parameters) in the message.
                named = [e for e in problem["errors"] if name in e["loc"] or name in e["msg"]]
                assert named, (path, params, problem["errors"])
    print("\nhostile query parameters, cases per route:")
    for path, count in sorted(counts.items()):
        print(f"  {path}: {count}")
    await _reads_still_work(api)


# What README gives for moving an event's change_seq by one's own SQL, in the same transaction.
MOVE_CHANGE_SEQ = {
    "postgresql": [
        "UPDATE events SET change_seq = pg_current_xact_id()::text::bigint WHERE id = :id"
    ],
    "sqlite": [
        "UPDATE change_counter SET value = value + 1 WHERE id = 1",
        "UPDATE events SET change_seq = (SELECT value FROM change_counter WHERE id = 1) "
        "WHERE id = :id",
    ],
}


async def test_stored_out_of_range_values_do_not_break_reads(api: Api) -> None:
    """Rows written before the rules (here by hand, with SQL) are still served."""
    create_actor(api.database_url, "Hostile Air Force", 8)
    create_source(api.database_url, "Hostile Agency")
    body = _event(1, extras='{"k": 1}', **{"claims.attributes": '{"k": 1}'})
    created = await _send(api, "POST", "/v1/events", body)
    assert created.status_code == 201, created.text
    event_id = created.json()["id"]
    [claim] = created.json()["claims"]
    engine = create_engine(sync_database_url(api.database_url))
    huge = '{"k": 1180591620717411303424, "n": [-99999999999999999999999]}'
    cast = "CAST(:x AS jsonb)" if engine.dialect.name == "postgresql" else ":x"
    with engine.begin() as conn:
        conn.execute(
            text(f"UPDATE events SET extras = {cast} WHERE id = :id"), {"x": huge, "id": event_id}
        )
        conn.execute(
            text(f"UPDATE claims SET attributes = {cast} WHERE id = :id"),
            {"x": huge, "id": claim["id"]},
        )
    engine.dispose()
    listed = await api.get("/v1/events?sort=-id")
    assert listed.status_code == 200, listed.text
    [item] = listed.json()["items"]
    # Beyond 64 bits: served as the decimal string, digit for digit.
    assert item["extras"]["k"] == "1180591620717411303424"
    one = await api.get(f"/v1/events/{event_id}")
    assert one.status_code == 200, one.text
    assert one.json()["extras"]["k"] == "1180591620717411303424"
    assert one.json()["claims"][0]["attributes"]["n"] == ["-99999999999999999999999"]
    claim_read = await api.get(f"/v1/claims/{claim['id']}")
    assert claim_read.status_code == 200, claim_read.text
    assert claim_read.json()["attributes"]["k"] == "1180591620717411303424"
    # Each on its own: a page sent as the database wrote it must notice either. These writes by
    # hand move the event's change_seq, as README asks of one's own SQL (the list keeps each
    # event's JSON while its change_seq stays: app/core/doccache.py).
    move = MOVE_CHANGE_SEQ[engine.dialect.name]
    for table, column in (("events", "extras"), ("claims", "attributes")):
        row_id = event_id if table == "events" else claim["id"]
        with engine.begin() as conn:
            conn.execute(
                text(f"UPDATE {table} SET {column} = {cast} WHERE id = :id"),
                {"x": '{"k": 1}', "id": row_id},
            )
            for statement in move:
                conn.execute(text(statement), {"id": event_id})
        [item] = (await api.get("/v1/events?sort=-id")).json()["items"]
        if table == "events":  # only the claim's attributes hold the huge numbers
            assert item["extras"] == {"k": 1}
            assert item["claims"][0]["attributes"]["n"] == ["-99999999999999999999999"]
        else:  # only the event's extras do
            assert item["claims"][0]["attributes"] == {"k": 1}
            assert item["extras"]["k"] == "1180591620717411303424"
        with engine.begin() as conn:  # back to the huge value, for the next round and below
            conn.execute(
                text(f"UPDATE {table} SET {column} = {cast} WHERE id = :id"),
                {"x": huge, "id": row_id},
            )
            for statement in move:
                conn.execute(text(statement), {"id": event_id})
    for url in [
        "/v1/events?format=ndjson",
        "/v1/events?format=csv",
        "/v1/events?format=geojson",
        "/v1/changes",
        "/v1/claims",
        "/v1/events?fields=id,claims,extras&date_from=2015-01-01",
    ]:
        response = await api.get(url)
        assert response.status_code == 200, (url, response.text[:300])
    await _reads_still_work(api)


async def test_rejections_locate_the_member(api: Api) -> None:
    create_actor(api.database_url, "Hostile Air Force", 8)
    cases = [
        ('{"k": 1180591620717411303424}', ["body", "extras", "k"]),
        ('{"a": [0, {"b": NaN}]}', ["body", "extras", "a", 1, "b"]),
        ('{"a": {"\\u0000": 1}}', ["body", "extras", "a", "\\x00"]),
        ('{"s": "\\udfff"}', ["body", "extras", "s"]),
    ]
    for raw, loc in cases:
        response = await _send(api, "POST", "/v1/events", _event(7, extras=raw))
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert [e["loc"] for e in response.json()["errors"]] == [loc], raw
    schema = (await api.get("/openapi.json")).json()
    assert "2**53 - 1" in json.dumps(schema["components"]["schemas"]["EventCreate"])
    # ACLED: numeric operands beyond the column's range and operators outside the enum are a
    # 400 in ACLED's shape before the response starts.
    for path, params in [
        ("/acled/acled/read", {"fatalities": str(2**31), "fatalities_where": ">"}),
        ("/acled/country/read", {"iso3": "", "iso3_where": "bogus"}),
        ("/acled/actortype/read", {"actor_type_id": "", "actor_type_id_where": "0"}),
        ("/acled/actortype/read", {"actor_type_id": "1", "actor_type_id_where": ""}),
    ]:
        response = await api.get(path, params=params)
        assert response.status_code == 400, (path, params, response.text)
        assert response.json()["success"] is False


async def test_csv_importers_apply_the_json_rules(api: Api, tmp_path: Path) -> None:
    """ACLED keeps its timestamp (and unmapped columns) in extras: the same rules apply."""
    with (FIXTURES / "acled-current.csv").open(newline="", encoding="utf-8") as fh:
        table = list(csv.reader(fh))
    header = table[0]
    table[1][header.index("timestamp")] = "9" * 30
    table[2][header.index("notes")] = "fine"
    path = tmp_path / "acled-hostile.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(table)
    report = await run_file(api.database_url, path, "acled", partial=True)
    assert report.committed
    [reject] = report.rejects
    assert (reject.line, reject.column) == (2, "extras"), reject
    assert "timestamp" in reject.reason and "2**53" in reject.reason, reject
    assert report.inserted == len(table) - 2
    await _reads_still_work(api)
