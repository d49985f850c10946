"""A public client with PKCE (issue 17 item 3), in a real Chromium: the static page of
docs/examples/pkce (no secret anywhere: not in the page, not on its server, which serves files
only) starts the flow with an S256 challenge, signs in at the sandbox OAuth2 server, gets the
code back, redeems it with the verifier by fetch across origins (the broker is on
http://localhost:<port>, the page on http://127.0.0.1:<port>) and reads /v1/account."""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlencode

import pytest

from aurinko_auth.models import Account, AccountToken, AuthCode
from tests.e2e.conftest import EXAMPLES_DIR

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


class _Files(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture
def static_site() -> Iterator[str]:
    """docs/examples/pkce served as plain files from its own origin (no backend)."""
    handler = functools.partial(_Files, directory=str(EXAMPLES_DIR / "pkce"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def public_app(broker, oauth_peer, site, app_factory, provider_config_factory):
    client_id, client_secret = oauth_peer.add_client(broker.url + "/v1/auth/callback")
    app, _secret = app_factory(
        return_urls=[site + "/index.html"], scopes="Mail.Read", public_client=True
    )
    provider_config_factory(
        app,
        "Google",
        client_id=client_id,
        client_secret=client_secret,
        endpoints=oauth_peer.endpoints(),
    )
    return app


def sign_in(page, site, broker, app):
    page.goto(f"{site}/index.html?" + urlencode({"broker": broker.url, "clientId": app.client_id}))
    page.click("#sign-in")
    page.wait_for_selector("#id_username")
    page.fill("#id_username", "alice")
    page.fill("#id_password", "alice-pw")
    page.click("button[type=submit]")
    page.wait_for_function("document.getElementById('result').textContent.length > 0")
    return json.loads(page.text_content("#result"))


def test_a_static_page_signs_in_with_pkce_and_reads_its_account(
    broker, oauth_peer, static_site, chromium, app_factory, provider_config_factory
):
    app = public_app(broker, oauth_peer, static_site, app_factory, provider_config_factory)
    page = chromium.new_page()
    redeem_requests = []
    page.on(
        "request",
        lambda r: redeem_requests.append(r) if "/v1/auth/token/" in r.url else None,
    )
    result = sign_in(page, static_site, broker, app)
    assert result["account"]["email"] == "alice@example.com", result
    assert result["account"]["id"] == Account.objects.get().pk
    # The code was redeemed by the page: with clientId and the verifier, no secret.
    (redeem,) = redeem_requests
    body = dict(part.split("=", 1) for part in redeem.post_data.split("&"))
    assert set(body) == {"clientId", "code_verifier"} and len(body["code_verifier"]) == 43
    assert "authorization" not in {k.lower() for k in redeem.headers}
    code = AuthCode.objects.get()
    assert code.used_at is not None and len(code.payload["codeChallenge"]) == 43
    assert AccountToken.objects.count() == 1


def test_the_same_page_cannot_redeem_a_confidential_apps_code(
    broker, oauth_peer, static_site, chromium, app_factory, provider_config_factory
):
    """The page holds no secret: for an app that is not a public client the redemption is
    refused (401 client.secret_required; its origin not being a public client's, CORS hides
    even the answer from the page) and the code stays unused, for the app's server."""
    app = public_app(broker, oauth_peer, static_site, app_factory, provider_config_factory)
    app.public_client = False
    app.save()
    page = chromium.new_page()
    failed = []
    page.on("requestfailed", lambda r: failed.append(r.url) if "/v1/auth/token/" in r.url else None)
    page.goto(
        f"{static_site}/index.html?" + urlencode({"broker": broker.url, "clientId": app.client_id})
    )
    page.click("#sign-in")
    page.wait_for_selector("#id_username")
    page.fill("#id_username", "alice")
    page.fill("#id_password", "alice-pw")
    page.click("button[type=submit]")
    page.wait_for_function("() => window.location.search.includes('status=success')")
    page.wait_for_timeout(1500)
    assert len(failed) == 1  # the fetch: blocked by CORS
    assert page.text_content("#result") == ""
    assert AuthCode.objects.get().used_at is None
    assert not AccountToken.objects.exists()
