"""Fixtures of the User flow: users with accounts, sessions, and a provider-mocked sign-in."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from django.test import Client

from aurinko_auth import usersessions
from aurinko_auth.models import Account, App, AppUser

GOOGLE_TOKEN = "https://oauth2.googleapis.com/token"
GOOGLE_USERINFO = "https://openidconnect.googleapis.com/v1/userinfo"
O365_TOKEN = "https://login.microsoftonline.com/common/oauth2/v2.0/token"
O365_ME = "https://graph.microsoft.com/v1.0/me"
APP_ORIGIN = "https://app.example.com"


@pytest.fixture
def user_factory(db, account_factory):
    """``user_factory(app, accounts=0) -> AppUser`` with a primary Google account and
    ``accounts`` secondary ones."""

    def make(app: App, accounts: int = 0, **kw: Any) -> AppUser:
        user = AppUser.objects.create(
            app=app, email=kw.pop("email", "owner@example.com"), trusted_identity=True, **kw
        )
        account_factory(
            app, "Google", user=user, account_type=Account.Type.PRIMARY, email=user.email
        )
        for _ in range(accounts):
            account_factory(app, "Office365", user=user, account_type=Account.Type.SECONDARY)
        return user

    return make


@pytest.fixture
def session_factory(db):
    """``session_factory(user) -> token``."""

    def make(user: AppUser, **kw: Any) -> str:
        return usersessions.start(
            user, user_agent=kw.get("user_agent", "pytest"), ip=kw.get("ip", "127.0.0.1")
        )

    return make


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


@pytest.fixture
def sign_in(client):
    """Run a User flow through the test client with the provider mocked. Returns
    ``(start_response, final_response)``; final is None when the start did not reach the
    provider."""

    def run(
        app: App,
        *,
        service_type: str = "Google",
        sub: str = "g-1",
        email: str = "alice@example.com",
        path: str = "/v1/auth/authorizeUser",
        browser=None,
        **params: str,
    ):
        browser = browser or client
        query = {
            "clientId": app.client_id,
            "serviceType": service_type,
            "scopes": "Mail.Read",
            "returnUrl": "https://app.example.com/callback",
            "state": "st-1",
        }
        if path.endswith("authorizeUser"):
            query["accountRole"] = "primary"
        query.update(params)
        query = {k: v for k, v in query.items() if v is not None}
        start = browser.get(path, query)
        location = start.get("Location", "")
        if start.status_code != 303 or "app.example.com" in urlsplit(location).netloc:
            return start, None
        with responses.RequestsMock() as mocked:
            _record(mocked, service_type, sub, email)
            final = browser.get(
                "/v1/auth/callback", {"state": query_of(location)["state"], "code": "provider-code"}
            )
        return start, final

    return run


def _record(mocked: responses.RequestsMock, service_type: str, sub: str, email: str) -> None:
    if service_type == "Google":
        mocked.post(
            GOOGLE_TOKEN,
            json={
                "access_token": f"ya29.{sub}",
                "refresh_token": f"1//{sub}",
                "expires_in": 3599,
                "scope": "openid email profile https://www.googleapis.com/auth/gmail.readonly",
                "token_type": "Bearer",
            },
        )
        mocked.get(
            GOOGLE_USERINFO,
            json={"sub": sub, "email": email, "name": "Someone", "hd": email.rpartition("@")[2]},
        )
    else:
        mocked.post(
            O365_TOKEN,
            json={
                "access_token": f"eyJ.{sub}",
                "refresh_token": f"0.A{sub}",
                "expires_in": 3599,
                "scope": "https://graph.microsoft.com/Mail.Read openid email profile offline_access",
                "token_type": "Bearer",
            },
        )
        mocked.get(
            O365_ME,
            json={"id": sub, "mail": email, "displayName": "Someone", "userPrincipalName": email},
        )


@pytest.fixture(autouse=True)
def _fresh_origin_cache():
    """The allowed-origins cache outlives a test's rolled-back apps: start each test clean."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def signed_in(app_factory, user_factory, session_factory):
    """``signed_in(accounts=1) -> (app, user, token, browser)``: a browser holding the cookie."""

    def make(accounts: int = 1, app=None):
        app = (
            app
            or app_factory(
                return_urls=[APP_ORIGIN + "/callback", "http://localhost:5173/auth.html"]
            )[0]
        )
        user = user_factory(app, accounts=accounts)
        token = session_factory(user)
        browser = Client()
        browser.cookies[usersessions.cookie_name(app.pk)] = token
        return app, user, token, browser

    return make
