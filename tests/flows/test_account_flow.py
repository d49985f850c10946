"""The Account flow through the browser-facing views, with Google played by `responses`:
the contract of SPEC and every bad input of issue 2."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
import requests
from django.utils import timezone

from aurinko_auth.models import Account, AccountToken, AuthCode, AuthState
from tests.conftest import RETURN_URL
from tests.flows.conftest import (
    GOOGLE_TOKEN,
    GOOGLE_TOKEN_RESPONSE,
    GOOGLE_USERINFO,
    GOOGLE_USERINFO_RESPONSE,
    basic,
    query_of,
)


def test_code_flow_end_to_end(google_app):
    state = google_app.start()
    back = google_app.complete(state)
    assert back["status"] == "success" and back["state"] == "app-state"
    redeemed = google_app.redeem(back["code"])
    assert redeemed.status_code == 200
    body = redeemed.json()
    me = google_app.client.get("/v1/account", HTTP_AUTHORIZATION=f"Bearer {body['accessToken']}")
    assert me.status_code == 200
    account = me.json()
    assert account["id"] == body["accountId"]
    assert account["email"] == "alice@example.com" and account["authOrgId"] == "example.com"
    assert account["scopes"] == ["Mail.Read"] and account["tokenStatus"] == "active"
    stored = Account.objects.get()
    assert stored.credentials["refresh_token"] == GOOGLE_TOKEN_RESPONSE["refresh_token"]


def test_token_response_type_returns_token_and_account_id(google_app):
    google_app.app.token_response = True  # an opt-in (issue 17 item 3)
    google_app.app.trusted_domains = ["https://app.example.com"]  # the return URL's origin
    google_app.app.save()
    back = google_app.complete(google_app.start(responseType="token"))
    assert back["status"] == "success"
    assert back["accessToken"].startswith("aat_")
    assert int(back["accountId"]) == Account.objects.get().pk
    assert "code" not in back


def test_provider_request_carries_pkce_and_callback(google_app, settings):
    response = google_app.authorize()
    provider = query_of(response["Location"])
    assert response["Location"].startswith("https://accounts.google.com/o/oauth2/v2/auth?")
    assert provider["code_challenge_method"] == "S256" and len(provider["code_challenge"]) == 43
    assert provider["redirect_uri"] == settings.AURINKO_AUTH["PUBLIC_URL"] + "/v1/auth/callback"
    assert provider["client_id"] == "provider-client-id"
    assert set(provider["scope"].split()) == {
        "openid",
        "email",
        "profile",
        "https://www.googleapis.com/auth/gmail.readonly",
    }
    assert provider["state"].startswith("ast_") and provider["state"] != "app-state"
    cookie = response.cookies["aurinko_flow"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert response["Referrer-Policy"] == "no-referrer"


# --- before the returnUrl is trusted: a 400 page, never a redirect ------------------------

BAD_RETURN_URLS = [
    "",
    "https://evil.example.com/callback",
    "https://app.example.com/callback/",  # a trailing slash differs
    "https://app.example.com/callback/..",
    "https://app.example.com/other/../callback",
    "https://app.example.com/%2e%2e/callback",
    "https://app.example.com:8443/callback",
    "http://app.example.com/callback",
    "https://user@app.example.com/callback",
    "https://app.example.com@evil.example.com/callback",
    "//app.example.com/callback",
    "https:\\\\app.example.com\\callback",
    "https://app.example.com\\@evil.example.com/callback",
    "https://аpp.example.com/callback",  # Cyrillic "а"
    "https://app.example.com/callback#fragment",
    "javascript:alert(1)//https://app.example.com/callback",
    "https://app.example.com/callback" + "?x=" + "a" * 3000,
    "https://app.example.com/call%0aback",
    "https://app.example.com/callback\x00",
]


@pytest.mark.parametrize("return_url", BAD_RETURN_URLS)
def test_bad_return_url_gets_a_page_not_a_redirect(google_app, return_url):
    response = google_app.authorize(returnUrl=return_url)
    assert response.status_code == 400
    assert "Location" not in response
    # A NUL anywhere is refused before the flow looks at the URL (issue 19 item 3).
    expected = b"request.invalid" if "\x00" in return_url else b"returnurl.invalid"
    assert expected in response.content
    assert not AuthState.objects.exists()


def test_return_url_query_may_be_extended(google_app, app_factory, provider_config_factory):
    google_app.app.return_urls = [RETURN_URL + "?tenant=a"]
    google_app.app.save()
    ok = google_app.authorize(returnUrl=RETURN_URL + "?tenant=a&extra=1")
    assert ok.status_code == 303
    assert google_app.authorize(returnUrl=RETURN_URL + "?extra=1").status_code == 400
    assert google_app.authorize(returnUrl=RETURN_URL + "?tenant=b").status_code == 400


def test_loopback_http_return_url_is_allowed(google_app):
    google_app.app.return_urls = ["http://127.0.0.1:5000/cb", "http://localhost:5000/cb"]
    google_app.app.save()
    assert google_app.authorize(returnUrl="http://127.0.0.1:5000/cb").status_code == 303
    assert google_app.authorize(returnUrl="http://localhost:5000/cb").status_code == 303
    assert google_app.authorize(returnUrl="http://127.0.0.1:5001/cb").status_code == 400


@pytest.mark.parametrize("client_id", ["", "unknown", "x" * 500])
def test_unknown_client_gets_a_page(google_app, client_id):
    response = google_app.authorize(clientId=client_id)
    assert response.status_code == 400 and "Location" not in response
    assert b"client.invalid" in response.content


def test_inactive_app_gets_a_page(google_app):
    google_app.app.active = False
    google_app.app.save()
    assert google_app.authorize().status_code == 400


# --- after the returnUrl is trusted: an error redirect -------------------------------------


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"serviceType": "Yahoo"}, "servicetype.invalid"),
        ({"serviceType": ""}, "servicetype.invalid"),
        ({"scopes": "Mail.Read Files.Read"}, "scope.invalid"),
        ({"scopes": "Tasks.ReadWrite"}, "scope.invalid"),  # not allowed for this app
        ({"responseType": "id_token"}, "request.invalid"),
        ({"serviceType": "Office365"}, "provider.not_configured"),
        ({"state": "s" * 2000}, "request.invalid"),
        ({"accountId": "not-a-number"}, "request.invalid"),
    ],
)
def test_invalid_request_redirects_with_error(google_app, params, error):
    response = google_app.authorize(**params)
    assert response.status_code == 303
    assert response["Location"].startswith(RETURN_URL + "?")
    back = query_of(response["Location"])
    assert back["status"] == "error" and back["error"] == error and back["message"]
    assert back["details"] == back["message"]  # what Aurinko's sample callback pages show
    assert back["requestId"] == response["X-Aurinko-Request-Id"]  # the id in our logs
    if "state" not in params:
        assert back["state"] == "app-state"
    assert not AuthState.objects.exists()


def test_scopes_are_case_insensitive_and_comma_separated(google_app):
    google_app.app.allowed_scopes = ["Mail.Read", "Calendar.Read"]
    google_app.app.save()
    response = google_app.authorize(scopes="mail.read,CALENDAR.READ")
    assert response.status_code == 303
    assert "calendar.readonly" in query_of(response["Location"])["scope"]


def test_mail_all_and_mail_readonly_are_asked_of_the_provider(google_app):
    # Aurinko's Scope enum has Mail.All; its documentation names Mail.Read Mail.ReadOnly.
    google_app.app.allowed_scopes = ["Mail.Read", "Mail.All"]
    google_app.app.save()
    response = google_app.authorize(scopes="Mail.All Mail.ReadOnly")
    assert response.status_code == 303, response.content
    scope = query_of(response["Location"])["scope"].split()
    assert "https://mail.google.com/" in scope
    assert "https://www.googleapis.com/auth/gmail.readonly" in scope
    refused = google_app.authorize(scopes="Mail.All Calendar.Read")
    assert refused.status_code == 303 and query_of(refused["Location"])["error"] == "scope.invalid"


# --- the callback: state bound to one browser, single use, expiring ------------------------


def test_forged_state_is_refused(google_app):
    response = google_app.callback(state="ast_forged", code="x")
    assert response.status_code == 400 and b"state.invalid" in response.content
    response = google_app.callback(code="x")
    assert response.status_code == 400 and b"state.missing" in response.content


def test_replayed_state_is_refused(google_app):
    state = google_app.start()
    assert google_app.complete(state)["status"] == "success"
    replay = google_app.callback(state=state, code="4/again")
    assert replay.status_code == 400 and b"state.used" in replay.content
    assert Account.objects.count() == 1


def test_expired_state_is_refused(google_app):
    state = google_app.start()
    AuthState.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = google_app.callback(state=state, code="x")
    assert response.status_code == 400 and b"state.expired" in response.content


def test_state_from_another_browser_is_refused(google_app, client_factory=None):
    from django.test import Client

    state = google_app.start()
    other = Client()
    response = other.get("/v1/auth/callback", {"state": state, "code": "x"})
    assert response.status_code == 400 and b"state.browser_mismatch" in response.content
    other.cookies["aurinko_flow"] = "abr_" + "x" * 43
    response = other.get("/v1/auth/callback", {"state": state, "code": "x"})
    assert response.status_code == 400 and b"state.browser_mismatch" in response.content
    # The right browser can still finish it.
    assert google_app.complete(state)["status"] == "success"


def test_several_flows_at_once_in_one_browser(google_app):
    first, second = google_app.start(state="one"), google_app.start(state="two")
    assert google_app.complete(second)["state"] == "two"
    other = dict(GOOGLE_USERINFO_RESPONSE, sub="2", email="bob@example.com")
    assert google_app.complete(first, userinfo=other)["state"] == "one"
    assert Account.objects.count() == 2


# --- provider failures: an error redirect, and nothing half-written ------------------------


def assert_nothing_written():
    assert not Account.objects.exists()
    assert not AuthCode.objects.exists()
    assert not AccountToken.objects.exists()


def test_user_denied(google_app):
    state = google_app.start()
    response = google_app.callback(state=state, error="access_denied")
    back = query_of(response["Location"])
    assert back["status"] == "error" and back["error"] == "access.denied"
    assert back["state"] == "app-state"
    assert_nothing_written()


@pytest.mark.parametrize(
    ("mock", "error"),
    [
        (
            {"status": 400, "json": {"error": "invalid_grant", "error_description": "Bad Request"}},
            "invalid_grant",
        ),
        ({"status": 401, "json": {"error": "invalid_client"}}, "invalid_client"),
        ({"status": 503, "body": "<html>Service Unavailable</html>"}, "provider.unavailable"),
        ({"status": 200, "body": "<html>not json</html>"}, "provider.bad_response"),
        ({"body": requests.Timeout()}, "provider.timeout"),
        ({"body": requests.ConnectionError()}, "provider.unreachable"),
        ({"status": 200, "json": {"token_type": "Bearer"}}, "provider.bad_response"),
    ],
)
def test_token_endpoint_failures(google_app, mock, error):
    state = google_app.start()
    google_app.http.post(GOOGLE_TOKEN, **mock)
    response = google_app.callback(state=state, code="4/code")
    assert response.status_code == 303
    back = query_of(response["Location"])
    assert back["status"] == "error", back
    assert back["error"] == error, back
    assert back["state"] == "app-state"
    assert_nothing_written()


@pytest.mark.parametrize(
    "mock",
    [
        {"status": 500, "body": "oops"},
        {"status": 200, "body": "[]"},
        {"status": 200, "json": {"email": "no-sub@example.com"}},
    ],
)
def test_userinfo_failures(google_app, mock):
    state = google_app.start()
    google_app.http.post(GOOGLE_TOKEN, json=GOOGLE_TOKEN_RESPONSE)
    google_app.http.get(GOOGLE_USERINFO, **mock)
    back = query_of(google_app.callback(state=state, code="4/code")["Location"])
    assert back["status"] == "error" and back["error"].startswith("provider")
    assert_nothing_written()


# --- the same identity, consent, refresh tokens --------------------------------------------


def test_same_identity_updates_the_same_account(google_app):
    google_app.complete(google_app.start())
    first = Account.objects.get()
    renewed = dict(GOOGLE_TOKEN_RESPONSE, access_token="ya29.second")
    del renewed["refresh_token"]
    google_app.complete(google_app.start(loginHint="alice@example.com"), token=renewed)
    account = Account.objects.get()
    assert account.pk == first.pk
    assert account.credential_version == first.credential_version + 1
    assert account.credentials["access_token"] == "ya29.second"
    # A response without a refresh token keeps the stored one.
    assert account.credentials["refresh_token"] == GOOGLE_TOKEN_RESPONSE["refresh_token"]


def test_consent_prompt_only_when_needed(google_app):
    first = query_of(google_app.authorize()["Location"])
    assert first["prompt"] == "consent" and first["access_type"] == "offline"
    assert first["include_granted_scopes"] == "true"
    google_app.complete(google_app.start())
    again = query_of(google_app.authorize(loginHint="alice@example.com")["Location"])
    assert "prompt" not in again and again["login_hint"] == "alice@example.com"
    # New scopes need the consent screen again.
    more = query_of(
        google_app.authorize(loginHint="alice@example.com", scopes="Mail.Read Mail.Send")[
            "Location"
        ]
    )
    assert more["prompt"] == "consent"


def test_missing_refresh_token_goes_back_once_with_consent(google_app):
    state = google_app.start()
    no_refresh = {k: v for k, v in GOOGLE_TOKEN_RESPONSE.items() if k != "refresh_token"}
    google_app.http.post(GOOGLE_TOKEN, json=no_refresh)
    google_app.http.get(GOOGLE_USERINFO, json=GOOGLE_USERINFO_RESPONSE)
    response = google_app.callback(state=state, code="4/code")
    assert response["Location"].startswith("https://accounts.google.com/")
    retry = query_of(response["Location"])
    assert retry["prompt"] == "consent" and retry["login_hint"] == "alice@example.com"
    assert not Account.objects.exists()
    # If Google still sends none, the flow completes rather than looping.
    google_app.http.replace("POST", GOOGLE_TOKEN, json=no_refresh)
    response = google_app.callback(state=retry["state"], code="4/code2")
    assert query_of(response["Location"])["status"] == "success"


def test_reauthorizing_another_identity_for_an_account_is_refused(google_app):
    google_app.complete(google_app.start())
    account = Account.objects.get()
    state = google_app.start(accountId=str(account.pk))
    bob = dict(GOOGLE_USERINFO_RESPONSE, sub="other", email="bob@example.com")
    back = google_app.complete(state, userinfo=bob)
    assert back["status"] == "error" and back["error"] == "account.mismatch"
    assert Account.objects.count() == 1  # rolled back


# --- codes ----------------------------------------------------------------------------------


def test_code_is_single_use(google_app):
    code = google_app.complete(google_app.start())["code"]
    assert google_app.redeem(code).status_code == 200
    again = google_app.redeem(code)
    assert again.status_code == 400 and again.json()["code"] == "code.invalid"


def test_code_redeemed_with_get_as_seed_002_says(google_app):
    """``GET /v1/auth/token/{code}`` (Aurinko's deprecated exchangeAuthCodeDeprecated, seed
    002's "Make an HTTP GET") is the POST: the same credentials and single use, no-store."""
    code = google_app.complete(google_app.start())["code"]
    auth = basic(google_app.app.client_id, google_app.secret)
    wrong = google_app.client.get(
        f"/v1/auth/token/{code}", HTTP_AUTHORIZATION=basic(google_app.app.client_id, "acs_x")
    )
    assert wrong.status_code == 401
    redeemed = google_app.client.get(f"/v1/auth/token/{code}", HTTP_AUTHORIZATION=auth)
    assert redeemed.status_code == 200 and redeemed.json()["accessToken"].startswith("aat_")
    assert "no-store" in redeemed["Cache-Control"]
    again = google_app.client.get(f"/v1/auth/token/{code}", HTTP_AUTHORIZATION=auth)
    assert again.status_code == 400 and again.json()["code"] == "code.invalid"
    assert google_app.redeem(code).status_code == 400  # nor by POST


def test_code_expires(google_app):
    code = google_app.complete(google_app.start())["code"]
    AuthCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert google_app.redeem(code).json()["code"] == "code.invalid"


def test_code_lifetime_is_minutes(google_app):
    google_app.complete(google_app.start())
    row = AuthCode.objects.get()
    assert timedelta(seconds=30) < row.expires_at - row.created_at <= timedelta(minutes=5)


def test_wrong_secret_is_401_and_the_code_stays_usable(google_app):
    code = google_app.complete(google_app.start())["code"]
    wrong = google_app.redeem(code, secret="acs_wrong")
    assert wrong.status_code == 401 and wrong.json()["code"] == "client.invalid"
    assert wrong["WWW-Authenticate"]
    assert google_app.redeem(code).status_code == 200


def test_code_works_only_for_its_own_app(google_app, app_factory):
    code = google_app.complete(google_app.start())["code"]
    other, other_secret = app_factory(name="Other")
    response = google_app.client.post(
        f"/v1/auth/token/{code}",
        HTTP_AUTHORIZATION="Basic "
        + __import__("base64").b64encode(f"{other.client_id}:{other_secret}".encode()).decode(),
    )
    assert response.status_code == 400
    assert google_app.redeem(code).status_code == 200


def test_codes_and_tokens_are_stored_hashed(google_app):
    back = google_app.complete(google_app.start())
    token = google_app.redeem(back["code"]).json()["accessToken"]
    from aurinko_auth import crypto

    assert AuthCode.objects.get().code_hash == crypto.hash_token(back["code"])
    assert AccountToken.objects.get().token_hash == crypto.hash_token(token)


def test_nothing_secret_in_logs(google_app, caplog):
    caplog.set_level(logging.DEBUG)
    back = google_app.complete(google_app.start())
    token = google_app.redeem(back["code"]).json()["accessToken"]
    google_app.redeem(back["code"], secret="acs_wrong")
    google_app.client.get("/v1/account", HTTP_AUTHORIZATION="Bearer aat_garbage")
    text = "\n".join(r.getMessage() for r in caplog.records)
    for secret in (
        back["code"],
        token,
        google_app.secret,
        "provider-client-secret",
        GOOGLE_TOKEN_RESPONSE["access_token"],
        GOOGLE_TOKEN_RESPONSE["refresh_token"],
        "4/0AeaYSHprovider-code",
    ):
        assert secret not in text


def test_linking_and_failures_go_to_the_audit_log(google_app):
    from aurinko_auth.models import AuditEvent

    google_app.complete(google_app.start())
    linked = AuditEvent.objects.get(event="account.linked")
    assert linked.app_id == google_app.app.pk
    assert linked.details["accountId"] == Account.objects.get().pk
    assert linked.details["created"] is True
    state = google_app.start()
    google_app.http.post(GOOGLE_TOKEN, status=400, json={"error": "invalid_grant"})
    google_app.callback(state=state, code="4/x")
    failed = AuditEvent.objects.get(event="auth.failed")
    assert failed.details["error"] == "invalid_grant" and failed.app_id == google_app.app.pk
    assert "4/x" not in str(failed.details)


def test_a_managed_account_is_not_reauthorized_by_the_account_flow(google_app, account_factory):
    """A managed mailbox account is upserted with its service account; accountId or a
    loginHint naming it never turns the Account flow's grant into it."""
    app = google_app.app
    parent = account_factory(app, "Google", daemon=True, auth_user_id="example.com")
    managed = account_factory(
        app,
        "Google",
        parent=parent,
        auth_user_id="alice@example.com",
        email="alice@example.com",
        credentials={},
    )
    back = query_of(google_app.authorize(accountId=str(managed.pk))["Location"])
    assert back["status"] == "error" and back["error"] == "request.invalid"
    back = google_app.complete(google_app.start(loginHint="alice@example.com"))
    assert back["status"] == "success"
    personal = Account.objects.get(parent__isnull=True, daemon=False)
    assert personal.pk != managed.pk
    managed.refresh_from_db()
    assert managed.parent_id == parent.pk and managed.credentials == {}
