"""``POST /v1/am/svc_accounts`` (Aurinko's ``upsertServiceAccount``): a service account
imported with the app's own credentials, proven at the provider exactly as the Service Account
flow's completion proves it, nothing written when that fails. Microsoft and Google answer in
their recorded shapes (tests/daemon/graph.py, test_daemon_flow.google)."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

import pytest
import responses

from aurinko_auth import crypto
from aurinko_auth.models import Account, AccountToken, AuditEvent
from tests.daemon.graph import ms_app_token_response
from tests.daemon.test_daemon_flow import (
    MS_APP_TOKEN,
    MS_TOKEN,
    OTHER_TENANT,
    TENANT,
    basic,
    google,
)

PATH = "/v1/am/svc_accounts"


def post(client, app, secret, body, **query):
    path = PATH
    if query:
        path += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return client.post(
        path,
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=basic(app, secret),
    )


O365 = {
    "serviceType": "Office365",
    "active": True,
    "authOrgId": TENANT,
    "authScopes": ["Mail.Read"],
}


@responses.activate
def test_office365_import_is_proven_by_an_app_only_token_for_the_tenant(client, daemon_app):
    app, secret, _ = daemon_app("Office365")
    token_call = responses.post(MS_TOKEN, json=MS_APP_TOKEN)
    r = post(client, app, secret, {**O365, "name": "Contoso", "clientOrgId": "acme"})
    assert r.status_code == 200, r.content
    body = r.json()
    assert set(body) == {"accountId", "accessToken"}
    account = Account.objects.get()
    assert body["accountId"] == account.pk
    assert account.daemon and account.auth_user_id == TENANT and account.auth_org_id == TENANT
    assert account.name == "Contoso" and account.client_org_id == "acme"
    assert account.scopes == ["Mail.Read"] and account.credentials["tenant"] == TENANT
    sent = {k: v[0] for k, v in parse_qs(token_call.calls[0].request.body).items()}
    assert sent["grant_type"] == "client_credentials"
    assert sent["scope"] == "https://graph.microsoft.com/.default"
    # The account token is ours and works; the app-only token is never in the answer.
    assert AccountToken.objects.get().token_hash == crypto.hash_token(body["accessToken"])
    assert MS_APP_TOKEN["access_token"] not in r.content.decode()
    me = client.get("/v1/account", HTTP_AUTHORIZATION=f"Bearer {body['accessToken']}").json()
    assert me["type"] == "daemon" and me["daemon"] is True and me["authOrgId"] == TENANT
    # Kept encrypted at rest like every provider token.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials FROM aurinko_auth_account")
        (raw,) = cursor.fetchone()
    assert MS_APP_TOKEN["access_token"] not in str(raw)
    assert AuditEvent.objects.filter(event="account.linked").count() == 1


@responses.activate
def test_the_same_tenant_imported_again_is_the_same_account(client, daemon_app):
    app, secret, _ = daemon_app("Office365")
    responses.post(MS_TOKEN, json=MS_APP_TOKEN)
    first = post(client, app, secret, O365).json()
    second = post(client, app, secret, {**O365, "authOrgId": TENANT.upper(), "name": "B"}).json()
    assert first["accountId"] == second["accountId"]
    assert first["accessToken"] != second["accessToken"]
    assert Account.objects.get().name == "B"


@responses.activate
def test_office365_domain_resolves_to_the_proven_tenant(client, daemon_app):
    app, secret, _ = daemon_app("Office365")
    responses.post(
        "https://login.microsoftonline.com/contoso.com/oauth2/v2.0/token", json=MS_APP_TOKEN
    )
    r = post(client, app, secret, {**O365, "authOrgId": "contoso.com"})
    assert r.status_code == 200, r.content
    assert Account.objects.get().auth_org_id == TENANT


@responses.activate
def test_office365_default_tenant_is_the_configured_one(client, daemon_app):
    app, secret, _ = daemon_app("Office365", tenant=TENANT)
    responses.post(MS_TOKEN, json=MS_APP_TOKEN)
    body = {k: v for k, v in O365.items() if k != "authOrgId"}
    assert post(client, app, secret, body).status_code == 200
    app, secret, _ = daemon_app("Office365", tenant="common")
    r = post(client, app, secret, body)
    assert r.status_code == 400 and r.json()["code"] == "tenant.invalid"


@responses.activate
@pytest.mark.parametrize(
    ("answer", "code"),
    [
        (ms_app_token_response(OTHER_TENANT), "tenant.mismatch"),  # issued in another tenant
        (ms_app_token_response(None), "tenant.mismatch"),  # no tid: unproven
    ],
)
def test_office365_token_of_another_tenant_writes_nothing(client, daemon_app, answer, code):
    app, secret, _ = daemon_app("Office365")
    responses.post(MS_TOKEN, json=answer)
    r = post(client, app, secret, O365)
    assert r.status_code == 400 and r.json()["code"] == code
    assert not Account.objects.exists() and not AccountToken.objects.exists()


@responses.activate
def test_office365_refusal_by_microsoft_writes_nothing(client, daemon_app):
    app, secret, _ = daemon_app("Office365")
    responses.post(
        MS_TOKEN,
        status=400,
        json={
            "error": "invalid_client",
            "error_description": "AADSTS7000215: Invalid client secret provided.",
        },
    )
    r = post(client, app, secret, O365)
    assert r.status_code >= 400 and r.status_code != 500
    assert set(r.json()) == {"code", "message", "requestId"}
    assert r.json()["code"] == "invalid_client"
    assert not Account.objects.exists()


@responses.activate
def test_google_import_is_proven_by_a_token_acting_as_the_admin(client, daemon_app):
    app, secret, key = daemon_app("Google")
    seen = google(key)
    r = post(
        client,
        app,
        secret,
        {
            "serviceType": "google",
            "active": True,
            "authOrgId": "example.com",
            "email": "admin@example.com",
            "authScopes": ["Mail.Read", "Calendar.Read"],
        },
    )
    assert r.status_code == 200, r.content
    assert [claims["sub"] for claims in seen] == ["admin@example.com"]
    assert seen[0]["scope"] == (
        "https://www.googleapis.com/auth/gmail.readonly "
        "https://www.googleapis.com/auth/calendar.readonly"
    )
    account = Account.objects.get()
    assert account.daemon and account.auth_org_id == "example.com"
    assert account.credentials == {"domain": "example.com", "default_mailbox": "admin@example.com"}
    assert account.email == "admin@example.com"


@responses.activate
def test_google_without_delegation_writes_nothing(client, daemon_app):
    app, secret, key = daemon_app("Google")
    google(
        key, error={"error": "unauthorized_client", "error_description": "Client is unauthorized"}
    )
    body = {"serviceType": "Google", "active": True, "email": "admin@example.com"}
    r = post(client, app, secret, {**body, "authScopes": ["Mail.Read"]})
    assert r.status_code == 400 and r.json()["code"] == "daemon.delegation_failed"
    assert not Account.objects.exists()


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"serviceType": "Google", "authScopes": ["Mail.Read"]}, "request.invalid"),  # no email
        (
            {"serviceType": "Google", "email": "a@other.org", "authOrgId": "example.com"},
            "mailbox.outside_domain",
        ),
        ({"serviceType": "Google", "email": "not-an-address"}, "mailbox.invalid"),
    ],
)
def test_google_bodies_the_provider_cannot_use(client, daemon_app, body, code):
    app, secret, _ = daemon_app("Google")
    r = post(client, app, secret, {"authScopes": ["Mail.Read"], **body})
    assert r.status_code == 400 and r.json()["code"] == code, r.content
    assert not Account.objects.exists()


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({**O365, "serviceType": "Hubspot"}, "servicetype.invalid"),  # no service accounts
        ({**O365, "serviceType": "Nope"}, "servicetype.invalid"),
        ({**O365, "authScopes": []}, "request.invalid"),
        ({**O365, "authScopes": ["Mail.ReadWrite"]}, "scope.invalid"),  # outside the app's
        ({**O365, "authString1": "eyJ0eXAi"}, "request.invalid"),  # tokens are fetched
        ({**O365, "accessToken": "x"}, "request.invalid"),
        ({**O365, "password": "pw"}, "request.invalid"),
        ({**O365, "email": "bob@contoso.com"}, "request.invalid"),  # a tenant, not a mailbox
        ({**O365, "authOrgId": "common"}, "tenant.invalid"),
        ({**O365, "authOrgId": "organizations"}, "tenant.invalid"),
        ({**O365, "authOrgId": ""}, "tenant.invalid"),
        ({**O365, "active": False}, "request.invalid"),
        ({**O365, "colour": "blue"}, "request.invalid"),
        ({**O365, "timezone": "UTC"}, "request.invalid"),
    ],
)
def test_bad_bodies_are_400_json_and_write_nothing(client, daemon_app, body, code):
    app, secret, _ = daemon_app("Office365")
    with responses.RequestsMock():  # any provider call would fail the test
        r = post(client, app, secret, body)
    assert r.status_code == 400, r.content
    assert set(r.json()) == {"code", "message", "requestId"} and r.json()["code"] == code
    assert not Account.objects.exists()


@responses.activate
def test_authuserid_must_be_the_proven_tenant(client, daemon_app):
    app, secret, _ = daemon_app("Office365")
    responses.post(MS_TOKEN, json=MS_APP_TOKEN)
    r = post(client, app, secret, {**O365, "authUserId": OTHER_TENANT})
    assert r.status_code == 400 and r.json()["code"] == "account.mismatch"
    assert not Account.objects.exists()
    assert post(client, app, secret, {**O365, "authUserId": TENANT}).status_code == 200


def test_recycle_keys_and_unknown_query_are_refused(client, daemon_app):
    app, secret, _ = daemon_app("Office365")
    for query in ({"recycleKeys": "email"}, {"pingProvider": "false"}):
        r = post(client, app, secret, O365, **query)
        assert r.status_code == 400 and r.json()["code"] == "request.invalid"
    assert not Account.objects.exists()


def test_without_daemon_configuration_is_a_clear_400(client, daemon_app):
    app, secret, _ = daemon_app("Office365", client_secret="")
    r = post(client, app, secret, O365)
    assert r.status_code == 400 and r.json()["code"] == "daemon.not_configured"


def test_needs_the_apps_client_credentials(client, daemon_app, account_factory):
    app, _, _ = daemon_app("Office365")
    r = client.post(PATH, json.dumps(O365), content_type="application/json")
    assert r.status_code == 401 and r.json()["code"]
    token = AccountToken.issue(account_factory(app))
    r = client.post(
        PATH,
        json.dumps(O365),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert r.status_code == 401


@responses.activate
def test_the_answer_is_described_by_v1_schema(client, daemon_app):
    from tests.api.test_schema import check

    app, secret, _ = daemon_app("Office365")
    responses.post(MS_TOKEN, json=MS_APP_TOKEN)
    schema = client.get("/v1/schema?format=json").json()
    check(schema, PATH, "post", post(client, app, secret, O365))
    check(schema, PATH, "post", post(client, app, secret, {**O365, "authString2": "x"}))
