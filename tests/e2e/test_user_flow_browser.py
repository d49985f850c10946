"""The User flow in a real Chromium: an add-in page on another origin signs a user in through
the broker and the sandbox identity provider (django-oauth-toolkit, own process), links a
secondary account, reads /v1/user with ``fetch(..., {credentials: "include"})`` and logs out.

The page is the documented example, docs/examples/addin/, served by a second HTTP server on
http://127.0.0.1:<port> while the broker runs on http://localhost:<port> (another site).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlencode

import pytest
import requests
from django.db import connections

from aurinko_auth import usersessions
from aurinko_auth.models import Account, AppUser, UserSession
from project.sandbox.endpoints import sandbox_endpoints

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

EXAMPLE_DIR = Path(__file__).resolve().parents[2] / "docs" / "examples" / "addin"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class _AddinHandler(SimpleHTTPRequestHandler):
    """The example's static files, plus the two endpoints of the app's own backend that code
    mode needs (they hold the client secret; the page never does)."""

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def do_POST(self) -> None:  # noqa: N802
        backend = self.server.app_backend  # type: ignore[attr-defined]
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path == "/api/aurinko/exchange":
            answer = requests.post(
                f"{backend['broker']}/v1/auth/token/{body['code']}",
                auth=(backend["clientId"], backend["secret"]),
                timeout=10,
            )
            result = answer.json()
            result.pop("accessToken", None)  # the page needs the session only
        elif self.path == "/api/aurinko/sign":
            me = requests.get(
                f"{backend['broker']}/v1/user",
                timeout=10,
                headers={"X-Aurinko-Session": body["userSession"]},
            ).json()
            timestamp = str(int(time.time()))
            key = hmac.new(
                backend["secret"].encode(), b"aurinko_auth user signature v1", hashlib.sha256
            ).hexdigest()
            signature = hmac.new(
                key.encode(), (me["id"] + timestamp).encode(), hashlib.sha256
            ).hexdigest()
            result = {"userId": me["id"], "timestamp": timestamp, "userSignature": signature}
        else:
            self.send_error(404)
            return
        data = json.dumps(result).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def addin_site() -> Iterator[tuple[str, dict[str, str]]]:
    """The example add-in served from its own origin: ``(base_url, backend_config)``."""
    handler = functools.partial(_AddinHandler, directory=str(EXAMPLE_DIR))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.app_backend = {}  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", server.app_backend  # type: ignore[attr-defined]
    server.shutdown()
    server.server_close()


@pytest.fixture
def chromium(request, monkeypatch):
    """A Chromium context with a regular profile in a temp dir. Indirect parameter: whether
    the profile allows third-party cookies (this Chromium blocks them by default)."""
    from playwright.sync_api import sync_playwright

    allow_third_party = bool(getattr(request, "param", False))
    # The sync playwright API runs an event loop in this thread; the test's ORM calls are
    # still plain synchronous code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    # A short path: Chromium's singleton socket path must fit in a sockaddr_un.
    with tempfile.TemporaryDirectory(prefix="aur-chr-") as tmp:
        home = Path(tmp)
        env = dict(os.environ)
        for name in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "TMPDIR"):
            (home / name.lower()).mkdir()
            env[name] = str(home / name.lower())
        (home / "profile" / "Default").mkdir(parents=True)
        if allow_third_party:
            # The user's "Allow third-party cookies" setting (chrome://settings/cookies).
            prefs = {"profile": {"cookie_controls_mode": 0, "block_third_party_cookies": False}}
            (home / "profile" / "Default" / "Preferences").write_text(json.dumps(prefs))
        with sync_playwright() as playwright:
            context = playwright.chromium.launch_persistent_context(
                str(home / "profile"),
                executable_path="/usr/bin/chromium",
                headless=True,
                args=CHROMIUM_ARGS,
                env=env,
            )
            context.set_default_timeout(20_000)
            yield context
            context.close()
            # While playwright's loop runs, Django keys connections by that context: close the
            # one the test used here, or PostgreSQL can't drop the test database.
            connections.close_all()


def _configure(broker, oauth_peer, addin_site: str, app_factory, provider_config_factory):
    """An app whose return URL is the example's callback page, with Google and Office 365
    both served by the sandbox."""
    assert broker.url.startswith("http://localhost:")
    callback = broker.url + "/v1/auth/callback"
    app, secret = app_factory(return_urls=[addin_site + "/callback.html"], scopes="Mail.Read")
    client_id, client_secret = oauth_peer.add_client(callback)
    provider_config_factory(
        app,
        "Google",
        client_id=client_id,
        client_secret=client_secret,
        endpoints=oauth_peer.endpoints(),
    )
    # The secondary provider: the same sandbox reached as "localhost", where the browser has
    # no sandbox session yet, so another sandbox user signs in.
    client_id2, client_secret2 = oauth_peer.add_client(callback)
    provider_config_factory(
        app,
        "Office365",
        client_id=client_id2,
        client_secret=client_secret2,
        endpoints=sandbox_endpoints(oauth_peer.base_url.replace("127.0.0.1", "localhost")),
    )
    return app, secret


def _sign_in_popup(page, button: str, username: str, password: str) -> None:
    with page.expect_popup() as opened:
        page.click(button)
    popup = opened.value
    popup.wait_for_selector("#id_username")
    popup.fill("#id_username", username)
    popup.fill("#id_password", password)
    popup.click("button[type=submit]")


@pytest.mark.parametrize(
    ("page_host", "chromium"),
    [
        # Another origin on the same site (add-in at addin.example.com, broker at
        # auth.example.com): works with the browser's default settings.
        ("localhost", False),
        # Another site: the cookie is a third-party cookie there, so only where the user allows
        # them (code mode + X-Aurinko-Session is the path for browsers that block them).
        ("127.0.0.1", True),
    ],
    indirect=["chromium"],
    ids=["same-site", "cross-site"],
)
def test_add_in_signs_in_links_reads_user_and_logs_out(
    page_host, broker, oauth_peer, addin_site, chromium, app_factory, provider_config_factory
):
    addin_site = addin_site[0].replace("127.0.0.1", page_host)
    app = _configure(broker, oauth_peer, addin_site, app_factory, provider_config_factory)[0]

    page = chromium.new_page()
    query = urlencode(
        {
            "broker": broker.url,
            "clientId": app.client_id,
            "primary": "Google",
            "secondary": "Office365",
        }
    )
    page.goto(f"{addin_site}/index.html?{query}")
    page.wait_for_selector("#status[data-state=signed-out]")

    # Primary sign-in in a popup (cookie mode).
    _sign_in_popup(page, "#signin", "alice", "alice-pw")
    page.wait_for_selector("#status[data-state=signed-in]")
    shown = json.loads(page.text_content("#user"))
    user = AppUser.objects.get()
    assert shown["id"] == str(user.pk) and shown["email"] == "alice@example.com"
    assert [(a["serviceType"], a["type"]) for a in shown["accounts"]] == [("Google", "primary")]

    # The session cookie, as the browser stores it.
    name = usersessions.cookie_name(app.pk)
    cookies = {c["name"]: c for c in chromium.cookies(broker.url)}
    assert name in cookies, cookies.keys()
    cookie = cookies[name]
    assert cookie["httpOnly"] is True and cookie["secure"] is True
    assert cookie["sameSite"] == "None" and cookie["path"] == "/"
    assert cookie["domain"] == "localhost"
    # Scripts can't read it, not even on the broker's own origin.
    broker_page = chromium.new_page()
    broker_page.goto(broker.url + "/v1/user")
    assert name not in broker_page.evaluate("document.cookie")
    assert json.loads(broker_page.text_content("body"))["id"] == str(user.pk)
    broker_page.close()

    # Link a secondary account (another provider, another sandbox user).
    _sign_in_popup(page, "#link", "bob", "bob-pw")
    page.wait_for_function("document.querySelector('#status').textContent.includes('2 accounts')")
    shown = json.loads(page.text_content("#user"))
    assert [(a["serviceType"], a["type"], a["email"]) for a in shown["accounts"]] == [
        ("Google", "primary", "alice@example.com"),
        ("Office365", "secondary", "bob@example.com"),
    ]
    assert Account.objects.filter(user=user).count() == 2

    # Log out from the other origin: the cookie goes, the session ends server-side, and a
    # copy of the cookie taken before stops working.
    copied = cookie["value"]
    page.click("#logout")
    page.wait_for_selector("#status[data-state=signed-out]")
    assert name not in {c["name"] for c in chromium.cookies(broker.url)}
    assert UserSession.objects.get().revoked_at is not None
    replay = requests.get(
        broker.url + "/v1/user", headers={"Cookie": f"{name}={copied}"}, timeout=10
    )
    assert replay.status_code == 401 and replay.json()["code"] == "session.revoked"


def test_add_in_code_mode_in_a_browser_blocking_third_party_cookies(
    broker, oauth_peer, addin_site, chromium, app_factory, provider_config_factory
):
    """The Office-dialog path, in a popup: code mode, the app's backend redeems the code, the
    page calls with X-Aurinko-Session, and links a secondary account by userSignature."""
    site, backend = addin_site
    app, secret = _configure(broker, oauth_peer, site, app_factory, provider_config_factory)
    backend.update(broker=broker.url, clientId=app.client_id, secret=secret)
    page = chromium.new_page()
    query = urlencode(
        {
            "broker": broker.url,
            "clientId": app.client_id,
            "primary": "Google",
            "secondary": "Office365",
            "mode": "code",
        }
    )
    page.goto(f"{site}/index.html?{query}")
    page.wait_for_selector("#status[data-state=signed-out]")

    _sign_in_popup(page, "#signin", "alice", "alice-pw")
    page.wait_for_selector("#status[data-state=signed-in]")
    assert usersessions.cookie_name(app.pk) not in {c["name"] for c in chromium.cookies()}
    _sign_in_popup(page, "#link", "bob", "bob-pw")
    page.wait_for_function("document.querySelector('#status').textContent.includes('2 accounts')")
    shown = json.loads(page.text_content("#user"))
    assert [(a["type"], a["email"]) for a in shown["accounts"]] == [
        ("primary", "alice@example.com"),
        ("secondary", "bob@example.com"),
    ]

    page.click("#logout")
    page.wait_for_selector("#status[data-state=signed-out]")
    assert UserSession.objects.get().revoked_at is not None
