"""Google: authorization URL, token and profile parsing, refresh, error mapping."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses as responses_lib

from aurinko_auth.exceptions import AccessDenied
from aurinko_auth.models import AuthState
from aurinko_auth.providers.base import TERMINAL_APP, TERMINAL_USER, TRANSIENT, ProviderCallError
from aurinko_auth.providers.registry import get_provider
from tests.conftest import RETURN_URL

TOKEN_URL = "https://oauth2.googleapis.com/token"

# Shape of a real Google token response (values replaced).
GOOGLE_TOKEN = {
    "access_token": "ya29.a0AfB_byC-example",
    "expires_in": 3599,
    "refresh_token": "1//0gExample-refresh",
    "scope": "https://www.googleapis.com/auth/gmail.readonly openid "
    "https://www.googleapis.com/auth/userinfo.email",
    "token_type": "Bearer",
    "id_token": "eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJzdWIiOiIxMTAxNjkifQ.c2ln",
}
GOOGLE_USERINFO = {
    "sub": "110169484474386276334",
    "name": "Ann Example",
    "given_name": "Ann",
    "picture": "https://lh3.googleusercontent.com/a/x",
    "email": "ann@corp.example",
    "email_verified": True,
    "locale": "en",
    "hd": "corp.example",
}


@pytest.fixture
def mocked():
    with responses_lib.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


@pytest.fixture
def google():
    return get_provider("Google")


@pytest.fixture
def config(app_factory, provider_config_factory):
    app, _ = app_factory()
    return provider_config_factory(app, "Google")


def authorize_query(client, config, **over) -> dict[str, list[str]]:
    params = {
        "clientId": config.app.client_id,
        "serviceType": "Google",
        "scopes": "Mail.Read Calendar.Read",
        "returnUrl": RETURN_URL,
        "state": "s",
    }
    params.update(over)
    r = client.get("/v1/auth/authorize", params)
    assert r.status_code == 303, r.content
    return parse_qs(urlsplit(r["Location"]).query)


def test_authorization_url(client, config, settings):
    settings.AURINKO_AUTH = {**settings.AURINKO_AUTH, "PUBLIC_URL": "https://auth.example.org/"}
    q = authorize_query(client, config)
    assert q["client_id"] == ["provider-client-id"]
    assert q["response_type"] == ["code"]
    assert q["redirect_uri"] == ["https://auth.example.org/v1/auth/callback"]
    assert q["code_challenge_method"] == ["S256"]
    assert q["access_type"] == ["offline"]
    assert q["include_granted_scopes"] == ["true"]
    assert q["prompt"] == ["consent"]
    assert set(q["scope"][0].split()) == {
        "openid",
        "email",
        "profile",
        "https://www.googleapis.com/auth/gmail.readonly",
        "https://www.googleapis.com/auth/calendar.readonly",
    }
    pending = AuthState.objects.get()
    verifier = pending.secrets["code_verifier"]
    expected = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    assert q["code_challenge"] == [expected.decode().rstrip("=")]
    assert q["state"][0] != "s" and q["state"][0].startswith("ast_")
    assert "client_secret" not in q


def test_no_consent_when_refresh_token_held(client, config, account_factory):
    acc = account_factory(
        config.app,
        email="ann@corp.example",
        native_scopes=[
            "openid",
            "email",
            "profile",
            "https://www.googleapis.com/auth/gmail.readonly",
        ],
    )
    q = authorize_query(client, config, scopes="Mail.Read", loginHint="ann@corp.example")
    assert "prompt" not in q and q["login_hint"] == ["ann@corp.example"]
    q = authorize_query(client, config, scopes="Mail.Read", accountId=str(acc.pk))
    assert "prompt" not in q
    # New scopes need the consent screen.
    q = authorize_query(client, config, scopes="Mail.Read Calendar.Read", accountId=str(acc.pk))
    assert q["prompt"] == ["consent"]
    # No refresh token held: consent.
    acc.credentials = {"access_token": "x"}
    acc.save()
    q = authorize_query(client, config, scopes="Mail.Read", accountId=str(acc.pk))
    assert q["prompt"] == ["consent"]


def test_exchange_code_and_profile(google, config, mocked):
    mocked.post(TOKEN_URL, json=GOOGLE_TOKEN)
    mocked.get("https://openidconnect.googleapis.com/v1/userinfo", json=GOOGLE_USERINFO)
    tokens = google.exchange_code(
        config, code="4/0Ab", redirect_uri="https://b/cb", code_verifier="v" * 50
    )
    body = parse_qs(mocked.calls[0].request.body)
    assert body["code_verifier"] == ["v" * 50] and body["code"] == ["4/0Ab"]
    assert body["client_secret"] == ["provider-client-secret"]
    assert tokens.access_token == GOOGLE_TOKEN["access_token"]
    assert tokens.refresh_token == GOOGLE_TOKEN["refresh_token"]
    assert tokens.id_token == GOOGLE_TOKEN["id_token"]
    assert "https://www.googleapis.com/auth/gmail.readonly" in tokens.scope
    assert tokens.expires_at is not None
    profile = google.fetch_profile(config, tokens)
    assert (
        mocked.calls[1].request.headers["Authorization"] == f"Bearer {GOOGLE_TOKEN['access_token']}"
    )
    assert (profile.auth_user_id, profile.email, profile.auth_org_id, profile.name) == (
        "110169484474386276334",
        "ann@corp.example",
        "corp.example",
        "Ann Example",
    )


def test_refresh_keeps_old_refresh_token(google, config, mocked):
    mocked.post(TOKEN_URL, json={k: v for k, v in GOOGLE_TOKEN.items() if k != "refresh_token"})
    tokens = google.refresh(config, "1//old-refresh")
    assert tokens.refresh_token == "1//old-refresh"
    assert parse_qs(mocked.calls[0].request.body)["refresh_token"] == ["1//old-refresh"]


@pytest.mark.parametrize(
    "answer,code,failure",
    [
        (
            {
                "status": 400,
                "json": {
                    "error": "invalid_grant",
                    "error_description": "Token has been expired or revoked.",
                },
            },
            "invalid_grant",
            TERMINAL_USER,
        ),
        (
            {
                "status": 401,
                "json": {
                    "error": "invalid_client",
                    "error_description": "The OAuth client was not found.",
                },
            },
            "invalid_client",
            TERMINAL_APP,
        ),
        ({"status": 503, "body": "Service Unavailable"}, "provider.unavailable", TRANSIENT),
        ({"status": 429, "json": {"error": "rate_limit"}}, "provider.unavailable", TRANSIENT),
        ({"body": requests.Timeout()}, "provider.timeout", TRANSIENT),
        ({"body": requests.ConnectionError()}, "provider.unreachable", TRANSIENT),
        ({"status": 200, "body": "<html>oops</html>"}, "provider.bad_response", TRANSIENT),
    ],
)
def test_error_mapping(google, config, mocked, answer, code, failure):
    mocked.post(TOKEN_URL, **answer)
    with pytest.raises(ProviderCallError) as info:
        google.refresh(config, "1//rt")
    assert info.value.failure == failure
    if code:
        assert info.value.code == code
    assert "1//rt" not in str(info.value) and "provider-client-secret" not in str(info.value)


def test_access_denied_maps(google, config, mocked):
    mocked.post(TOKEN_URL, status=400, json={"error": "access_denied"})
    with pytest.raises(AccessDenied):
        google.refresh(config, "1//rt")


def test_revoke(google, config, mocked):
    mocked.post("https://oauth2.googleapis.com/revoke", status=200)
    assert google.revoke(config, "1//rt", "refresh_token") is True
    body = parse_qs(mocked.calls[0].request.body)
    assert body["token"] == ["1//rt"] and body["token_type_hint"] == ["refresh_token"]
    mocked.replace(
        "POST", "https://oauth2.googleapis.com/revoke", status=400, json={"error": "invalid_token"}
    )
    assert google.revoke(config, "1//rt") is False
