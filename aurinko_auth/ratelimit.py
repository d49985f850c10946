"""Fixed-window rate limits counted in Django's cache framework.

Counts live in the cache named by ``RATE_LIMIT_CACHE``: with Redis (``CACHE_URL=redis://...``)
every worker and machine shares them; with the default per-process cache each worker counts
for itself. ``add`` + ``incr`` are atomic in Redis, Memcached and the local-memory cache.
"""

from __future__ import annotations

import math
import time

from django.core.cache import caches

from aurinko_auth.conf import aurinko_settings
from aurinko_auth.exceptions import RateLimited

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _now() -> float:
    return time.time()


def parse_rate(rate: str | None) -> tuple[int, int] | None:
    """``"120/m"`` -> ``(120, 60)``; the period is s, m, h or d, optionally with a count
    (``"10/30s"``). ``None`` or an empty string: no limit."""
    if not rate:
        return None
    num, _, period = str(rate).partition("/")
    unit = period.strip()[-1:].lower()
    count = period.strip()[:-1] or "1"
    if not num.strip().isdigit() or unit not in PERIODS or not count.isdigit():
        raise ValueError(f"Invalid rate {rate!r}: use N/s, N/m, N/h or N/d.")
    return int(num), int(count) * PERIODS[unit]


def _key(scope: str, ident: str, period: int, now: float) -> tuple[str, int]:
    window = int(now // period)
    return f"aurinko:rl:{scope}:{ident}:{window}", window


def check(scope: str, ident: str, rate: str | None) -> None:
    """Raise :class:`RateLimited` when ``(scope, ident)`` has used up the current window,
    without counting anything (count failures afterwards with :func:`hit`)."""
    parsed = parse_rate(rate)
    if parsed is None:
        return
    limit, period = parsed
    now = _now()
    key, window = _key(scope, ident, period, now)
    count = caches[aurinko_settings.RATE_LIMIT_CACHE].get(key) or 0
    if count >= limit:
        retry_after = max(1, math.ceil((window + 1) * period - now))
        raise RateLimited(f"Too many attempts; retry in {retry_after} s.",
                          retry_after=retry_after)


def hit(scope: str, ident: str, rate: str | None) -> None:
    """Count one request for ``(scope, ident)``; raise :class:`RateLimited` (429, with
    ``retry_after``) once the limit of the current window is exceeded."""
    parsed = parse_rate(rate)
    if parsed is None:
        return
    limit, period = parsed
    now = _now()
    key, window = _key(scope, ident, period, now)
    cache = caches[aurinko_settings.RATE_LIMIT_CACHE]
    if cache.add(key, 1, timeout=period + 1):
        count = 1
    else:
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, timeout=period + 1)
            count = 1
    if count > limit:
        retry_after = max(1, math.ceil((window + 1) * period - now))
        raise RateLimited(f"Rate limit exceeded ({limit} requests per {period} s); retry in "
                          f"{retry_after} s.", retry_after=retry_after)
