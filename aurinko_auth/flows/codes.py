"""Redeeming one-time codes: ``POST /v1/auth/token/{code}`` (the app's backend, with its
client credentials) and ``POST /v1/auth/cookie`` (a ``sessionCode``, by the page itself)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from aurinko_auth import crypto, usersessions
from aurinko_auth.errorcodes import Code
from aurinko_auth.exceptions import AurinkoError, AuthenticationFailed, CsrfFailed, InvalidCode
from aurinko_auth.flows import pkce, user
from aurinko_auth.flows.state import ClientInfo
from aurinko_auth.models import AccountToken, App, AppUser, AuthCode, FlowKind
from aurinko_auth.security import origins


def redeem(
    app: App, code: str, verifier: str | None = None, *, secret_checked: bool = True
) -> dict[str, Any]:
    """Exchange a code for an account token. Exactly one of any number of concurrent
    redemptions wins: the claim is a single conditional UPDATE, atomic on every database.

    ``secret_checked``: the caller proved the app's client secret; without it the app must be
    a public client, or the code one of a flow to its public return URLs. A code whose flow sent a PKCE challenge needs ``verifier`` (whatever the
    client), a code without one is refused with a verifier (OAuth 2.1) or without a secret. A
    failed PKCE check uses the code up (single use: one attempt, RFC 6749 4.1.2)."""
    if not secret_checked and not app.public_client and not _public_code(app, code):
        raise AurinkoError(
            "This app is not a public client: redeem codes with its client secret "
            "(Authorization: Basic, or X-Aurinko-ClientId and X-Aurinko-ClientSecret).",
            code=Code.CLIENT_SECRET_REQUIRED,
            status=Code.CLIENT_SECRET_REQUIRED.status,
        )
    if not code or len(code) > 200 or not code.startswith(crypto.PREFIX_CODE):
        raise InvalidCode()
    code_hash = crypto.hash_token(code)
    now = timezone.now()
    with transaction.atomic():
        claimed = AuthCode.objects.filter(
            code_hash=code_hash, app=app, used_at__isnull=True, expires_at__gt=now
        ).update(used_at=now)
        if claimed != 1:
            raise InvalidCode()
        row = AuthCode.objects.select_related("account").get(code_hash=code_hash)
        if row.payload.get("purpose") == user.COOKIE_PURPOSE:
            raise InvalidCode("A sessionCode is redeemed by the page (POST /v1/auth/cookie).")
        refusal = _pkce_refusal(row, verifier, secret_checked=secret_checked)
        if refusal is None:
            return _redeemed(row)
    # Outside the transaction: the claim stays committed, the code is used up.
    raise AurinkoError(refusal, code=Code.PKCE_VERIFIER_INVALID)


def _public_code(app: App, code: str) -> bool:
    """Whether ``code`` (unused, unexpired) was issued to a flow to one of the confidential
    ``app``'s public return URLs. Looked at before it is claimed: any other code stays usable
    for the app's server. No query for an app without public return URLs."""
    if not app.public_return_urls or not code or len(code) > 200:
        return False
    payload = (
        AuthCode.objects.filter(
            code_hash=crypto.hash_token(code),
            app=app,
            used_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .values_list("payload", flat=True)
        .first()
    )
    return isinstance(payload, dict) and payload.get(pkce.PUBLIC_KEY) is True


def _pkce_refusal(row: AuthCode, verifier: str | None, *, secret_checked: bool) -> str | None:
    challenge = row.payload.get(pkce.CHALLENGE_KEY) or ""
    if not challenge:
        if verifier:
            return "code_verifier was sent, but the flow started without code_challenge."
        if not secret_checked:
            return "The flow started without code_challenge: a public client cannot redeem it."
        return None
    if not verifier:
        return "The flow started with code_challenge: send code_verifier. The code is used up."
    if not pkce.verifies(verifier, challenge):
        return "code_verifier does not match the flow's code_challenge. The code is used up."
    return None


def _redeemed(row: AuthCode) -> dict[str, Any]:
    result: dict[str, Any] = {
        "accountId": row.account_id,
        "accessToken": AccountToken.issue(row.account),
    }
    result.update(_flow_extras(row))
    return result


def redeem_session_code(
    code: str,
    *,
    origin: str | None,
    client: ClientInfo,
    cookies: dict[str, str],
    mailbox_info: str = "",
) -> tuple[App, AppUser, str]:
    """A ``sessionCode`` (User flow, app with partitioned cookies) -> a new session, for the
    page on one of the app's origins that redeems it: returns the app, the user and the
    session token (for the cookie, set in that page's partition). Single use, like every
    code; the browser's earlier session of the app (its cookie, of ``mailbox_info``'s mailbox)
    ends with it."""
    if not code or len(code) > 200 or not code.startswith(crypto.PREFIX_CODE):
        raise InvalidCode()
    code_hash = crypto.hash_token(code)
    now = timezone.now()
    row = (
        AuthCode.objects.select_related("app")
        .filter(code_hash=code_hash, used_at__isnull=True, expires_at__gt=now)
        .first()
    )
    if row is None or row.payload.get("purpose") != user.COOKIE_PURPOSE:
        raise InvalidCode()
    app = row.app
    if not origins.is_allowed_for_app(origin, app):
        raise CsrfFailed(
            "A sessionCode is redeemed from one of the app's origins.",
            code=Code.ORIGIN_NOT_ALLOWED,
        )
    if not app.active:
        raise AuthenticationFailed("The app is disabled.", code=Code.CLIENT_INACTIVE)
    with transaction.atomic():
        claimed = AuthCode.objects.filter(pk=row.pk, used_at__isnull=True).update(used_at=now)
        if claimed != 1:
            raise InvalidCode()
        app_user = AppUser.objects.filter(pk=row.payload.get("userId"), app=app).first()
        if app_user is None:
            raise InvalidCode("The user of this code no longer exists.")
        earlier = cookies.get(usersessions.cookie_name(app, mailbox_info=mailbox_info))
        if earlier and usersessions.looks_like_token(earlier):
            # No fixation: the session this partition had ends with the new sign-in.
            usersessions.revoke_where(token_hash=crypto.hash_token(earlier), user__app=app)
        token = usersessions.start(app_user, user_agent=client.user_agent, ip=client.ip)
    return app, app_user, token


def _flow_extras(row: AuthCode) -> dict[str, Any]:
    """Fields a flow adds to the redemption (the User flow: ``userId``, ``userSession``)."""
    if row.payload.get("kind") == FlowKind.USER:
        return user.redeemed(row)
    return {}


def purge_expired() -> int:
    deleted, _ = AuthCode.objects.filter(expires_at__lt=timezone.now()).delete()
    return deleted
