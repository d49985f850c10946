"""``POST /v1/am/accounts`` (import/upsert) and ``POST /v1/am/accounts/connect``: provider
tokens checked at the provider (Google's recorded shapes played by `responses`), password
accounts by a real login at Dovecot; nothing is written when a check fails."""

from __future__ import annotations

import json

import pytest
import responses

from aurinko_auth.models import Account, AccountToken
from tests.flows.conftest import (
    GOOGLE_TOKEN,
    GOOGLE_TOKEN_RESPONSE,
    GOOGLE_USERINFO,
    GOOGLE_USERINFO_RESPONSE,
    basic,
)


@pytest.fixture
def importer(client, app_factory, provider_config_factory):
    app, secret = app_factory()
    provider_config_factory(app, "Google")

    def post(body, path="/v1/am/accounts", **query):
        url = path + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")
        return client.post(
            url,
            data=json.dumps(body),
            content_type="application/json",
            HTTP_AUTHORIZATION=basic(app.client_id, secret),
        )

    with responses.RequestsMock(assert_all_requests_are_fired=False) as http:
        yield app, post, http


GOOGLE = {
    "serviceType": "Google",
    "active": True,
    "email": "alice@example.com",
    "authString1": "ya29.imported-access",
    "authString2": "1//imported-refresh",
    "authScopes": ["Mail.Read"],
}


def test_import_checks_the_token_then_saves_it_encrypted(importer):
    app, post, http = importer
    http.get(GOOGLE_USERINFO, json=GOOGLE_USERINFO_RESPONSE)
    response = post({**GOOGLE, "clientOrgId": "tenant-7"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"accountId", "accessToken"}
    assert body["accessToken"].startswith("aat_")
    assert "ya29" not in response.content.decode() and "1//" not in response.content.decode()
    assert http.calls[0].request.headers["Authorization"] == "Bearer ya29.imported-access"
    account = Account.objects.get(pk=body["accountId"])
    assert account.auth_user_id == GOOGLE_USERINFO_RESPONSE["sub"]
    assert account.client_org_id == "tenant-7" and account.scopes == ["Mail.Read"]
    assert account.credentials["refresh_token"] == "1//imported-refresh"
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials FROM aurinko_auth_account WHERE id = %s", [account.pk])
        raw = cursor.fetchone()[0]
    assert "imported" not in str(raw)  # encrypted at rest
    # The new account token works.
    from django.test import Client

    got = Client().get("/v1/account", HTTP_AUTHORIZATION=f"Bearer {body['accessToken']}")
    assert got.status_code == 200 and got.json()["id"] == account.pk


def test_same_identity_is_upserted(importer):
    app, post, http = importer
    http.get(GOOGLE_USERINFO, json=GOOGLE_USERINFO_RESPONSE)
    first = post(GOOGLE).json()["accountId"]
    second = post({**GOOGLE, "authString1": "ya29.newer"}).json()["accountId"]
    assert first == second and Account.objects.count() == 1
    assert Account.objects.get().credentials["access_token"] == "ya29.newer"
    assert AccountToken.objects.count() == 2


def test_only_a_refresh_token_is_refreshed_first(importer):
    app, post, http = importer
    http.post(GOOGLE_TOKEN, json=GOOGLE_TOKEN_RESPONSE)
    http.get(GOOGLE_USERINFO, json=GOOGLE_USERINFO_RESPONSE)
    body = {k: v for k, v in GOOGLE.items() if k != "authString1"}
    response = post({**body, "authString2": None, "refreshToken": "1//only-refresh"})
    assert response.status_code == 200, response.content
    assert "refresh_token=1%2F%2Fonly-refresh" in http.calls[0].request.body
    account = Account.objects.get()
    assert account.credentials["access_token"] == GOOGLE_TOKEN_RESPONSE["access_token"]
    assert account.access_token_expires_at is not None


def test_a_refused_token_writes_nothing(importer):
    app, post, http = importer
    http.get(GOOGLE_USERINFO, status=401, json={"error": "invalid_token"})
    response = post(GOOGLE)
    assert response.status_code >= 400 and set(response.json()) >= {"code", "message"}
    assert not Account.objects.exists() and not AccountToken.objects.exists()


def test_another_identity_than_stated_is_refused(importer):
    app, post, http = importer
    http.get(GOOGLE_USERINFO, json=GOOGLE_USERINFO_RESPONSE)
    response = post({**GOOGLE, "email": "mallory@example.com"})
    assert response.status_code == 400 and response.json()["code"] == "account.mismatch"
    response = post({**GOOGLE, "authUserId": "someone-else"})
    assert response.json()["code"] == "account.mismatch"
    assert not Account.objects.exists()


def test_ping_provider_false_saves_without_a_call(importer):
    app, post, http = importer
    response = post(GOOGLE, pingProvider="false")
    assert response.status_code == 400 and "authUserId" in response.json()["message"]
    response = post({**GOOGLE, "authUserId": "1101"}, pingProvider="false")
    assert response.status_code == 200, response.content
    assert not http.calls
    assert Account.objects.get().auth_user_id == "1101"


@pytest.mark.parametrize(
    "change, word",
    [
        ({"trustServer": True}, "trustServer"),
        ({"copyToSent": True}, "copyToSent"),
        ({"bogus": 1}, "bogus"),
        ({"active": False}, "active"),
        ({"serviceType": "Yahoo"}, "Yahoo"),
        ({"authScopes": ["Mail.Everything"]}, "Mail.Everything"),
        ({"email": None}, "loginString"),
        ({"authString1": None, "authString2": None}, "tokens"),
        ({"accessToken": "other"}, "differ"),
        ({"oauthClientId": "not-the-apps"}, "oauthClientId"),
    ],
)
def test_bad_bodies_are_clear_400s(importer, change, word):
    app, post, http = importer
    response = post({**GOOGLE, **change})
    assert response.status_code == 400, response.content
    assert set(response.json()) >= {"code", "message"} and word in response.json()["message"]
    assert not http.calls and not Account.objects.exists()


@pytest.mark.parametrize("param", ["userId=u", "recycleKeys=email", "nope=1", "pingProvider=x"])
def test_unsupported_parameters_are_400(importer, param):
    app, post, http = importer
    name, value = param.split("=")
    response = post(GOOGLE, **{name: value})
    assert response.status_code == 400 and name in response.json()["message"]


def test_wrong_client_secret_is_401(client, importer):
    app, post, http = importer
    response = client.post(
        "/v1/am/accounts",
        data=json.dumps(GOOGLE),
        content_type="application/json",
        HTTP_AUTHORIZATION=basic(app.client_id, "wrong"),
    )
    assert response.status_code == 401 and not Account.objects.exists()


def test_connect_checks_without_saving(importer):
    app, post, http = importer
    http.get(GOOGLE_USERINFO, json=GOOGLE_USERINFO_RESPONSE)
    response = post(GOOGLE, path="/v1/am/accounts/connect")
    assert response.status_code == 200 and response.json() == {"status": "Ok"}
    assert len(http.calls) == 1 and not Account.objects.exists()
    http.replace(responses.GET, GOOGLE_USERINFO, status=401)
    refused = post(GOOGLE, path="/v1/am/accounts/connect")
    assert refused.status_code >= 400 and "code" in refused.json()
    assert post(GOOGLE, path="/v1/am/accounts/connect", pingProvider="false").status_code == 400
