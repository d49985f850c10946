"""`/v1/am/accounts` and account selection with client credentials."""

from __future__ import annotations

import pytest
import responses
from django.test import Client

from tests.flows.conftest import GOOGLE_REVOKE, basic


@pytest.fixture
def am(client, app_factory, account_factory):
    app, secret = app_factory()

    def get(path, **extra):
        return client.get(path, HTTP_AUTHORIZATION=basic(app.client_id, secret), **extra)

    return app, secret, get, account_factory


def test_list_paginates_and_filters(am):
    app, _, get, account_factory = am
    for _ in range(3):
        account_factory(app, service_type="Google")
    account_factory(app, service_type="Office365", active=False)
    account_factory(app, service_type="Office365", daemon=True)
    body = get("/v1/am/accounts", data={"limit": 2}).json()
    assert body["totalSize"] == 5 and len(body["records"]) == 2 and body["limit"] == 2
    assert body["done"] is False
    page2 = get("/v1/am/accounts", data={"limit": 2, "offset": 4}).json()
    assert len(page2["records"]) == 1 and page2["done"] is True
    assert get("/v1/am/accounts", data={"limit": 2, "offset": 3}).json()["done"] is True
    assert get("/v1/am/accounts", data={"offset": 9}).json()["done"] is True  # past the end
    types = [r["type"] for r in get("/v1/am/accounts").json()["records"]]
    assert types == ["personal"] * 4 + ["daemon"]  # AccountType, never null
    assert get("/v1/am/accounts", data={"serviceType": "office365"}).json()["totalSize"] == 2
    assert get("/v1/am/accounts", data={"active": "false"}).json()["totalSize"] == 1
    assert get("/v1/am/accounts", data={"daemon": "true"}).json()["totalSize"] == 1


@pytest.mark.parametrize(
    "params", [{"active": "maybe"}, {"limit": "-1"}, {"offset": "x"}, {"serviceType": "Yahoo"}]
)
def test_bad_filters_are_400_json(am, params):
    _, _, get, _ = am
    response = get("/v1/am/accounts", data=params)
    assert response.status_code == 400
    assert set(response.json()) == {"code", "message", "requestId"}


def test_list_query_count_does_not_grow(am, django_assert_num_queries):
    app, _, get, account_factory = am
    for _ in range(3):
        account_factory(app)
    with django_assert_num_queries(3):  # the app, the count, the page
        assert get("/v1/am/accounts").status_code == 200
    for _ in range(30):
        account_factory(app)
    with django_assert_num_queries(3):
        assert len(get("/v1/am/accounts", data={"limit": 100}).json()["records"]) == 33


def test_other_apps_accounts_are_404(am, app_factory, account_factory):
    app, _, get, _ = am
    other, _ = app_factory(name="Other")
    foreign = account_factory(other)
    assert get(f"/v1/am/accounts/{foreign.pk}").status_code == 404
    assert get("/v1/account", HTTP_X_AURINKO_ACCOUNTID=str(foreign.pk)).status_code == 404
    mine = account_factory(app)
    assert get(f"/v1/am/accounts/{mine.pk}").json()["id"] == mine.pk
    assert get("/v1/account", HTTP_X_AURINKO_ACCOUNT_ID=str(mine.pk)).json()["id"] == mine.pk
    assert get("/v1/account").status_code == 400  # client credentials need an account id


def test_unauthenticated_is_401_json(client):
    response = client.get("/v1/am/accounts")
    assert response.status_code == 401
    assert response.json()["code"] == "auth.required" and response["WWW-Authenticate"]
    response = client.get("/v1/am/accounts", HTTP_AUTHORIZATION="Basic !!!")
    assert response.status_code == 401


@responses.activate
def test_revoking_the_grant_calls_the_provider(
    am, client, provider_config_factory, account_token_factory
):
    app, _, _, account_factory = am
    provider_config_factory(app, "Google")
    account = account_factory(
        app, credentials={"access_token": "ya29.x", "refresh_token": "1//to-revoke"}
    )
    token = account_token_factory(account)
    responses.post(GOOGLE_REVOKE, status=200)
    response = client.delete("/v1/account/token", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200 and response.json()["providerConfirmed"] is True
    assert "token=1%2F%2Fto-revoke" in responses.calls[0].request.body
    account.refresh_from_db()
    assert not account.active and account.public_token_status == "dead"
    assert account.credentials == {}
    # Its account tokens are gone too.
    assert client.get("/v1/account", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401


@responses.activate
def test_deleting_an_account_revokes_then_deletes(am, provider_config_factory):
    app, secret, get, account_factory = am
    provider_config_factory(app, "Google")
    account = account_factory(app)
    responses.post(GOOGLE_REVOKE, status=400, json={"error": "invalid_token"})  # already gone
    response = Client().delete(
        f"/v1/am/accounts/{account.pk}", HTTP_AUTHORIZATION=basic(app.client_id, secret)
    )
    assert response.status_code == 200 and response.json() == {"status": "Ok"}
    assert get(f"/v1/am/accounts/{account.pk}").status_code == 404


# --- issue 16: the OpenAPI's filters; an unknown one is a 400, never ignored ----------------


def test_filters_by_auth_org_id_and_client_org_id(am):
    app, _, get, account_factory = am
    a = account_factory(app, auth_org_id="example.com", client_org_id="t1")
    account_factory(app, auth_org_id="example.com", client_org_id="t2")
    account_factory(app, auth_org_id="other.example", client_org_id="t1")
    assert get("/v1/am/accounts", data={"authOrgId": "example.com"}).json()["totalSize"] == 2
    both = get("/v1/am/accounts", data={"authOrgId": "example.com", "clientOrgId": "t1"}).json()
    assert [r["id"] for r in both["records"]] == [a.pk]
    # An empty value is no filter (as for serviceType).
    assert get("/v1/am/accounts", data={"clientOrgId": ""}).json()["totalSize"] == 3


@pytest.mark.parametrize(
    "params, words",
    [
        ({"clientorgid": "t1"}, "clientorgid"),  # a typo'd name must not answer everything
        ({"accountType": "primary"}, "accountType"),
        ({"subscriptionId": "12"}, "subscriptions"),
        ({"subscriptionId": "x"}, "valid integer"),
        ({"clientOrgId": "x" * 256}, "255"),
    ],
)
def test_unknown_or_unusable_filters_are_400(am, params, words):
    app, _, get, account_factory = am
    account_factory(app)
    response = get("/v1/am/accounts", data=params)
    assert response.status_code == 400
    assert response.json()["code"] == "request.invalid" and words in response.json()["message"]


def test_filtered_list_query_count_does_not_grow(am, django_assert_num_queries):
    app, _, get, account_factory = am
    for _ in range(3):
        account_factory(app, client_org_id="t1", auth_org_id="example.com")
    query = {"clientOrgId": "t1", "authOrgId": "example.com", "serviceType": "Google"}
    with django_assert_num_queries(3):  # the app, the count, the page
        assert get("/v1/am/accounts", data=query).json()["totalSize"] == 3
    for _ in range(20):
        account_factory(app, client_org_id="t1", auth_org_id="example.com")
    with django_assert_num_queries(3):
        assert len(get("/v1/am/accounts", data=query).json()["records"]) == 23
