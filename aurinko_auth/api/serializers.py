"""JSON shapes of the API (Aurinko's field names)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aurinko_auth.models import Account, AppUser, UserSession


def isoformat(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def account_json(account: Account) -> dict[str, Any]:
    return {
        "id": account.pk,
        "serviceType": account.service_type,
        "type": account.account_type or None,
        "daemon": account.daemon,
        "active": account.active,
        "loginString": account.login_string,
        "email": account.email,
        "name": account.name,
        "serverUrl": account.server_url or None,
        "authUserId": account.auth_user_id,
        "authOrgId": account.auth_org_id or None,
        "authObtainedAt": isoformat(account.auth_obtained_at),
        "scopes": list(account.scopes or []),
        "tokenStatus": account.public_token_status,
    }


def user_json(user: AppUser, accounts: list[Account]) -> dict[str, Any]:
    """A user and its accounts, the primary account first."""
    ordered = sorted(accounts, key=lambda a: (a.account_type != Account.Type.PRIMARY, a.pk))
    return {
        "id": str(user.pk),
        "appId": user.app_id,
        "email": user.email,
        "authOrgId": user.auth_org_id or None,
        "trustedIdentity": user.trusted_identity,
        "accounts": [account_json(a) for a in ordered],
    }


def session_json(session: UserSession, current: UserSession | None) -> dict[str, Any]:
    return {
        "id": session.pk,
        "current": current is not None and session.pk == current.pk,
        "createdAt": isoformat(session.created_at),
        "lastUsedAt": isoformat(session.last_used_at),
        "expiresAt": isoformat(session.expires_at),
        "userAgent": session.user_agent,
        "ip": session.ip,
    }
