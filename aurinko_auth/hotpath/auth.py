"""Who is calling (:class:`Principal`), and the credentials that need no hot-path query:
parsing ``Authorization``, client credentials, and the CSRF rule of cookie sessions.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from aurinko_auth import crypto
from aurinko_auth.errorcodes import Code
from aurinko_auth.exceptions import AuthenticationFailed, CsrfFailed
from aurinko_auth.models import Account, App, AppUser, UserSession
from aurinko_auth.security import origins


@dataclass
class Principal:
    """Who is calling: an app, and for account tokens the account."""

    app: App
    account: Account | None = None
    via: str = "client"  # "token" | "client" | "session" | "public" (a clientId, no secret)
    user: AppUser | None = None
    session: UserSession | None = None
    from_cookie: bool = False

    is_authenticated = True
    is_anonymous = False


def parse_authorization(header: str) -> tuple[str, str]:
    scheme, _, value = header.partition(" ")
    return scheme.lower(), value.strip()


def app_from_basic(value: str) -> Principal:
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise AuthenticationFailed("Malformed Basic credentials.") from None
    client_id, sep, secret = decoded.partition(":")
    if not sep or not client_id or not secret or len(client_id) > 64:
        raise AuthenticationFailed("Malformed Basic credentials.")
    return app_from_credentials(client_id, secret)


def app_from_credentials(client_id: str, secret: str) -> Principal:
    app = App.objects.filter(client_id=client_id).first()
    # Compare even when the app is unknown, so timing does not reveal which client ids exist.
    stored = app.client_secret_hash if app is not None else crypto.hash_token("")
    if not crypto.check_token(secret, stored) or app is None:
        raise AuthenticationFailed("Invalid client credentials.", code=Code.CLIENT_INVALID)
    if not app.active:
        raise AuthenticationFailed("The app is disabled.", code=Code.CLIENT_INACTIVE)
    return Principal(app=app, via="client")


def public_client(client_id: str) -> Principal:
    """An app named by its client id alone (a public client redeeming a code with PKCE):
    ``via="public"``, which proves nothing but the name."""
    app = App.objects.filter(client_id=client_id[:64]).first() if len(client_id) <= 64 else None
    if app is None:
        raise AuthenticationFailed("Unknown clientId.", code=Code.CLIENT_INVALID)
    if not app.active:
        raise AuthenticationFailed("The app is disabled.", code=Code.CLIENT_INACTIVE)
    return Principal(app=app, via="public")


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def check_csrf(
    principal: Principal, *, method: str, origin: str | None, requested_with: str | None
) -> None:
    """CSRF rule for cookie-authenticated requests that change state: the ``Origin`` must be
    one of the app's origins, or the request carries ``X-Requested-With`` (a header no page
    can send cross-site without passing a CORS preflight, which only allowed origins pass).
    Requests authenticated by a header token carry no ambient credential and need neither."""
    if not principal.from_cookie or method.upper() in SAFE_METHODS:
        return
    if origin and origins.normalize(origin):
        if origins.is_allowed_for_app(origin, principal.app):
            return
        raise CsrfFailed("The request's Origin is not one of the app's origins.")
    if requested_with:
        return
    raise CsrfFailed()
