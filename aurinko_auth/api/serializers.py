"""JSON shapes of the API (Aurinko's field names)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aurinko_auth.models import Account


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
