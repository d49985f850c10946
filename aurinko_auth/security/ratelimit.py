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


class _Window:
    """The current fixed window of ``(scope, ident)`` under ``rate``."""

    def __init__(self, scope: str, ident: str, limit: int, period: int) -> None:
        self.limit, self.period, self.now = limit, period, _now()
        self.index = int(self.now // period)
        self.key = f"aurinko:rl:{scope}:{ident}:{self.index}"
        self.cache = caches[aurinko_settings.RATE_LIMIT_CACHE]

    @classmethod
    def of(cls, scope: str, ident: str, rate: str | None) -> _Window | None:
        parsed = parse_rate(rate)
        return None if parsed is None else cls(scope, ident, *parsed)

    def count(self) -> int:
        """Add one to the window's count and return it (atomic in the shared caches)."""
        if self.cache.add(self.key, 1, timeout=self.period + 1):
            return 1
        try:
            return self.cache.incr(self.key)
        except ValueError:  # expired between add and incr
            self.cache.add(self.key, 1, timeout=self.period + 1)
            return 1

    def refuse(self, message: str) -> RateLimited:
        retry_after = max(1, math.ceil((self.index + 1) * self.period - self.now))
        return RateLimited(f"{message}; retry in {retry_after} s.", retry_after=retry_after)


def check(scope: str, ident: str, rate: str | None) -> None:
    """Raise :class:`RateLimited` when ``(scope, ident)`` has used up the current window,
    without counting anything (count failures afterwards with :func:`count`)."""
    window = _Window.of(scope, ident, rate)
    if window is not None and (window.cache.get(window.key) or 0) >= window.limit:
        raise window.refuse("Too many attempts")


def count(scope: str, ident: str, rate: str | None) -> None:
    """Count one event (a failed sign-in) for ``(scope, ident)``, never raising."""
    window = _Window.of(scope, ident, rate)
    if window is not None:
        window.count()


def hit(scope: str, ident: str, rate: str | None) -> None:
    """Count one request for ``(scope, ident)``; raise :class:`RateLimited` (429, with
    ``retry_after``) once the limit of the current window is exceeded."""
    window = _Window.of(scope, ident, rate)
    if window is not None and window.count() > window.limit:
        raise window.refuse(f"Rate limit exceeded ({window.limit} requests per {window.period} s)")
