"""Fixtures of the HTTP hardening tests: the real servers of tests/writes/server.py."""

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
