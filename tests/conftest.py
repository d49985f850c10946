"""Shared fixtures: factories for apps, provider configurations and accounts."""

from __future__ import annotations

from typing import Any

import pytest

from aurinko_auth import services
from aurinko_auth.models import Account, AccountToken, App, ProviderConfig

RETURN_URL = "https://app.example.com/callback"


@pytest.fixture
def app_factory(db):
    """``app_factory(**kw) -> (app, client_secret)``."""

    def make(name: str = "Test app", return_urls: list[str] | None = None,
             scopes: str = "Mail.Read Mail.Send Calendar.Read", **kw: Any) -> tuple[App, str]:
        app, secret = services.create_app(
            name=name, return_urls=return_urls or [RETURN_URL], scopes=scopes
        )
        for key, value in kw.items():
            setattr(app, key, value)
        if kw:
            app.save()
        return app, secret

    return make


@pytest.fixture
def provider_config_factory(db):
    def make(app: App, service_type: str = "Google", **kw: Any) -> ProviderConfig:
        kw.setdefault("client_id", "provider-client-id")
        kw.setdefault("client_secret", "provider-client-secret")
        return ProviderConfig.objects.create(app=app, service_type=service_type, **kw)

    return make


@pytest.fixture
def account_factory(db):
    counter = {"n": 0}

    def make(app: App, service_type: str = "Google", **kw: Any) -> Account:
        counter["n"] += 1
        n = counter["n"]
        kw.setdefault("auth_user_id", f"remote-{n}")
        kw.setdefault("email", f"user{n}@example.com")
        kw.setdefault("credentials", {"access_token": f"provider-at-{n}",
                                      "refresh_token": f"provider-rt-{n}"})
        return Account.objects.create(app=app, service_type=service_type, **kw)

    return make


@pytest.fixture
def account_token_factory(db):
    def make(account: Account) -> str:
        return AccountToken.issue(account)

    return make
