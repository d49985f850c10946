"""Fixtures of the service-account (daemon) tests."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from aurinko_auth import services
from tests.daemon.keys import make_service_account_key


@pytest.fixture(autouse=True)
def _clear_token_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def sa_key():
    """``sa_key(client_email=..., key_id=...) -> TestKey`` (JSON text, public key, ...)."""
    return make_service_account_key


@pytest.fixture
def daemon_app(app_factory, provider_config_factory, sa_key):
    """``daemon_app(service_type, **config) -> (app, secret, key_or_None)``: an app whose
    provider configuration has what the daemon flow needs."""

    def make(service_type: str = "Office365", **config):
        app, secret = app_factory()
        key = None
        if service_type == "Google" and "service_account_key" not in config:
            key = sa_key()
            config["service_account_key"] = key.json_text
        provider_config_factory(app, service_type, **config)
        return app, secret, key

    return make


@pytest.fixture
def configure(db):
    return services.configure_provider
