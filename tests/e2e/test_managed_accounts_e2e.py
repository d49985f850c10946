"""Service accounts imported (``POST /v1/am/svc_accounts``) and their managed mailbox accounts
(``POST /v1/am/svc_accounts/{accId}/accounts``) end to end: the broker (live server) against
the sandbox in its own process, which issues the app-only tokens (client credentials with a
Graph-like ``tid``; Google's JWT bearer grant checked with the service account's public key)
and serves the API the Direct API forwards to."""

from __future__ import annotations

import pytest
import requests

from aurinko_auth import services
from aurinko_auth.models import Account
from tests.daemon.keys import make_service_account_key
from tests.e2e.test_daemon_flow_e2e import (  # noqa: F401 (fixtures)
    CALENDAR,
    GMAIL,
    RETURN_URL,
    SANDBOX_TENANT_ID,
    _clear_cache,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def post(broker, app, secret, path, body, **params):
    return requests.post(
        f"{broker.url}{path}", json=body, params=params, auth=(app.client_id, secret), timeout=20
    )


def account(broker, token, path="/v1/account"):
    return requests.get(
        f"{broker.url}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=20
    )


def test_office365_service_account_and_a_managed_mailbox(broker, oauth_peer, app_factory):
    app, secret = app_factory(return_urls=[RETURN_URL])
    client_id, client_secret = oauth_peer.add_client(
        broker.url + "/v1/auth/callback", grant="client-credentials"
    )
    services.configure_provider(
        app,
        "Office365",
        client_id=client_id,
        client_secret=client_secret,
        endpoints={
            **oauth_peer.daemon_endpoints("Office365"),
            "api": oauth_peer.url("/sandbox/api/echo"),
        },
    )
    # The tenant is proven by the sandbox's app-only token (its tid), nothing else.
    body = {
        "serviceType": "Office365",
        "active": True,
        "authOrgId": SANDBOX_TENANT_ID,
        "authScopes": ["Mail.Read"],
    }
    r = post(broker, app, secret, "/v1/am/svc_accounts", body)
    assert r.status_code == 200, r.text
    parent_id = r.json()["accountId"]
    assert account(broker, r.json()["accessToken"]).json()["type"] == "daemon"
    unknown = post(broker, app, secret, "/v1/am/svc_accounts", {**body, "authOrgId": "nope.org"})
    assert unknown.status_code >= 400 and unknown.status_code != 500
    assert Account.objects.count() == 1

    r = post(
        broker,
        app,
        secret,
        f"/v1/am/svc_accounts/{parent_id}/accounts",
        {"email": "bob@contoso.com", "name": "Bob"},
    )
    assert r.status_code == 200, r.text
    token = r.json()["accessToken"]
    me = account(broker, token).json()
    assert me["type"] == "managed" and me["parentId"] == parent_id
    assert me["mailboxAddress"] == "bob@contoso.com" and me["tokenStatus"] == "active"

    # Its calls carry the service account's app-only token, in its own mailbox only.
    echo = account(broker, token, "/v1/direct/me/messages")
    assert echo.status_code == 200, echo.text
    seen = echo.json()
    assert seen["user"] == {"sub": None, "appId": client_id}
    assert seen["path"].endswith("/api/echo/users/bob@contoso.com/messages")
    other = account(broker, token, "/v1/direct/users/carol@contoso.com/messages")
    assert other.status_code == 403 and other.json()["code"] == "direct.outside_mailbox"

    # The app's secret changed at the provider: the service account and its mailbox say so.
    oauth_peer.add_client(
        broker.url + "/v1/auth/callback", grant="client-credentials", client_id=client_id
    )
    Account.objects.filter(pk=parent_id).update(access_token_expires_at=None)
    failed = account(broker, token, "/v1/direct/me/messages")
    assert failed.json()["code"] == "invalid_client", failed.text
    assert account(broker, token).json()["tokenStatus"] == "invalid"

    # Deleting the service account deletes its managed accounts.
    r = requests.delete(
        f"{broker.url}/v1/am/accounts/{parent_id}", auth=(app.client_id, secret), timeout=20
    )
    assert r.status_code == 200, r.text
    assert account(broker, token).status_code == 401
    assert not Account.objects.exists()


def test_google_service_account_and_managed_mailboxes(broker, oauth_peer, app_factory):
    app, secret = app_factory(return_urls=[RETURN_URL])
    key = make_service_account_key()
    oauth_peer.add_service_account(
        key.client_email, key.key_id, key.public_pem, domain="example.com", scopes=[GMAIL, CALENDAR]
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
    body = {
        "serviceType": "Google",
        "active": True,
        "email": "alice@example.com",
        "authScopes": ["Mail.Read", "Calendar.Read"],
    }
    r = post(broker, app, secret, "/v1/am/svc_accounts", body)
    assert r.status_code == 200, r.text
    parent_id = r.json()["accountId"]
    parent = account(broker, r.json()["accessToken"]).json()
    assert parent["type"] == "daemon" and parent["authOrgId"] == "example.com"
    # Scopes the domain did not delegate: refused by the sandbox, nothing written.
    r = post(broker, app, secret, "/v1/am/svc_accounts", {**body, "authScopes": ["Mail.All"]})
    assert r.status_code == 400, r.text
    assert r.json()["code"] in ("daemon.delegation_failed", "scope.invalid")

    path = f"/v1/am/svc_accounts/{parent_id}/accounts"
    r = post(broker, app, secret, path, {"email": "bob@example.com"})
    assert r.status_code == 200, r.text
    me = account(broker, r.json()["accessToken"]).json()
    assert me["type"] == "managed" and me["parentId"] == parent_id
    assert sorted(me["scopes"]) == ["Calendar.Read", "Mail.Read"]
    # The sandbox knows no such user: Google's "Invalid email or User ID".
    r = post(broker, app, secret, path, {"email": "nobody@example.com"})
    assert r.status_code == 400 and r.json()["code"] == "mailbox.unknown"
    r = post(broker, app, secret, path, {"email": "eve@other.org"})
    assert r.status_code == 400 and r.json()["code"] == "mailbox.outside_domain"
    assert Account.objects.filter(parent_id=parent_id).count() == 1
