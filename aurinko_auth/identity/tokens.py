"""Host identity tokens verified against an app's :class:`~aurinko_auth.models.IdentityTrust`
(docs/add-ins.md). PyJWT does the verification; this module only says, per token type, which
keys, issuer, audience and claims a token must have, and turns PyJWT's refusals into our codes.

- ``entraIdToken``: Microsoft identity platform v2.0 tokens (NAA, Office SSO). Issuer
  ``https://login.microsoftonline.com/{tid}/v2.0`` (or the trust's, ``{tid}`` filled in), keys
  from Microsoft's common key set (or the trust's key set, or the OpenID metadata of the
  trust's issuer), optional tenant allow-list; subject ``tid:oid``.
- ``googleIdToken``: issuer ``accounts.google.com`` or ``https://accounts.google.com``, Google's
  key set; subject ``sub`` (``hd`` kept).
- ``exchangeIdToken``: legacy Exchange identity tokens. Keys from the ``amurl`` metadata
  document the token names (an x509 certificate per ``x5t``), ``aud`` one of the add-in URLs;
  subject ``amurl|msexchuid`` (an identity is only ever the one its own Exchange server vouches
  for). A trust's ``issuer`` restricts ``amurl`` to URLs starting with it.
"""

from __future__ import annotations

import base64
import hmac
import json
import re
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from aurinko_auth.errorcodes import Code
from aurinko_auth.exceptions import IdentityRefused
from aurinko_auth.identity import keys
from aurinko_auth.models import IdentityTokenType, IdentityTrust

MAX_TOKEN_CHARS = 16 * 1024
LEEWAY = 60  # seconds of clock skew accepted on exp, nbf and iat
ALGORITHMS = ["RS256"]
ENTRA_ISSUER = "https://login.microsoftonline.com/{tid}/v2.0"
# The Microsoft identity platform signs every tenant's tokens with the same published keys: one
# key set for all tenants, so a token naming a made-up tenant triggers no fetch of its own.
ENTRA_JWKS = "https://login.microsoftonline.com/common/discovery/v2.0/keys"
GOOGLE_ISSUERS = ("accounts.google.com", "https://accounts.google.com")
GOOGLE_JWKS = "https://www.googleapis.com/oauth2/v3/certs"
TENANT_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
KEPT_CLAIMS = ("tid", "oid", "sub", "hd", "email", "email_verified", "preferred_username", "name")


@dataclass(frozen=True)
class Verified:
    """A verified token: who it names (``subject``, unique per app and type), what else it
    said that is worth keeping (no secret), and when it stops being valid."""

    token_type: str
    subject: str
    expires_at: int
    claims: dict[str, Any] = field(default_factory=dict)


def refused(message: str, code: Code) -> IdentityRefused:
    return IdentityRefused(message, code=code)


def verify(trust: IdentityTrust, token: str) -> Verified:
    """Verify ``token`` as the trust's type says, or raise :class:`IdentityRefused`."""
    header, unverified = _unverified(token)
    if trust.token_type == IdentityTokenType.ENTRA:
        return _entra(trust, token, header, unverified)
    if trust.token_type == IdentityTokenType.GOOGLE:
        return _google(trust, token, header)
    if trust.token_type == IdentityTokenType.EXCHANGE:
        return _exchange(trust, token, header, unverified)
    raise refused("The app trusts no identity token of this type.", Code.IDENTITY_UNTRUSTED)


def _unverified(token: str) -> tuple[dict, dict]:
    """The header and claims, read before anything is fetched: size, shape and algorithm."""
    if len(token) > MAX_TOKEN_CHARS:
        raise refused("The identity token is too large.", Code.IDENTITY_TOO_LARGE)
    if not token.isascii() or token.count(".") != 2:
        raise refused("The identity token is not a JWT.", Code.IDENTITY_MALFORMED)
    try:
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise refused(
            "The identity token is not a readable JWT.", Code.IDENTITY_MALFORMED
        ) from None
    if header.get("alg") not in ALGORITHMS:
        raise refused(
            f"Identity tokens must be signed with RS256, not {str(header.get('alg'))[:20]!r}.",
            Code.IDENTITY_ALGORITHM,
        )
    return header, claims


def _kid(header: dict, name: str = "kid") -> str:
    kid = header.get(name)
    if not isinstance(kid, str) or not kid or len(kid) > 200:
        raise refused(f"The identity token's header names no {name}.", Code.IDENTITY_MALFORMED)
    return kid


# PyJWT's refusals, most specific first, as ours (any other PyJWTError is a malformed token).
_REFUSALS: tuple[tuple[type[Exception], str, Code], ...] = (
    (jwt.ExpiredSignatureError, "The identity token has expired.", Code.IDENTITY_EXPIRED),
    (
        jwt.ImmatureSignatureError,
        "The identity token is not valid yet.",
        Code.IDENTITY_NOT_YET_VALID,
    ),
    (
        jwt.InvalidAudienceError,
        "The identity token is for another audience than this app's.",
        Code.IDENTITY_AUDIENCE,
    ),
    (jwt.InvalidIssuerError, "The identity token is from another issuer.", Code.IDENTITY_ISSUER),
    (
        jwt.InvalidSignatureError,
        "The identity token's signature is invalid.",
        Code.IDENTITY_SIGNATURE,
    ),
    (
        jwt.InvalidAlgorithmError,
        "Identity tokens must be signed with RS256.",
        Code.IDENTITY_ALGORITHM,
    ),
)


def _decode(token: str, key: Any, *, audiences: list, issuer: Any, require: list[str]) -> dict:
    try:
        return jwt.decode(
            token,
            key,
            algorithms=ALGORITHMS,
            audience=list(audiences),
            issuer=issuer,
            leeway=LEEWAY,
            options={"require": require, "strict_aud": False},
        )
    except jwt.PyJWTError as exc:
        for kind, message, code in _REFUSALS:
            if isinstance(exc, kind):
                raise refused(message, code) from None
        raise refused(
            f"The identity token was refused: {type(exc).__name__}.", Code.IDENTITY_MALFORMED
        ) from None


def _kept(claims: dict) -> dict:
    return {k: claims[k] for k in KEPT_CLAIMS if k in claims}


def parse_jwks(document: dict) -> keys.Parsed:
    found = {}
    for entry in document["keys"]:
        if not isinstance(entry, dict) or entry.get("kty") != "RSA" or "kid" not in entry:
            continue
        if entry.get("use", "sig") != "sig":
            continue
        found[str(entry["kid"])] = jwt.PyJWK(entry, algorithm="RS256").key
    return {"keys": found}


def parse_metadata(document: dict) -> keys.Parsed:
    uri = document["jwks_uri"]
    if not isinstance(uri, str):
        raise TypeError("jwks_uri")
    return {"jwks_uri": uri, "issuer": document.get("issuer")}


def _jwks_of(issuer: str) -> str:
    metadata = keys.document(
        f"{issuer.rstrip('/')}/.well-known/openid-configuration", parse_metadata
    )
    return metadata["jwks_uri"]


def _entra(trust: IdentityTrust, token: str, header: dict, unverified: dict) -> Verified:
    tid = str(unverified.get("tid") or "").lower()
    if not TENANT_ID.fullmatch(tid):
        raise refused("The Entra ID token names no tenant (tid).", Code.IDENTITY_MALFORMED)
    if trust.tenants and tid not in {str(t).lower() for t in trust.tenants}:
        raise refused("The token's tenant is not one the app allows.", Code.IDENTITY_TENANT)
    issuer = (trust.issuer or ENTRA_ISSUER).replace("{tid}", tid)
    if trust.jwks_url:
        jwks_url = trust.jwks_url.replace("{tid}", tid)
    else:  # the issuer's OpenID metadata names its keys; Microsoft's: one set for all
        jwks_url = _jwks_of(issuer) if trust.issuer else ENTRA_JWKS
    key, _ = keys.key(jwks_url, _kid(header), parse_jwks)
    claims = _decode(
        token,
        key,
        audiences=trust.audiences,
        issuer=issuer,
        require=["exp", "iat", "nbf", "iss", "aud", "tid", "oid"],
    )
    if str(claims["tid"]).lower() != tid or not claims["oid"]:
        raise refused("The Entra ID token names no user (oid).", Code.IDENTITY_MALFORMED)
    return Verified(trust.token_type, f"{tid}:{claims['oid']}", int(claims["exp"]), _kept(claims))


def _google(trust: IdentityTrust, token: str, header: dict) -> Verified:
    issuers = [trust.issuer] if trust.issuer else list(GOOGLE_ISSUERS)
    jwks_url = trust.jwks_url or (_jwks_of(trust.issuer) if trust.issuer else GOOGLE_JWKS)
    key, _ = keys.key(jwks_url, _kid(header), parse_jwks)
    claims = _decode(
        token,
        key,
        audiences=trust.audiences,
        issuer=issuers,
        require=["exp", "iat", "iss", "aud", "sub"],
    )
    if not isinstance(claims["sub"], str) or not claims["sub"]:
        raise refused("The Google ID token names no user (sub).", Code.IDENTITY_MALFORMED)
    return Verified(trust.token_type, claims["sub"], int(claims["exp"]), _kept(claims))


def parse_exchange_metadata(document: dict) -> keys.Parsed:
    """Exchange's authentication metadata document: ``token_issuer`` and x509 certificates
    keyed by their ``x5t`` thumbprint."""
    found = {}
    for entry in document["keys"]:
        info, value = entry.get("keyinfo") or {}, entry.get("keyvalue") or {}
        if value.get("type") != "x509Certificate" or not info.get("x5t"):
            continue
        certificate = x509.load_der_x509_certificate(base64.b64decode(value["value"]))
        public_key = certificate.public_key()
        if isinstance(public_key, rsa.RSAPublicKey):
            found[str(info["x5t"])] = public_key
    return {"keys": found, "issuer": str(document["token_issuer"])}


def _exchange(trust: IdentityTrust, token: str, header: dict, unverified: dict) -> Verified:
    try:
        appctx = json.loads(unverified.get("appctx") or "")
        msexchuid, amurl = str(appctx["msexchuid"]), str(appctx["amurl"])
    except (ValueError, TypeError, KeyError):
        raise refused(
            "The Exchange identity token has no appctx with msexchuid and amurl.",
            Code.IDENTITY_MALFORMED,
        ) from None
    if not msexchuid or not amurl:
        raise refused("The Exchange identity token names no user.", Code.IDENTITY_MALFORMED)
    if trust.issuer and not amurl.startswith(trust.issuer):
        raise refused("The token's Exchange server is not the app's.", Code.IDENTITY_ISSUER)
    key, metadata = keys.key(amurl, _kid(header, "x5t"), parse_exchange_metadata)
    claims = _decode(
        token, key, audiences=trust.audiences, issuer=None, require=["exp", "nbf", "aud", "iss"]
    )
    if str(claims["iss"]).split("@", 1)[0] != metadata["issuer"]:
        raise refused("The token's issuer is not its Exchange server's.", Code.IDENTITY_ISSUER)
    kept = {"msexchuid": msexchuid, "amurl": amurl}
    return Verified(trust.token_type, f"{amurl}|{msexchuid}", int(claims["exp"]), kept)


def verify_id_token(
    token: str, *, jwks_url: str, issuer: str, audience: str, nonce: str
) -> dict[str, Any]:
    """An OpenID Connect ID token the broker redeemed itself (the daemon flow's admin sign-in,
    docs/security.md): RS256 with a key of ``jwks_url`` (fetched and cached like every issuer's
    keys), ``iss`` exactly ``issuer`` (``{tid}`` filled with the token's tenant id: Microsoft's
    issuer names the tenant), ``aud`` our client id, unexpired, and the ``nonce`` this sign-in
    sent. Its claims, or :class:`IdentityRefused`. Verified even though it came from the token
    endpoint over TLS: its ``tid`` and ``wids`` then rest on the issuer's signature, not on the
    transport alone (an endpoint override, a proxy)."""
    if not token:
        raise refused("The provider returned no ID token.", Code.IDENTITY_MALFORMED)
    header, unverified = _unverified(token)
    if "{tid}" in issuer:
        tid = str(unverified.get("tid") or "").lower()
        if not TENANT_ID.fullmatch(tid):
            raise refused("The ID token names no tenant (tid).", Code.IDENTITY_MALFORMED)
        issuer = issuer.replace("{tid}", tid)
    key, _ = keys.key(jwks_url, _kid(header), parse_jwks)
    claims = _decode(
        token,
        key,
        audiences=[audience],
        issuer=issuer,
        require=["exp", "iat", "iss", "aud", "nonce"],
    )
    if not nonce or not hmac.compare_digest(str(claims["nonce"]), nonce):
        raise refused("The ID token was issued for another sign-in (nonce).", Code.IDENTITY_NONCE)
    return claims
