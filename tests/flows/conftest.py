"""Fixtures for flow tests: a configured Google app and helpers that drive the browser side
with Django's test client while `responses` plays Google (recorded response shapes)."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from tests.conftest import RETURN_URL

GOOGLE_TOKEN = "https://oauth2.googleapis.com/token"
GOOGLE_USERINFO = "https://openidconnect.googleapis.com/v1/userinfo"
GOOGLE_REVOKE = "https://oauth2.googleapis.com/revoke"

# Shapes recorded from Google's token and OpenID userinfo endpoints (values replaced).
GOOGLE_TOKEN_RESPONSE = {
    "access_token": "ya29.a0AfB_byC-provider-access",
    "expires_in": 3599,
    "refresh_token": "1//0gprovider-refresh",
    "scope": "https://www.googleapis.com/auth/gmail.readonly openid "
    "https://www.googleapis.com/auth/userinfo.email "
    "https://www.googleapis.com/auth/userinfo.profile",
    "token_type": "Bearer",
    "id_token": "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMTAxNjkifQ.c2ln",
}
GOOGLE_USERINFO_RESPONSE = {
    "sub": "110169484474386276334",
    "name": "Alice Example",
    "given_name": "Alice",
    "family_name": "Example",
    "picture": "https://lh3.googleusercontent.com/a/x",
    "email": "alice@example.com",
    "email_verified": True,
    "hd": "example.com",
}


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


@dataclass
class GoogleApp:
    app: Any
    secret: str
    client: Any
    http: responses.RequestsMock  # plays the provider

    def authorize(self, **params: str) -> Any:
        query = {
            "clientId": self.app.client_id,
            "serviceType": "Google",
            "scopes": "Mail.Read",
            "returnUrl": RETURN_URL,
            "state": "app-state",
        }
        query.update(params)
        return self.client.get("/v1/auth/authorize", query)

    def start(self, **params: str) -> str:
        """Start a flow; returns the provider-side state."""
        response = self.authorize(**params)
        assert response.status_code == 303, response.content
        return query_of(response["Location"])["state"]

    def callback(self, **params: str) -> Any:
        return self.client.get("/v1/auth/callback", params)

    def complete(
        self, state: str, *, token: dict | None = None, userinfo: dict | None = None
    ) -> dict[str, str]:
        """The provider redirects back; returns the query of the redirect to the returnUrl."""
        self.http.post(GOOGLE_TOKEN, json=token or GOOGLE_TOKEN_RESPONSE)
        self.http.get(GOOGLE_USERINFO, json=userinfo or GOOGLE_USERINFO_RESPONSE)
        response = self.callback(state=state, code="4/0AeaYSHprovider-code")
        assert response.status_code == 303, response.content
        assert response["Location"].startswith(RETURN_URL)
        return query_of(response["Location"])

    def redeem(self, code: str, secret: str | None = None) -> Any:
        return self.client.post(
            f"/v1/auth/token/{code}",
            HTTP_AUTHORIZATION=basic(self.app.client_id, secret or self.secret),
        )


@pytest.fixture
def google_app(client, app_factory, provider_config_factory):
    app, secret = app_factory()
    provider_config_factory(app, "Google")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield GoogleApp(app, secret, client, mock)
