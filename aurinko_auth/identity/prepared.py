"""``POST /v1/auth/prepare``: a verified host identity token turned into a short-lived,
single-use token that binds the next authorize call to that identity (stored as SHA-256 only)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from aurinko_auth import crypto
from aurinko_auth.conf import aurinko_settings
from aurinko_auth.errorcodes import Code
from aurinko_auth.exceptions import IdentityRefused
from aurinko_auth.identity import tokens
from aurinko_auth.models import (
    App,
    AppUser,
    HostIdentity,
    IdentityTokenType,
    IdentityTrust,
    PreparedAuth,
)
from aurinko_auth.security import ratelimit

TTL = timedelta(minutes=5)
PREFIX = "aprep_"
AUTH_TYPE_HEADERS = ("HTTP_X_AURINKO_AUTHTYPE", "HTTP_X_AURINKO_AUTH_TYPE")
CLIENT_ID_HEADERS = ("HTTP_X_AURINKO_CLIENTID", "HTTP_X_AURINKO_CLIENT_ID")


def _header(meta: dict, names: tuple[str, ...]) -> str:
    for name in names:
        value = meta.get(name)
        if value:
            return str(value).strip()
    return ""


def sent_identity(meta: dict) -> tuple[str, str, str] | None:
    """``(client_id, token_type, token)`` when a request carries identity-token headers."""
    token_type = _header(meta, AUTH_TYPE_HEADERS)
    if not token_type:
        return None
    scheme, _, token = str(meta.get("HTTP_AUTHORIZATION") or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise IdentityRefused(
            "X-Aurinko-AuthType needs the identity token as Authorization: Bearer.",
            code=Code.IDENTITY_MALFORMED,
        )
    return _header(meta, CLIENT_ID_HEADERS), token_type, token.strip()


def trust_for(client_id: str, token_type: str) -> IdentityTrust:
    """The active app's trust of ``token_type`` (one query), else ``identity.untrusted``."""
    trust = None
    if client_id and token_type in IdentityTokenType.values and len(client_id) <= 64:
        trust = (
            IdentityTrust.objects.select_related("app")
            .filter(app__client_id=client_id, app__active=True, token_type=token_type)
            .first()
        )
    if trust is None:
        raise IdentityRefused(
            "The app (X-Aurinko-ClientId) trusts no identity token of this type "
            "(X-Aurinko-AuthType); see aurinko_app trust.",
            code=Code.IDENTITY_UNTRUSTED,
        )
    return trust


RATE_SCOPE = "idip"


def verify(trust: IdentityTrust, token: str, meta: Any) -> tokens.Verified:
    """:func:`tokens.verify`, with refusals counted per client IP
    (``IDENTITY_FAILURE_RATE_IP``): past the limit, 429 before anything is looked at."""
    ip, rate = str(meta.get("REMOTE_ADDR") or "-"), aurinko_settings.IDENTITY_FAILURE_RATE_IP
    ratelimit.check(RATE_SCOPE, ip, rate)
    try:
        return tokens.verify(trust, token)
    except IdentityRefused:
        ratelimit.count(RATE_SCOPE, ip, rate)
        raise


def prepare(meta: dict) -> str:
    """Verify the request's identity token and store a prepared sign-in; its token."""
    sent = sent_identity(meta)
    if sent is None:
        raise IdentityRefused(
            "Send X-Aurinko-AuthType, Authorization: Bearer <identity token> and "
            "X-Aurinko-ClientId.",
            code=Code.IDENTITY_UNTRUSTED,
        )
    client_id, token_type, token = sent
    trust = trust_for(client_id, token_type)
    verified = verify(trust, token, meta)
    return _store(
        app=trust.app,
        token_type=verified.token_type,
        subject=verified.subject,
        claims=verified.claims,
    )


def prepare_for_user(user: AppUser) -> str:
    """A prepared sign-in for a signed-in user (their session authenticated the request):
    the popup links a secondary account to them without seeing the session cookie (a
    partitioned cookie lives in the iframe's partition, not the popup's)."""
    return _store(app=user.app, user=user)


def _store(**fields: Any) -> str:
    prepared = crypto.new_token(PREFIX)
    PreparedAuth.objects.create(
        token_hash=crypto.hash_token(prepared), expires_at=timezone.now() + TTL, **fields
    )
    return prepared


def claim(app: App, token: str) -> PreparedAuth:
    """The prepared sign-in of ``token`` for ``app``, claimed (single use: one conditional
    UPDATE); ``identity.prepared_invalid`` when unknown, expired, used or another app's."""
    now = timezone.now()
    digest = crypto.hash_token(token) if token.startswith(PREFIX) and len(token) < 100 else ""
    with transaction.atomic():
        claimed = PreparedAuth.objects.filter(
            token_hash=digest, app=app, used_at__isnull=True, expires_at__gt=now
        ).update(used_at=now)
        if not claimed:
            raise IdentityRefused(
                "The prepare token is unknown, expired, already used or another app's: "
                "call POST /v1/auth/prepare again.",
                code=Code.IDENTITY_PREPARED_INVALID,
            )
        return PreparedAuth.objects.select_related("user").get(token_hash=digest)


def user_of(app: App, claimed: PreparedAuth) -> AppUser:
    """The app user a claimed prepared sign-in is for (a secondary account is linked to them):
    the session's user, or whom its host identity belongs to (``identity.unknown_user`` before
    that identity's first primary sign-in)."""
    if claimed.user_id is not None:
        return claimed.user  # type: ignore[return-value]
    identity = (
        HostIdentity.objects.select_related("user")
        .filter(app=app, token_type=claimed.token_type, subject=claimed.subject)
        .first()
    )
    if identity is None:
        raise IdentityRefused(
            "No user has signed in with this host identity yet: sign in the primary account "
            "first (userAccount=primary with a prepare token), then link secondary accounts.",
            code=Code.IDENTITY_UNKNOWN_USER,
            status=Code.IDENTITY_UNKNOWN_USER.status,
        )
    return identity.user


def record(app: App, prepared_id: int, user: AppUser) -> HostIdentity:
    """After a prepared primary sign-in: the host identity is ``user``'s (recorded the first
    time), or the flow fails with ``identity.mismatch`` (the caller's transaction rolls back)."""
    found = PreparedAuth.objects.filter(pk=prepared_id, app=app, user__isnull=True).first()
    if found is None:
        raise IdentityRefused(
            "The prepared sign-in expired meanwhile.", code=Code.IDENTITY_PREPARED_INVALID
        )
    key = {"app": app, "token_type": found.token_type, "subject": found.subject}
    identity = HostIdentity.objects.filter(**key).first()
    if identity is None:
        try:
            with transaction.atomic():
                identity = HostIdentity.objects.create(user=user, **key)
        except IntegrityError:  # recorded concurrently: compare with that one
            identity = HostIdentity.objects.get(**key)
    if identity.user_id != user.pk:
        raise IdentityRefused(
            "The account that signed in belongs to another user than the add-in's signed-in "
            "identity: sign in with that user's primary account.",
            code=Code.IDENTITY_MISMATCH,
            status=Code.IDENTITY_MISMATCH.status,
        )
    return identity
