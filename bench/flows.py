"""B3: complete Account flows per second against django-oauth-toolkit on loopback, and the
broker's own CPU time per flow (user + system time of its gunicorn processes, from /proc)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import requests

from bench.run import ROOT, Server, free_port
from tests.e2e.conftest import follow_until
from tests.peers.oauth_server import OAuthPeer

RETURN_URL = "https://app.example.com/bench/callback"


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its live children (gunicorn master + workers)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for one in pids:
        fields = Path(f"/proc/{one}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


def configure_app(env: dict[str, str], peer: OAuthPeer, callback: str) -> tuple[str, str, str]:
    """An app whose Google configuration points at the peer: (clientId, clientSecret, the
    peer's client id)."""
    created = json.loads(
        subprocess.run(
            [
                sys.executable,
                "-m",
                "django",
                "aurinko_app",
                "create",
                "--name",
                "bench flows",
                "--return-url",
                RETURN_URL,
                "--scopes",
                "Mail.Read",
            ],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    client_id, secret = peer.add_client(callback)
    args = [
        "provider",
        created["clientId"],
        "Google",
        "--oauth-client-id",
        client_id,
        f"--oauth-client-secret={secret}",
    ]
    for name, url in peer.endpoints().items():
        args += ["--endpoint", f"{name}={url}"]
    subprocess.run(
        [sys.executable, "-m", "django", "aurinko_app", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    return created["clientId"], created["clientSecret"], client_id


def measure_flows(env: dict[str, str], workers: int, flows: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="aurinko-bench-") as tmp:
        peer = OAuthPeer.start(Path(tmp))
        try:
            peer.add_user("alice", "alice-pw", "alice@example.com", "Alice")
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            env = {**env, "AURINKO_PUBLIC_URL": base}
            client_id, secret, _ = configure_app(env, peer, base + "/v1/auth/callback")
            server = Server(env, workers, port=port)
            try:
                start_url = (
                    f"{base}/v1/auth/authorize?clientId={client_id}&serviceType=Google"
                    f"&scopes=Mail.Read&returnUrl={RETURN_URL}&state=b"
                )
                one_flow(start_url, peer, base, client_id, secret)  # warm up
                cpu_before, started = cpu_seconds(server.proc.pid), time.monotonic()
                for _ in range(flows):
                    one_flow(start_url, peer, base, client_id, secret)
                seconds = time.monotonic() - started
                cpu = cpu_seconds(server.proc.pid) - cpu_before
            finally:
                server.stop()
        finally:
            peer.stop()
    return {
        "flows": flows,
        "seconds": seconds,
        "flows_per_second": flows / seconds,
        "broker_cpu_ms": cpu / flows * 1000,
    }


def one_flow(start_url: str, peer: OAuthPeer, base: str, client_id: str, secret: str) -> None:
    browser = requests.Session()  # a new browser each time: sign-in included
    final = follow_until(browser, start_url, "app.example.com", peer, "alice", "alice-pw")
    code = parse_qs(urlsplit(final).query)["code"][0]
    token = requests.post(
        f"{base}/v1/auth/token/{code}", auth=(client_id, secret), timeout=10
    ).json()["accessToken"]
    me = requests.get(
        f"{base}/v1/account", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    me.raise_for_status()
