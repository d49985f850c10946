"""Authenticating API callers, free of DRF so any view (and benchmarks) can use it.

* account token: ``Authorization: Bearer aat_...``: one indexed query (token -> account -> app);
* client credentials: ``Authorization: Basic base64(clientId:clientSecret)``.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from django.core.cache import BaseCache, caches
from django.utils import timezone

from aurinko_auth import crypto
from aurinko_auth.conf import aurinko_settings
from aurinko_auth.exceptions import AuthenticationFailed
from aurinko_auth.models import Account, AccountToken, App


@dataclass
class Principal:
    """Who is calling: an app, and for account tokens the account."""

    app: App
    account: Account | None = None
    via: str = "client"  # "token" | "client" | "session"

    is_authenticated = True
    is_anonymous = False


def parse_authorization(header: str) -> tuple[str, str]:
    scheme, _, value = header.partition(" ")
    return scheme.lower(), value.strip()


TOKEN_CACHE_PREFIX = "aurinko:tok:"


def auth_cache() -> BaseCache | None:
    alias = aurinko_settings.AUTH_CACHE
    return caches[alias] if alias else None


def token_cache_key(token_hash: str) -> str:
    return TOKEN_CACHE_PREFIX + token_hash


def _lookup_token(token_hash: str) -> AccountToken | None:
    """One indexed query: token -> account -> app. Provider credentials are deferred:
    authentication never needs them, and decrypting them on every request would cost time
    and keep secrets in memory. (Sliced, not ``first()``, to avoid a needless ORDER BY.)"""
    rows = list(
        AccountToken.objects.select_related("account__app")
        .defer("account__credentials")
        .filter(token_hash=token_hash)[:1]
    )
    return rows[0] if rows else None


def account_from_token(token: str) -> Principal:
    if not token.startswith(crypto.PREFIX_ACCOUNT_TOKEN) or len(token) > 200:
        raise AuthenticationFailed("Invalid account token.", code="token.invalid")
    token_hash = crypto.hash_token(token)
    cache = auth_cache()
    row = cache.get(token_cache_key(token_hash)) if cache is not None else None
    if row is None:
        row = _lookup_token(token_hash)
        if row is not None and cache is not None:
            cache.set(token_cache_key(token_hash), row, aurinko_settings.AUTH_CACHE_TIMEOUT)
    if row is None or (row.expires_at is not None and row.expires_at <= timezone.now()):
        raise AuthenticationFailed("Invalid account token.", code="token.invalid")
    account = row.account
    if not account.app.active:
        raise AuthenticationFailed("The app is disabled.", code="client.inactive")
    return Principal(app=account.app, account=account, via="token")


def app_from_basic(value: str) -> Principal:
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise AuthenticationFailed("Malformed Basic credentials.") from None
    client_id, sep, secret = decoded.partition(":")
    if not sep or not client_id or not secret or len(client_id) > 64:
        raise AuthenticationFailed("Malformed Basic credentials.")
    return app_from_credentials(client_id, secret)


def app_from_credentials(client_id: str, secret: str) -> Principal:
    app = App.objects.filter(client_id=client_id).first()
    # Compare even when the app is unknown, so timing does not reveal which client ids exist.
    stored = app.client_secret_hash if app is not None else crypto.hash_token("")
    if not crypto.check_token(secret, stored) or app is None:
        raise AuthenticationFailed("Invalid client credentials.", code="client.invalid")
    if not app.active:
        raise AuthenticationFailed("The app is disabled.", code="client.inactive")
    return Principal(app=app, via="client")
