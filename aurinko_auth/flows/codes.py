"""Redeeming one-time codes: ``POST /v1/auth/token/{code}``."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from aurinko_auth import crypto
from aurinko_auth.errorcodes import Code
from aurinko_auth.exceptions import AurinkoError, InvalidCode
from aurinko_auth.flows import pkce, user
from aurinko_auth.models import AccountToken, App, AuthCode, FlowKind


def redeem(
    app: App, code: str, verifier: str | None = None, *, secret_checked: bool = True
) -> dict[str, Any]:
    """Exchange a code for an account token. Exactly one of any number of concurrent
    redemptions wins: the claim is a single conditional UPDATE, atomic on every database.

    ``secret_checked``: the caller proved the app's client secret; without it the app must be
    a public client. A code whose flow sent a PKCE challenge needs ``verifier`` (whatever the
    client), a code without one is refused with a verifier (OAuth 2.1) or without a secret. A
    failed PKCE check uses the code up (single use: one attempt, RFC 6749 4.1.2)."""
    if not secret_checked and not app.public_client:
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
        refusal = _pkce_refusal(row, verifier, secret_checked=secret_checked)
        if refusal is None:
            return _redeemed(row)
    # Outside the transaction: the claim stays committed, the code is used up.
    raise AurinkoError(refusal, code=Code.PKCE_VERIFIER_INVALID)


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


def _flow_extras(row: AuthCode) -> dict[str, Any]:
    """Fields a flow adds to the redemption (the User flow: ``userId``, ``userSession``)."""
    if row.payload.get("kind") == FlowKind.USER:
        return user.redeemed(row)
    return {}


def purge_expired() -> int:
    deleted, _ = AuthCode.objects.filter(expires_at__lt=timezone.now()).delete()
    return deleted
