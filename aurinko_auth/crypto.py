"""Secrets at rest and our own opaque tokens.

* Provider tokens and passwords are encrypted with :class:`cryptography.fernet.MultiFernet`
  over ``AURINKO_AUTH["ENCRYPTION_KEYS"]``: the first key encrypts, every key decrypts, so keys
  rotate by prepending a new one and re-encrypting (``aurinko_rotate_keys``).
* Our own tokens (account access tokens, sessions, codes, client secrets, flow states) are
  random strings with a short recognisable prefix, stored only as SHA-256 and compared in
  constant time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed

from aurinko_auth.conf import aurinko_settings

# Prefixes make a leaked value recognisable (secret scanners, logs) and show what it is.
PREFIX_ACCOUNT_TOKEN = "aat_"
PREFIX_SESSION = "aus_"
PREFIX_CODE = "acd_"
PREFIX_CLIENT_SECRET = "acs_"
PREFIX_STATE = "ast_"
PREFIX_BROWSER = "abr_"


class DecryptionError(Exception):
    """No configured key decrypts the value: a key was removed before rotation finished."""


def configured_keys() -> list[str]:
    keys = aurinko_settings.ENCRYPTION_KEYS
    if isinstance(keys, str):
        keys = [k for k in keys.split(",")]
    return [k.strip() for k in keys if k and k.strip()]


def demo_key() -> bytes:
    """A Fernet key derived from SECRET_KEY with HKDF, for the demo only (see checks)."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"aurinko_auth demo key")
    return base64.urlsafe_b64encode(hkdf.derive(settings.SECRET_KEY.encode()))


@lru_cache(maxsize=1)
def _fernet() -> MultiFernet:
    keys = configured_keys()
    if not keys:
        if not aurinko_settings.DEMO:
            raise ImproperlyConfigured(
                "AURINKO_AUTH['ENCRYPTION_KEYS'] is empty: put a key in it "
                "(`python manage.py aurinko_keygen` prints one)."
            )
        return MultiFernet([Fernet(demo_key())])
    try:
        return MultiFernet([Fernet(k.encode()) for k in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(
            "AURINKO_AUTH['ENCRYPTION_KEYS'] holds a value that is not a Fernet key "
            "(`python manage.py aurinko_keygen` prints one)."
        ) from exc


def reset_keys() -> None:
    _fernet.cache_clear()


def _settings_changed(*, setting: str, **kwargs: Any) -> None:
    # This module owns the key cache, so it listens for the settings it derives from
    # (DRF's and DOT's settings modules do the same for theirs).
    if setting in ("AURINKO_AUTH", "SECRET_KEY"):
        reset_keys()


setting_changed.connect(_settings_changed)


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode("ascii")


def decrypt(ciphertext: str) -> str:
    try:
        return _fernet().decrypt(ciphertext.encode("ascii")).decode()
    except InvalidToken as exc:
        raise DecryptionError("No configured encryption key decrypts this value.") from exc


def rotate(ciphertext: str) -> str:
    """Re-encrypt under the first key (keeps the original timestamp)."""
    try:
        return _fernet().rotate(ciphertext.encode("ascii")).decode("ascii")
    except InvalidToken as exc:
        raise DecryptionError("No configured encryption key decrypts this value.") from exc


def generate_key() -> str:
    return Fernet.generate_key().decode("ascii")


def new_token(prefix: str, nbytes: int = 32) -> str:
    return prefix + secrets.token_urlsafe(nbytes)


def hash_token(token: str) -> str:
    """SHA-256 hex digest: our tokens are high-entropy, so a fast hash is enough to store."""
    return hashlib.sha256(token.encode()).hexdigest()


def constant_time_equals(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def check_token(token: str, stored_hash: str) -> bool:
    return constant_time_equals(hash_token(token), stored_hash)


USER_SIGNING_LABEL = b"aurinko_auth user signature v1"


def user_signing_key(client_secret: str) -> str:
    """The key of the User flow's ``userSignature``: HMAC-SHA256(clientSecret, label), hex.
    The app derives it from its secret; we keep it encrypted, never the secret itself."""
    return hmac.new(client_secret.encode(), USER_SIGNING_LABEL, hashlib.sha256).hexdigest()
