"""The optional parameters of the authorize endpoints (Aurinko's), parsed in one place.

``nativeScopes``, ``clientOrgId``, ``authEmail``, ``ensureScopes``, ``ensureAccess``,
``recycle``, ``prompt`` and ``serverUrl``: :func:`parse` checks them when a flow starts (an
unknown or unusable value is an error, never silently ignored) and returns them as
:class:`FlowParams` fields; :func:`check_outcome` holds a completed sign-in to them before any
account is written. What a parameter means at one provider (its prompt values, how access is
probed) is the provider's: these functions only ask it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from aurinko_auth.errorcodes import Code
from aurinko_auth.exceptions import AccessUnavailable, InvalidRequest, InvalidScope
from aurinko_auth.flows.state import FlowParams
from aurinko_auth.models import App
from aurinko_auth.providers.base import Profile, Provider, TokenSet
from aurinko_auth.providers.forms import FormSignIn, PasswordProvider
from aurinko_auth.providers.oauth2 import OAuth2Provider
from aurinko_auth.security.transport import is_secure_or_loopback

# Query parameter -> AuthorizeRequest attribute (read with the request's other fields).
PARAMS = {
    "nativeScopes": "native_scopes",
    "clientOrgId": "client_org_id",
    "authEmail": "auth_email",
    "ensureScopes": "ensure_scopes",
    "ensureAccess": "ensure_access",
    "recycle": "recycle",
    "prompt": "prompt",
}
TRUE, FALSE = ("true", "1", "yes"), ("false", "0", "no")
# A provider's native scope: printable ASCII without spaces or commas (URIs included).
_NATIVE = re.compile(r"\A[\x21-\x2b\x2d-\x7e]{1,256}\Z")
_SPLIT = re.compile(r"[\s,]+")
_EMAIL = re.compile(r"\A[^@\s\x00-\x1f]{1,64}@[^@\s\x00-\x1f]{1,255}\Z")
MAX_NATIVE_SCOPES = 50
MAX_CLIENT_ORG_ID = 255


def flag(name: str, value: str, default: bool) -> bool:
    if not value:
        return default
    lowered = value.lower()
    if lowered in TRUE:
        return True
    if lowered in FALSE:
        return False
    raise InvalidRequest(f"{name} must be true or false.")


def native_scopes(value: str, provider: Provider, app: App) -> list[str]:
    """``nativeScopes``: the provider's own scope names, asked for beside the unified ones.
    A native scope that a unified scope the app may not request maps to is refused like that
    scope (the app's allowed scopes hold for native names too)."""
    if not value:
        return []
    if not isinstance(provider, OAuth2Provider) or isinstance(provider, FormSignIn):
        raise InvalidRequest(f"nativeScopes are for OAuth providers; {provider.id} has none.")
    names: list[str] = []
    for part in _SPLIT.split(value.strip()):
        if not part:
            continue
        if not _NATIVE.match(part):
            raise InvalidScope(f"Not a native scope: {part[:64]!r}.")
        if part not in names:
            names.append(part)
    if len(names) > MAX_NATIVE_SCOPES:
        raise InvalidScope(f"At most {MAX_NATIVE_SCOPES} nativeScopes.")
    allowed = set(app.allowed_scopes or [])
    permitted = {n for u, ns in provider.scope_map.items() if u in allowed for n in ns}
    mapped = {n for ns in provider.scope_map.values() for n in ns}
    refused = [n for n in names if n in mapped and n not in permitted]
    if refused:
        raise InvalidScope(
            f"Native scope(s) of scopes this app may not request: {', '.join(refused)}."
        )
    return names


def server_url(value: str, provider: Provider) -> str:
    """``serverUrl``: pre-fills the sign-in form (EWS, IMAP, SugarCRM). The form's own checks
    (the SSRF guard included) still apply to what the user submits."""
    if not value:
        return ""
    if not isinstance(provider, FormSignIn):
        raise InvalidRequest(
            f"serverUrl pre-fills a password sign-in form; {provider.id} signs in with OAuth."
        )
    if len(value) > 2048 or "\x00" in value:
        raise InvalidRequest("serverUrl is too long.")
    if "://" in value and not provider.form_initial(value):
        raise InvalidRequest(f"serverUrl is not a {provider.id} server URL.")
    if value.lower().startswith("http") and not is_secure_or_loopback(value):
        raise InvalidRequest("serverUrl must use https (http only on loopback).")
    return value


def parse(
    query: Mapping[str, str], provider: Provider, app: App, *, server: str = ""
) -> dict[str, Any]:
    """The optional parameters of an authorize request as :class:`FlowParams` fields.
    Raises InvalidRequest / InvalidScope for a value that cannot be honoured."""
    client_org_id = (query.get("clientOrgId") or "").strip()
    if len(client_org_id) > MAX_CLIENT_ORG_ID or "\x00" in client_org_id:
        raise InvalidRequest(f"clientOrgId is longer than {MAX_CLIENT_ORG_ID} characters.")
    auth_email = (query.get("authEmail") or "").strip()
    if auth_email and not _EMAIL.match(auth_email):
        raise InvalidRequest("authEmail is not an e-mail address.")
    ensure_access = flag("ensureAccess", query.get("ensureAccess") or "", False)
    if ensure_access and not (
        isinstance(provider, PasswordProvider)
        or (isinstance(provider, OAuth2Provider) and provider.access_probes)
    ):
        raise InvalidRequest(f"ensureAccess is not supported for {provider.id}.")
    prompt = (query.get("prompt") or "").strip().lower()
    if prompt:
        if not isinstance(provider, OAuth2Provider) or isinstance(provider, FormSignIn):
            raise InvalidRequest(f"prompt is for OAuth providers; {provider.id} has none.")
        if prompt not in provider.prompts:
            known = ", ".join(provider.prompts) or "none"
            raise InvalidRequest(f"{provider.id} takes no prompt {prompt[:32]!r} (known: {known}).")
    return {
        "native_extra": native_scopes(query.get("nativeScopes") or "", provider, app),
        "client_org_id": client_org_id,
        "auth_email": auth_email,
        "ensure_scopes": flag("ensureScopes", query.get("ensureScopes") or "", False),
        "ensure_access": ensure_access,
        "recycle": flag("recycle", query.get("recycle") or "", True),
        "prompt": prompt,
        "server_url": server_url(server, provider),
    }


def check_identity(flow: FlowParams, profile: Profile) -> None:
    """``authEmail``: the identity that signed in must have that address."""
    if not flow.auth_email:
        return
    signed = {a.lower() for a in (profile.email, profile.login_string) if a}
    if flow.auth_email.lower() not in signed:
        raise InvalidRequest(
            f"Sign in as {flow.auth_email}: another identity signed in.",
            code=Code.ACCOUNT_MISMATCH,
        )


def check_outcome(
    flow: FlowParams, provider: OAuth2Provider, config: Any, profile: Profile, tokens: TokenSet
) -> None:
    """Hold an OAuth sign-in to the request before anything is written: ``authEmail``,
    ``ensureScopes`` (every native scope asked for was granted, where the provider says what
    it granted) and ``ensureAccess`` (the provider's probes with the new token)."""
    check_identity(flow, profile)
    if flow.ensure_scopes and tokens.scope is not None:
        granted = set(tokens.scope)
        missing = [n for n in flow.native if n not in granted]
        if missing:
            raise InvalidScope(
                f"The provider granted less than asked: {', '.join(missing)} missing.",
                code=Code.SCOPE_NOT_GRANTED,
            )
    if flow.ensure_access:
        unreachable = provider.check_access(config, tokens, flow.scopes)
        if unreachable:
            raise AccessUnavailable(f"Not reachable with the new grant: {', '.join(unreachable)}.")
