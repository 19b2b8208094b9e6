"""A cache bounded by its number of entries and by the bytes they hold.

The engines keep tables and flattened plans by evidence pattern so that a diagnosis, its
explanation and its question ranking do not rebuild them. Bounding such a cache by its
number of entries alone bounds its memory only as long as entries stay small: when the
Baker's cyst unit grew from 7 to 8 causes, each kept set of unit tables grew to about
1.6 MiB, and ``diagnose_many`` on 100 000 random rows (one entry per pattern of
risk-factor answers, 4096 allowed) peaked at 6.2 GiB. Entries here are read-only
arrays, replaced or dropped whole, so threads sharing an engine see a complete entry or
none; the lock keeps the order and the byte count consistent.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

import numpy as np


def nbytes(value: Any) -> int:
    """The bytes of the arrays in ``value`` (arrays, and tuples, lists and dicts of them)."""
    if isinstance(value, np.ndarray):
        return value.nbytes
    if isinstance(value, dict):
        return sum(nbytes(item) for item in value.values())
    if isinstance(value, (tuple, list)):
        return sum(nbytes(item) for item in value)
    return int(getattr(value, "nbytes", 0))


class BoundedCache:
    """Least recently used entries dropped first, past ``max_items`` entries or past
    ``max_bytes`` bytes in all (the newest entry is always kept, whatever its size).

    >>> cache = BoundedCache(max_items=2, max_bytes=1000)
    >>> cache.put("a", np.zeros(10)); cache.put("b", np.zeros(10))
    >>> _ = cache.get("a"); cache.put("c", np.zeros(10))  # "b" is the least recent
    >>> sorted(cache.keys())
    ['a', 'c']
    >>> cache.put("d", np.zeros(200))  # 1600 bytes: alone past the bound, kept alone
    >>> list(cache.keys()), cache.nbytes
    (['d'], 1600)
    """

    def __init__(self, max_items: int, max_bytes: int):
        self.max_items = max_items
        self.max_bytes = max_bytes
        self._entries: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self.nbytes = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any:
        """The entry kept under ``key`` (now the most recent), or None."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            self._entries.move_to_end(key)
            return entry[0]

    def put(self, key: Hashable, value: Any) -> None:
        """Keep ``value`` under ``key``, dropping the least recent entries past the bounds."""
        size = nbytes(value)
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self.nbytes -= old[1]
            self._entries[key] = (value, size)
            self.nbytes += size
            self._drop()

    def growing(self, key: Hashable) -> dict:
        """A dict kept under ``key`` (now the most recent) that counts the bytes of what
        is later put in it, for entries filled as they are used (an elimination plan's
        constant slots, as each query first computes them). A new one when there is
        none."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
                return entry[0]
            value = _Growing(self, key)
            self._entries[key] = (value, 0)
            self._drop()
            return value

    def _grew(self, key: Hashable, size: int) -> None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:  # dropped meanwhile: its dict is no longer counted
                return
            self._entries[key] = (entry[0], entry[1] + size)
            self.nbytes += size
            self._drop()

    def _drop(self) -> None:
        """Drop the least recent entries past the bounds (under the lock)."""
        while len(self._entries) > 1 and (len(self._entries) > self.max_items
                                          or self.nbytes > self.max_bytes):
            self.nbytes -= self._entries.popitem(last=False)[1][1]

    def keys(self) -> list[Hashable]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.nbytes = 0

    def __len__(self) -> int:
        return len(self._entries)


class _Growing(dict):
    """A dict that tells its cache the bytes of each value put in it."""

    def __init__(self, cache: BoundedCache, key: Hashable):
        super().__init__()
        self._cache, self._key = cache, key

    def __setitem__(self, slot: Hashable, value: Any) -> None:
        size = nbytes(value) - nbytes(self.get(slot))
        super().__setitem__(slot, value)
        self._cache._grew(self._key, size)
