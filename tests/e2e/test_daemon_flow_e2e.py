"""The Service Account flow end to end: broker (live server) <-> the sandbox in its own
process: django-oauth-toolkit for client credentials and the admins' OpenID sign-ins (Google;
Office 365 for ``organizations``: ID tokens with ``tid`` and ``wids``, verified against the
sandbox's JWKS), the sandbox's admin-consent stand-in (approves at once and redirects back with
the real state), and its Google JWT bearer endpoint (verifies the assertion with the public
key)."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests
from django.core.cache import cache
from django.utils import timezone

from aurinko_auth import services
from aurinko_auth.lifecycle.daemon_tokens import MailboxError, daemon_access_token
from aurinko_auth.models import Account, TokenStatus
from aurinko_auth.providers.base import ProviderCallError
from tests.daemon.keys import make_app_certificate, make_service_account_key
from tests.e2e.conftest import follow_until

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

RETURN_URL = "https://app.example.com/aurinko/daemon"
SANDBOX_TENANT_ID = "5a9b1c2d-0000-4000-8000-5a4db0c5a4db"  # project/sandbox/validators.py
SECOND_TENANT_ID = "6b0c2d3e-0000-4000-8000-6b5ec0a46b5e"  # project/sandbox/tenants.py
GLOBAL_ADMINISTRATOR = "62e90394-69f5-4237-9190-012177145e10"  # a role template id (wids)
GMAIL = "https://www.googleapis.com/auth/gmail.readonly"
CALENDAR = "https://www.googleapis.com/auth/calendar.readonly"


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


def authorize_daemon(broker, app, service_type, **extra) -> str:
    params = {
        "clientId": app.client_id,
        "serviceType": service_type,
        "scopes": "Mail.Read Calendar.Read",
        "returnUrl": RETURN_URL,
        "state": "d-1",
        **extra,
    }
    return broker.url + "/v1/auth/authorizeDaemon?" + requests.compat.urlencode(params)


def run_flow(broker, oauth_peer, url, username="", password="") -> dict[str, list[str]]:
    """A browser through the flow from ``url`` (signing in at the sandbox when asked) to the
    app's returnUrl; the query the app receives."""
    final = follow_until(requests.Session(), url, "app.example.com", oauth_peer, username, password)
    return parse_qs(urlsplit(final).query)


def redeem(broker, app, secret, code) -> dict:
    r = requests.post(
        f"{broker.url}/v1/auth/token/{code}", auth=(app.client_id, secret), timeout=10
    )
    assert r.status_code == 200, r.text
    token = r.json()["accessToken"]
    me = requests.get(
        f"{broker.url}/v1/account", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert me.status_code == 200, me.text
    return {"token": token, **me.json()}


# --- Office 365 ---------------------------------------------------------------------------


@pytest.fixture
def office_app(broker, oauth_peer, app_factory):
    """An app whose Office 365 registration at the sandbox signs admins in (code grant) and
    takes client credentials; alice administers the sandbox's tenant, bob is a member."""
    oauth_peer.add_role("alice", GLOBAL_ADMINISTRATOR)
    app, secret = app_factory(return_urls=[RETURN_URL])
    client_id, client_secret = oauth_peer.add_client(broker.url + "/v1/auth/callback")
    services.configure_provider(
        app,
        "Office365",
        client_id=client_id,
        client_secret=client_secret,
        endpoints=oauth_peer.daemon_endpoints("Office365"),
    )
    return app, secret, client_id


def test_office365_daemon_flow(broker, oauth_peer, office_app):
    """``organizations``: alice signs in at the sandbox (OpenID Connect), her verified ID
    token proves the tenant and her role, the consent is asked for that tenant."""
    app, secret, client_id = office_app
    query = run_flow(
        broker, oauth_peer, authorize_daemon(broker, app, "Office365"), "alice", "alice-pw"
    )
    assert query["status"] == ["success"], query
    assert query["state"] == ["d-1"]
    me = redeem(broker, app, secret, query["code"][0])
    assert me["daemon"] is True
    assert me["serviceType"] == "Office365"
    assert me["authOrgId"] == SANDBOX_TENANT_ID
    assert me["tokenStatus"] == "active"

    # The app-only token from django-oauth-toolkit; a fresh one once it expired.
    account = Account.objects.get(pk=me["id"])
    first = daemon_access_token(account, "someone@contoso.com")
    assert first == account.credentials["access_token"]
    # Graph-like: a JWT signed with the peer's key, issued in the consented tenant.
    signing_key = jwt.PyJWKClient(oauth_peer.url("/sandbox/o/.well-known/jwks.json"))
    claims = jwt.decode(
        first,
        signing_key.get_signing_key_from_jwt(first).key,
        algorithms=["RS256"],
        audience="https://graph.microsoft.com",
    )
    assert claims["tid"] == SANDBOX_TENANT_ID and claims["appid"] == client_id
    assert claims["idtyp"] == "app"
    Account.objects.filter(pk=account.pk).update(
        access_token_expires_at=timezone.now() - timedelta(seconds=1)
    )
    account.refresh_from_db()
    second = daemon_access_token(account)
    assert second != first

    # The app's secret changed at the provider: the account says so, and nothing is lost.
    oauth_peer.add_client(broker.url + "/v1/auth/callback", client_id=client_id)
    Account.objects.filter(pk=account.pk).update(access_token_expires_at=None)
    account.refresh_from_db()
    with pytest.raises(ProviderCallError) as info:
        daemon_access_token(account)
    assert info.value.code == "invalid_client"
    account.refresh_from_db()
    assert account.token_status == TokenStatus.APP_MISCONFIGURED
    me = requests.get(
        f"{broker.url}/v1/account", headers={"Authorization": f"Bearer {me['token']}"}, timeout=10
    ).json()
    assert me["tokenStatus"] == "invalid"


def test_office365_consent_for_unknown_tenant(broker, oauth_peer, office_app):
    app, _, _ = office_app
    query = run_flow(
        broker, oauth_peer, authorize_daemon(broker, app, "Office365", tenant="fabrikam.com")
    )
    # The provider's own OAuth error code (AADSTS90002 arrives as invalid_request) passes through.
    assert query["status"] == ["error"] and query["error"] == ["invalid_request"]
    assert not Account.objects.exists()


def test_office365_consent_replayed_state(broker, oauth_peer, office_app):
    app, _, _ = office_app
    browser = requests.Session()
    r = browser.get(
        authorize_daemon(broker, app, "Office365", tenant="example.com"),
        allow_redirects=False,
        timeout=10,
    )
    consent_page = browser.get(r.headers["Location"], allow_redirects=False, timeout=10)
    callback = consent_page.headers["Location"]
    assert parse_qs(urlsplit(callback).query)["admin_consent"] == ["True"]
    first = browser.get(callback, allow_redirects=False, timeout=10)
    assert "status=success" in first.headers["Location"]
    again = browser.get(callback, allow_redirects=False, timeout=10)
    assert again.status_code == 400 and "state.used" in again.text
    assert Account.objects.count() == 1


def forged_callback(broker, app, forged_tenant, **extra) -> str:
    """The broker's callback URL as the admin-consent page answered it, its ``tenant``
    replaced by a forger (who started the flow and holds its browser)."""
    browser = requests.Session()
    r = browser.get(
        authorize_daemon(broker, app, "Office365", **extra), allow_redirects=False, timeout=10
    )
    consent_page = browser.get(r.headers["Location"], allow_redirects=False, timeout=10)
    parts = urlsplit(consent_page.headers["Location"])
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert query["admin_consent"] == "True" and query["tenant"] == SANDBOX_TENANT_ID
    forged = parts._replace(query=requests.compat.urlencode({**query, "tenant": forged_tenant}))
    answer = browser.get(forged.geturl(), allow_redirects=False, timeout=10)
    assert answer.status_code == 303, answer.text[:300]
    return answer.headers["Location"]


def test_office365_forged_tenant_is_refused(broker, oauth_peer, office_app):
    """The flow started for the domain example.com; the forged callback names another tenant
    that consented to the app. The app-only token is asked for example.com and the peer
    issues it in example.com's tenant (its tid): a mismatch, nothing written."""
    app, secret, _ = office_app
    final = forged_callback(broker, app, SECOND_TENANT_ID, tenant="example.com")
    assert final.startswith(RETURN_URL)
    query = parse_qs(urlsplit(final).query)
    assert query["status"] == ["error"] and query["error"] == ["tenant.mismatch"], query
    assert query["state"] == ["d-1"]
    assert not Account.objects.exists()

    # The same start, the callback as Microsoft sent it: the account of the proven tenant.
    query = run_flow(
        broker, oauth_peer, authorize_daemon(broker, app, "Office365", tenant="example.com")
    )
    assert query["status"] == ["success"], query
    assert redeem(broker, app, secret, query["code"][0])["authOrgId"] == SANDBOX_TENANT_ID


def consent_answer(broker, oauth_peer, browser, url, username, password) -> str:
    """Follow a browser from ``url`` (signing in at the sandbox) until the consent page answers
    the broker's callback; that callback URL, not followed."""
    for _ in range(12):
        parts = urlsplit(url)
        if parts.path == "/v1/auth/callback" and "admin_consent" in parse_qs(parts.query):
            return url
        if "/sandbox/login/" in url:
            response = oauth_peer.login(browser, url, username, password)
        else:
            response = browser.get(url, allow_redirects=False, timeout=15)
        assert response.status_code in (302, 303), (url, response.text[:300])
        url = requests.compat.urljoin(url, response.headers["Location"])
    raise AssertionError("no consent answer")


def with_tenant(url: str, tenant: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    return parts._replace(query=requests.compat.urlencode({**query, "tenant": tenant})).geturl()


def test_office365_organizations_forged_callbacks_are_refused(broker, oauth_peer, office_app):
    """The attack of issue 19 item 6, for ``organizations``: whoever starts the flow forges the
    callback with another tenant that consented to the app (SECOND_TENANT_ID)."""
    app, secret, _ = office_app
    # Straight from the start: the first step is the admin's sign-in, not a consent.
    browser = requests.Session()
    start = browser.get(authorize_daemon(broker, app, "Office365"), allow_redirects=False)
    sign_in = parse_qs(urlsplit(start.headers["Location"]).query)
    assert sign_in["scope"] == ["openid profile"] and sign_in["nonce"]
    forged = browser.get(
        broker.url
        + "/v1/auth/callback?"
        + requests.compat.urlencode(
            {"tenant": SECOND_TENANT_ID, "admin_consent": "True", "state": sign_in["state"][0]}
        ),
        allow_redirects=False,
        timeout=10,
    )
    query = parse_qs(urlsplit(forged.headers["Location"]).query)
    assert query["status"] == ["error"] and query["error"] == ["tenant.unproven"], query
    assert query["state"] == ["d-1"]

    # After alice's sign-in (her tenant proven): the consent must come back for that tenant.
    browser = requests.Session()
    answer = consent_answer(
        broker, oauth_peer, browser, authorize_daemon(broker, app, "Office365"), "alice", "alice-pw"
    )
    assert parse_qs(urlsplit(answer).query)["tenant"] == [SANDBOX_TENANT_ID]
    refused = browser.get(with_tenant(answer, SECOND_TENANT_ID), allow_redirects=False)
    query = parse_qs(urlsplit(refused.headers["Location"]).query)
    assert query["status"] == ["error"] and query["error"] == ["tenant.mismatch"], query
    assert not Account.objects.exists()


def test_office365_member_cannot_authorize(broker, oauth_peer, office_app):
    app, _, _ = office_app
    query = run_flow(
        broker, oauth_peer, authorize_daemon(broker, app, "Office365"), "bob", "bob-pw"
    )
    assert query["status"] == ["error"] and query["error"] == ["daemon.not_admin"], query
    assert "cannot give admin consent" in query["message"][0]
    assert not Account.objects.exists()


def test_office365_admin_of_another_tenant_gets_that_tenant(broker, oauth_peer, office_app):
    """The tenant is the one the admin's ID token names: an admin of northwind.example ends
    on its tenant, though the flow named none."""
    oauth_peer.add_user("nadia", "nadia-pw", "nadia@northwind.example", "Nadia Northwind")
    oauth_peer.add_role("nadia", "158c047a-c907-4556-b7ef-446551a6b5f7")  # Cloud App Admin
    app, secret, _ = office_app
    query = run_flow(
        broker, oauth_peer, authorize_daemon(broker, app, "Office365"), "nadia", "nadia-pw"
    )
    assert query["status"] == ["success"], query
    assert redeem(broker, app, secret, query["code"][0])["authOrgId"] == SECOND_TENANT_ID


def test_office365_daemon_flow_with_a_certificate(broker, oauth_peer, app_factory):
    """The app authenticates with its certificate, no secret stored: the sandbox's token
    endpoint verifies each client assertion with the registered certificate, the one that
    redeems the ``organizations`` sign-in's code and each client credentials grant."""
    oauth_peer.add_role("alice", GLOBAL_ADMINISTRATOR)
    app, secret = app_factory(return_urls=[RETURN_URL])
    client_id, _ = oauth_peer.add_client(broker.url + "/v1/auth/callback")
    credential = make_app_certificate()
    oauth_peer.add_app_certificate(client_id, credential.certificate_pem)
    services.configure_provider(
        app,
        "Office365",
        client_id=client_id,
        service_account_key=credential.bundle,
        endpoints=oauth_peer.daemon_endpoints("Office365"),
    )
    query = run_flow(
        broker, oauth_peer, authorize_daemon(broker, app, "Office365"), "alice", "alice-pw"
    )
    assert query["status"] == ["success"], query
    me = redeem(broker, app, secret, query["code"][0])
    assert me["daemon"] is True and me["authOrgId"] == SANDBOX_TENANT_ID
    # The app-only token is the peer's: its own API accepts it.
    account = Account.objects.get(pk=me["id"])
    token = daemon_access_token(account)
    api = requests.get(
        oauth_peer.url("/sandbox/api/me"), headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert api.status_code == 200, api.text
    assert api.json() == {"sub": None, "appId": client_id}
    # A fresh assertion for the next token (each jti is used once).
    Account.objects.filter(pk=account.pk).update(access_token_expires_at=None)
    account.refresh_from_db()
    assert daemon_access_token(account) != token

    # A certificate the app registration does not know: refused, and the account says so.
    services.configure_provider(app, "Office365", service_account_key=make_app_certificate().bundle)
    Account.objects.filter(pk=account.pk).update(access_token_expires_at=None)
    account.refresh_from_db()
    with pytest.raises(ProviderCallError) as info:
        daemon_access_token(account)
    assert info.value.code == "invalid_client"
    account.refresh_from_db()
    assert account.token_status == TokenStatus.APP_MISCONFIGURED


# --- Google Workspace -----------------------------------------------------------------------


@pytest.fixture
def google_app(broker, oauth_peer, app_factory):
    def make(*, delegated=(GMAIL, CALENDAR), register=True):
        app, secret = app_factory(return_urls=[RETURN_URL])
        key = make_service_account_key()
        if register:
            oauth_peer.add_service_account(
                key.client_email,
                key.key_id,
                key.public_pem,
                domain="example.com",
                scopes=list(delegated),
            )
        client_id, client_secret = oauth_peer.add_client(broker.url + "/v1/auth/callback")
        services.configure_provider(
            app,
            "Google",
            client_id=client_id,
            client_secret=client_secret,
            service_account_key=key.json_text,
            endpoints=oauth_peer.daemon_endpoints("Google"),
        )
        return app, secret, key

    return make


def test_google_daemon_flow(broker, oauth_peer, google_app, client):
    app, secret, _ = google_app()
    query = run_flow(
        broker, oauth_peer, authorize_daemon(broker, app, "Google"), "alice", "alice-pw"
    )
    assert query["status"] == ["success"], query
    me = redeem(broker, app, secret, query["code"][0])
    assert me["daemon"] is True and me["serviceType"] == "Google"
    assert me["authOrgId"] == "example.com"
    assert me["email"] == "alice@example.com"
    assert sorted(me["scopes"]) == ["Calendar.Read", "Mail.Read"]

    # Per-mailbox tokens from the sandbox's JWT endpoint, cached until they expire.
    account = Account.objects.get(pk=me["id"])
    bob = daemon_access_token(account, "bob@example.com")
    assert bob.startswith("ya29.sandbox-")
    assert daemon_access_token(account, "bob@example.com") == bob
    alice = daemon_access_token(account)
    assert alice != bob
    with pytest.raises(MailboxError) as info:
        daemon_access_token(account, "eve@other.org")
    assert info.value.code == "mailbox.outside_domain"
    with pytest.raises(MailboxError) as info:  # the peer has no such user
        daemon_access_token(account, "nobody@example.com")
    assert info.value.code == "mailbox.unknown"
    account.refresh_from_db()
    assert account.token_status == TokenStatus.HEALTHY

    r = requests.get(
        f"{broker.url}/v1/account",
        timeout=10,
        headers={"Authorization": f"Bearer {me['token']}", "X-Aurinko-Mailbox": "eve@other.org"},
    )
    assert r.status_code == 400 and r.json()["code"] == "mailbox.outside_domain"


def test_google_forged_key_is_refused(broker, oauth_peer, google_app):
    # The key the broker holds is not the one registered at Google: the signature fails.
    app, _, key = google_app()
    forged = make_service_account_key(client_email=key.client_email, key_id=key.key_id)
    services.configure_provider(app, "Google", service_account_key=forged.json_text)
    query = run_flow(
        broker, oauth_peer, authorize_daemon(broker, app, "Google"), "alice", "alice-pw"
    )
    assert query["error"] == ["daemon.delegation_failed"], query
    assert "invalid_grant" in query["message"][0]
    assert not Account.objects.exists()


def test_google_scopes_not_delegated(broker, oauth_peer, google_app):
    app, _, _ = google_app(delegated=(GMAIL,))
    query = run_flow(
        broker, oauth_peer, authorize_daemon(broker, app, "Google"), "alice", "alice-pw"
    )
    assert query["error"] == ["daemon.delegation_failed"]
    assert "unauthorized_client" in query["message"][0]
    assert not Account.objects.exists()


def test_google_consumer_account_cannot_authorize(broker, oauth_peer, google_app):
    oauth_peer.add_user("carol", "carol-pw", "carol@gmail.com", "Carol Consumer")
    app, _, _ = google_app()
    query = run_flow(
        broker, oauth_peer, authorize_daemon(broker, app, "Google"), "carol", "carol-pw"
    )
    assert query["error"] == ["daemon.not_workspace"]
    assert not Account.objects.exists()
