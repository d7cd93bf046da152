"""While an import parses, CPython's cycle collector runs less often (`app.core.gcpolicy`), and
its threshold is as before once the import ends, whether it committed or failed. Concurrent
imports in one process (the API's uploads) share it: the last one out restores what was there
before."""

from __future__ import annotations

import gc
import threading
from pathlib import Path

import pytest

from app.core.gcpolicy import IMPORT_GC_THRESHOLD, spaced_collections
from tests.conftest import Api, shared_file, truncate_all
from tests.imports.support import counts, run_file

SOURCE = shared_file("acled/acled-dummy-2022h1.csv")


class Stop(Exception):
    pass


async def test_an_import_parses_with_spaced_collections_and_restores_them(
    api: Api, tmp_path: Path
) -> None:
    url = api.database_url
    truncate_all(url)
    before = gc.get_threshold()
    assert before[0] < IMPORT_GC_THRESHOLD
    seen: list[int] = []

    def progress(phase: str, rows: int, read: int) -> None:
        seen.append(gc.get_threshold()[0])

    report = await run_file(url, SOURCE, "acled", progress=progress, chunk_size=2_000)
    assert report.committed and report.inserted > 2_000
    assert len(seen) > 2 and set(seen) == {IMPORT_GC_THRESHOLD}
    assert gc.get_threshold() == before

    # An import that dies midway: nothing written, and the threshold given back.
    truncate_all(url)

    def dies(phase: str, rows: int, read: int) -> None:
        if rows > 2_000:
            raise Stop

    with pytest.raises(Stop):
        await run_file(url, SOURCE, "acled", progress=dies, chunk_size=2_000)
    assert gc.get_threshold() == before
    assert counts(url)["events"] == 0


def test_concurrent_imports_share_the_threshold_the_last_one_restores_it() -> None:
    before = gc.get_threshold()
    entered = [threading.Event(), threading.Event()]
    leave = [threading.Event(), threading.Event()]
    during: list[tuple[int, int, int]] = []

    def an_import(i: int) -> None:
        with spaced_collections():
            entered[i].set()
            leave[i].wait(10)

    threads = [threading.Thread(target=an_import, args=(i,)) for i in (0, 1)]
    threads[0].start()
    assert entered[0].wait(10)
    threads[1].start()
    assert entered[1].wait(10)
    during.append(gc.get_threshold())  # both in
    leave[0].set()
    threads[0].join(10)
    during.append(gc.get_threshold())  # the first out, the second still in
    leave[1].set()
    threads[1].join(10)
    assert during == [(IMPORT_GC_THRESHOLD, *before[1:])] * 2
    assert gc.get_threshold() == before
