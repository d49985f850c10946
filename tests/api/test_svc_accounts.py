"""`GET /v1/am/svc_accounts`: the app's service (daemon) accounts, with client credentials."""

from __future__ import annotations

import pytest

from tests.flows.conftest import basic


@pytest.fixture
def svc(client, app_factory, account_factory):
    app, secret = app_factory()

    def get(path="/v1/am/svc_accounts", **extra):
        return client.get(path, HTTP_AUTHORIZATION=basic(app.client_id, secret), **extra)

    return app, get, account_factory


def test_lists_only_the_apps_daemon_accounts(svc):
    app, get, account_factory = svc
    account_factory(app, service_type="Office365")  # an ordinary account: not listed
    daemon = account_factory(app, service_type="Office365", daemon=True, auth_org_id="t-1")
    body = get().json()
    assert [r["id"] for r in body["records"]] == [daemon.pk]
    assert body["records"][0]["daemon"] is True and body["records"][0]["type"] == "daemon"
    assert body["totalSize"] == 1 and body["offset"] == 0 and body["done"] is True


def test_other_apps_daemon_accounts_are_not_listed(svc, app_factory):
    app, get, account_factory = svc
    other, _ = app_factory(name="Other")
    account_factory(other, service_type="Office365", daemon=True, auth_org_id="t-other")
    assert get().json() == {
        "records": [],
        "totalSize": 0,
        "offset": 0,
        "limit": 50,
        "done": True,
    }
    mine = account_factory(app, service_type="Google", daemon=True, auth_org_id="example.com")
    assert [r["id"] for r in get().json()["records"]] == [mine.pk]


def test_paginates_and_filters(svc):
    app, get, account_factory = svc
    for n in range(3):
        account_factory(app, service_type="Office365", daemon=True, auth_org_id=f"t-{n}")
    account_factory(
        app, service_type="Google", daemon=True, auth_org_id="example.com", client_org_id="acme"
    )
    page = get(data={"limit": 2}).json()
    assert page["totalSize"] == 4 and len(page["records"]) == 2 and page["done"] is False
    rest = get(data={"limit": 2, "offset": 2}).json()
    assert len(rest["records"]) == 2 and rest["done"] is True and rest["offset"] == 2
    assert {r["id"] for r in page["records"]}.isdisjoint(r["id"] for r in rest["records"])
    assert get(data={"serviceType": "office365"}).json()["totalSize"] == 3
    assert get(data={"serviceType": "Google"}).json()["records"][0]["authOrgId"] == "example.com"
    assert get(data={"authOrgId": "t-1"}).json()["records"][0]["authOrgId"] == "t-1"
    assert get(data={"clientOrgId": "acme"}).json()["totalSize"] == 1
    assert get(data={"clientOrgId": "nobody"}).json()["totalSize"] == 0


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"limit": "-1"}, "request.invalid"),
        ({"offset": "x"}, "request.invalid"),
        ({"serviceType": "Yahoo"}, "servicetype.invalid"),
        ({"serviceType": "Hubspot"}, "servicetype.invalid"),  # a provider without daemons
        ({"subscriptionId": "1"}, "request.invalid"),
        ({"daemon": "false"}, "request.invalid"),  # /v1/am/accounts' filter, not this list's
        ({"colour": "blue"}, "request.invalid"),
    ],
)
def test_bad_parameters_are_400_json(svc, params, code):
    _, get, _ = svc
    response = get(data=params)
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"code", "message", "requestId"} and body["code"] == code


def test_query_count_does_not_grow(svc, django_assert_num_queries):
    app, get, account_factory = svc
    for n in range(3):
        account_factory(app, service_type="Office365", daemon=True, auth_org_id=f"t-{n}")
    with django_assert_num_queries(3):  # the app, the page, the count
        assert get().status_code == 200
    for n in range(3, 30):
        account_factory(app, service_type="Office365", daemon=True, auth_org_id=f"t-{n}")
    with django_assert_num_queries(3):
        assert len(get(data={"limit": 100}).json()["records"]) == 30


def test_needs_the_apps_client_credentials(client, svc, account_factory, account_token_factory):
    app, _, _ = svc
    assert client.get("/v1/am/svc_accounts").status_code == 401
    token = account_token_factory(account_factory(app, daemon=True, auth_org_id="t"))
    response = client.get("/v1/am/svc_accounts", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 401 and response.json()["code"]


def test_other_methods_are_405_json(client, app_factory):
    app, secret = app_factory()
    response = client.put(
        "/v1/am/svc_accounts",
        {},
        content_type="application/json",
        HTTP_AUTHORIZATION=basic(app.client_id, secret),
    )
    assert response.status_code == 405
    assert response.json()["code"] == "method.not_allowed"
