"""How often CPython's cycle collector runs: spaced out while an import parses.

Reference counting frees almost everything the moment it is dropped; the cycle collector exists
for the rest (objects referring to each other). At CPython's default it runs a young collection
every 700 new container objects, and each walks every young object still alive. An import's
batch of rows lives long enough to be walked many times over, so the collections took a third
of an ACLED import's parsing (`app/imports/pipeline.py` has the figures). Raising the threshold
makes them rarer; cycles are still collected, a little later. (A serving app gained nothing
measurable from it: `docs/benchmarks.md`, "Measured and not taken".)

The threshold is process-wide, and imports may run inside a serving app (the API's uploads),
several at once: every user asks for its own, the highest asked for applies, and the last one
out puts back what was there before the first came in.
"""

from __future__ import annotations

import gc
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
# The thresholds asked for by the users inside `spaced_collections`, and how many asked each.
_asked: Counter[int] = Counter()
# CPython's thresholds before the first user came in.
_before: tuple[int, int, int] = (700, 10, 10)


@contextmanager
def spaced_collections(threshold: int) -> Iterator[None]:
    """A young collection every `threshold` new container objects (at least), inside."""
    global _before
    with _lock:
        if not _asked:
            _before = gc.get_threshold()
        _asked[threshold] += 1
        _apply()
    try:
        yield
    finally:
        with _lock:
            _asked[threshold] -= 1
            if not _asked[threshold]:
                del _asked[threshold]
            if _asked:
                _apply()
            else:
                gc.set_threshold(*_before)


def _apply() -> None:
    gc.set_threshold(max(_before[0], *_asked), *_before[1:])
