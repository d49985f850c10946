"""Session API calls authenticated by a host identity token instead of a session
(``X-Aurinko-AuthType`` + ``Authorization: Bearer`` + ``X-Aurinko-ClientId``): the token is
verified (keys cached: no outbound call), the app's trust comes from Django's cache, and the
user from one indexed query (``HostIdentity`` by app, type and subject, with its user)."""

from __future__ import annotations

from typing import Any

from django.core.cache import cache

from aurinko_auth.errorcodes import Code
from aurinko_auth.exceptions import NotSignedIn
from aurinko_auth.hotpath.auth import Principal
from aurinko_auth.identity import prepared
from aurinko_auth.models import HostIdentity, IdentityTrust

TRUST_TTL = 60  # seconds; saving or deleting a trust or its app forgets it at once


def has_identity_headers(meta: Any) -> bool:
    return any(meta.get(h) for h in prepared.AUTH_TYPE_HEADERS)


def _trust_key(client_id: str, token_type: str) -> str:
    return f"aurinko:trust:{client_id}:{token_type}"


def cached_trust(client_id: str, token_type: str) -> IdentityTrust:
    """``prepared.trust_for`` through Django's cache (``TRUST_TTL``)."""
    key = _trust_key(client_id, token_type)
    trust = cache.get(key) if len(client_id) <= 64 and client_id.isascii() else None
    if trust is None:
        trust = prepared.trust_for(client_id, token_type)
        cache.set(key, trust, TRUST_TTL)
    return trust


def forget_trust(trust: IdentityTrust) -> None:
    cache.delete(_trust_key(trust.app.client_id, trust.token_type))


def principal(meta: Any) -> Principal | None:
    """The signed-in user an identity-token request names (None without identity headers)."""
    sent = prepared.sent_identity(meta)
    if sent is None:
        return None
    client_id, token_type, token = sent
    trust = cached_trust(client_id, token_type)
    verified = prepared.verify(trust, token, meta)
    identity = (
        HostIdentity.objects.select_related("user")
        .filter(app_id=trust.app_id, token_type=verified.token_type, subject=verified.subject)
        .first()
    )
    if identity is None:
        raise NotSignedIn(
            "No user has signed in with this identity yet: POST /v1/auth/prepare, then "
            "/v1/auth/authorize?userAccount=primary&token=... once.",
            code=Code.SESSION_REQUIRED,
        )
    return Principal(app=trust.app, user=identity.user, via="session")
