"""JSON shapes of the API (Aurinko's field names)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aurinko_auth.models import Account, App, AppUser, UserSession


def isoformat(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def missing_scopes(account: Account, app: App) -> list[str]:
    """Scopes the app requires (``App.required_scopes``, or else what this account last
    requested) that the provider has not granted to this account, in the required order."""
    granted = set(account.scopes or [])
    required = app.required_scopes or account.requested_scopes or []
    return [scope for scope in required if scope not in granted]


# The fields account_json reads (and App.active, which authentication checks): the lean
# GET /v1/account without a token cache selects only these (tests/api/test_lean.py checks
# that account_json on such instances makes no query).
ACCOUNT_JSON_FIELDS = (
    "id",
    "service_type",
    "account_type",
    "daemon",
    "active",
    "login_string",
    "email",
    "name",
    "server_url",
    "auth_user_id",
    "auth_org_id",
    "auth_obtained_at",
    "scopes",
    "requested_scopes",
    "token_status",
)
ACCOUNT_JSON_APP_FIELDS = ("id", "required_scopes", "active")


def account_json(account: Account, app: App | None = None) -> dict[str, Any]:
    """``app`` is the account's app when the caller has it (saves a query per account)."""
    app = app if app is not None else account.app
    granted = list(account.scopes or [])
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
        "scopes": granted,
        "requestedScopes": list(account.requested_scopes or []),
        "grantedScopes": granted,
        "missingScopes": missing_scopes(account, app),
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
        "accounts": [account_json(a, user.app) for a in ordered],
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
