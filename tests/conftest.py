"""Shared fixtures: factories for apps, provider configurations and accounts."""

from __future__ import annotations

from typing import Any

import pytest

from aurinko_auth import services
from aurinko_auth.models import Account, AccountToken, App, ProviderConfig

RETURN_URL = "https://app.example.com/callback"


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Rate-limit windows (the default cache) start empty in every test: failed sign-ins of
    one test must not lock out the next."""
    from django.core.cache import caches

    caches["default"].clear()
    yield


# Debian's Chromium, driven by playwright (browser tests of the admin and the flows).
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def app_factory(db):
    """``app_factory(**kw) -> (app, client_secret)``."""

    def make(
        name: str = "Test app",
        return_urls: list[str] | None = None,
        scopes: str = "Mail.Read Mail.Send Calendar.Read",
        **kw: Any,
    ) -> tuple[App, str]:
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
        kw.setdefault(
            "credentials", {"access_token": f"provider-at-{n}", "refresh_token": f"provider-rt-{n}"}
        )
        return Account.objects.create(app=app, service_type=service_type, **kw)

    return make


@pytest.fixture
def account_token_factory(db):
    def make(account: Account) -> str:
        return AccountToken.issue(account)

    return make


@pytest.fixture
def browser(monkeypatch):
    """A headless Chromium, one per test. playwright's sync API runs an event loop in this
    thread, so Django's async-safety check must be relaxed for the test's own ORM calls."""
    import os
    import shutil
    import tempfile
    from pathlib import Path

    if not os.path.exists(CHROMIUM):
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    # Short: Chromium's singleton socket path must fit in a unix socket address.
    home = Path(tempfile.mkdtemp(prefix="aur-cr-", dir="/tmp"))
    for var, name in (("XDG_CONFIG_HOME", "cfg"), ("XDG_CACHE_HOME", "cache"), ("TMPDIR", "tmp")):
        path = home / name
        path.mkdir()
        monkeypatch.setenv(var, str(path))
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    try:
        with sync_playwright() as pw:
            instance = pw.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            try:
                yield instance
            finally:
                instance.close()
                # Django keeps connections per context, and the test's ORM calls ran in
                # playwright's: close that connection here, or it outlives the test.
                from django.db import connections

                connections.close_all()
    finally:
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def conforms():
    """``conforms(response) -> body``: assert an auth endpoint's response is what Aurinko's
    OpenAPI says for its operation and status (tests/contract/conformance.py)."""
    from tests.contract.conformance import assert_conforms

    return assert_conforms
