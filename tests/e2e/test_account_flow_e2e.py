"""The Account flow end to end: broker (live server) <-> django-oauth-toolkit (own process)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from aurinko_auth.models import Account
from tests.e2e.conftest import follow_until

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

RETURN_URL = "https://app.example.com/aurinko/callback"


@pytest.fixture
def configured_app(broker, oauth_peer, app_factory, provider_config_factory):
    def make(service_type: str):
        app, secret = app_factory(return_urls=[RETURN_URL])
        client_id, client_secret = oauth_peer.add_client(broker.url + "/v1/auth/callback")
        provider_config_factory(
            app,
            service_type,
            client_id=client_id,
            client_secret=client_secret,
            endpoints=oauth_peer.endpoints(),
        )
        return app, secret

    return make


@pytest.mark.parametrize("service_type", ["Google", "Office365"])
def test_account_flow_code(service_type, broker, oauth_peer, configured_app):
    app, secret = configured_app(service_type)
    browser = requests.Session()
    start = (
        f"{broker.url}/v1/auth/authorize?clientId={app.client_id}&serviceType={service_type}"
        f"&scopes=Mail.Read%20Calendar.Read&returnUrl={RETURN_URL}&state=s-1"
    )
    final = follow_until(browser, start, "app.example.com", oauth_peer, "alice", "alice-pw")
    query = parse_qs(urlsplit(final).query)
    assert query["status"] == ["success"], query
    assert query["state"] == ["s-1"]

    exchanged = requests.post(
        f"{broker.url}/v1/auth/token/{query['code'][0]}", auth=(app.client_id, secret), timeout=10
    )
    assert exchanged.status_code == 200, exchanged.text
    token = exchanged.json()["accessToken"]
    me = requests.get(
        f"{broker.url}/v1/account", headers={"Authorization": f"Bearer {token}"}, timeout=10
    ).json()
    assert me["serviceType"] == service_type
    assert me["email"] == "alice@example.com"
    assert me["name"] == "Alice Example"
    assert me["tokenStatus"] == "active"
    assert set(me["scopes"]) == {"Mail.Read", "Calendar.Read"}
    account = Account.objects.get(pk=me["id"])
    assert account.credentials["refresh_token"]
    if service_type == "Office365":
        assert me["authOrgId"] == "5a9b1c2d-0000-4000-8000-5a4db0c5a4db"
    else:
        assert me["authOrgId"] == "example.com"


def linked_account(broker, oauth_peer, configured_app, service_type="Google"):
    app, secret = configured_app(service_type)
    browser = requests.Session()
    start = (
        f"{broker.url}/v1/auth/authorize?clientId={app.client_id}&serviceType={service_type}"
        f"&scopes=Mail.Read&returnUrl={RETURN_URL}&state=s"
    )
    final = follow_until(browser, start, "app.example.com", oauth_peer, "bob", "bob-pw")
    code = parse_qs(urlsplit(final).query)["code"][0]
    token = requests.post(
        f"{broker.url}/v1/auth/token/{code}", auth=(app.client_id, secret), timeout=10
    ).json()["accessToken"]
    return app, secret, token


def test_refresh_at_the_provider_then_direct_api(broker, oauth_peer, configured_app):
    from django.utils import timezone

    _, _, token = linked_account(broker, oauth_peer, configured_app)
    account = Account.objects.get()
    old = dict(account.credentials)
    Account.objects.filter(pk=account.pk).update(access_token_expires_at=timezone.now())
    # The Direct API refreshes at the real server (which rotates refresh tokens), then
    # forwards to its protected resource with the new access token.
    me = requests.get(
        f"{broker.url}/v1/direct/me", headers={"Authorization": f"Bearer {token}"}, timeout=20
    )
    assert me.status_code == 200, me.text
    assert me.json()["username"] == "bob"
    account.refresh_from_db()
    assert account.credentials["access_token"] != old["access_token"]
    assert account.credentials["refresh_token"] != old["refresh_token"]  # rotated
    assert account.credential_version == 2


def test_revocation_reaches_the_provider(broker, oauth_peer, configured_app):
    from aurinko_auth.models import ProviderConfig
    from aurinko_auth.providers.base import TERMINAL_USER, ProviderCallError
    from aurinko_auth.providers.registry import get_provider

    _, _, token = linked_account(broker, oauth_peer, configured_app)
    account = Account.objects.get()
    refresh_token = account.credentials["refresh_token"]
    revoked = requests.delete(
        f"{broker.url}/v1/account/token", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert revoked.status_code == 200 and revoked.json()["providerConfirmed"] is True
    # The provider no longer honours the grant.
    config = ProviderConfig.objects.get(app=account.app, service_type="Google")
    with pytest.raises(ProviderCallError) as refused:
        get_provider("Google").refresh(config, refresh_token)
    assert refused.value.code == "invalid_grant" and refused.value.failure == TERMINAL_USER
    account.refresh_from_db()
    assert not account.active and account.public_token_status == "dead"
