"""The per-process level of the two-level auth cache (``AUTH_LOCAL_CACHE``): a bounded LRU of
token and session lookups, kept honest by the invalidation channel
(:mod:`aurinko_auth.hotpath.channel`).

An entry is stored under a key (``t:<token hash>``, ``s:<session hash>``, ``U:<user id>``)
with *tags*, the things whose change must drop it (``a:<account id>``, ``p:<app id>``,
``u:<user id>``, ``i:<session id>``; the key is a tag too). :meth:`LocalCache.invalidate`
drops every entry carrying one of the tags it is given, and bumps a generation number: a
lookup that read the database before an invalidation and stores after it is refused
(:meth:`LocalCache.put` with the generation of :meth:`LocalCache.begin`), so a read racing a
revocation never puts the old row back.

Entries live at most ``AUTH_CACHE_TIMEOUT`` seconds while the channel listens, and
``AUTH_LOCAL_CACHE_FALLBACK_TTL`` seconds while it does not (lost, or not yet connected):
then the cache is only as stale as that TTL.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any


class LocalCache:
    """A thread-safe LRU of at most ``max_entries`` entries, with tags and two TTLs."""

    def __init__(self, max_entries: int, ttl: float, fallback_ttl: float) -> None:
        self.max_entries = max(1, int(max_entries))
        self.ttl = float(ttl)
        self.fallback_ttl = float(fallback_ttl)
        self.listening = False  # set by the channel's listener
        self.generation = 0
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, tuple[float, tuple[str, ...], Any]] = OrderedDict()
        self._by_tag: dict[str, set[str]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def begin(self) -> int:
        """The generation to pass to :meth:`put` after reading what it stores."""
        return self.generation

    def get(self, key: str) -> Any:
        """The value under ``key``, or None (absent or older than the TTL now in force)."""
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return None
            stored_at, _tags, value = found
            ttl = self.ttl if self.listening else min(self.ttl, self.fallback_ttl)
            if time.monotonic() - stored_at > ttl:
                self._drop(key)
                return None
            self._entries.move_to_end(key)
            return value

    def put(self, key: str, value: Any, tags: Iterable[str], generation: int) -> bool:
        """Store ``value`` unless something was invalidated since ``generation``; evicts the
        least recently used entries beyond the bound."""
        all_tags = (key, *tags)
        with self._lock:
            if generation != self.generation:
                return False
            if key in self._entries:
                self._drop(key)
            self._entries[key] = (time.monotonic(), all_tags, value)
            for tag in all_tags:
                self._by_tag.setdefault(tag, set()).add(key)
            while len(self._entries) > self.max_entries:
                self._drop(next(iter(self._entries)))
        return True

    def invalidate(self, tags: Iterable[str]) -> int:
        """Drop every entry carrying one of ``tags``; returns how many were dropped."""
        dropped = 0
        with self._lock:
            self.generation += 1
            for tag in tags:
                for key in list(self._by_tag.get(tag, ())):
                    self._drop(key)
                    dropped += 1
        return dropped

    def clear(self) -> None:
        with self._lock:
            self.generation += 1
            self._entries.clear()
            self._by_tag.clear()

    def _drop(self, key: str) -> None:
        _stored_at, tags, _value = self._entries.pop(key)
        for tag in tags:
            keys = self._by_tag.get(tag)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._by_tag[tag]
