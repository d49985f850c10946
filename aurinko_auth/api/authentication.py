"""DRF authentication classes over :mod:`aurinko_auth.auth`."""

from __future__ import annotations

from typing import Any

from rest_framework import authentication
from rest_framework.request import Request

from aurinko_auth import auth


class AccountTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer <account token>``."""

    def authenticate(self, request: Request) -> tuple[auth.Principal, str] | None:
        scheme, value = auth.parse_authorization(request.META.get("HTTP_AUTHORIZATION", ""))
        if scheme != "bearer" or not value:
            return None
        return auth.account_from_token(value), value

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="aurinko"'


class ClientCredentialsAuthentication(authentication.BaseAuthentication):
    """``Authorization: Basic base64(clientId:clientSecret)``, or the headers
    ``X-Aurinko-ClientId`` (``X-Aurinko-Client-Id``) and ``X-Aurinko-ClientSecret``."""

    def authenticate(self, request: Request) -> tuple[auth.Principal, Any] | None:
        scheme, value = auth.parse_authorization(request.META.get("HTTP_AUTHORIZATION", ""))
        if scheme == "basic" and value:
            return auth.app_from_basic(value), None
        meta = request.META
        client_id = meta.get("HTTP_X_AURINKO_CLIENTID") or meta.get("HTTP_X_AURINKO_CLIENT_ID")
        secret = meta.get("HTTP_X_AURINKO_CLIENTSECRET") or meta.get(
            "HTTP_X_AURINKO_CLIENT_SECRET")
        if client_id and secret:
            return auth.app_from_credentials(client_id, secret), None
        return None

    def authenticate_header(self, request: Request) -> str:
        return 'Basic realm="aurinko"'
