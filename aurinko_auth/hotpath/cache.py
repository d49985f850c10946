"""The account-token cache (``AUTH_CACHE``): what it is called and how entries leave it.

An entry is ``(database alias, token row, derived)`` (see :mod:`aurinko_auth.hotpath.tokens`),
plain values only. :mod:`aurinko_auth.signals` removes the entries a change affects.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.cache import BaseCache, caches

from aurinko_auth.conf import aurinko_settings

# Bump the version when the cached value's shape changes.
TOKEN_CACHE_PREFIX = "aurinko:tok:v3:"


def auth_cache() -> BaseCache | None:
    alias = aurinko_settings.AUTH_CACHE
    return caches[alias] if alias else None


def token_cache_key(token_hash: str) -> str:
    return TOKEN_CACHE_PREFIX + token_hash


def cached_entry(cache: BaseCache, token_hash: str) -> Any:
    return cache.get(token_cache_key(token_hash))


def store_entry(cache: BaseCache, token_hash: str, entry: Any) -> None:
    cache.set(token_cache_key(token_hash), entry, aurinko_settings.AUTH_CACHE_TIMEOUT)


def forget_tokens(token_hashes: Iterable[str]) -> None:
    """Remove the entries of these tokens (in batches of 1,000), if there is a cache."""
    cache = auth_cache()
    if cache is None:
        return
    batch: list[str] = []
    for token_hash in token_hashes:
        batch.append(token_cache_key(token_hash))
        if len(batch) == 1000:
            cache.delete_many(batch)
            batch = []
    if batch:
        cache.delete_many(batch)
