"""Schemathesis over every documented operation: no 5xx, and every response matches the schema.

Examples per operation: SCHEMATHESIS_MAX_EXAMPLES (default 25; CI sets more). A failure prints
the request to replay; Hypothesis keeps failing examples in .hypothesis/ and retries them first.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.python.asgi import shutdown_lifespans
from schemathesis.specs.openapi.checks import response_schema_conformance

from app.core.config import Settings
from app.main import create_app
from tests.conftest import load_seed_data, mint_keys, truncate_all

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "25"))
CHECKS = [not_a_server_error, response_schema_conformance]


# The document does not depend on the database; building it opens no connection.
DOCUMENT = create_app(Settings(database_url="sqlite+aiosqlite:///:memory:")).openapi()
# Loaded eagerly, not through `schemathesis.pytest.from_fixture`: its lazy loader rewrites
# `Node._nodeid`, which pytest 9 no longer has. The app under test is passed per call instead.
schema = schemathesis.openapi.from_dict(DOCUMENT)


@dataclass
class FuzzTarget:
    app: FastAPI
    headers: dict[str, str]
    seeded: bool


def load_seeds_if_ready(url: str) -> bool:
    """The seed report when the loader exists; an empty database (taxonomy only) until then."""
    try:
        asyncio.run(load_seed_data(url))
    except NotImplementedError:
        return False
    return True


@pytest.fixture(scope="module")
def fuzz_target(database_url: str) -> Iterator[FuzzTarget]:
    truncate_all(database_url)
    seeded = load_seeds_if_ready(database_url)
    write_key, _ = mint_keys(database_url)
    app = create_app(Settings(database_url=database_url))
    try:
        yield FuzzTarget(app=app, headers={"Authorization": f"Bearer {write_key}"}, seeded=seeded)
    finally:
        # Schemathesis starts the app's lifespan on first call and keeps it until told to stop.
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
    case.call_and_validate(app=fuzz_target.app, headers=fuzz_target.headers, checks=CHECKS)
