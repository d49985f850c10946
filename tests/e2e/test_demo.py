"""`make demo` end to end: seed with aurinko_demo, serve, and complete the printed Account
flow through the mounted sandbox identity provider, as a newcomer would (offline)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests

from tests.peers.oauth_server import ROOT, free_port

pytestmark = pytest.mark.e2e


@pytest.fixture
def demo_server(tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "AURINKO_DEMO": "1",
        "AURINKO_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        "SECRET_KEY": "demo-test",
        "AURINKO_ENV_FILE": "/dev/null",
        "AURINKO_DEMO_DIR": str(tmp_path),
        "SANDBOX_OIDC_KEY_FILE": str(tmp_path / "oidc.pem"),
        "DJANGO_SETTINGS_MODULE": "project.settings",
    }
    env.pop("AURINKO_ENCRYPTION_KEYS", None)  # the demo runs without one
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    seeded = subprocess.run(
        [*manage, "aurinko_demo", "--port", str(port)],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    log = open(tmp_path / "server.log", "wb")  # noqa: SIM115
    server = subprocess.Popen(
        [*manage, "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            requests.get(base + "/v1/auth/authorize", timeout=1)
            break
        except requests.RequestException:
            time.sleep(0.1)
    yield base, seeded, tmp_path
    server.terminate()
    server.wait(timeout=10)


def cookie(session: requests.Session, name: str, host: str) -> str:
    return next(c.value for c in session.cookies if c.name == name and host in c.domain)


def test_demo_account_flow(demo_server):
    base, seeded, tmp_path = demo_server
    assert "password:" in seeded and "clientSecret acs_" in seeded
    start = re.search(r"(http://127\.0\.0\.1:\d+/v1/auth/authorize\?\S+)", seeded).group(1)
    browser = requests.Session()
    url = start
    for _ in range(10):
        if "/demo/return" in url:
            break
        if "/sandbox/login/" in url:
            page = browser.get(url, timeout=10)
            assert page.status_code == 200
            # The sandbox is reached on "localhost", the broker on 127.0.0.1: separate cookies.
            assert urlsplit(url).hostname == "localhost"
            response = browser.post(
                url,
                allow_redirects=False,
                timeout=10,
                data={
                    "csrfmiddlewaretoken": cookie(browser, "csrftoken", "localhost"),
                    "username": "alice",
                    "password": "alice-demo",
                    "next": parse_qs(urlsplit(url).query)["next"][0],
                },
            )
        else:
            response = browser.get(url, allow_redirects=False, timeout=10)
        assert response.status_code in (302, 303), (url, response.status_code)
        url = urljoin(url, response.headers["Location"])
    query = parse_qs(urlsplit(url).query)
    assert query["status"] == ["success"] and query["state"] == ["demo"]

    # The demo page plays the client app: it redeems the code server-side.
    page = browser.get(url, timeout=10)
    assert page.status_code == 200 and "Exchange the code" in page.text
    shown = browser.post(
        url,
        timeout=20,
        data={
            "code": query["code"][0],
            "csrfmiddlewaretoken": cookie(browser, "csrftoken", "127.0.0.1"),
        },
    )
    assert shown.status_code == 200
    assert "HTTP 200" in shown.text and "alice@example.com" in shown.text
    assert '"tokenStatus": "active"' in shown.text.replace("&quot;", '"')
    # The client app's own credentials file is private.
    assert (Path(tmp_path) / "demo-client.json").stat().st_mode & 0o077 == 0
