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
    start = (f"{broker.url}/v1/auth/authorize?clientId={app.client_id}&serviceType={service_type}"
             f"&scopes=Calendar.Read&returnUrl={RETURN_URL}&state=s-1")
    final = follow_until(browser, start, "app.example.com", oauth_peer, "alice", "alice-pw")
    query = parse_qs(urlsplit(final).query)
    assert query["status"] == ["success"], query
    exchanged = requests.post(f"{broker.url}/v1/auth/token/{query['code'][0]}",
                              auth=(app.client_id, secret), timeout=10)
    assert exchanged.status_code == 200, exchanged.text
    me = requests.get(f"{broker.url}/v1/account", timeout=10, headers={
        "Authorization": f"Bearer {exchanged.json()['accessToken']}"}).json()
    assert me["serviceType"] == service_type
    assert me["email"] == "alice@example.com"
    assert me["authOrgId"] == org
    # Salesforce grants the one `api` scope, which covers every CRM unified scope.
    assert "Calendar.Read" in me["scopes"]
