"""Zoho end to end against the sandbox's Zoho Accounts (django-oauth-toolkit behind Zoho's
quirks: comma-separated scopes, the data centre named on the callback, codes and refresh
tokens good only at the data centre that issued them)."""

from __future__ import annotations

import secrets
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.utils import timezone

from aurinko_auth.lifecycle import tokens
from aurinko_auth.models import Account
from tests.e2e.conftest import follow_until
from tests.e2e.test_account_flow_e2e import RETURN_URL

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

EU = "accounts.zoho.eu"


@pytest.fixture
def zoho_app(broker, oauth_peer, app_factory, provider_config_factory):
    app, secret = app_factory(return_urls=[RETURN_URL], scopes="Mail.Read Contacts.Read")
    # Zoho has no PKCE; the sandbox requires it except for "nopkce-" clients.
    client_id, client_secret = oauth_peer.add_client(
        broker.url + "/v1/auth/callback", client_id="nopkce-zoho-" + secrets.token_hex(4)
    )
    provider_config_factory(
        app,
        "Zoho",
        client_id=client_id,
        client_secret=client_secret,
        endpoints=oauth_peer.zoho_endpoints(sign_in_at=EU),
    )
    return app, secret


def test_account_flow_records_the_data_centre_and_refreshes_there(broker, oauth_peer, zoho_app):
    app, secret = zoho_app
    browser = requests.Session()
    start = (
        f"{broker.url}/v1/auth/authorize?clientId={app.client_id}&serviceType=Zoho"
        f"&scopes=Mail.Read%20Contacts.Read&returnUrl={RETURN_URL}&state=z-1"
    )
    first = browser.get(start, allow_redirects=False, timeout=10)
    sent = parse_qs(urlsplit(first.headers["Location"]).query)
    assert sent["scope"][0].split(",")[:2] == [
        "AaaServer.profile.READ",
        "ZohoMail.messages.READ",
    ]  # Zoho's commas
    assert sent["access_type"] == ["offline"] and "code_challenge" not in sent

    final = follow_until(browser, start, "app.example.com", oauth_peer, "alice", "alice-pw")
    query = parse_qs(urlsplit(final).query)
    assert query["status"] == ["success"], query
    assert query["state"] == ["z-1"]
    exchanged = requests.post(
        f"{broker.url}/v1/auth/token/{query['code'][0]}", auth=(app.client_id, secret), timeout=10
    )
    assert exchanged.status_code == 200, exchanged.text
    me = requests.get(
        f"{broker.url}/v1/account",
        timeout=10,
        headers={"Authorization": f"Bearer {exchanged.json()['accessToken']}"},
    ).json()
    assert me["serviceType"] == "Zoho"
    assert me["email"] == "alice@example.com" and me["name"] == "Alice Example"
    assert me["serverUrl"] == "https://www.zohoapis.eu"  # the EU data centre's API domain
    assert set(me["scopes"]) == {"Mail.Read", "Contacts.Read"}
    account = Account.objects.get(pk=me["id"])
    assert account.extra_data["accounts_server"] == f"https://{EU}"

    # A refresh token is good only at the data centre that issued it: the US one refuses it.
    old = dict(account.credentials)
    elsewhere = requests.post(
        oauth_peer.url("/sandbox/zoho/accounts.zoho.com/oauth/v2/token"),
        timeout=10,
        data={"grant_type": "refresh_token", "refresh_token": old["refresh_token"]},
    )
    assert elsewhere.json() == {"error": "invalid_code"}

    Account.objects.filter(pk=account.pk).update(access_token_expires_at=timezone.now())
    account.refresh_from_db()
    fresh = tokens.fresh_access_token(account)  # at the EU data centre, or it fails

    account.refresh_from_db()
    assert fresh == account.credentials["access_token"] != old["access_token"]
    assert account.token_status == "healthy" and account.credential_version == 2
    info = requests.get(
        oauth_peer.url(f"/sandbox/zoho/{EU}/oauth/user/info"),
        timeout=10,
        headers={"Authorization": f"Zoho-oauthtoken {fresh}"},
    )
    assert info.status_code == 200 and info.json()["Email"] == "alice@example.com"


def test_sign_in_at_another_data_centre(broker, oauth_peer, app_factory, provider_config_factory):
    """A user of the Indian data centre: the same configuration, another accounts server."""
    app, secret = app_factory(return_urls=[RETURN_URL], scopes="Mail.Read")
    client_id, client_secret = oauth_peer.add_client(
        broker.url + "/v1/auth/callback", client_id="nopkce-zoho-" + secrets.token_hex(4)
    )
    provider_config_factory(
        app,
        "Zoho",
        client_id=client_id,
        client_secret=client_secret,
        endpoints=oauth_peer.zoho_endpoints(sign_in_at="accounts.zoho.in"),
    )
    browser = requests.Session()
    start = (
        f"{broker.url}/v1/auth/authorize?clientId={app.client_id}&serviceType=Zoho"
        f"&scopes=Mail.Read&returnUrl={RETURN_URL}&state=z-2"
    )
    final = follow_until(browser, start, "app.example.com", oauth_peer, "bob", "bob-pw")
    query = parse_qs(urlsplit(final).query)
    assert query["status"] == ["success"], query
    account = Account.objects.get()
    assert account.extra_data["accounts_server"] == "https://accounts.zoho.in"
    assert account.server_url == "https://www.zohoapis.in"
