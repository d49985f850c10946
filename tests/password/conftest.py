from __future__ import annotations

import shutil

import pytest
from django.conf import settings as django_settings

from tests.peers.dovecot import Dovecot

USERS = {
    "alice@example.com": "imap-secret-1",
    "bob": "imap-secret-2",
    # Not ASCII: LOGIN cannot carry it, SASL PLAIN (UTF-8) can.
    "carol@example.com": "pässwörd-ß3",
}


@pytest.fixture
def dovecot():
    """A fresh server per test: Dovecot's per-IP penalty after failed logins lives in the
    server and would slow every later login from 127.0.0.1."""
    if not shutil.which("dovecot") and not shutil.os.path.exists("/usr/sbin/dovecot"):
        pytest.skip("Debian's dovecot-imapd is not installed (.ci/run installs it)")
    server = Dovecot.start(USERS)
    yield server
    server.stop()


@pytest.fixture
def loopback_settings(settings):
    """Loopback allowed (test servers listen there); short timeouts."""
    settings.AURINKO_AUTH = {
        **django_settings.AURINKO_AUTH,
        "ALLOWED_PRIVATE_NETWORKS": ["127.0.0.1/32"],
        "PASSWORD_TIMEOUT": (3.0, 10.0),
    }
    return settings


@pytest.fixture
def imap_settings(loopback_settings, dovecot):
    """Loopback allowed (the test server) and its CA trusted."""
    loopback_settings.AURINKO_AUTH = {
        **loopback_settings.AURINKO_AUTH,
        "PASSWORD_CA_BUNDLE": str(dovecot.ca_path),
    }
    return dovecot


def account_of(client, app, secret: str, done, state: str) -> dict:
    """The form's success redirect ``done`` -> the code redeemed -> ``GET /v1/account``."""
    from tests.conftest import RETURN_URL
    from tests.flows.conftest import basic, query_of

    assert done.status_code == 303 and done["Location"].startswith(RETURN_URL)
    back = query_of(done["Location"])
    assert back["status"] == "success" and back["state"] == state
    token = client.post(
        f"/v1/auth/token/{back['code']}", HTTP_AUTHORIZATION=basic(app.client_id, secret)
    ).json()["accessToken"]
    return client.get("/v1/account", HTTP_AUTHORIZATION=f"Bearer {token}").json()


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Failed sign-ins are counted in the cache: every test starts with none."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
