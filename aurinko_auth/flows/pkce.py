"""PKCE (RFC 7636) between an app and the broker: public clients (pages and extensions that
keep no secret) start a flow with ``code_challenge`` and redeem its code with
``code_verifier`` instead of the client secret.

Only ``S256`` is accepted (``plain`` would let whoever sees the authorize URL redeem the
code). The challenge is not a secret: it rides in the flow's parameters and then in the code's
payload; the verifier is checked by oauthlib's ``code_challenge_method_s256``
(BASE64URL(SHA256(verifier)) compared in constant time)."""

from __future__ import annotations

import re

from oauthlib.oauth2.rfc6749.grant_types.authorization_code import code_challenge_method_s256

from aurinko_auth.errorcodes import Code
from aurinko_auth.exceptions import InvalidRequest
from aurinko_auth.models import App
from aurinko_auth.security import returnurls

# RFC 7636 4.1/4.2: a verifier is 43 to 128 unreserved characters; an S256 challenge is the
# 43-character BASE64URL of a SHA-256 digest.
_VERIFIER = re.compile(r"\A[A-Za-z0-9._~-]{43,128}\Z")
_S256_CHALLENGE = re.compile(r"\A[A-Za-z0-9_-]{43}\Z")
CHALLENGE_KEY = "codeChallenge"  # in AuthCode.payload
PUBLIC_KEY = "publicClient"  # in AuthCode.payload: redeemable without the secret


def is_public(app: App, return_url: str) -> bool:
    """Whether a flow returning to ``return_url`` is a public client's: every flow of a public
    client, and a confidential app's flows to one of its public return URLs."""
    if app.public_client:
        return True
    registered = app.public_return_urls or []
    return bool(return_url and registered) and returnurls.matches_any(return_url, registered)


def parse_challenge(challenge: str, method: str, *, public: bool) -> str:
    """The ``code_challenge`` of a flow's authorize request ("" without one). A ``public``
    flow (:func:`is_public`) must send one; any other may (its code then needs the verifier
    too)."""
    if not challenge:
        if method:
            raise InvalidRequest(
                "code_challenge_method without code_challenge.", code=Code.PKCE_CHALLENGE_INVALID
            )
        if public:
            raise InvalidRequest(
                "This app is a public client (or the returnUrl is one of its public return "
                "URLs): start the flow with code_challenge and code_challenge_method=S256 "
                "(RFC 7636).",
                code=Code.PKCE_REQUIRED,
            )
        return ""
    if method != "S256":
        raise InvalidRequest(
            "code_challenge_method must be S256 (plain is refused)"
            + ("." if method else "; it is missing (RFC 7636 would default to plain)."),
            code=Code.PKCE_METHOD_UNSUPPORTED,
        )
    if not _S256_CHALLENGE.match(challenge):
        raise InvalidRequest(
            "code_challenge must be BASE64URL(SHA256(code_verifier)): 43 characters of "
            "A-Z a-z 0-9 - _ without padding.",
            code=Code.PKCE_CHALLENGE_INVALID,
        )
    return challenge


def payload(challenge: str, *, public: bool = False) -> dict[str, str | bool]:
    """What a one-time code carries of its flow's challenge (checked when it is redeemed) and
    whether the flow was a public client's (its code is then redeemed without the secret)."""
    carried: dict[str, str | bool] = {CHALLENGE_KEY: challenge} if challenge else {}
    if public and challenge:
        carried[PUBLIC_KEY] = True
    return carried


def verifies(verifier: str | None, challenge: str) -> bool:
    """Whether ``verifier`` is the one ``challenge`` was made from."""
    if not verifier or not _VERIFIER.match(verifier):
        return False
    return bool(code_challenge_method_s256(verifier, challenge))
