"""Fixtures for the token lifecycle and the Direct API."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from aurinko_auth.models import Account

GOOGLE_TOKEN = "https://oauth2.googleapis.com/token"
MS_TOKEN = "https://login.microsoftonline.com/common/oauth2/v2.0/token"


@pytest.fixture
def linked_account(app_factory, provider_config_factory, account_factory, account_token_factory):
    """``linked_account(service_type="Google", expires_in=-10, **fields)`` -> (account, token):
    an app with a provider configuration and one account whose provider token expires in
    ``expires_in`` seconds (negative: already expired)."""

    def make(
        service_type: str = "Google",
        expires_in: int | None = -10,
        config: dict[str, Any] | None = None,
        **fields: Any,
    ):
        app, _ = app_factory()
        provider_config_factory(app, service_type, **(config or {}))
        if expires_in is not None:
            fields.setdefault(
                "access_token_expires_at", timezone.now() + timedelta(seconds=expires_in)
            )
        fields.setdefault("credential_version", 1)
        account = account_factory(app, service_type, **fields)
        # Its token was stored an hour ago (the leeway is at most half a token's lifetime).
        account.updated_at = timezone.now() - timedelta(hours=1)
        Account.objects.filter(pk=account.pk).update(updated_at=account.updated_at)
        return account, account_token_factory(account)

    return make


@pytest.fixture(autouse=True)
def _clear_rate_limits():
    from django.core.cache import caches

    caches["default"].clear()
    yield
    caches["default"].clear()
