"""`/v1/am/svc_accounts` validated against the contract: ``getSvcAccounts`` (the page after
a real Service Account flow, and its refusals) and ``upsertServiceAccount`` (an import, and
its refusals)."""

from __future__ import annotations

import json

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


O365 = {
    "serviceType": "Office365",
    "active": True,
    "authOrgId": TENANT,
    "authScopes": ["Mail.Read"],
}


@responses.activate
def test_svc_account_import_conforms(conforms, client, daemon_app):
    app, secret, _ = daemon_app("Office365")
    responses.post(MS_TOKEN, json=MS_APP_TOKEN)
    auth = basic(app.client_id, secret)
    r = client.post(
        PATH, json.dumps(O365), content_type="application/json", HTTP_AUTHORIZATION=auth
    )
    body = conforms(r)
    assert body["accountId"] == Account.objects.get(daemon=True).pk and body["accessToken"]
    page = conforms(client.get(PATH, HTTP_AUTHORIZATION=auth))
    assert [record["id"] for record in page["records"]] == [body["accountId"]]


@pytest.mark.parametrize(
    ("body", "query"),
    [
        ({**O365, "serviceType": "Hubspot"}, ""),
        ({**O365, "authString1": "x"}, ""),
        ({**O365, "authOrgId": "common"}, ""),
        (O365, "?recycleKeys=email"),
        ([], ""),
    ],
    ids=["no service accounts", "a token", "common", "recycleKeys", "not an object"],
)
def test_svc_account_import_refusals_conform(conforms, client, daemon_app, body, query):
    app, secret, _ = daemon_app("Office365")
    r = client.post(
        PATH + query,
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=basic(app.client_id, secret),
    )
    assert r.status_code == 400
    assert conforms(r)["code"]
    assert not Account.objects.exists()


def test_svc_account_import_unauthenticated_conforms(conforms, client, db):
    r = client.post(PATH, json.dumps(O365), content_type="application/json")
    assert r.status_code == 401
    assert conforms(r)["code"]


@pytest.fixture
def service_account(daemon_app, account_factory):
    from datetime import timedelta

    from django.utils import timezone

    app, secret, _ = daemon_app("Office365")
    parent = account_factory(
        app,
        "Office365",
        daemon=True,
        auth_user_id=TENANT,
        auth_org_id=TENANT,
        scopes=["Mail.Read"],
        credentials={"access_token": MS_APP_TOKEN["access_token"], "tenant": TENANT},
        access_token_expires_at=timezone.now() + timedelta(minutes=30),
    )
    return app, secret, parent


def test_managed_account_upsert_and_its_account_conform(conforms, client, service_account):
    app, secret, parent = service_account
    auth = basic(app.client_id, secret)
    r = client.post(
        f"{PATH}/{parent.pk}/accounts",
        json.dumps({"email": "bob@contoso.com", "active": True}),
        content_type="application/json",
        HTTP_AUTHORIZATION=auth,
    )
    saved = conforms(r)
    mine = conforms(client.get("/v1/account", HTTP_AUTHORIZATION=f"Bearer {saved['accessToken']}"))
    assert mine["type"] == "managed" and mine["parentId"] == parent.pk
    one = conforms(client.get(f"/v1/am/accounts/{saved['accountId']}", HTTP_AUTHORIZATION=auth))
    assert one["type"] == "managed" and one["mailboxAddress"] == "bob@contoso.com"
    page = conforms(client.get("/v1/am/accounts", HTTP_AUTHORIZATION=auth))
    assert {r["type"] for r in page["records"]} == {"daemon", "managed"}


@pytest.mark.parametrize(
    ("target", "query", "body", "status"),
    [
        ("parent", "?userAccount=tertiary", {"email": "bob@contoso.com"}, 400),
        ("parent", "", {"email": "bob@contoso.com", "authString1": "x"}, 400),
        ("parent", "", {}, 400),
        ("missing", "", {"email": "bob@contoso.com"}, 404),
        ("personal", "", {"email": "bob@contoso.com"}, 404),
    ],
)
def test_managed_account_refusals_conform(
    conforms, client, service_account, account_factory, target, query, body, status
):
    app, secret, parent = service_account
    acc_id = {
        "parent": parent.pk,
        "missing": parent.pk + 1000,
        "personal": account_factory(app, "Office365").pk,
    }[target]
    r = client.post(
        f"{PATH}/{acc_id}/accounts{query}",
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=basic(app.client_id, secret),
    )
    assert r.status_code == status
    assert conforms(r)["code"]
    assert not Account.objects.filter(parent__isnull=False).exists()


def test_managed_account_unauthenticated_conforms(conforms, client, service_account):
    _, _, parent = service_account
    r = client.post(f"{PATH}/{parent.pk}/accounts", "{}", content_type="application/json")
    assert r.status_code == 401
    assert conforms(r)["code"]
