"""The app's own redirect page (issue 16 item 5) in a real Chromium: the sandbox OAuth2 server
(django-oauth-toolkit, which checks the redirect URI against the client's registered ones, at
the authorization and again at the token request) knows only the app's page, served from its
own loopback origin (http://127.0.0.1:<port>, the broker being http://localhost:<port>); the page
of docs/examples/redirect-page forwards the provider's query to the broker's callback and the
flow completes, for the Account and User flows and for both shapes of the Service Account flow
(Office 365's admin consent, the Google Workspace admin's sign-in)."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests

from aurinko_auth import services, usersessions
from aurinko_auth.models import Account
from tests.daemon.keys import make_service_account_key
from tests.e2e.conftest import EXAMPLES_DIR, sandbox_sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SANDBOX_TENANT_ID = "5a9b1c2d-0000-4000-8000-5a4db0c5a4db"  # project/sandbox/validators.py
GMAIL = "https://www.googleapis.com/auth/gmail.readonly"


class _AppSite(SimpleHTTPRequestHandler):
    """The app's site: the example redirect page as it is, its config.js naming this broker's
    callback (what an app owner writes there), and the app's return page."""

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def do_GET(self) -> None:  # noqa: N802
        path = urlsplit(self.path).path
        if path in ("/config.js", "/done"):
            body = (
                f"window.AURINKO_CALLBACK = {self.server.callback!r};"  # type: ignore[attr-defined]
                if path == "/config.js"
                else "<!doctype html><title>done</title><p>done</p>"
            ).encode()
            self.send_response(200)
            kind = "text/javascript" if path == "/config.js" else "text/html"
            self.send_header("Content-Type", kind + "; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()


@pytest.fixture
def app_site(broker) -> Iterator[str]:
    handler = functools.partial(_AppSite, directory=str(EXAMPLES_DIR / "redirect-page"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.callback = broker.url + "/v1/auth/callback"  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def watch(page) -> list[str]:  # noqa: ANN001  (a playwright Page)
    """The URLs of the page's top-level navigations, in order."""
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url) if r.is_navigation_request() else None)
    return seen


def redeem(broker, app, secret, code: str) -> dict:
    exchanged = requests.post(
        f"{broker.url}/v1/auth/token/{code}", auth=(app.client_id, secret), timeout=10
    )
    assert exchanged.status_code == 200, exchanged.text
    token = exchanged.json()["accessToken"]
    return requests.get(
        f"{broker.url}/v1/account", headers={"Authorization": f"Bearer {token}"}, timeout=10
    ).json()


def page_app(
    app_site,
    oauth_peer,
    app_factory,
    service_type: str,
    endpoints: dict,
    *,
    page: bool = True,
    scopes: str | None = "Mail.Read",
    grant: str | None = None,
    **config,
):
    """An app returning to the app site's ``/done`` (allowed ``scopes``; None: the factory's),
    whose ``service_type`` configuration is a sandbox client (of ``grant``) registered with
    the app's redirect page only, and names that page unless ``page=False``. Returns
    ``(app, secret, page_url)``; ``config`` goes to the configuration."""
    page_url = app_site + "/index.html"
    app, secret = app_factory(
        return_urls=[app_site + "/done"], **({"scopes": scopes} if scopes else {})
    )
    client_id, client_secret = oauth_peer.add_client(
        page_url, **({"grant": grant} if grant else {})
    )
    services.configure_provider(
        app,
        service_type,
        client_id=client_id,
        client_secret=client_secret,
        endpoints=endpoints,
        **({"redirect_page": page_url} if page else {}),
        **config,
    )
    return app, secret, page_url


def start(page, broker, app_site, path: str, app, service_type: str, **query: str) -> None:  # noqa: ANN001
    """Open the broker's ``path`` (authorize, authorizeUser, authorizeDaemon) for ``app``."""
    query = {
        "clientId": app.client_id,
        "serviceType": service_type,
        "scopes": "Mail.Read",
        "returnUrl": app_site + "/done",
        **query,
    }
    page.goto(f"{broker.url}/v1/auth/{path}?{urlencode(query)}")


def sign_in(page, username: str = "alice", password: str = "alice-pw") -> None:  # noqa: ANN001
    page.wait_for_selector("#id_username")
    sandbox_sign_in(page, username, password)


def returned(page, app_site) -> dict[str, list[str]]:  # noqa: ANN001
    """The query the flow returned with to the app's ``/done``."""
    page.wait_for_url(app_site + "/done?*")
    return parse_qs(urlsplit(page.url).query)


def test_account_flow_through_the_apps_redirect_page(
    broker, oauth_peer, app_site, chromium, app_factory
):
    # The provider knows the app's page only: the broker's callback would be refused there.
    app, secret, page_url = page_app(
        app_site, oauth_peer, app_factory, "Google", oauth_peer.endpoints()
    )
    page = chromium.new_page()
    seen = watch(page)
    start(page, broker, app_site, "authorize", app, "Google", state="rp-1")
    sign_in(page)
    back = returned(page, app_site)
    assert back["status"] == ["success"], back
    assert back["state"] == ["rp-1"]

    # The provider sent the browser to the page, which forwarded the same query to the broker.
    (at_page,) = [u for u in seen if u.startswith(page_url + "?")]
    (at_callback,) = [u for u in seen if u.startswith(broker.url + "/v1/auth/callback?")]
    assert urlsplit(at_callback).query == urlsplit(at_page).query
    assert {"code", "state"} <= set(parse_qs(urlsplit(at_page).query))
    authorize = [u for u in seen if urlsplit(u).path == "/sandbox/o/authorize/"]
    assert authorize and all(
        parse_qs(urlsplit(u).query)["redirect_uri"] == [page_url] for u in authorize
    )

    # The token request repeated the page (django-oauth-toolkit refuses another redirect_uri).
    me = redeem(broker, app, secret, back["code"][0])
    assert me["email"] == "alice@example.com" and me["serviceType"] == "Google"
    assert Account.objects.get().credentials["refresh_token"]


def test_user_flow_through_the_page_completes_in_the_starting_browser_only(
    broker, oauth_peer, app_site, chromium, app_factory
):
    """The User flow through the page; the forwarded callback replayed from another browser
    (no flow cookie) on its way is refused, and the starting browser still completes, once."""
    app, _, _ = page_app(app_site, oauth_peer, app_factory, "Office365", oauth_peer.endpoints())
    page = chromium.new_page()
    replayed: list[requests.Response] = []

    def replay_elsewhere(route) -> None:  # noqa: ANN001  (a playwright Route)
        replayed.append(requests.get(route.request.url, allow_redirects=False, timeout=10))
        route.continue_()

    page.route(broker.url + "/v1/auth/callback?*", replay_elsewhere)
    start(
        page,
        broker,
        app_site,
        "authorizeUser",
        app,
        "Office365",
        accountRole="primary",
        state="u-1",
    )
    sign_in(page, "bob", "bob-pw")
    back = returned(page, app_site)
    assert back["status"] == ["success"] and back["state"] == ["u-1"], back
    (other,) = replayed
    assert other.status_code == 400 and "state.browser_mismatch" in other.text
    # The session the flow set in the starting browser (the broker's origin) is bob's.
    name = usersessions.cookie_name(app)
    cookie = {c["name"]: c["value"] for c in chromium.cookies(broker.url)}[name]
    me = requests.get(f"{broker.url}/v1/user", cookies={name: cookie}, timeout=10)
    assert me.status_code == 200, me.text
    assert Account.objects.get().email == "bob@example.com"
    # The same forwarded callback again, in the starting browser: used up.
    again = page.goto(replayed[0].request.url)
    assert again is not None and again.status == 400 and "state.used" in page.content()


def test_without_the_page_configured_the_provider_refuses_the_broker_callback(
    broker, oauth_peer, app_site, chromium, app_factory
):
    """The same provider registration with no redirect page on the configuration: the broker
    sends its own callback, which the provider does not know (the check above is real)."""
    app, _, _ = page_app(
        app_site, oauth_peer, app_factory, "Google", oauth_peer.endpoints(), page=False
    )
    page = chromium.new_page()
    start(page, broker, app_site, "authorize", app, "Google")
    sign_in(page)
    page.wait_for_load_state()
    assert "Mismatching redirect URI" in page.inner_text("body")
    assert not page.url.startswith(app_site)
    assert not Account.objects.exists()


def test_office365_admin_consent_through_the_apps_redirect_page(
    broker, oauth_peer, app_site, chromium, app_factory
):
    app, secret, page_url = page_app(
        app_site,
        oauth_peer,
        app_factory,
        "Office365",
        oauth_peer.daemon_endpoints("Office365"),
        scopes=None,
        grant="client-credentials",
    )
    page = chromium.new_page()
    seen = watch(page)
    # A named tenant: straight to its consent (without one, the admin's OpenID sign-in comes
    # first: tests/e2e/test_daemon_flow_e2e.py).
    start(
        page,
        broker,
        app_site,
        "authorizeDaemon",
        app,
        "Office365",
        state="d-1",
        tenant="example.com",
    )
    back = returned(page, app_site)
    assert back["status"] == ["success"], back
    (at_page,) = [u for u in seen if u.startswith(page_url + "?")]
    forwarded = parse_qs(urlsplit(at_page).query)
    assert forwarded["tenant"] == [SANDBOX_TENANT_ID] and forwarded["admin_consent"] == ["True"]
    (consent,) = [u for u in seen if "/sandbox/adminconsent/" in u]
    assert parse_qs(urlsplit(consent).query)["redirect_uri"] == [page_url]
    me = redeem(broker, app, secret, back["code"][0])
    assert me["daemon"] is True and me["authOrgId"] == SANDBOX_TENANT_ID


def test_google_workspace_admin_sign_in_through_the_apps_redirect_page(
    broker, oauth_peer, app_site, chromium, app_factory
):
    """The Service Account flow's other shape: the Workspace admin signs in with Google's
    OAuth (sent to the page, the token request repeating it), then the delegation is proven."""
    key = make_service_account_key()
    oauth_peer.add_service_account(
        key.client_email, key.key_id, key.public_pem, domain="example.com", scopes=[GMAIL]
    )
    app, secret, page_url = page_app(
        app_site,
        oauth_peer,
        app_factory,
        "Google",
        oauth_peer.daemon_endpoints("Google"),
        scopes=None,
        service_account_key=key.json_text,
    )
    page = chromium.new_page()
    seen = watch(page)
    start(page, broker, app_site, "authorizeDaemon", app, "Google")
    sign_in(page)
    back = returned(page, app_site)
    assert back["status"] == ["success"], back
    assert any(u.startswith(page_url + "?") for u in seen)
    me = redeem(broker, app, secret, back["code"][0])
    assert me["daemon"] is True and me["authOrgId"] == "example.com"
    assert me["email"] == "alice@example.com"
