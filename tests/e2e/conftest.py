"""End-to-end fixtures: the broker served by ``live_server``, a real OAuth2 server, a
Chromium profile, and static pages served from another origin (the add-in examples)."""

from __future__ import annotations

import contextlib
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
from urllib.parse import urlsplit

import pytest
import requests
from django.conf import settings as django_settings
from django.db import connections

from project.sandbox.endpoints import sandbox_endpoints
from tests.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.peers.oauth_server import OAuthPeer

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "docs" / "examples"


@pytest.fixture(scope="session")
def oauth_peer(tmp_path_factory) -> Iterator[OAuthPeer]:
    peer = OAuthPeer.start(tmp_path_factory.mktemp("oauth-peer"))
    peer.add_user("alice", "alice-pw", "alice@example.com", "Alice Example")
    peer.add_user("bob", "bob-pw", "bob@example.com", "Bob Example")
    yield peer
    peer.stop()


@pytest.fixture
def broker(live_server, settings):
    """The broker under test, with AURINKO_PUBLIC_URL pointing at the live server."""
    settings.AURINKO_AUTH = {**django_settings.AURINKO_AUTH, "PUBLIC_URL": live_server.url}
    return live_server


def follow_until(
    session: requests.Session,
    url: str,
    stop_host: str,
    peer: OAuthPeer,
    username: str,
    password: str,
    max_hops: int = 12,
) -> str:
    """Follow a browser's redirects from ``url``, signing in at the sandbox when asked,
    until a redirect leaves for ``stop_host`` (the app's returnUrl). Returns that URL."""
    for _ in range(max_hops):
        if urlsplit(url).hostname == stop_host:
            return url
        if "/sandbox/login/" in url:
            response = peer.login(session, url, username, password)
            assert response.status_code == 302, response.text[:500]
        else:
            response = session.get(url, allow_redirects=False, timeout=15)
            assert response.status_code in (301, 302, 303), (
                url,
                response.status_code,
                response.text[:500],
            )
        url = requests.compat.urljoin(url, response.headers["Location"])
    raise AssertionError("too many redirects")


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
    handler = functools.partial(_AddinHandler, directory=str(EXAMPLES_DIR / "addin"))
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
    the profile allows third-party cookies (default: blocked, as the user's setting "Block
    third-party cookies" in chrome://settings/cookies, written explicitly)."""
    allow_third_party = bool(getattr(request, "param", False))
    with chromium_context(monkeypatch, allow_third_party=allow_third_party) as context:
        yield context


@contextlib.contextmanager
def chromium_context(
    monkeypatch, *, allow_third_party: bool = False, extension: Path | None = None
) -> Iterator:
    """A persistent Chromium context (see :func:`chromium`); with ``extension``, that
    unpacked extension loaded (and no other): Chromium's new headless mode runs extensions."""
    from playwright.sync_api import sync_playwright

    args = list(CHROMIUM_ARGS)
    if extension is not None:
        args += [f"--disable-extensions-except={extension}", f"--load-extension={extension}"]
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
        # The user's third-party cookie setting (chrome://settings/cookies): 0 allows, 1 blocks.
        mode = 0 if allow_third_party else 1
        prefs = {"profile": {"cookie_controls_mode": mode, "block_third_party_cookies": mode == 1}}
        (home / "profile" / "Default" / "Preferences").write_text(json.dumps(prefs))
        with sync_playwright() as playwright:
            context = playwright.chromium.launch_persistent_context(
                str(home / "profile"),
                executable_path=CHROMIUM,
                headless=True,
                args=args,
                env=env,
            )
            context.set_default_timeout(20_000)
            yield context
            context.close()
            # While playwright's loop runs, Django keys connections by that context: close the
            # one the test used here, or PostgreSQL can't drop the test database.
            connections.close_all()


def configure_addin_app(broker, oauth_peer, addin_site: str, app_factory, provider_config_factory):
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


def office365_sandbox_app(broker, oauth_peer, app_factory, provider_config_factory, return_url):
    """An app returning to ``return_url`` whose Office 365 sign-in is the sandbox's (Aurinko's
    sample add-ins sign in with Office 365)."""
    app, _secret = app_factory(return_urls=[return_url], scopes="Mail.Read")
    client_id, client_secret = oauth_peer.add_client(broker.url + "/v1/auth/callback")
    provider_config_factory(
        app,
        "Office365",
        client_id=client_id,
        client_secret=client_secret,
        endpoints=oauth_peer.endpoints(),
    )
    return app


def open_sign_in_popup(page, selector: str):  # noqa: ANN201  (a playwright Page)
    """Click ``selector`` on ``page`` and return the popup it opens, at the sandbox's sign-in."""
    with page.expect_popup() as opened:
        page.click(selector)
    popup = opened.value
    popup.wait_for_selector("#id_username")
    return popup


def sandbox_sign_in(popup, username: str = "alice", password: str = "alice-pw") -> None:
    popup.fill("#id_username", username)
    popup.fill("#id_password", password)
    popup.click("button[type=submit]")


# The host's page (outlook.office.com's role) for add-in samples: the add-in in an iframe.
ADDIN_HOST_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>host</title></head><body>
<iframe id="addin" src="%s" width="600" height="400"></iframe></body></html>"""


def addin_sample_view(addin_html: str, office_js: str, token: dict[str, str]):  # noqa: ANN201
    """A view serving an add-in sample on the broker's origin, as Aurinko's samples expect:
    ``outer.html?src=`` (the host framing it), ``office.js`` (Office.js stubbed, handing out
    ``token["value"]``) and the add-in page itself; none severs a popup's opener."""
    from django.http import HttpResponse
    from django.utils.html import escape

    def view(request, name: str) -> HttpResponse:  # noqa: ANN001
        if name == "outer.html":
            response = HttpResponse(ADDIN_HOST_PAGE % escape(request.GET["src"]), "text/html")
        elif name == "office.js":
            response = HttpResponse(office_js % json.dumps(token["value"]), "text/javascript")
        else:
            response = HttpResponse(addin_html, content_type="text/html")
        response["Cross-Origin-Opener-Policy"] = "unsafe-none"
        response.xframe_options_exempt = True  # an add-in page is framed by its host
        return response

    return view
