"""The account-token cache (``AUTH_CACHE``): what it is called and how entries leave it.

An entry is ``(database alias, token row, derived)`` (see :mod:`aurinko_auth.hotpath.tokens`),
plain values only. :mod:`aurinko_auth.signals` replaces the entries a change affects by a
*tombstone* once the change commits (:func:`tombstone`, through
:func:`aurinko_auth.hotpath.channel.announce`), and a lookup only ever *adds* an entry
(:func:`store_entry`): a lookup that read the old row before the commit and stores it after
the tombstone cannot put it back. A tombstone reads as a miss, and lives ``TOMBSTONE_TTL``
seconds (far longer than any lookup's read takes).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.cache import BaseCache, caches

from aurinko_auth.conf import aurinko_settings

# Bump the version when the cached value's shape changes.
TOKEN_CACHE_PREFIX = "aurinko:tok:v3:"
TOMBSTONE = 0
TOMBSTONE_TTL = 10


def auth_cache() -> BaseCache | None:
    alias = aurinko_settings.AUTH_CACHE
    return caches[alias] if alias else None


def token_cache_key(token_hash: str) -> str:
    return TOKEN_CACHE_PREFIX + token_hash


def cached_entry(cache: BaseCache, token_hash: str) -> Any:
    found = cache.get(token_cache_key(token_hash))
    return None if found == TOMBSTONE else found


def store_entry(cache: BaseCache, token_hash: str, entry: Any) -> None:
    """Add the entry unless the key holds one already (a tombstone, or a concurrent read's)."""
    cache.add(token_cache_key(token_hash), entry, aurinko_settings.AUTH_CACHE_TIMEOUT)


def tombstone(token_hashes: Iterable[str]) -> None:
    """Replace the entries of these tokens by tombstones (in batches of 1,000), if there is a
    cache. Call it after the change commits (:func:`~aurinko_auth.hotpath.channel.announce`)."""
    cache = auth_cache()
    if cache is None:
        return
    batch: dict[str, int] = {}
    for token_hash in token_hashes:
        batch[token_cache_key(token_hash)] = TOMBSTONE
        if len(batch) == 1000:
            cache.set_many(batch, TOMBSTONE_TTL)
            batch = {}
    if batch:
        cache.set_many(batch, TOMBSTONE_TTL)
