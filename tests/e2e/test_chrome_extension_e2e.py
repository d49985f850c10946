"""A real Chrome extension (issue 17, docs/examples/chrome-extension): Manifest V3, loaded
unpacked into Chromium (new headless mode runs extensions), signs in as a public client with
PKCE through ``chrome.identity.launchWebAuthFlow`` (its return URL
``https://<extension-id>.chromiumapp.org/cb``, whose redirect Chromium catches), redeems the
code with the verifier and no secret, and reads /v1/account; the sign-in is the sandbox
OAuth2 server's."""

from __future__ import annotations

import base64
import hashlib
import json
from io import StringIO

import pytest
from django.core.management import call_command

from aurinko_auth.models import Account, AccountToken, AuthCode
from tests.e2e.conftest import EXAMPLES_DIR, chromium_context, sandbox_sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

EXTENSION = EXAMPLES_DIR / "chrome-extension"


def extension_id() -> str:
    """The id Chromium gives the extension: from manifest.json's fixed ``key`` (the public
    key's SHA-256, first 32 hex digits written a-p), so the return URL can be registered."""
    key = json.loads((EXTENSION / "manifest.json").read_text())["key"]
    digest = hashlib.sha256(base64.b64decode(key)).hexdigest()[:32]
    return "".join(chr(ord("a") + int(c, 16)) for c in digest)


@pytest.fixture
def extension_browser(monkeypatch):
    with chromium_context(monkeypatch, extension=EXTENSION) as context:
        worker = context.service_workers[0] if context.service_workers else None
        worker = worker or context.wait_for_event("serviceworker")
        assert worker.url == f"chrome-extension://{extension_id()}/background.js"
        yield context


def extension_app(broker, oauth_peer, app_factory, provider_config_factory, **kw):
    client_id, client_secret = oauth_peer.add_client(broker.url + "/v1/auth/callback")
    app, _secret = app_factory(
        return_urls=[f"https://{extension_id()}.chromiumapp.org/cb"], scopes="Mail.Read", **kw
    )
    provider_config_factory(
        app,
        "Google",
        client_id=client_id,
        client_secret=client_secret,
        endpoints=oauth_peer.endpoints(),
    )
    return app


def sign_in(context, broker, app) -> tuple[dict, list]:
    """Run the extension's sign-in page; return what it shows and its redemption requests."""
    page = context.new_page()
    redeems = []
    page.on("request", lambda r: redeems.append(r) if "/v1/auth/token/" in r.url else None)
    page.goto(f"chrome-extension://{extension_id()}/signin.html")
    assert page.text_content("#return-url") == f"https://{extension_id()}.chromiumapp.org/cb"
    page.fill("#broker", broker.url)
    page.fill("#client-id", app.client_id)
    # launchWebAuthFlow's window is a page of the context: the sandbox's sign-in form.
    with context.expect_page(lambda p: "/sandbox/login/" in p.url) as opened:
        page.click("#sign-in")
    window = opened.value
    window.wait_for_selector("#id_username")
    sandbox_sign_in(window)
    page.wait_for_selector("#result:not(:empty)")  # (the page's CSP forbids eval)
    return json.loads(page.text_content("#result")), redeems


def test_the_extension_signs_in_with_pkce_and_reads_its_account(
    broker, oauth_peer, extension_browser, app_factory, provider_config_factory
):
    app = extension_app(
        broker, oauth_peer, app_factory, provider_config_factory, public_client=True
    )
    result, redeems = sign_in(extension_browser, broker, app)
    assert result["account"]["email"] == "alice@example.com", result
    assert result["account"]["id"] == Account.objects.get().pk
    # Redeemed by the extension with its client id and the verifier: no secret anywhere.
    (redeem,) = redeems
    assert redeem.headers["x-aurinko-clientid"] == app.client_id
    assert "authorization" not in {k.lower() for k in redeem.headers}
    body = dict(part.split("=", 1) for part in redeem.post_data.split("&"))
    assert set(body) == {"code_verifier"} and len(body["code_verifier"]) == 43
    code = AuthCode.objects.get()
    assert code.used_at is not None and len(code.payload["codeChallenge"]) == 43
    assert AccountToken.objects.count() == 1


def test_a_confidential_apps_code_is_not_redeemed_by_the_extension(
    broker, oauth_peer, extension_browser, app_factory, provider_config_factory
):
    """The same extension, registered with an app that is not a public client: the flow
    completes, but the code needs the app's secret (401 client.secret_required; the answer
    reaches the extension, whose host permissions lift CORS) and stays unused."""
    app = extension_app(broker, oauth_peer, app_factory, provider_config_factory)
    result, _redeems = sign_in(extension_browser, broker, app)
    assert result["redeem"] == 401 and result["code"] == "client.secret_required", result
    assert AuthCode.objects.get().used_at is None
    assert not AccountToken.objects.exists()


def test_a_confidential_app_with_the_extensions_url_declared_public(
    broker, oauth_peer, extension_browser, app_factory, provider_config_factory
):
    """The app has a server (its confidential return URL) and the extension: only the
    extension's return URL is public (``aurinko_app client --public-return-url``), and the
    extension signs in as in the first test."""
    app = extension_app(broker, oauth_peer, app_factory, provider_config_factory)
    server, extension = "https://app.example.com/callback", app.return_urls[0]
    app.return_urls = [server]
    app.save()
    out = StringIO()
    call_command(
        "aurinko_app", "client", app.client_id, "--public-return-url", extension, stdout=out
    )
    assert json.loads(out.getvalue())["publicReturnUrls"] == [extension]
    app.refresh_from_db()
    assert not app.public_client and app.return_urls == [server, extension]
    result, _redeems = sign_in(extension_browser, broker, app)
    assert result["account"]["email"] == "alice@example.com", result
    assert AuthCode.objects.get().payload["publicClient"] is True
