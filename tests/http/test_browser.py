"""In process: CORS, security headers, Cache-Control, /docs and /redoc without a CDN, early 401
and 413, links built from trusted hosts only, and the log filter."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator

from app.core.http import RedactSecrets
from tests.conftest import Api, make_api

DASHBOARD = "https://dashboard.example"


async def test_security_headers_on_every_response(api: Api) -> None:
    for response in (
        await api.get("/healthz"),
        await api.get("/v1/events"),
        await api.get("/v1/no-such-thing"),
        await api.post("/v1/events", json={}),
    ):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "no-referrer"
    docs = await api.get("/docs")
    assert "script-src 'self'" in docs.headers["Content-Security-Policy"]
    assert "Content-Security-Policy" not in (await api.get("/v1/events")).headers


async def test_cache_control_per_route(api: Api) -> None:
    listed = await api.get("/v1/events")
    assert "ETag" in listed.headers
    assert listed.headers["Cache-Control"] == "private, max-age=0, must-revalidate"
    assert (await api.post("/v1/events", json={})).headers["Cache-Control"] == "no-store"
    job = await api.get("/v1/imports/1", headers=api.read_auth)
    assert job.headers["Cache-Control"] == "no-store"
    asset = await api.get("/static-docs/swagger-ui.css")
    assert asset.headers["Cache-Control"].startswith("public")


async def test_cors_reads_from_anywhere_writes_from_listed_origins(database_url: str) -> None:
    async for api in make_api(database_url, cors_write_origins=[DASHBOARD]):
        preflight = await api.client.options(
            "/v1/events",
            headers={
                "Origin": "https://any.example",
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "authorization",
            },
        )
        assert preflight.status_code == 200
        assert preflight.headers["Access-Control-Allow-Origin"] in ("*", "https://any.example")
        assert "GET" in preflight.headers["Access-Control-Allow-Methods"]
        read = await api.get("/v1/events", headers={"Origin": "https://any.example"})
        assert read.headers["Access-Control-Allow-Origin"] == "*"
        assert "ETag" in read.headers["Access-Control-Expose-Headers"]

        refused = await api.client.options(
            "/v1/events",
            headers={"Origin": "https://any.example", "Access-Control-Request-Method": "POST"},
        )
        assert refused.status_code == 400
        assert "POST" not in refused.headers.get("Access-Control-Allow-Methods", "")

        allowed = await api.client.options(
            "/v1/events/1",
            headers={
                "Origin": DASHBOARD,
                "Access-Control-Request-Method": "PATCH",
                "Access-Control-Request-Headers": "authorization, content-type, if-match",
            },
        )
        assert allowed.status_code == 200
        assert allowed.headers["Access-Control-Allow-Origin"] == DASHBOARD
        assert "PATCH" in allowed.headers["Access-Control-Allow-Methods"]
        write = await api.post("/v1/events", json={}, headers={**api.auth, "Origin": DASHBOARD})
        assert write.headers["Access-Control-Allow-Origin"] == DASHBOARD


_REFERENCE = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")


async def test_docs_load_nothing_from_another_host(api: Api) -> None:
    for page in ("/docs", "/redoc"):
        response = await api.get(page)
        assert response.status_code == 200
        html = response.text
        assert not re.search(r"https?://", html), f"{page} names an external host"
        assert "fonts.googleapis" not in html
        references = _REFERENCE.findall(html)
        assert references, page
        for ref in references:
            assert ref.startswith("/") and not ref.startswith("//"), ref
            asset = await api.get(ref)
            assert asset.status_code == 200, ref
            assert len(asset.content) > 1000, ref
    spec = await api.get("/openapi.json")
    assert spec.status_code == 200


async def test_writes_without_any_key_are_401_before_the_body(api: Api) -> None:
    for method, path in (
        ("POST", "/v1/events"),
        ("PATCH", "/v1/events/1"),
        ("DELETE", "/v1/events/1"),
        ("POST", "/v1/imports"),
    ):
        response = await api.client.request(method, path, content=b"x" * 10_000)
        assert response.status_code == 401, (method, path, response.text)
        assert response.headers["Content-Type"] == "application/problem+json"
        assert response.json()["code"] == "missing_api_key"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    # /acled has no writes: any other method is ACLED's 405, the body unread.
    acled = await api.client.post("/acled/acled/read", content=b"x" * 10_000)
    assert acled.status_code == 405
    # A key given is checked by the route, as before.
    wrong = await api.client.post(
        "/v1/events", json={}, headers={"Authorization": "Bearer cdb_wrong"}
    )
    assert wrong.json()["code"] == "invalid_api_key"


async def test_json_body_limit(database_url: str) -> None:
    async for api in make_api(database_url, max_json_body_bytes=10_000):
        big = await api.post("/v1/events", content=b"a" * 20_000)
        assert big.status_code == 413
        assert big.json()["code"] == "payload_too_large"

        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(10):
                yield b"a" * 5_000

        streamed = await api.post("/v1/events", content=chunks())
        assert streamed.status_code == 413
        small = await api.post("/v1/events", json={})
        assert small.status_code == 422


async def test_url_and_header_limits(database_url: str) -> None:
    async for api in make_api(database_url, max_url_bytes=1000, max_header_bytes=2000):
        assert (await api.get("/v1/events?q=" + "a" * 2000)).status_code == 414
        response = await api.get("/healthz", headers={"X-Big": "a" * 3000})
        assert response.status_code == 431
        assert response.json()["code"] == "headers_too_large"
        assert (await api.get("/v1/events?limit=1")).status_code == 200


async def test_links_never_carry_an_untrusted_host(seeded_api: Api) -> None:
    response = await seeded_api.get("/v1/actors?limit=1", headers={"Host": "evil.example"})
    assert response.status_code == 200
    assert "evil.example" not in response.json()["next_url"]
    assert "evil.example" not in response.headers["Link"]
    events = await seeded_api.get("/v1/events?limit=1", headers={"Host": "evil.example"})
    assert "evil.example" not in events.json()["next_url"]
    assert "evil.example" not in events.headers["Link"]
    changes = await seeded_api.get("/v1/changes?limit=1", headers={"Host": "evil.example"})
    assert "evil.example" not in changes.json()["next_url"]


async def test_links_use_the_public_base_url(database_url: str) -> None:
    from tests.conftest import load_seed_data, truncate_all

    truncate_all(database_url)
    await load_seed_data(database_url)
    base = "https://conflictdb.example.org"
    async for api in make_api(database_url, public_base_url=base):
        for path in ("/v1/actors?limit=1", "/v1/changes?limit=1"):
            response = await api.get(path, headers={"Host": "evil.example"})
            assert response.json()["next_url"].startswith(base + path.split("?")[0]), path
            assert response.headers["Link"].startswith(f"<{base}/")


def test_log_filter_redacts_keys() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        (
            "127.0.0.1:1",
            "GET",
            "/acled/acled/read?email=a@b.org&key=cdb_abc123&access_token=t0k&limit=1",
            "1.1",
            200,
        ),
        None,
    )
    assert RedactSecrets().filter(record)
    text = record.getMessage()
    for secret in ("a@b.org", "cdb_abc123", "t0k"):
        assert secret not in text
    assert "limit=1" in text
