"""A database thread for the import: one batch is written while the next one is parsed."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
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
