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

# RFC 7636 4.1/4.2: a verifier is 43 to 128 unreserved characters; an S256 challenge is the
# 43-character BASE64URL of a SHA-256 digest.
_VERIFIER = re.compile(r"\A[A-Za-z0-9._~-]{43,128}\Z")
_S256_CHALLENGE = re.compile(r"\A[A-Za-z0-9_-]{43}\Z")
CHALLENGE_KEY = "codeChallenge"  # in AuthCode.payload


def parse_challenge(app: App, challenge: str, method: str) -> str:
    """The ``code_challenge`` of a flow's authorize request ("" without one). A public
    client must send one; a confidential app may (its code then needs the verifier too)."""
    if not challenge:
        if method:
            raise InvalidRequest(
                "code_challenge_method without code_challenge.", code=Code.PKCE_CHALLENGE_INVALID
            )
        if app.public_client:
            raise InvalidRequest(
                "This app is a public client: start the flow with code_challenge and "
                "code_challenge_method=S256 (RFC 7636).",
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


def payload(challenge: str) -> dict[str, str]:
    """What a one-time code carries of its flow's challenge (checked when it is redeemed)."""
    return {CHALLENGE_KEY: challenge} if challenge else {}


def verifies(verifier: str | None, challenge: str) -> bool:
    """Whether ``verifier`` is the one ``challenge`` was made from."""
    if not verifier or not _VERIFIER.match(verifier):
        return False
    return bool(code_challenge_method_s256(verifier, challenge))
