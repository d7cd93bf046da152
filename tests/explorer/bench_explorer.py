"""Timings of the explorer in the browser on a large database (not a test; docs/benchmarks.md).

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/conflictdb_1m \\
        .venv/bin/python -m tests.explorer.bench_explorer --runs 5

Starts `conflictdb serve` on the database, drives Debian's Chromium (Playwright) and prints the
median and maximum, in milliseconds, of: the first view (navigation start to everything drawn,
as the page measures it), a pan of the map (a 150 px drag, within the area already fetched, and
a 650 px one beyond it; until the map has drawn again), a zoom in, a filter change (until map,
timeline and list are drawn), and opening an event.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.explorer.conftest import CHROMIUM
from tests.writes.server import ServerProcess


def _wait_attr(page: Any, selector: str, attr: str, before: str) -> None:
    page.wait_for_function(
        "([sel, attr, before]) => { const el = document.querySelector(sel);"
        " return el && el.dataset[attr] && el.dataset[attr] !== before; }",
        arg=[selector, attr, before],
        timeout=60_000,
    )


def _attr(page: Any, selector: str, attr: str) -> str:
    value: str = page.evaluate(
        "([sel, attr]) => document.querySelector(sel)?.dataset[attr] || ''", [selector, attr]
    )
    return value


def _timed(action: Callable[[], None], wait: Callable[[], None]) -> float:
    started = time.perf_counter()
    action()
    wait()
    return (time.perf_counter() - started) * 1000


def _pan(page: Any, dx: float) -> None:
    box = page.locator("#map").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(cx + dx / 2, cy)
    page.mouse.down()
    page.mouse.move(cx - dx / 2, cy - 40, steps=4)
    page.mouse.up()


def _filter(page: Any) -> None:
    page.select_option("#f-event_type", "battles")
    page.click("#filters button[type=submit]")


def _one_run(browser: Any, base_url: str, out: dict[str, list[float]]) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.goto(f"{base_url}/")
    page.wait_for_selector("body[data-ready-ms]", timeout=60_000)
    out["first view"].append(float(_attr(page, "body", "readyMs")))
    before = _attr(page, "#map", "rendered")
    out["pan"].append(
        _timed(lambda: _pan(page, 150), lambda: _wait_attr(page, "#map", "rendered", before))
    )
    before = _attr(page, "#map", "rendered")
    out["pan beyond the fetched area"].append(
        _timed(lambda: _pan(page, 650), lambda: _wait_attr(page, "#map", "rendered", before))
    )
    after_pan = _attr(page, "#map", "rendered")
    out["zoom in"].append(
        _timed(
            lambda: page.click(".leaflet-control-zoom-in"),
            lambda: _wait_attr(page, "#map", "rendered", after_pan),
        )
    )
    ready = _attr(page, "body", "ready")
    out["filter change"].append(
        _timed(lambda: _filter(page), lambda: _wait_attr(page, "body", "ready", ready))
    )
    out["open an event"].append(
        _timed(
            lambda: page.locator("#event-list li.event button").first.click(),
            lambda: page.wait_for_selector("#detail[data-loaded]", timeout=60_000),
        )
    )
    context.close()


def measure(base_url: str, runs: int) -> dict[str, list[float]]:
    from playwright.sync_api import sync_playwright

    steps = (
        "first view",
        "pan",
        "pan beyond the fetched area",
        "zoom in",
        "filter change",
        "open an event",
    )
    out: dict[str, list[float]] = {k: [] for k in steps}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        for _ in range(runs):
            _one_run(browser, base_url, out)
        browser.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    args = parser.parse_args()
    if not args.database_url:
        parser.error("give --database-url or DATABASE_URL")
    with tempfile.TemporaryDirectory() as tmp:
        # No response cache where the server has one: every run asks the database.
        env = {"CONFLICTDB_RATE_LIMIT_ENABLED": "false", "CONFLICTDB_CACHE_ENABLED": "false"}
        server = ServerProcess(args.database_url, Path(tmp), env=env)
        server.start()
        try:
            results = measure(server.base_url, args.runs)
        finally:
            server.stop()
    print("| step | median ms | max ms |")
    print("|---|---|---|")
    for step, values in results.items():
        print(f"| {step} | {statistics.median(values):.0f} | {max(values):.0f} |")


if __name__ == "__main__":
    main()
