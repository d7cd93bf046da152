"""The explorer's browser tests: one seeded database per kind, one real server on it, one
headless Chromium (Debian's, driven by Playwright; no browser download) for the whole module.

Under CI=true a missing Chromium or Playwright fails instead of skipping. Screenshots go to
CONFLICTDB_SCREENSHOTS (default: a temporary folder, printed in the test output).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IN_CI, _migrate, drop_pg_database, load_seed_data, new_pg_database
from tests.writes.server import ServerProcess

CHROMIUM = os.environ.get("CONFLICTDB_CHROMIUM", "/usr/bin/chromium")


def _prepare(url: str) -> None:
    """Migrate and seed in a thread of its own: Playwright's sync API keeps an event loop
    running in the test thread, where asyncio.run is refused."""
    failure: list[BaseException] = []

    def work() -> None:
        try:
            _migrate(url)
            asyncio.run(load_seed_data(url))
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: the browser tests may not be skipped)")
    pytest.skip(reason)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def explorer_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A database of its own with the seed report loaded (the shared one is emptied per test)."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('explorer') / 'explorer.sqlite3'}"
        _prepare(url)
        yield url
        return
    url = new_pg_database("conflictdb_explorer_")
    try:
        _prepare(url)
        yield url
    finally:
        drop_pg_database(url)


@pytest.fixture(scope="module")
def explorer_server(
    explorer_database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    server = ServerProcess(
        explorer_database,
        tmp_path_factory.mktemp("explorer-server"),
        # The page makes a dozen requests a view; the tests are not about rate limits. One
        # worker: it starts in a third of the time of one per core, and serves a page as well.
        env={"CONFLICTDB_RATE_LIMIT_ENABLED": "false", "CONFLICTDB_WORKERS": "1"},
        name="explorer",
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Module-scoped: while Playwright's sync API runs, the test thread has a running event loop,
    and the async tests of other modules could not run theirs."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright is not installed (pip install -e '.[dev]')")
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        _unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium chromium-driver)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
        )
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = os.environ.get("CONFLICTDB_SCREENSHOTS")
    path = Path(folder) if folder else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    print(f"explorer screenshots: {path}")
    return path


@dataclass
class Visit:
    """A page on the server, with what the browser said and where it went."""

    page: Any
    base_url: str
    kind: str
    screenshots: Path
    console_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def open(self, query: str = "") -> None:
        self.page.goto(f"{self.base_url}/{query}")
        self.wait_ready()

    def wait_ready(self, after: str | None = None) -> None:
        """Until the page says it finished loading (later than `after`, when given)."""
        self.page.wait_for_function(
            "after => document.body.dataset.ready && document.body.dataset.ready !== after",
            arg=after or "",
            timeout=15_000,
        )

    def ready_mark(self) -> str:
        mark: str = self.page.evaluate("document.body.dataset.ready || ''")
        return mark

    def shot(self, name: str) -> Path:
        path = self.screenshots / f"{name}-{self.kind}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def foreign_requests(self) -> list[str]:
        return [u for u in self.requests if not u.startswith((self.base_url, "data:"))]


@pytest.fixture
def visit(
    browser: Any, explorer_server: ServerProcess, explorer_database: str, screenshots: Path
) -> Iterator[Visit]:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    page = context.new_page()
    kind = "postgresql" if explorer_database.startswith("postgresql") else "sqlite"
    v = Visit(page, explorer_server.base_url, kind, screenshots)
    page.on("console", lambda m: v.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: v.console_errors.append(str(e)))
    page.on("request", lambda r: v.requests.append(r.url))
    try:
        yield v
    finally:
        context.close()
