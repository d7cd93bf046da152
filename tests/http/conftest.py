"""Fixtures of the HTTP hardening tests: the real servers of tests/writes (one definition)."""

from tests.writes.conftest import (  # noqa: F401  (fixtures and the hook, registered here)
    pytest_runtest_makereport,
    seeded_server,
    server,
    server_factory,
    server_pool,
)
