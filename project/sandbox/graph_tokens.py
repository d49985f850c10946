"""Microsoft Graph-like app-only access tokens for the sandbox's per-tenant token endpoint.

Microsoft's client credentials grant answers a JWT whose claims name the tenant it was issued
in (``tid``), the app (``appid``) and the kind of caller (``idtyp: app``); the broker reads
``tid`` to bind an admin consent to the tenant Microsoft proves (issue 19 item 6). The
sandbox issues the same shape, signed RS256 with its OpenID Connect key (the ``kid`` of
``/sandbox/o/.well-known/jwks.json``), for both ways a client authenticates: a secret
(django-oauth-toolkit's token endpoint, through ``ACCESS_TOKEN_GENERATOR``) and a
certificate (``daemon._certificate_token``).

Sandbox tenants and their verified domains: ``tenants.py``.
"""

from __future__ import annotations

import re
import secrets
import time
import uuid
from typing import Any
from urllib.parse import urlsplit

import jwt
from oauth2_provider.settings import oauth2_settings
from oauth2_provider.utils import jwk_from_pem
from oauthlib.oauth2.rfc6749.tokens import random_token_generator

from project.sandbox.tenants import tenant_id

GRAPH = "https://graph.microsoft.com"
_TENANT_PATH = re.compile(r"/t/([^/]+)/token/$")


def graph_app_token(client_id: str, tid: str, seconds: int) -> str:
    now = int(time.time())
    key = oauth2_settings.OIDC_RSA_PRIVATE_KEY
    object_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{tid}/{client_id}"))
    claims: dict[str, Any] = {
        "aud": GRAPH,
        "iss": f"https://sts.windows.net/{tid}/",
        "iat": now,
        "nbf": now,
        "exp": now + seconds,
        "appid": client_id,
        "appidacr": "1",
        "idp": f"https://sts.windows.net/{tid}/",
        "idtyp": "app",
        "oid": object_id,
        "sub": object_id,
        "roles": [],
        "tid": tid,
        "uti": secrets.token_urlsafe(16),
        "ver": "1.0",
    }
    return jwt.encode(
        claims, key, algorithm="RS256", headers={"kid": jwk_from_pem(key).thumbprint()}
    )


def access_token_generator(request: Any, refresh_token: bool = False) -> str:
    """django-oauth-toolkit's ``ACCESS_TOKEN_GENERATOR``: a Graph-like JWT for client
    credentials at a tenant's token endpoint, django-oauth-toolkit's random token otherwise."""
    match = _TENANT_PATH.search(urlsplit(request.uri or "").path)
    tid = tenant_id(match.group(1)) if match else None
    if request.grant_type == "client_credentials" and tid:
        client_id = getattr(request.client, "client_id", None) or request.client_id
        return graph_app_token(client_id, tid, request.expires_in or 3600)
    return random_token_generator(request)
