"""API authentication: account tokens, client credentials, account selection."""

from __future__ import annotations

import pytest

from aurinko_auth.hotpath.tokens import account_from_token
from aurinko_auth.models import AccountToken
from tests.flows.conftest import basic


def test_bearer_token_authenticates_in_one_query(app_with_account, django_assert_num_queries):
    _, _, account, token, _ = app_with_account
    with django_assert_num_queries(1):
        principal = account_from_token(token)
        assert principal.account.pk == account.pk
        assert principal.app.pk == account.app_id


def test_token_stored_hashed(app_with_account):
    token = app_with_account[3]
    assert not AccountToken.objects.filter(token_hash=token).exists()


def test_get_account_with_bearer(client, app_with_account):
    _, _, account, token, _ = app_with_account
    r = client.get("/v1/account", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert r.status_code == 200
    assert r.json()["id"] == account.pk and r.json()["tokenStatus"] == "active"


@pytest.mark.parametrize(
    "header",
    [
        "Bearer aat_unknown",
        "Bearer garbage",
        "Bearer ",
        "Bearer " + "a" * 5000,
        "Basic !!!notbase64",
        "Basic " + "Zm9vOmJhcg==",
        "Token x",
        None,
    ],
)
def test_bad_credentials_401_json(client, app_with_account, header):
    kw = {"HTTP_AUTHORIZATION": header} if header is not None else {}
    r = client.get("/v1/account", **kw)
    assert r.status_code == 401
    assert (
        r.json()["code"] in ("auth.required", "client.invalid", "token.invalid")
        and r.json()["message"]
    )
    assert r["WWW-Authenticate"]


def test_basic_with_account_id_headers(client, app_with_account):
    app, secret, account, _, auth = app_with_account
    for header in ("HTTP_X_AURINKO_ACCOUNTID", "HTTP_X_AURINKO_ACCOUNT_ID"):
        r = client.get("/v1/account", HTTP_AUTHORIZATION=auth, **{header: str(account.pk)})
        assert r.status_code == 200 and r.json()["id"] == account.pk


@pytest.mark.parametrize(
    "id_header,secret_header",
    [
        ("HTTP_X_AURINKO_CLIENTID", "HTTP_X_AURINKO_CLIENTSECRET"),
        ("HTTP_X_AURINKO_CLIENT_ID", "HTTP_X_AURINKO_CLIENT_SECRET"),
    ],
)
def test_client_headers(client, app_with_account, id_header, secret_header):
    app, secret, account, _, _ = app_with_account
    r = client.get(
        "/v1/account",
        **{
            id_header: app.client_id,
            secret_header: secret,
            "HTTP_X_AURINKO_ACCOUNTID": str(account.pk),
        },
    )
    assert r.status_code == 200
    r = client.get(
        "/v1/account",
        **{
            id_header: app.client_id,
            secret_header: "acs_bad",
            "HTTP_X_AURINKO_ACCOUNTID": str(account.pk),
        },
    )
    assert r.status_code == 401


def test_basic_without_account_id(client, app_with_account):
    r = client.get("/v1/account", HTTP_AUTHORIZATION=app_with_account[4])
    assert r.status_code == 400 and r.json()["code"] == "account.missing"


def test_other_apps_account_is_404(client, app_with_account, app_factory, account_factory):
    other, _ = app_factory(name="Other")
    foreign = account_factory(other)
    auth = app_with_account[4]
    for raw in (str(foreign.pk), "abc", "-1", "9" * 30):
        r = client.get("/v1/account", HTTP_AUTHORIZATION=auth, HTTP_X_AURINKO_ACCOUNTID=raw)
        assert r.status_code == 404 and r.json()["code"] == "resource.not_found"


def test_token_with_other_account_id_is_404(client, app_with_account, account_factory):
    app, _, _, token, _ = app_with_account
    sibling = account_factory(app)
    r = client.get(
        "/v1/account",
        HTTP_AUTHORIZATION=f"Bearer {token}",
        HTTP_X_AURINKO_ACCOUNTID=str(sibling.pk),
    )
    assert r.status_code == 404


def test_disabled_app(client, app_with_account):
    app, secret, account, token, auth = app_with_account
    app.active = False
    app.save()
    assert client.get("/v1/account", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401
    r = client.get("/v1/account", HTTP_AUTHORIZATION=auth, HTTP_X_AURINKO_ACCOUNTID=str(account.pk))
    assert r.status_code == 401


def test_basic_wrong_secret(client, app_with_account):
    app, _, account, _, _ = app_with_account
    r = client.get(
        "/v1/account",
        HTTP_AUTHORIZATION=basic(app.client_id, "acs_nope"),
        HTTP_X_AURINKO_ACCOUNTID=str(account.pk),
    )
    assert r.status_code == 401 and r["WWW-Authenticate"]


def test_get_account_request_is_one_query(client, app_with_account, django_assert_num_queries):
    token = app_with_account[3]
    with django_assert_num_queries(1):
        r = client.get("/v1/account", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert r.status_code == 200
