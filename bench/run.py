#!/usr/bin/env python
"""Benchmarks of what the broker costs per request (issue 9). Prints ratios measured in one
run (these machines are noisy: absolute numbers alone mean little) and writes RESULTS.md.

B1  GET /v1/account (Bearer account token) vs a bare Django JSON view (the ceiling) vs a
    django-oauth-toolkit protected resource (the usual alternative): same gunicorn, same DB.
    GET /v1/user likewise; both without a cache and in the multi-worker configuration users
    deploy (shared Redis cache + AUTH_LOCAL_CACHE over PostgreSQL LISTEN/NOTIFY).
B2  GET /v1/account at 1,000 and at 1,000,000 accounts and tokens (PostgreSQL).
B5  the revocation delay: revoke through one worker, poll the others (p99 over --trials).

    python bench/run.py [--scale 1000000] [--duration 10] [--connections 8] [--workers 2]
Needs PostgreSQL (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/aurinko_bench)
and wrk (Debian package `wrk`).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import platform
import random
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import redis
import requests
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.revocation import measure_revocation  # noqa: E402
from bench.seed import BENCH_SESSION, bench_token  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(cmd: list[str], env: dict[str, str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=ROOT, env=env, check=True, **kw)


def recreate_database(url: str) -> None:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc); 0 when it is gone or unreadable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            found += [int(c) for c in (task / "children").read_text().split()]
    return found


class Server:
    db_url = ""  # the database whose backends count as this server's CPU

    def __init__(
        self, env: dict[str, str], workers: int, port: int | None = None, **extra_env: str
    ) -> None:
        env = {**env, **extra_env}
        self.db_url = env["DATABASE_URL"]
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--no-control-socket",
                "-w",
                str(workers),
                "-b",
                f"127.0.0.1:{self.port}",
                "--log-level",
                "warning",
                "django.core.wsgi:get_wsgi_application()",
            ],
            cwd=ROOT,
            env=env,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                requests.get(self.url + "/bench/bare", timeout=1)
                return
            except requests.RequestException:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not start")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=20)

    def pids(self) -> list[int]:
        """gunicorn's master and workers, and the database's client backends when the
        database runs on this machine (their CPU is part of what a request costs)."""
        pids = [self.proc.pid, *children(self.proc.pid)]
        name = urlsplit(self.db_url).path.lstrip("/")
        with psycopg.connect(self.db_url, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                [name],
            ).fetchall()
        return pids + [pid for (pid,) in rows if Path(f"/proc/{pid}/stat").exists()]


LAT = re.compile(r"^\s*(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.M)


def wrk(
    url: str, header: str | None, duration: int, connections: int, server: Server | None = None
) -> dict[str, float]:
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", url]
    if header:
        cmd[1:1] = ["-H", header]
    before = {pid: cpu_seconds(pid) for pid in server.pids()} if server else {}
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    cpu = 0.0
    if server:
        after = {pid: cpu_seconds(pid) for pid in server.pids()}
        cpu = sum(after[pid] - before.get(pid, 0.0) for pid in after)
    requests_done = int(re.search(r"(\d+) requests in", out).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    if non2xx:
        raise RuntimeError(f"{url}: {non2xx.group(1)} error responses\n{out}")
    lat = {}
    for pct, value, unit in LAT.findall(out):
        factor = {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
        lat[pct] = float(value) * factor
    return {
        "rps": rps,
        "p50": lat.get("50", 0.0),
        "p99": lat.get("99", 0.0),
        "cpu_us": cpu / max(requests_done, 1) * 1e6,
    }


Target = tuple[Server, str, str | None]


def measure(
    targets: dict[str, Target], duration: int, connections: int, rounds: int
) -> dict[str, dict[str, float]]:
    """Each target ``rounds`` times, interleaved; keep each target's best round, and its
    least CPU per request (server processes and database backends) over the rounds."""
    best: dict[str, dict[str, float]] = {}
    for server, path, header in targets.values():  # warm up every worker and connection
        wrk(server.url + path, header, 2, connections)
    for _ in range(rounds):
        for name, (server, path, header) in targets.items():
            result = wrk(server.url + path, header, duration, connections, server)
            cpu = min(result["cpu_us"], best.get(name, result)["cpu_us"])
            if name not in best or result["rps"] > best[name]["rps"]:
                best[name] = result
            best[name]["cpu_us"] = cpu
    return best


def table(results: dict[str, dict[str, float]]) -> list[str]:
    lines = ["| endpoint | req/s | p50 ms | p99 ms | CPU µs/request |", "|---|---:|---:|---:|---:|"]
    for name, r in results.items():
        lines.append(
            f"| {name} | {r['rps']:.0f} | {r['p50']:.2f} | {r['p99']:.2f} | {r['cpu_us']:.0f} |"
        )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=1_000_000)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--flows", type=int, default=100)
    parser.add_argument("--skip-flows", action="store_true")
    parser.add_argument("--refresh-accounts", type=int, default=200)
    parser.add_argument("--skip-refresh", action="store_true")
    parser.add_argument("--trials", type=int, default=50, help="B5 revocation trials")
    parser.add_argument("--only-b1", action="store_true", help="B1 and B5 only (no B2-B4)")
    # RESULTS.md is the curated record (runs, machine, what changed): a run writes its own
    # report, to be copied there by hand.
    parser.add_argument("--output", default=str(ROOT / "bench" / "last-run.md"))
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("wrk is missing: apt-get install wrk", file=sys.stderr)
        return 2
    db = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/aurinko_bench")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": db,
        "SECRET_KEY": "bench-not-secret",
        "AURINKO_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "AURINKO_SANDBOX": "0",
        "AURINKO_DEMO": "0",
        "DEBUG": "0",
        "PYTHONPATH": str(ROOT),
        "AURINKO_ENV_FILE": "/dev/null",
    }
    recreate_database(db)
    run([sys.executable, "-m", "django", "migrate", "--noinput", "-v", "0"], env)

    def seed(n: int) -> None:
        run([sys.executable, "-m", "bench.seed", "--accounts", str(n)], env)

    small = 1000
    seed(small)
    rng = random.Random(7)
    report = [
        "# Benchmark results\n",
        f"- date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        f"- machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        f"- command: `python bench/run.py --scale {args.scale} --duration {args.duration} "
        f"--connections {args.connections} --workers {args.workers} --rounds {args.rounds}"
        f"{' --only-b1' if args.only_b1 else ''}`",
        f"- server: gunicorn sync, {args.workers} workers, PostgreSQL on loopback; "
        f"load: wrk -t1 -c{args.connections}, best of {args.rounds} interleaved rounds",
        "",
    ]

    def account_header(n: int) -> str:
        return f"Authorization: Bearer {bench_token(rng.randrange(n))}"

    # Two servers of the same code: no cache at all, and the configuration users deploy with
    # several workers: the shared Redis cache (AUTH_CACHE) with the per-process level in front
    # of it (AUTH_LOCAL_CACHE, invalidated over PostgreSQL LISTEN/NOTIFY).
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/8")
    redis.Redis.from_url(redis_url).flushdb()
    deployed = {
        "CACHE_URL": redis_url,
        "AURINKO_AUTH_CACHE": "default",
        "AURINKO_AUTH_LOCAL_CACHE": "postgresql",
    }
    session = f"X-Aurinko-Session: {BENCH_SESSION}"
    plain = Server(env, args.workers)
    cached = Server(env, args.workers, **deployed)
    try:
        b1 = measure(
            {
                "bare Django view": (plain, "/bench/bare", None),
                "bare Django view, API middleware": (plain, "/v1/bench/bare", None),
                "GET /v1/account, no cache": (plain, "/v1/account", account_header(small)),
                "GET /v1/account, cached (Redis + local, PG channel)": (
                    cached,
                    "/v1/account",
                    account_header(small),
                ),
                "GET /v1/user (5 accounts), no cache": (plain, "/v1/user", session),
                "GET /v1/user (5 accounts), cached (Redis + local, PG channel)": (
                    cached,
                    "/v1/user",
                    session,
                ),
                "DOT protected resource": (
                    plain,
                    "/bench/dot",
                    "Authorization: Bearer dot-bench-token",
                ),
            },
            args.duration,
            args.connections,
            args.rounds,
        )
    finally:
        plain.stop()
        cached.stop()
    revocation_server = Server(env, args.workers, BENCH_WORKER_HEADER="1", **deployed)
    try:
        b5 = measure_revocation(revocation_server.url, args.workers, args.trials, small - 1)
    finally:
        revocation_server.stop()
    bare, acct, warm, dot = (
        b1["bare Django view"],
        b1["GET /v1/account, no cache"],
        b1["GET /v1/account, cached (Redis + local, PG channel)"],
        b1["DOT protected resource"],
    )
    user, user_warm = (
        b1["GET /v1/user (5 accounts), no cache"],
        b1["GET /v1/user (5 accounts), cached (Redis + local, PG channel)"],
    )
    bare_api = b1["bare Django view, API middleware"]
    report += [
        "## B1: authenticated request (1,000 accounts)",
        "",
        f'Both servers: gunicorn, {args.workers} workers, PostgreSQL. "cached" is the '
        "multi-worker configuration users deploy: `AURINKO_AUTH_CACHE` on Redis and "
        "`AURINKO_AUTH_LOCAL_CACHE=postgresql` (per-process LRU, LISTEN/NOTIFY invalidation).",
        "",
        *table(b1),
        "",
        "Ratios to the bare view behind the API's middleware (like for like):",
        "",
        f"- GET /v1/account: **{acct['rps'] / bare_api['rps']:.2f}** without cache, "
        f"**{warm['rps'] / bare_api['rps']:.2f}** cached (target >= 0.9)",
        f"- GET /v1/user: **{user['rps'] / bare_api['rps']:.2f}** without cache, "
        f"**{user_warm['rps'] / bare_api['rps']:.2f}** cached (target >= 0.7)",
        f"- CPU per request, bare view (API middleware) / request: GET /v1/account "
        f"**{bare_api['cpu_us'] / acct['cpu_us']:.2f}** without cache, "
        f"**{bare_api['cpu_us'] / warm['cpu_us']:.2f}** cached; GET /v1/user "
        f"**{bare_api['cpu_us'] / user['cpu_us']:.2f}** / "
        f"**{bare_api['cpu_us'] / user_warm['cpu_us']:.2f}** (what the throughput ratio tends "
        "to on a saturated machine)",
        f"- /v1/account / bare view without middleware: **{acct['rps'] / bare['rps']:.2f}** "
        f"without cache, **{warm['rps'] / bare['rps']:.2f}** cached",
        f"- /v1/account / DOT resource throughput: **{acct['rps'] / dot['rps']:.2f}** "
        f"without cache, **{warm['rps'] / dot['rps']:.2f}** cached (target > 1)",
        "",
        f"## B5: revocation reaching every worker ({args.workers} workers, cached)",
        "",
        f"- {b5['trials']} trials (warm a token on every worker, revoke it through one, poll "
        f"until every worker refuses): p50 **{b5['p50_ms']:.0f} ms**, p99 "
        f"**{b5['p99_ms']:.0f} ms**, max {b5['max_ms']:.0f} ms (target p99 < 1000 ms); "
        f"stale successes after a worker's first refusal: **{b5['stale']}**",
        "",
    ]
    if args.only_b1:
        text = "\n".join(report)
        print(text)
        Path(args.output).write_text(text + "\n")
        return 0

    seed(args.scale)
    server = Server(env, args.workers)
    try:
        big = measure(
            {"GET /v1/account": (server, "/v1/account", account_header(args.scale))},
            args.duration,
            args.connections,
            args.rounds,
        )["GET /v1/account"]
    finally:
        server.stop()
    report += [
        f"## B2: scale ({small:,} vs {args.scale:,} accounts and tokens)",
        "",
        "| accounts | req/s | p50 ms | p99 ms |",
        "|---:|---:|---:|---:|",
        f"| {small:,} | {acct['rps']:.0f} | {acct['p50']:.2f} | {acct['p99']:.2f} |",
        f"| {args.scale:,} | {big['rps']:.0f} | {big['p50']:.2f} | {big['p99']:.2f} |",
        "",
        f"- p50 at {args.scale:,} / p50 at {small:,}: "
        f"**{big['p50'] / acct['p50']:.2f}** (target <= 1.2)",
        "",
    ]
    if not args.skip_flows:
        from bench.flows import measure_flows  # deferred: bench.flows imports this module

        b3 = measure_flows(env, args.workers, args.flows)
        report += [
            "## B3: flow cost (Account flow against a real OAuth2 server on loopback)",
            "",
            f"- {b3['flows']} complete flows (authorize, sign-in at the server, callback, "
            f"code exchange, GET /v1/account) in {b3['seconds']:.1f} s: "
            f"**{b3['flows_per_second']:.1f} flows/s** sequentially",
            f"- the broker's own CPU time per flow (all gunicorn processes): "
            f"**{b3['broker_cpu_ms']:.1f} ms**",
            "",
        ]
    if not args.skip_refresh:
        from bench.refresh import measure_refresh  # deferred: it imports this module

        b4 = measure_refresh(env, args.refresh_accounts)
        report += [
            f"## B4: refresh ({args.refresh_accounts} expiring accounts, real refresh "
            "tokens rotated by django-oauth-toolkit)",
            "",
            f"- `aurinko_refresh`, one process: **{b4[1]['rate']:.1f} accounts/s** "
            f"({b4[1]['failed']:.0f} transient failures, retried later)",
            f"- two processes at once (`FOR UPDATE SKIP LOCKED`): "
            f"**{b4[2]['rate']:.1f} accounts/s** ({b4[2]['failed']:.0f} transient "
            "failures); the peer's count of rotated refresh tokens equals the broker's "
            "count of refreshes (no account refreshed twice)",
            "",
        ]
    text = "\n".join(report)
    print(text)
    Path(args.output).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
