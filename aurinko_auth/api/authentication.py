"""DRF authentication classes over the hot path (:mod:`aurinko_auth.hotpath`), and the
message that says which credentials an endpoint expects when none it accepts arrived."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from django.http import HttpRequest
from rest_framework import authentication
from rest_framework.request import Request

from aurinko_auth import crypto, usersessions
from aurinko_auth.hotpath import auth, sessions, tokens
from aurinko_auth.identity import principals as identity_principals
from aurinko_auth.models import UserSession

# Where AccountTokenAuthentication.refused keeps a token the lean GET /v1/account refused.
_REFUSED = "aurinko_refused_bearer"
# Where UserSessionAuthentication.refused keeps what the lean GET /v1/user refused.
_REFUSED_SESSION = "aurinko_refused_session"
# Where UserSessionAuthentication.principal keeps an identity-token request's user.
_IDENTITY = "aurinko_identity_principal"


class AccountTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer <account token>``."""

    expects = "an account token (Authorization: Bearer aat_...)"

    def authenticate(self, request: Request) -> tuple[auth.Principal, str] | None:
        scheme, value = auth.parse_authorization(request.META.get("HTTP_AUTHORIZATION", ""))
        if scheme != "bearer" or not value:
            return None
        if identity_principals.has_identity_headers(request.META):
            return None  # a host identity token: UserSessionAuthentication's
        # The lean GET /v1/account (api/lean.py) may have looked this token up already.
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

    expects = (
        "the app's client credentials (Authorization: Basic base64(clientId:clientSecret), "
        "or X-Aurinko-ClientId and X-Aurinko-ClientSecret)"
    )

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


class PublicClientAuthentication(authentication.BaseAuthentication):
    """A public client (PKCE) names itself without a secret: ``X-Aurinko-ClientId`` alone,
    or ``clientId`` (``client_id``) in the query or the body. Only the token endpoint takes
    it, and only with a PKCE verifier (flows/codes.py decides)."""

    expects = "a public client's clientId with code_verifier (PKCE)"

    def authenticate(self, request: Request) -> tuple[auth.Principal, Any] | None:
        meta = request.META
        client_id = meta.get("HTTP_X_AURINKO_CLIENTID") or meta.get("HTTP_X_AURINKO_CLIENT_ID")
        for source in (request.query_params, request.data):
            if client_id or not hasattr(source, "get"):
                break
            value = source.get("clientId") or source.get("client_id")
            client_id = value if isinstance(value, str) else None
        if not client_id:
            return None
        return auth.public_client(client_id), None

    def authenticate_header(self, request: Request) -> str:
        return 'Basic realm="aurinko"'


class UserSessionAuthentication(authentication.BaseAuthentication):
    """A User-flow session: ``X-Aurinko-Session: <userSession>`` or the ``AUR{appId}`` cookie.
    Cookie-authenticated requests that change state pass the CSRF rule of
    :func:`aurinko_auth.hotpath.auth.check_csrf`; an unknown or ended session is a 401."""

    expects = (
        "a user session (X-Aurinko-Session: aus_..., or the session cookie) or a host "
        "identity token (X-Aurinko-AuthType, Authorization: Bearer, X-Aurinko-ClientId)"
    )

    def authenticate(self, request: Request) -> tuple[auth.Principal, Any] | None:
        # The lean GET /v1/user (api/lean.py) may have looked this request's session up.
        refused = getattr(request, _REFUSED_SESSION, None)
        if refused is not None:
            raise refused
        principal = self.principal(request)
        return (principal, principal.session) if principal is not None else None

    @staticmethod
    def principal(
        request: HttpRequest | Request,
        find: Callable[[Iterable[str]], list[UserSession]] = usersessions.find,
    ) -> auth.Principal | None:
        """The request's signed-in user (None without a session credential), having passed
        the CSRF rule; ``find`` as :func:`~aurinko_auth.hotpath.sessions.user_from_session`'s."""
        meta = request.META
        if identity_principals.has_identity_headers(meta):
            # A host identity token instead of a session (docs/add-ins.md), verified once
            # per request: the lean GET /v1/user hands it on to the DRF view.
            found = getattr(request, _IDENTITY, None)
            if found is None:
                found = identity_principals.principal(meta)
                setattr(request, _IDENTITY, found)
            return found
        client_id = (
            meta.get("HTTP_X_AURINKO_CLIENTID")
            or meta.get("HTTP_X_AURINKO_CLIENT_ID")
            or request.GET.get("clientId")
        )
        principal = sessions.user_from_session(
            header=meta.get("HTTP_X_AURINKO_SESSION"),
            cookies=request.COOKIES,
            origin=meta.get("HTTP_ORIGIN"),
            client_id=client_id,
            find=find,
            mailbox_info=usersessions.checked_mailbox_info(
                meta.get(usersessions.MAILBOX_INFO_HEADER)
            ),
        )
        if principal is None:
            return None
        auth.check_csrf(
            principal,
            method=request.method or "GET",
            origin=meta.get("HTTP_ORIGIN"),
            requested_with=meta.get("HTTP_X_REQUESTED_WITH"),
        )
        return principal

    @staticmethod
    def refused(request: HttpRequest, error: Exception) -> None:
        """Record that this request's session was already looked up and refused with
        ``error``: authenticating the request raises it again without a second query."""
        setattr(request, _REFUSED_SESSION, error)

    def authenticate_header(self, request: Request) -> str:
        return 'Session realm="aurinko"'


# What a request sent, by scheme: named in the message, never echoed (the value is a secret).
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,19}")
_SCHEME_OF_CLASS = {AccountTokenAuthentication: "bearer", ClientCredentialsAuthentication: "basic"}


def _sent(meta: dict[str, Any], accepted_schemes: set[str]) -> str:
    header = str(meta.get("HTTP_AUTHORIZATION", "")).strip()
    if not header:
        if meta.get("HTTP_X_AURINKO_CLIENTID") or meta.get("HTTP_X_AURINKO_CLIENT_ID"):
            return "X-Aurinko-ClientId arrived without X-Aurinko-ClientSecret."
        return "No credentials arrived."
    scheme, value = auth.parse_authorization(header)
    if not value:
        # One word: a bare token ("Authorization: aat_..."), or a scheme with nothing after it.
        if header.startswith((crypto.PREFIX_ACCOUNT_TOKEN, crypto.PREFIX_SESSION)):
            return (
                "The Authorization header holds a bare token without a scheme: write "
                "'Authorization: Bearer <token>'."
            )
        return "The Authorization header has no credentials after its scheme."
    named = f"'{header.split(' ', 1)[0]}'" if _SCHEME.fullmatch(header.split(" ", 1)[0]) else "its"
    if scheme in ("bearer", "basic") and scheme not in accepted_schemes:
        kind = "An account token (Bearer)" if scheme == "bearer" else "Basic client credentials"
        return f"{kind} is not accepted by this endpoint."
    if scheme not in ("bearer", "basic"):
        hint = " (account tokens go as 'Bearer aat_...')" if scheme == "token" else ""
        return f"The Authorization scheme {named} is not one this API accepts{hint}."
    return "The credentials arrived in a form this endpoint does not read."


def missing_credentials_message(meta: dict[str, Any], classes: Iterable[type]) -> str:
    """Why a request is unauthenticated, and which form of credentials the endpoint expects:
    ``meta`` is the request's META, ``classes`` the view's authentication classes. Names
    schemes and headers only; never repeats a credential."""
    classes = list(classes)
    expected = [str(getattr(cls, "expects", "")) for cls in classes if getattr(cls, "expects", "")]
    accepted = {_SCHEME_OF_CLASS[cls] for cls in classes if cls in _SCHEME_OF_CLASS}
    sent = _sent(meta, accepted)
    if not expected:
        return sent
    return f"{sent} This endpoint expects {' or '.join(expected)}."
