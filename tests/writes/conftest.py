"""Fixtures of the write tests (defined in tests/writes/server.py), and the test outcome they read
to print the server's log when a test fails."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

from tests.writes.server import (  # noqa: F401  (fixtures, registered by importing them here)
    seeded_server,
    server,
    server_factory,
    server_pool,
)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[Any]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call":
        item.rep_call = report  # type: ignore[attr-defined]
    return report
