"""The Account flow for the catalog's OAuth providers against the sandbox IdP
(django-oauth-toolkit in its own process), using each provider's own parsing."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.e2e.conftest import follow_until
from tests.e2e.test_account_flow_e2e import RETURN_URL, configured_app  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("service_type,org", [("Salesforce", "00DSANDBOX00000001")])
def test_catalog_account_flow(service_type, org, broker, oauth_peer, configured_app):  # noqa: F811
    app, secret = configured_app(service_type)
    browser = requests.Session()
    start = (
        f"{broker.url}/v1/auth/authorize?clientId={app.client_id}&serviceType={service_type}"
        f"&scopes=Calendar.Read&returnUrl={RETURN_URL}&state=s-1"
    )
    final = follow_until(browser, start, "app.example.com", oauth_peer, "alice", "alice-pw")
    query = parse_qs(urlsplit(final).query)
    assert query["status"] == ["success"], query
    exchanged = requests.post(
        f"{broker.url}/v1/auth/token/{query['code'][0]}", auth=(app.client_id, secret), timeout=10
    )
    assert exchanged.status_code == 200, exchanged.text
    me = requests.get(
        f"{broker.url}/v1/account",
        timeout=10,
        headers={"Authorization": f"Bearer {exchanged.json()['accessToken']}"},
    ).json()
    assert me["serviceType"] == service_type
    assert me["email"] == "alice@example.com"
    assert me["authOrgId"] == org
    # Salesforce grants the one `api` scope, which covers every CRM unified scope.
    assert "Calendar.Read" in me["scopes"]


def test_hubspot_account_flow_with_token_information(
    broker, oauth_peer, app_factory, provider_config_factory
):
    """HubSpot: no PKCE, the profile from the token-information endpoint (token in the path),
    the hub id as authOrgId."""
    app, secret = app_factory(return_urls=[RETURN_URL], scopes="Contacts.Read")
    client_id, client_secret = oauth_peer.add_client(
        broker.url + "/v1/auth/callback", client_id="nopkce-hubspot"
    )
    endpoints = oauth_peer.endpoints()
    endpoints["userinfo"] = oauth_peer.url("/sandbox/hubspot/access-tokens/{token}")
    provider_config_factory(
        app, "Hubspot", client_id=client_id, client_secret=client_secret, endpoints=endpoints
    )
    browser = requests.Session()
    start = (
        f"{broker.url}/v1/auth/authorize?clientId={app.client_id}&serviceType=hubspot"
        f"&scopes=Contacts.Read&returnUrl={RETURN_URL}&state=h"
    )
    first = browser.get(start, allow_redirects=False, timeout=10)
    assert "code_challenge" not in first.headers["Location"]
    final = follow_until(browser, start, "app.example.com", oauth_peer, "bob", "bob-pw")
    query = parse_qs(urlsplit(final).query)
    assert query["status"] == ["success"], query
    token = requests.post(
        f"{broker.url}/v1/auth/token/{query['code'][0]}", auth=(app.client_id, secret), timeout=10
    ).json()["accessToken"]
    me = requests.get(
        f"{broker.url}/v1/account", timeout=10, headers={"Authorization": f"Bearer {token}"}
    ).json()
    assert me["serviceType"] == "Hubspot"
    assert me["email"] == "bob@example.com"
    assert me["authOrgId"] == "62515"
    assert "Contacts.Read" in me["scopes"]
