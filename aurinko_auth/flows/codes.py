"""Redeeming one-time codes: ``POST /v1/auth/token/{code}``."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from aurinko_auth import crypto
from aurinko_auth.exceptions import InvalidCode
from aurinko_auth.flows import user
from aurinko_auth.models import AccountToken, App, AuthCode, FlowKind


def redeem(app: App, code: str) -> dict[str, Any]:
    """Exchange a code for an account token. Exactly one of any number of concurrent
    redemptions wins: the claim is a single conditional UPDATE, atomic on every database."""
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
