"""Each event's JSON as last written, reused while the event's `change_seq` has not moved.

A page of 100 events costs PostgreSQL ~5 ms to write as JSON (the actors', claims' and places'
lookups and objects; `events/page_json`), SQLite's Python path more; the page's ids and their
`change_seq` cost a fraction of that. Readers poll lists whose events mostly did not change, so
each process keeps the bytes it wrote of each event, keyed by (shape, event id) with the
`change_seq` they were written under, and writes only the events whose `change_seq` moved.

Exact, because `change_seq` is the change feed's position: every write that changes what an
event shows moves it in the same transaction (its own edits and children's, and the records it
shows: an actor's or source's rename, a place's coordinates or unit, a campaign's name; the
tests of `/v1/changes` hold each). A page's ids and `change_seq` are read before its documents,
so a document is at least as new as the `change_seq` it is kept under: a reader that sees a
newer `change_seq` misses, and one that saw the older gets content at least as new as its ids
(as without this cache, where the two statements may see different commits too). A write made
outside conflictdb (a user's own SQL) must move `change_seq` like the feed needs it to.

Not the response cache (`core/cache.py`): that one answers a repeated request without running
it, and any commit anywhere ends its entries; here every request runs its query (its filters,
order and ids are read fresh each time) and only the writing of unchanged events is skipped.
Bounded in bytes per process, least recently used out; `doc_cache_max_bytes=0` turns it off.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Sequence

# What an entry costs beside its bytes: the key and value tuples, the LRU's bookkeeping.
ENTRY_OVERHEAD = 200

Key = tuple[Hashable, int]
Build = Callable[[list[int]], Awaitable[dict[int, bytes]]]


class DocCache:
    """Documents by (shape, id), each with the `change_seq` it was written under.

    Its own least-recently-used order on an OrderedDict, not cachetools': a page takes 100
    entries at once, and cachetools' Python per lookup (get, __getitem__, __touch) cost ~45 us a
    page where a dict lookup and `move_to_end` cost ~15."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._docs: OrderedDict[Key, tuple[int, bytes]] = OrderedDict()
        self.size = 0
        self.hits = 0
        self.misses = 0

    def take(self, shape: Hashable, keys: Sequence[tuple[int, int]]) -> list[bytes | None]:
        """The document of each (id, change_seq), None where none is kept at that change_seq."""
        get = self._docs.get
        used = self._docs.move_to_end
        found: list[bytes | None] = []
        for rid, seq in keys:
            key = (shape, rid)
            entry = get(key)
            if entry is not None and entry[0] == seq:
                used(key)
                found.append(entry[1])
            else:
                found.append(None)
        missed = found.count(None)
        self.misses += missed
        self.hits += len(found) - missed
        return found

    def put(self, shape: Hashable, rid: int, seq: int, doc: bytes) -> None:
        cost = len(doc) + ENTRY_OVERHEAD
        if cost > self.max_bytes:
            return  # larger than the whole cache: not kept
        key = (shape, rid)
        old = self._docs.pop(key, None)
        if old is not None:
            self.size -= len(old[1]) + ENTRY_OVERHEAD
        self._docs[key] = (seq, doc)
        self.size += cost
        while self.size > self.max_bytes:
            _, (_, dropped) = self._docs.popitem(last=False)
            self.size -= len(dropped) + ENTRY_OVERHEAD

    def __len__(self) -> int:
        return len(self._docs)


async def documents(
    cache: DocCache | None, shape: Hashable, keys: Sequence[tuple[int, int]], build: Build
) -> list[bytes]:
    """The documents of `keys` (id, change_seq) in their order: kept ones from `cache`, the
    others from `build(ids)` (id -> bytes; an id it does not return, deleted meanwhile, is
    left out), which are kept for the next reader."""
    found = cache.take(shape, keys) if cache is not None else [None] * len(keys)
    missing = [rid for (rid, _), doc in zip(keys, found, strict=True) if doc is None]
    if not missing:
        return found  # type: ignore[return-value]  # no None left
    built = await build(missing)
    out: list[bytes] = []
    for (rid, seq), doc in zip(keys, found, strict=True):
        if doc is None:
            doc = built.get(rid)
            if doc is None:
                continue
            if cache is not None:
                cache.put(shape, rid, seq, doc)
        out.append(doc)
    return out
