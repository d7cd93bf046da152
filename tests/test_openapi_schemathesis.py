"""Schemathesis over every documented operation: no 5xx, and every response matches the schema.

Examples per operation: SCHEMATHESIS_MAX_EXAMPLES (default 25; .ci/run sets 30). A failure prints
the request to replay; Hypothesis keeps failing examples in .hypothesis/ and retries them first.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.python.asgi import ASGIClient, get_client, shutdown_lifespans
from schemathesis.specs.openapi.checks import response_schema_conformance
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.config import Settings
from app.main import create_app
from tests.conftest import load_seed_data, mint_keys, truncate_all

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "25"))
CHECKS = [not_a_server_error, response_schema_conformance]


CONFIG = schemathesis.Config.from_dict(
    {
        # Only the write key we pass: generated X-API-Key values would turn most requests into 401s.
        "generation": {"with-security-parameters": False},
        # The coverage phase (boundary values, every enum member; not bounded by max_examples)
        # keeps its valid cases, e.g. an id of 2**31. Its invalid ones (~4,000, more than the
        # rest together) only ever reach pydantic's 422, which fuzzing's negative mode still tests.
        "phases": {"coverage": {"generation": {"mode": "positive"}}},
    }
)
# The document does not depend on the database; building it opens no connection.
DOCUMENT = create_app(Settings(database_url="sqlite+aiosqlite:///:memory:")).openapi()
# Loaded eagerly, not through `schemathesis.pytest.from_fixture`: its lazy loader rewrites
# `Node._nodeid`, which pytest 9 no longer has. The app under test is passed per call instead.
schema = schemathesis.openapi.from_dict(DOCUMENT, config=CONFIG)


@dataclass
class FuzzTarget:
    app: ASGIApp
    client: ASGIClient
    headers: dict[str, str]


def like_a_server(app: ASGIApp) -> ASGIApp:
    """Keep the 500 response an unhandled error produced, as uvicorn does, instead of raising.

    Starlette re-raises after sending the 500; Schemathesis' in-process client would turn that
    into a test error and hide the request that caused it. As a response, `not_a_server_error`
    reports it with a curl line to replay it.
    """

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await app(scope, receive, tracking_send)
        except Exception:
            if scope["type"] != "http" or not started:
                raise

    return wrapped


def load_seeds_if_ready(url: str) -> None:
    """The seed report when the loader exists; an empty database (taxonomy only) until then."""
    with contextlib.suppress(NotImplementedError):
        asyncio.run(load_seed_data(url))


@pytest.fixture(scope="module")
def fuzz_target(database_url: str) -> Iterator[FuzzTarget]:
    truncate_all(database_url)
    load_seeds_if_ready(database_url)
    write_key, _ = mint_keys(database_url)
    app = like_a_server(create_app(Settings(database_url=database_url)))
    # One client for every call (entering it runs the app's lifespan), without `requests`
    # reading proxies and .netrc from the environment on each request: a third of the time.
    client = get_client(app)
    client.trust_env = False
    try:
        with client:
            yield FuzzTarget(
                app=app, client=client, headers={"Authorization": f"Bearer {write_key}"}
            )
    finally:
        # The lifespan outlives the client until told to stop.
        shutdown_lifespans()


@pytest.mark.slow
@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_operation(case: schemathesis.Case, fuzz_target: FuzzTarget) -> None:
    # Writes carry a write key so that the fuzzer reaches the handlers, not only the 401.
    case.call_and_validate(
        app=fuzz_target.app,
        session=fuzz_target.client,
        headers=fuzz_target.headers,
        checks=CHECKS,
    )
