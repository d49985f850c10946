"""The User flow's ``userSignature``: a backend proves which app user a secondary sign-in is
for with HMAC-SHA256 over ``userId + timestamp``, keyed with the app's user-signing key
(docs/user-flow.md). Imports no flow."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
import uuid

from aurinko_auth import inputs
from aurinko_auth.conf import aurinko_settings
from aurinko_auth.errorcodes import Code
from aurinko_auth.exceptions import NotSignedIn
from aurinko_auth.models import App


def signature(key: str, user_id: str, timestamp: str) -> str:
    """Hex HMAC-SHA256 of ``userId + timestamp`` keyed with the app's user-signing key."""
    return hmac.new(key.encode(), f"{user_id}{timestamp}".encode(), hashlib.sha256).hexdigest()


def _decode(value: str) -> bytes | None:
    value = value.strip()
    if len(value) == 64:
        try:
            return bytes.fromhex(value)
        except ValueError:
            pass
    try:
        padded = value + "=" * (-len(value) % 4)
        raw = base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == 32 else None


def verify(app: App, user_id: str, timestamp: str, user_signature: str) -> uuid.UUID:
    """Check ``userSignature`` (hex or base64 HMAC-SHA256 over ``userId + timestamp``) and the
    timestamp's age (Unix seconds or milliseconds). Returns the user id."""
    if not (user_id and timestamp and user_signature):
        raise NotSignedIn(
            "userId, timestamp and userSignature go together.", code=Code.SIGNATURE_INVALID
        )
    try:
        parsed_id = uuid.UUID(user_id)
    except ValueError:
        raise NotSignedIn("userId is not a user id.", code=Code.SIGNATURE_INVALID) from None
    number = inputs.decimal(timestamp, maximum=10**16 - 1)
    if number is None:
        raise NotSignedIn(
            "timestamp must be Unix time in seconds or milliseconds.", code=Code.SIGNATURE_INVALID
        )
    seconds = number / (1000 if len(timestamp) >= 13 else 1)
    if abs(time.time() - seconds) > int(aurinko_settings.USER_SIGNATURE_MAX_AGE):
        raise NotSignedIn(
            "The userSignature timestamp is too old (or in the future).",
            code=Code.SIGNATURE_EXPIRED,
        )
    if not app.user_signing_key:
        raise NotSignedIn(
            "This app's client secret predates userSignature: rotate it.",
            code=Code.SIGNATURE_UNAVAILABLE,
        )
    provided = _decode(user_signature)
    expected = bytes.fromhex(signature(app.user_signing_key, user_id, timestamp))
    if provided is None or not hmac.compare_digest(provided, expected):
        raise NotSignedIn("userSignature does not match.", code=Code.SIGNATURE_INVALID)
    return parsed_id
