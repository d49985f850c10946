"""What names and what proves an Office 365 tenant: tenant ids and verified domains, the
tenant an app-only token was issued in (``tid``), and the tenant and role of an admin's
verified ID token (``tid``, ``wids``), for the daemon flow (``office365_daemon``)."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

import jwt

from aurinko_auth.errorcodes import Code
from aurinko_auth.exceptions import AccessDenied, InvalidRequest

logger = logging.getLogger("aurinko_auth.daemon")

# The Microsoft Entra roles (their template ids, as in ``wids``) that can grant tenant-wide
# admin consent (learn.microsoft.com, "Grant tenant-wide admin consent to an application").
# The two application roles cannot consent to Microsoft Graph's application permissions:
# Microsoft's consent page refuses them that, not the broker.
CONSENT_ROLES = {
    "62e90394-69f5-4237-9190-012177145e10": "Global Administrator",
    "e8611ab8-c189-46e8-94e1-60213ab1f814": "Privileged Role Administrator",
    "158c047a-c907-4556-b7ef-446551a6b5f7": "Cloud Application Administrator",
    "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3": "Application Administrator",
}

_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_DOMAIN = re.compile(r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$", re.I)


def is_tenant_id(value: str) -> bool:
    return bool(_GUID.match(value or ""))


def is_domain(value: str) -> bool:
    return bool(_DOMAIN.match(value or ""))


def clean_tenant(value: str) -> str:
    """A tenant an admin may consent for: a tenant id (GUID), a verified domain name, or
    ``organizations``. ``common`` and ``consumers`` are refused: personal Microsoft accounts
    cannot give admin consent, and client credentials need a concrete tenant."""
    value = (value or "").strip().lower()
    if value in ("common", "consumers"):
        raise InvalidRequest(
            f"tenant {value!r} cannot give admin consent: use the tenant id, the tenant's "
            "domain name or 'organizations'.",
            code=Code.TENANT_INVALID,
        )
    if value == "organizations" or is_tenant_id(value) or _DOMAIN.match(value):
        return value
    raise InvalidRequest(
        "tenant must be a tenant id (GUID), a domain name or 'organizations'.",
        code=Code.TENANT_INVALID,
    )


def token_tenant(access_token: str) -> str:
    """The tenant id (``tid``) of a Microsoft app-only access token, lower-cased; empty when
    the token carries none.

    The signature is not verified, deliberately (docs/security.md, "Office 365 admin
    consent"): the token is the answer to our own client-authenticated request, read from
    Microsoft's token endpoint over a TLS connection we opened (OpenID Connect Core 3.1.3.7
    allows TLS server authentication in place of the signature for exactly this case), and
    Microsoft Graph tokens are not verifiable by a client anyway (their header's ``nonce`` is
    hashed before signing; only Graph checks them)."""
    try:
        claims = jwt.decode(access_token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return ""
    tid = claims.get("tid")
    return tid.strip().lower() if isinstance(tid, str) and is_tenant_id(tid.strip()) else ""


def signed_in_tenant(claims: Mapping[str, Any]) -> str:
    """The tenant id of an admin's verified Microsoft ID token (``claims``), if its ``wids``
    (directory role template ids) hold a role that can consent; else ``daemon.not_admin``."""
    tid = str(claims.get("tid") or "").strip().lower()
    if not is_tenant_id(tid):
        raise InvalidRequest(
            "Microsoft's ID token names no tenant (tid).", code=Code.TENANT_UNPROVEN
        )
    roles = claims.get("wids")
    if not isinstance(roles, list):
        raise AccessDenied(
            "Microsoft's ID token names no directory roles (wids): the app registration "
            "must emit them (Token configuration, Add groups claim: Directory roles).",
            code=Code.DAEMON_NOT_ADMIN,
        )
    if not {str(r).lower() for r in roles} & set(CONSENT_ROLES):
        logger.info("Office 365 admin sign-in refused: no consent role in wids")
        raise AccessDenied(
            "The signed-in user cannot give admin consent: it takes one of the roles "
            f"{', '.join(CONSENT_ROLES.values())}.",
            code=Code.DAEMON_NOT_ADMIN,
        )
    return tid
