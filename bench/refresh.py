"""B4: accounts refreshed per second by `aurinko_refresh`, with one and with two processes
at once, against django-oauth-toolkit (rotating refresh tokens) on loopback."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.flows import configure_app
from bench.run import ROOT
from tests.peers.oauth_server import OAuthPeer

# Accounts whose access tokens expire within the refresh window, each holding one real
# refresh token issued by the peer (read as JSON on stdin).
SEED = """
import json, sys
from datetime import timedelta
import django
django.setup()
from django.utils import timezone
from aurinko_auth.models import Account, App
app = App.objects.get(client_id=sys.argv[1])
Account.objects.bulk_create([Account(
    app=app, service_type="Google", auth_user_id=f"refresh-{sys.argv[2]}-{i}",
    email=f"r{i}@bench.example", credentials={"access_token": "old", "refresh_token": rt},
    access_token_expires_at=timezone.now() + timedelta(seconds=30))
    for i, rt in enumerate(json.load(sys.stdin))])
"""


def python(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        input=stdin,
    ).stdout


def counted(outputs: list[str], what: str) -> int:
    return sum(
        int(out.rsplit("done: ", 1)[1].split(f" {what}")[0].rsplit(", ", 1)[-1]) for out in outputs
    )


def measure_refresh(env: dict[str, str], accounts: int) -> dict[int, dict[str, float]]:
    """Per number of processes: accounts refreshed per second, and transient failures (the
    sandbox's SQLite database answers 5xx under concurrent writes; the broker backs off)."""
    rates: dict[int, dict[str, float]] = {}
    rotated_before = 0
    with tempfile.TemporaryDirectory(prefix="aurinko-bench-") as tmp:
        peer = OAuthPeer.start(Path(tmp))
        try:
            peer.add_user("alice", "alice-pw", "alice@example.com", "Alice")
            app_id, _, peer_client = configure_app(env, peer, "http://127.0.0.1:9/v1/auth/callback")
            for processes in (1, 2):
                grants = python(
                    peer.env,
                    "-m",
                    "django",
                    "sandbox_grants",
                    "--client-id",
                    peer_client,
                    "--user",
                    "alice",
                    "--count",
                    str(accounts),
                )
                python(env, "-c", SEED, app_id, f"p{processes}", stdin=grants)
                started = time.monotonic()
                runs = [
                    subprocess.Popen(
                        [
                            sys.executable,
                            "-m",
                            "django",
                            "aurinko_refresh",
                            "--window",
                            "900",
                            "--batch-size",
                            "20",
                        ],
                        cwd=ROOT,
                        env=env,
                        stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE,
                        text=True,
                    )
                    for _ in range(processes)
                ]
                finished = [run.communicate(timeout=600) for run in runs]
                outputs = [out for out, _ in finished]
                seconds = time.monotonic() - started
                refreshed = counted(outputs, "refreshed")
                failed = counted(outputs, "failed")
                # Every account was handled by one process or the other; an account that
                # failed transiently in one may show up again in the other as "failed" too
                # (its backoff, without a provider call), so this is a lower bound.
                handled = refreshed + failed + counted(outputs, "already fresh")
                if handled < accounts:
                    raise RuntimeError(f"only {handled} of {accounts} handled:\n{finished}")
                # Exactly once: every refresh grant rotates (revokes) one refresh token at
                # the peer, so the peer's count must equal the broker's.
                rotated = json.loads(python(peer.env, "-m", "django", "sandbox_tokens", "alice"))[
                    "revoked_refresh_tokens"
                ]
                if rotated - rotated_before != refreshed:
                    raise RuntimeError(
                        f"peer rotated {rotated - rotated_before}, broker "
                        f"refreshed {refreshed}: a double refresh"
                    )
                rotated_before = rotated
                rates[processes] = {"rate": refreshed / seconds, "failed": failed}
        finally:
            peer.stop()
    return rates
