"""Every auth endpoint's responses, success and error, for each flow (Account, User, Service
Account), validated against Aurinko's contract (tests/contract/conformance.py): the token
exchange, /v1/user, logout, /v1/account, /v1/account/token, /v1/am/accounts list/get/delete
and import. Redirects of the flows are checked where they are answered (303 or an error page)
by the flows' own tests; here the JSON bodies."""

from __future__ import annotations

import pytest
import responses
from django.test import Client

from aurinko_auth import usersessions
from aurinko_auth.models import Account
from tests.contract.conformance import validate
from tests.daemon.test_daemon_flow import MS_APP_TOKEN, MS_TOKEN, TENANT, consent
from tests.flows.conftest import GOOGLE_USERINFO, GOOGLE_USERINFO_RESPONSE, basic
from tests.user.conftest import APP_ORIGIN, query_of

UNKNOWN_TOKEN = "aat_" + "x" * 43


# --- token exchange, each flow ----------------------------------------------------------------


@pytest.mark.parametrize("method", ["post", "get"])  # GET: deprecated, seed 002
def test_account_flow_token_exchange_conforms(conforms, google_app, method):
    code = google_app.complete(google_app.start())["code"]
    app = google_app.app
    r = getattr(google_app.client, method)(
        f"/v1/auth/token/{code}", HTTP_AUTHORIZATION=basic(app.client_id, google_app.secret)
    )
    body = conforms(r)
    assert body["accountId"] == Account.objects.get().pk and body["accessToken"]
    again = getattr(google_app.client, method)(
        f"/v1/auth/token/{code}", HTTP_AUTHORIZATION=basic(app.client_id, google_app.secret)
    )
    assert again.status_code >= 400 and conforms(again)["code"]


def test_user_flow_token_exchange_conforms(
    conforms, client, app_factory, provider_config_factory, sign_in
):
    app, secret = app_factory()
    provider_config_factory(app, "Google")
    _, final = sign_in(app, responseType="code")
    code = query_of(final["Location"])["code"]
    body = conforms(
        client.post(f"/v1/auth/token/{code}", HTTP_AUTHORIZATION=basic(app.client_id, secret))
    )
    assert body["userId"] and body["userSession"] and body["accessToken"]


@responses.activate
def test_service_account_flow_token_exchange_conforms(conforms, client, daemon_app):
    app, secret, _ = daemon_app("Office365")
    responses.post(MS_TOKEN, json=MS_APP_TOKEN)
    r = client.get(
        "/v1/auth/callback",
        {"tenant": TENANT, "admin_consent": "True", "state": consent(client, app)},
    )
    code = query_of(r["Location"])["code"]
    r = client.post(f"/v1/auth/token/{code}", HTTP_AUTHORIZATION=basic(app.client_id, secret))
    token = conforms(r)["accessToken"]
    account = conforms(client.get("/v1/account", HTTP_AUTHORIZATION=f"Bearer {token}"))
    assert account["daemon"] is True and account["type"] == "daemon"
    assert account["id"] == Account.objects.get(daemon=True).pk


@pytest.mark.parametrize(
    "case",
    ["unknown code", "wrong secret", "no credentials", "bearer instead of basic", "used twice"],
)
def test_token_exchange_errors_conform(conforms, google_app, case):
    code = google_app.complete(google_app.start())["code"]
    app, client = google_app.app, google_app.client
    if case == "unknown code":
        r = google_app.redeem("c" * 43)
    elif case == "wrong secret":
        r = google_app.redeem(code, secret="not-the-secret")
    elif case == "no credentials":
        r = client.post(f"/v1/auth/token/{code}")
    elif case == "bearer instead of basic":
        r = client.post(f"/v1/auth/token/{code}", HTTP_AUTHORIZATION=f"Bearer {UNKNOWN_TOKEN}")
    else:
        assert google_app.redeem(code).status_code == 200
        r = google_app.redeem(code)
    assert r.status_code >= 400
    body = conforms(r)
    assert body["code"] and body["message"]
    assert app.client_id  # the app exists: the refusal is about the request


# --- /v1/account and /v1/account/token ---------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HTTP_AUTHORIZATION": f"Bearer {UNKNOWN_TOKEN}"},
        {"HTTP_AUTHORIZATION": "Bearer "},
        {"HTTP_AUTHORIZATION": "Basic bm90OnZhbGlk"},
        {"HTTP_AUTHORIZATION": "Negotiate abc"},
    ],
    ids=["none", "unknown token", "empty bearer", "wrong client", "unknown scheme"],
)
@pytest.mark.parametrize("method", ["get", "delete"])
def test_account_refusals_conform(conforms, client, app_with_account, method, headers):
    r = getattr(client, method)("/v1/account", **headers)
    assert r.status_code == 401
    assert conforms(r)["code"]


def test_account_with_an_unknown_account_id_conforms(conforms, client, app_with_account):
    _, _, account, _, auth = app_with_account
    for value in ("999999", "abc"):
        r = client.get("/v1/account", HTTP_AUTHORIZATION=auth, HTTP_X_AURINKO_ACCOUNTID=value)
        assert r.status_code >= 400
        assert conforms(r)["code"]


@responses.activate
def test_account_token_revocation_conforms(conforms, client, app_with_account):
    _, _, _, token, _ = app_with_account
    r = client.delete("/v1/account/token", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert r.status_code == 200
    conforms(r)
    r = client.delete("/v1/account/token", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert r.status_code == 401
    assert conforms(r)["code"]


# --- /v1/am/accounts ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        {"serviceType": "Nope"},
        {"limit": "-1"},
        {"offset": "x"},
        {"active": "maybe"},
        {"subscriptionId": "1"},
        {"colour": "blue"},
    ],
)
def test_am_accounts_list_refusals_conform(conforms, client, app_with_account, query):
    _, _, _, _, auth = app_with_account
    r = client.get("/v1/am/accounts", query, HTTP_AUTHORIZATION=auth)
    assert r.status_code == 400
    assert conforms(r)["code"]


@pytest.mark.parametrize(
    "headers",
    [{}, {"HTTP_AUTHORIZATION": "Basic bm90OnZhbGlk"}, {"HTTP_AUTHORIZATION": "Bearer x"}],
    ids=["none", "wrong client", "account token"],
)
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/v1/am/accounts"),
        ("post", "/v1/am/accounts"),
        ("post", "/v1/am/accounts/connect"),
        ("get", "/v1/am/accounts/1"),
        ("delete", "/v1/am/accounts/1"),
    ],
)
def test_am_refusals_conform(conforms, client, app_with_account, method, path, headers):
    r = getattr(client, method)(path, **headers)
    assert r.status_code == 401
    assert conforms(r, method=method, path=path)["code"]


@pytest.mark.parametrize("method", ["get", "delete"])
@pytest.mark.parametrize("account_id", ["999999", "abc", "other app"])
def test_am_account_not_found_conforms(
    conforms, client, app_with_account, app_factory, account_factory, method, account_id
):
    _, _, _, _, auth = app_with_account
    if account_id == "other app":
        account_id = str(account_factory(app_factory(name="Other")[0]).pk)
    path = f"/v1/am/accounts/{account_id}"
    r = getattr(client, method)(path, HTTP_AUTHORIZATION=auth)
    assert r.status_code == 404
    assert conforms(r, method=method, path=path)["code"]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"serviceType": "Google"},
        {"serviceType": "Google", "authUserId": "x", "colour": "blue"},
        {"serviceType": "Nope", "accessToken": "x"},
    ],
)
@pytest.mark.parametrize("path", ["/v1/am/accounts", "/v1/am/accounts/connect"])
def test_am_import_refusals_conform(conforms, client, app_with_account, path, body):
    _, _, _, _, auth = app_with_account
    r = client.post(path, body, content_type="application/json", HTTP_AUTHORIZATION=auth)
    assert r.status_code == 400
    assert conforms(r)["code"]


# --- /v1/user and logout ----------------------------------------------------------------------


@pytest.mark.parametrize("origin", [None, "https://evil.example.net"])
def test_cross_site_logout_refusal_conforms(conforms, signed_in, origin):
    _, _, _, browser = signed_in(accounts=0)
    headers = {"HTTP_ORIGIN": origin} if origin else {}
    r = browser.post("/v1/user/logout", **headers)
    assert r.status_code == 403
    assert conforms(r)["code"]


@pytest.mark.parametrize("path", ["/v1/user", "/v1/user/logout"])
@pytest.mark.parametrize("cookie", [None, "not-a-session", "ended"])
def test_user_refusals_conform(conforms, signed_in, path, cookie):
    app, user, token, browser = signed_in(accounts=0)
    name = usersessions.cookie_name(app.pk)
    if cookie is None:
        del browser.cookies[name]
    elif cookie == "ended":
        assert browser.post("/v1/user/logout", HTTP_ORIGIN=APP_ORIGIN).status_code < 300
        browser.cookies[name] = token
    else:
        browser.cookies[name] = cookie
    r = browser.get(path) if path == "/v1/user" else browser.post(path, HTTP_ORIGIN=APP_ORIGIN)
    assert r.status_code == 401
    assert conforms(r)["code"]


def test_logout_conforms(conforms, client, signed_in):
    _, _, _, browser = signed_in(accounts=0)
    r = browser.post("/v1/user/logout", HTTP_ORIGIN=APP_ORIGIN)
    assert conforms(r) == {"status": "Ok"}


# --- success of the other operations ----------------------------------------------------------


@pytest.mark.parametrize("path", ["/v1/am/accounts", "/v1/am/accounts/connect"])
def test_am_import_and_connect_conform(
    conforms, client, app_factory, provider_config_factory, path
):
    app, secret = app_factory()
    provider_config_factory(app, "Google")
    body = {
        "serviceType": "Google",
        "email": "alice@example.com",
        "authString1": "ya29.imported",
        "authScopes": ["Mail.Read"],
    }
    with responses.RequestsMock() as http:
        http.get(GOOGLE_USERINFO, json=GOOGLE_USERINFO_RESPONSE)
        r = client.post(
            path,
            body,
            content_type="application/json",
            HTTP_AUTHORIZATION=basic(app.client_id, secret),
        )
        assert r.status_code == 200, r.content
        answer = conforms(r)
    if path.endswith("connect"):
        assert answer == {"status": "Ok"}
    else:
        assert answer["accountId"] == Account.objects.get().pk
    with responses.RequestsMock() as http:
        http.get(GOOGLE_USERINFO, status=401, json={"error": "invalid_token"})
        refused = client.post(
            path,
            body,
            content_type="application/json",
            HTTP_AUTHORIZATION=basic(app.client_id, secret),
        )
    assert refused.status_code >= 400
    assert conforms(refused)["code"]


def test_account_deletion_conforms(conforms, client, app_with_account):
    _, _, account, token, _ = app_with_account
    assert conforms(client.delete("/v1/account", HTTP_AUTHORIZATION=f"Bearer {token}")) == {
        "status": "Ok"
    }
    assert not Account.objects.filter(pk=account.pk).exists()


def test_am_account_deletion_conforms(conforms, client, app_with_account):
    _, _, account, _, auth = app_with_account
    path = f"/v1/am/accounts/{account.pk}"
    assert conforms(client.delete(path, HTTP_AUTHORIZATION=auth)) == {"status": "Ok"}
    assert not Account.objects.filter(pk=account.pk).exists()


def test_user_accounts_conform(conforms, signed_in):
    _, user, _, browser = signed_in(accounts=2)
    page = conforms(browser.get("/v1/user/accounts"))
    assert [a["userAccountType"] for a in page["records"]] == ["primary", "secondary", "secondary"]
    one = page["records"][1]["id"]
    assert conforms(browser.get(f"/v1/user/accounts/{one}"))["id"] == one
    r = browser.delete(f"/v1/user/accounts/{one}", HTTP_ORIGIN=APP_ORIGIN)
    assert conforms(r) == {"status": "Ok"}


@pytest.mark.parametrize("account_id", ["999999", "abc", "another user's"])
@pytest.mark.parametrize("method", ["get", "delete"])
def test_user_account_refusals_conform(conforms, signed_in, user_factory, method, account_id):
    app, _, _, browser = signed_in(accounts=0)
    if account_id == "another user's":
        other = user_factory(app, accounts=1, email="other@example.com")
        account_id = str(other.accounts.get(account_type="secondary").pk)
    path = f"/v1/user/accounts/{account_id}"
    r = getattr(browser, method)(path, HTTP_ORIGIN=APP_ORIGIN)
    assert r.status_code == 404
    assert conforms(r, method=method, path=path)["code"]
    r = getattr(Client(), method)(path, HTTP_ORIGIN=APP_ORIGIN)
    assert r.status_code == 401
    assert conforms(r, method=method, path=path)["code"]


@pytest.mark.parametrize(
    ("method", "path", "credentials"),
    [
        ("put", "/v1/account", "token"),
        ("patch", "/v1/am/accounts", "client"),
        ("put", "/v1/am/accounts/1", "client"),
        ("get", "/v1/am/nothing-here", "client"),
        ("get", "/v1/user/nothing/here", None),
    ],
)
def test_unknown_methods_and_paths_answer_api_request_failed(
    client, app_with_account, method, path, credentials
):
    _, _, _, token, auth = app_with_account
    headers = {
        "token": {"HTTP_AUTHORIZATION": f"Bearer {token}"},
        "client": {"HTTP_AUTHORIZATION": auth},
    }.get(credentials, {})
    r = getattr(client, method)(path, **headers)
    assert r.status_code in (404, 405), r.content
    assert r["Content-Type"].startswith("application/json")
    assert validate("ApiRequestFailed", r.json()) == []
    assert r.json()["code"] and r.json()["message"]


def test_user_conforms(conforms, signed_in):
    _, user, _, browser = signed_in(accounts=2)
    body = conforms(browser.get("/v1/user"))
    assert body["id"] == str(user.pk) and len(body["accounts"]) == 3


def test_user_by_session_header_conforms(conforms, client, signed_in):
    _, _, token, _ = signed_in(accounts=0)
    assert conforms(client.get("/v1/user", HTTP_X_AURINKO_SESSION=token))["accounts"]


def test_user_settings_and_managed_refusals_conform(conforms, signed_in):
    _, user, _, browser = signed_in(accounts=1)
    secondary = user.accounts.get(account_type="secondary").pk
    for method, path in (
        ("patch", "/v1/user/settings"),
        ("post", f"/v1/user/accounts/{secondary}/managed"),
    ):
        r = getattr(browser, method)(
            path, {}, content_type="application/json", HTTP_ORIGIN=APP_ORIGIN
        )
        assert r.status_code == 400, r.content
        assert conforms(r)["code"]
        r = getattr(Client(), method)(path, {}, content_type="application/json")
        assert r.status_code == 401
        assert conforms(r)["code"]
