"""Fixtures for browser flows: start an authorization and answer the provider's endpoints."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses as responses_lib

from tests.conftest import RETURN_URL

GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token"
GOOGLE_USERINFO_URL = "https://openidconnect.googleapis.com/v1/userinfo"


@pytest.fixture
def mocked():
    with responses_lib.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


def query(response) -> dict[str, str]:  # noqa: ANN001
    assert response.status_code == 302, response.content
    return {k: v[0] for k, v in parse_qs(urlsplit(response["Location"]).query).items()}


@pytest.fixture
def google_app(app_factory, provider_config_factory):
    app, secret = app_factory()
    provider_config_factory(app, "Google")
    return app, secret


@pytest.fixture
def start(client, google_app):
    """``start(**params) -> provider state`` for a Google Account flow in ``client``."""

    def go(c=None, **over: Any) -> str:  # noqa: ANN001
        app, _ = google_app
        params = {"clientId": app.client_id, "serviceType": "Google", "scopes": "Mail.Read",
                  "returnUrl": RETURN_URL, "state": "app-state"}
        params.update(over)
        r = (c or client).get("/v1/auth/authorize", params)
        return query(r)["state"]

    return go


@pytest.fixture
def google_ok(mocked):
    def answer(sub: str = "1234", refresh_token: str | None = "1//refresh-tok",
               access_token: str = "ya29.access-tok", email: str = "a@example.com") -> None:
        body = {"access_token": access_token, "expires_in": 3599, "token_type": "Bearer",
                "scope": "openid https://www.googleapis.com/auth/gmail.readonly",
                "id_token": "eyJhbGciOiJSUzI1NiJ9.e30.sig"}
        if refresh_token:
            body["refresh_token"] = refresh_token
        mocked.post(GOOGLE_TOKEN_URL, json=body)
        mocked.get(GOOGLE_USERINFO_URL, json={"sub": sub, "email": email, "name": "A",
                                              "email_verified": True, "hd": "example.com"})

    return answer


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()
