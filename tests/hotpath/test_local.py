"""The per-process level of the auth cache: the LRU bound, tags, the generation guard and the
two TTLs."""

from __future__ import annotations

import time

from aurinko_auth.hotpath.local import LocalCache


def test_lru_keeps_at_most_max_entries_and_evicts_the_least_recently_used():
    cache = LocalCache(3, ttl=60, fallback_ttl=60)
    for key in "abc":
        assert cache.put(key, key.upper(), (f"tag:{key}",), cache.begin())
    assert cache.get("a") == "A"  # a is now the most recently used
    cache.put("d", "D", (), cache.begin())
    assert len(cache) == 3
    assert cache.get("b") is None  # evicted
    assert [cache.get(k) for k in "acd"] == ["A", "C", "D"]
    for i in range(1000):
        cache.put(f"k{i}", i, ("shared",), cache.begin())
    assert len(cache) == 3
    # Evicted entries leave the tag index too: it never outgrows the cache.
    assert sum(len(keys) for keys in cache._by_tag.values()) == 3 * 2


def test_invalidate_drops_every_entry_with_the_tag():
    cache = LocalCache(10, ttl=60, fallback_ttl=60)
    cache.put("t:1", 1, ("a:7", "p:1"), cache.begin())
    cache.put("t:2", 2, ("a:8", "p:1"), cache.begin())
    cache.put("t:3", 3, ("a:9", "p:2"), cache.begin())
    assert cache.invalidate(["p:1"]) == 2
    assert cache.get("t:1") is None and cache.get("t:2") is None and cache.get("t:3") == 3
    assert cache.invalidate(["t:3"]) == 1  # a key is its own tag
    assert len(cache) == 0


def test_a_read_older_than_an_invalidation_is_not_stored():
    cache = LocalCache(10, ttl=60, fallback_ttl=60)
    generation = cache.begin()  # a lookup starts reading the database ...
    cache.invalidate(["a:1"])  # ... a revocation is seen meanwhile ...
    assert not cache.put("t:x", "old row", ("a:1",), generation)  # ... its row is dropped
    assert cache.get("t:x") is None
    assert cache.put("t:x", "new row", ("a:1",), cache.begin())
    generation = cache.begin()
    cache.clear()  # a lost channel empties the cache: same guard
    assert not cache.put("t:y", "row", (), generation)


def test_fallback_ttl_applies_while_the_channel_does_not_listen():
    cache = LocalCache(10, ttl=60, fallback_ttl=0.05)
    cache.listening = True
    cache.put("k", "v", (), cache.begin())
    time.sleep(0.1)
    assert cache.get("k") == "v"  # listening: the long TTL
    cache.listening = False
    assert cache.get("k") is None  # lost: older than the fallback TTL
    cache.put("k", "v", (), cache.begin())
    assert cache.get("k") == "v"
    time.sleep(0.1)
    assert cache.get("k") is None


def test_entries_expire_after_the_ttl_even_while_listening():
    cache = LocalCache(10, ttl=0.05, fallback_ttl=1)
    cache.listening = True
    cache.put("k", "v", (), cache.begin())
    time.sleep(0.1)
    assert cache.get("k") is None
