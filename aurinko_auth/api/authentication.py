"""DRF authentication classes over the hot path (:mod:`aurinko_auth.hotpath`)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from rest_framework import authentication
from rest_framework.request import Request

from aurinko_auth.hotpath import auth, sessions, tokens

# Where AccountTokenAuthentication.refused keeps a token the lean GET /v1/account refused.
_REFUSED = "aurinko_refused_bearer"


class AccountTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer <account token>``."""

    def authenticate(self, request: Request) -> tuple[auth.Principal, str] | None:
        scheme, value = auth.parse_authorization(request.META.get("HTTP_AUTHORIZATION", ""))
        if scheme != "bearer" or not value:
            return None
        # The lean GET /v1/account (hotpath/lean.py) may have looked this token up already.
        refused = getattr(request, _REFUSED, None)  # DRF's Request reads the HttpRequest's
        if refused is not None and refused[0] == value:
            raise refused[1]
        return tokens.account_from_token(value), value

    @staticmethod
    def refused(request: HttpRequest, token: str, error: Exception) -> None:
        """Record that ``token`` was already looked up for this request and refused with
        ``error``: authenticating the request raises it again without a second query."""
        setattr(request, _REFUSED, (token, error))

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
        secret = meta.get("HTTP_X_AURINKO_CLIENTSECRET") or meta.get("HTTP_X_AURINKO_CLIENT_SECRET")
        if client_id and secret:
            return auth.app_from_credentials(client_id, secret), None
        return None

    def authenticate_header(self, request: Request) -> str:
        return 'Basic realm="aurinko"'


class UserSessionAuthentication(authentication.BaseAuthentication):
    """A User-flow session: ``X-Aurinko-Session: <userSession>`` or the ``AUR{appId}`` cookie.
    Cookie-authenticated requests that change state pass the CSRF rule of
    :func:`aurinko_auth.hotpath.auth.check_csrf`; an unknown or ended session is a 401."""

    def authenticate(self, request: Request) -> tuple[auth.Principal, Any] | None:
        meta = request.META
        client_id = (
            meta.get("HTTP_X_AURINKO_CLIENTID")
            or meta.get("HTTP_X_AURINKO_CLIENT_ID")
            or request.query_params.get("clientId")
        )
        principal = sessions.user_from_session(
            header=meta.get("HTTP_X_AURINKO_SESSION"),
            cookies=request.COOKIES,
            origin=meta.get("HTTP_ORIGIN"),
            client_id=client_id,
        )
        if principal is None:
            return None
        auth.check_csrf(
            principal,
            method=request.method or "GET",
            origin=meta.get("HTTP_ORIGIN"),
            requested_with=meta.get("HTTP_X_REQUESTED_WITH"),
        )
        return principal, principal.session

    def authenticate_header(self, request: Request) -> str:
        return 'Session realm="aurinko"'
