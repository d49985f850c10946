"""`GET /v1/am/svc_accounts` (Aurinko's ``getSvcAccounts``) validated against the contract:
the page after a real Service Account flow, and its refusals."""

from __future__ import annotations

import pytest
import responses

from aurinko_auth.models import Account
from tests.daemon.test_daemon_flow import MS_APP_TOKEN, MS_TOKEN, TENANT, consent
from tests.flows.conftest import basic

PATH = "/v1/am/svc_accounts"


@responses.activate
def test_svc_accounts_page_after_the_service_account_flow_conforms(
    conforms, client, daemon_app, account_factory
):
    app, secret, _ = daemon_app("Office365")
    account_factory(app, service_type="Office365")  # an ordinary account of the same app
    responses.post(MS_TOKEN, json=MS_APP_TOKEN)
    r = client.get(
        "/v1/auth/callback",
        {"tenant": TENANT, "admin_consent": "True", "state": consent(client, app)},
    )
    assert r.status_code == 303
    auth = basic(app.client_id, secret)
    body = conforms(client.get(PATH, {"serviceType": "Office365"}, HTTP_AUTHORIZATION=auth))
    daemon = Account.objects.get(daemon=True)
    assert [record["id"] for record in body["records"]] == [daemon.pk]
    assert body["records"][0]["type"] == "daemon" and body["records"][0]["authOrgId"] == TENANT
    assert body["totalSize"] == 1 and body["done"] is True
    empty = conforms(client.get(PATH, {"offset": 5, "limit": 1}, HTTP_AUTHORIZATION=auth))
    assert empty["records"] == [] and empty["done"] is True


@pytest.mark.parametrize(
    "query",
    [
        {"serviceType": "Nope"},
        {"serviceType": "Hubspot"},
        {"limit": "-1"},
        {"offset": "x"},
        {"subscriptionId": "1"},
        {"colour": "blue"},
    ],
)
def test_svc_accounts_refusals_conform(conforms, client, app_with_account, query):
    _, _, _, _, auth = app_with_account
    r = client.get(PATH, query, HTTP_AUTHORIZATION=auth)
    assert r.status_code == 400
    assert conforms(r)["code"]


@pytest.mark.parametrize(
    "headers",
    [{}, {"HTTP_AUTHORIZATION": "Basic bm90OnZhbGlk"}, {"HTTP_AUTHORIZATION": "Bearer x"}],
    ids=["none", "wrong client", "account token"],
)
def test_svc_accounts_unauthenticated_conforms(conforms, client, db, headers):
    r = client.get(PATH, **headers)
    assert r.status_code == 401
    assert conforms(r)["code"]
