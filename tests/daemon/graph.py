"""Microsoft Graph app-only access tokens in the shape Microsoft's token endpoint issues them
(client credentials, v1.0 Graph token: ``nonce`` in the header, ``tid`` ``appid`` ``idtyp``
``roles`` in the claims). The signature is a placeholder: Graph tokens cannot be verified by
a client (the broker reads ``tid`` only, see docs/security.md)."""

from __future__ import annotations

import base64
import json
import secrets
import time


def _segment(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def graph_app_token(tid: str | None, appid: str = "provider-client-id") -> str:
    now = int(time.time())
    header = {
        "typ": "JWT",
        "nonce": secrets.token_urlsafe(32),
        "alg": "RS256",
        "x5t": "KQ2tAcrE7lBaVVGBmc5FobgdJo4",
        "kid": "KQ2tAcrE7lBaVVGBmc5FobgdJo4",
    }
    claims = {
        "aud": "https://graph.microsoft.com",
        "iss": f"https://sts.windows.net/{tid}/",
        "iat": now,
        "nbf": now,
        "exp": now + 3599,
        "aio": "E2ZgYNBj/sandbox=",
        "app_displayname": "aurinko-broker",
        "appid": appid,
        "appidacr": "1",
        "idp": f"https://sts.windows.net/{tid}/",
        "idtyp": "app",
        "oid": "7d3a1f0e-5c55-4b1e-9b8e-0f1f2a3b4c5d",
        "roles": ["Mail.Read", "Calendars.Read"],
        "sub": "7d3a1f0e-5c55-4b1e-9b8e-0f1f2a3b4c5d",
        "tenant_region_scope": "EU",
        "tid": tid,
        "uti": secrets.token_urlsafe(16),
        "ver": "1.0",
        "wids": ["0997a1d0-0d1d-4acb-b408-d5ca73121e90"],
    }
    if tid is None:
        del claims["tid"]
    signature = base64.urlsafe_b64encode(secrets.token_bytes(256)).rstrip(b"=").decode()
    return f"{_segment(header)}.{_segment(claims)}.{signature}"


def ms_app_token_response(tid: str | None, appid: str = "provider-client-id") -> dict:
    """Microsoft's client credentials answer (no refresh token, no scope)."""
    return {
        "token_type": "Bearer",
        "expires_in": 3599,
        "ext_expires_in": 3599,
        "access_token": graph_app_token(tid, appid),
    }
