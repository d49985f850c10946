"""userSignature as Aurinko computes it (HMAC-SHA256 over ``userId + timestamp`` keyed with
the client secret itself), for apps that opt in (AURINKO-COMPAT.md "Decisions")."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

import pytest
from django.test import Client

from aurinko_auth import services
from aurinko_auth.exceptions import InvalidRequest
from aurinko_auth.models import AppUser
from tests.user.conftest import query_of

SECRET = "Aurinko-Client-Secret-0123456789"


def aurinko_signature(secret: str, user_id: str, ts: str, encoding: str = "hex") -> str:
    raw = hmac.new(secret.encode(), f"{user_id}{ts}".encode(), hashlib.sha256).digest()
    if encoding == "hex":
        return raw.hex()
    if encoding == "base64":
        return base64.b64encode(raw).decode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.fixture
def imported(db, provider_config_factory):
    def make(opt_in: bool):
        app, _ = services.create_app(
            name="Imported",
            return_urls=["https://app.example.com/callback"],
            scopes="Mail.Read",
            client_id="a8b7c6d5e4f3g2h1",
            client_secret=SECRET,
            aurinko_signatures=opt_in,
        )
        provider_config_factory(app, "Google")
        provider_config_factory(app, "Office365")
        return app

    return make


def _secondary(app, sign_in, encoding="hex", secret=SECRET, ts=None):
    sign_in(app, browser=Client())
    user = AppUser.objects.get()
    ts = ts or str(int(time.time()))
    return sign_in(
        app,
        service_type="Office365",
        sub="o-1",
        accountRole="secondary",
        browser=Client(),
        userId=str(user.pk),
        timestamp=ts,
        userSignature=aurinko_signature(secret, str(user.pk), ts, encoding),
    )


@pytest.mark.parametrize("encoding", ["hex", "base64", "base64url"])
def test_opted_in_app_verifies_aurinko_signatures(imported, sign_in, encoding):
    app = imported(True)
    assert app.user_signing_key == SECRET  # kept encrypted, for this only
    start, final = _secondary(app, sign_in, encoding)
    assert final is not None, start["Location"]
    assert query_of(final["Location"])["status"] == "success"
    assert AppUser.objects.get().accounts.filter(account_type="secondary").count() == 1


def test_without_opt_in_an_aurinko_signature_is_refused(imported, sign_in):
    start, final = _secondary(imported(False), sign_in)
    assert final is None and query_of(start["Location"])["error"] == "signature.invalid"


def test_opted_in_app_keeps_the_timestamp_window_and_the_secret(imported, sign_in):
    app = imported(True)
    old = str(int(time.time()) - 3600)
    start, final = _secondary(app, sign_in, ts=old)
    assert final is None and query_of(start["Location"])["error"] == "signature.expired"
    AppUser.objects.all().delete()
    start, final = _secondary(app, sign_in, secret="Another-secret-000000000000")
    assert final is None and query_of(start["Location"])["error"] == "signature.invalid"


def test_switching_needs_the_current_secret_and_rotation_follows_the_mode(imported):
    app = imported(False)
    with pytest.raises(InvalidRequest):
        services.set_aurinko_signatures(app, True, "not-the-secret-0000000000")
    app.refresh_from_db()
    assert not app.aurinko_signatures and app.user_signing_key != SECRET
    services.set_aurinko_signatures(app, True, SECRET)
    app.refresh_from_db()
    assert app.aurinko_signatures and app.user_signing_key == SECRET
    new = services.rotate_secret(app)
    app.refresh_from_db()
    assert app.user_signing_key == new
    services.set_aurinko_signatures(app, False, new)
    app.refresh_from_db()
    assert not app.aurinko_signatures and app.user_signing_key not in (new, SECRET)


def test_the_stored_secret_is_ciphertext(imported):
    from django.db import connection

    app = imported(True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT user_signing_key FROM aurinko_auth_app WHERE id = %s", [app.pk])
        (raw,) = cursor.fetchone()
    assert SECRET not in raw and raw.startswith("gAAAAA")
