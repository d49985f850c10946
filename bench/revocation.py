"""B5: how long a revocation takes to reach every worker (issue 20).

The deployed multi-worker configuration (gunicorn, N workers, PostgreSQL, the shared Redis
cache and AUTH_LOCAL_CACHE): each trial warms one token on every worker (polls until each
worker answered 200 from its cache), revokes it through one worker (``POST /bench/revoke``,
an ORM delete whose signal announces it on commit), then polls ``GET /v1/account`` on new
connections (gunicorn hands each to whichever worker accepts; ``X-Bench-Worker`` says
which) until every worker refused it. The delay is from the revocation's response to the
last worker's first 401; a 200 from a worker after its first 401 counts as a stale success.
"""

from __future__ import annotations

import time

import requests

from bench.seed import bench_token


def _poll(url: str, token: str, want: int, workers: int, timeout: float = 10.0) -> dict:
    """Poll until ``workers`` distinct workers answered ``want``; per worker the time of its
    first such answer, and how often it answered 200 after that."""
    first: dict[str, float] = {}
    stale: dict[str, int] = {}
    deadline = time.monotonic() + timeout
    headers = {"Authorization": f"Bearer {token}", "Connection": "close"}
    while len(first) < workers:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {len(first)} of {workers} workers answered {want}")
        response = requests.get(url, headers=headers, timeout=5)
        pid = response.headers["X-Bench-Worker"]
        if response.status_code == want:
            first.setdefault(pid, time.monotonic())
        elif pid in first:
            stale[pid] = stale.get(pid, 0) + 1
    return {"first": first, "stale": sum(stale.values())}


def measure_revocation(server_url: str, workers: int, trials: int, first_token: int) -> dict:
    delays, stale = [], 0
    for trial in range(trials):
        token = bench_token(first_token - trial)
        _poll(server_url + "/v1/account", token, 200, workers)
        # Once more on every worker, so each holds the token in its own cache.
        _poll(server_url + "/v1/account", token, 200, workers)
        revoked = requests.post(server_url + f"/bench/revoke?i={first_token - trial}", timeout=10)
        if revoked.status_code != 204:
            raise RuntimeError(f"revocation failed: {revoked.status_code}")
        done = time.monotonic()
        seen = _poll(server_url + "/v1/account", token, 401, workers)
        delays.append(max(seen["first"].values()) - done)
        stale += seen["stale"]
    delays.sort()
    return {
        "trials": trials,
        "p50_ms": delays[len(delays) // 2] * 1000,
        "p99_ms": delays[max(0, int(len(delays) * 0.99 + 0.5) - 1)] * 1000,
        "max_ms": delays[-1] * 1000,
        "stale": stale,
    }
