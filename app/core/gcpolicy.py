"""How often CPython's cycle collector runs: spaced out while an import parses.

Reference counting frees almost everything the moment it is dropped; the cycle collector exists
for the rest (objects referring to each other). At CPython's default it runs a young collection
every 700 new container objects, and each walks every young object still alive. An import's
batch of rows and the parser's caches live long enough to be walked many times over: parsing
200k synthetic ACLED rows took 4.8-5.4 s at the default and 3.4 s with a young collection every
50,000 objects, the same as with the collector off (10,000: 3.9 s; 20,000: 3.8 s). Cycles are
still collected, a little later. (A serving app gained nothing measurable from it:
`docs/benchmarks.md`, "Runs of the ninth session".)

The threshold is process-wide, and imports may run inside a serving app (the API's uploads),
several at once: the first one in raises it, the last one out puts back what was there before.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

# New container objects between two young collections while an import parses.
IMPORT_GC_THRESHOLD = 50_000

_lock = threading.Lock()
_users = 0
# CPython's thresholds before the first user came in.
_before: tuple[int, int, int] = (700, 10, 10)


@contextmanager
def spaced_collections() -> Iterator[None]:
    """A young collection every `IMPORT_GC_THRESHOLD` new container objects (at least),
    inside."""
    global _users, _before
    with _lock:
        if _users == 0:
            _before = gc.get_threshold()
            gc.set_threshold(max(_before[0], IMPORT_GC_THRESHOLD), *_before[1:])
        _users += 1
    try:
        yield
    finally:
        with _lock:
            _users -= 1
            if _users == 0:
                gc.set_threshold(*_before)
