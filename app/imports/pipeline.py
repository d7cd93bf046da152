"""A database thread for the import: one batch is written while the next one is parsed."""

from __future__ import annotations

import gc
import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")


class DbThread:
    """Runs the import's database work in order on one thread, while parsing goes on.

    `submit` queues work (at most two batches ahead, to bound memory); `run` waits until the
    queue is empty and calls on the caller's thread (the connection is idle then). The first
    error stops everything and is raised on the caller's thread.
    """

    def __init__(self) -> None:
        self.queue: queue.Queue[tuple[Callable[..., Any], tuple[Any, ...]] | None] = queue.Queue(
            maxsize=2
        )
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._loop, name="import-db", daemon=True)

    def __enter__(self) -> DbThread:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.queue.put(None)
        self.thread.join()
        if exc[0] is None:
            self._check()

    def _loop(self) -> None:
        while (item := self.queue.get()) is not None:
            fn, args = item
            try:
                if self.error is None:
                    fn(*args)
            except BaseException as error:
                self.error = error
            finally:
                self.queue.task_done()
        self.queue.task_done()

    def _check(self) -> None:
        if self.error is not None:
            raise self.error

    def submit(self, fn: Callable[..., Any], *args: Any) -> None:
        self._check()
        self.queue.put((fn, args))

    def run(self, fn: Callable[..., T], *args: Any) -> T:
        self.queue.join()
        self._check()
        return fn(*args)


# New container objects between two young-generation collections while an import runs
# (CPython's default is 700): see `spaced_collections`.
IMPORT_GC_THRESHOLD = 50_000
_gc_lock = threading.Lock()
_gc_users = 0
_gc_saved: tuple[int, int, int] = (700, 10, 10)


@contextmanager
def spaced_collections() -> Iterator[None]:
    """CPython's cycle collector run less often while an import parses, as before after.

    A parser allocates a few dozen container objects a row, and the rows of a batch and the
    parser's caches live long enough to be promoted, so at the default threshold (a young
    collection every 700 new objects) the collector kept walking them: parsing 200k synthetic
    ACLED rows took 4.8-5.4 s, and 3.4 s with collections every 50,000 objects (the same as with
    the collector off). Reference counting still frees everything at once; only cycles wait a
    little longer. The threshold is process-wide, so concurrent imports in one process (the
    API's uploads) share it: the first one in raises it, the last one out restores it.
    """
    global _gc_users, _gc_saved
    with _gc_lock:
        if _gc_users == 0:
            _gc_saved = gc.get_threshold()
            gc.set_threshold(IMPORT_GC_THRESHOLD, *_gc_saved[1:])
        _gc_users += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_users -= 1
            if _gc_users == 0:
                gc.set_threshold(*_gc_saved)
