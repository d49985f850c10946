"""Pending authorizations: server-side, single use, expiring, bound to one browser.

The value sent to the provider as ``state`` is a random token; only its SHA-256 is stored.
The browser that started the flow holds a random *browser id* in a cookie (its own cookie,
independent of any app session); the state row stores that id's hash. Any number of flows may
run at once in one browser: they share the browser id and differ by state.

What the flow needs back at the callback (the caller's returnUrl, state, scopes, ...) is one
:class:`FlowParams`, written to the row's ``params`` JSON by :func:`create` and read back by
:func:`params_of`: the only two places that know its JSON keys.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.utils import timezone

from aurinko_auth import crypto, usersessions
from aurinko_auth.conf import aurinko_settings
from aurinko_auth.errorcodes import Code
from aurinko_auth.exceptions import StateError
from aurinko_auth.models import App, AuthState


@dataclass(frozen=True)
class ClientInfo:
    """The browser that signs in (User flow), recorded on its session."""

    user_agent: str = ""
    ip: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"userAgent": self.user_agent[: usersessions.MAX_USER_AGENT], "ip": self.ip}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> ClientInfo:
        data = data or {}
        return cls(user_agent=data.get("userAgent") or "", ip=data.get("ip"))


def _key(name: str) -> dict[str, str]:
    return {"key": name}


@dataclass(frozen=True)
class FlowParams:
    """A pending authorization's parameters: the caller's request and what the flow decided
    when it started. Nothing secret (that goes to ``secrets``). Each field's JSON key in
    ``AuthState.params`` is its ``key`` metadata (Aurinko's camelCase)."""

    return_url: str = field(default="", metadata=_key("returnUrl"))
    state: str = field(default="", metadata=_key("state"))
    # code / token (Account, daemon); cookie / code / none (User)
    response_type: str = field(default="", metadata=_key("responseType"))
    scopes: list[str] = field(default_factory=list, metadata=_key("scopes"))  # unified
    native: list[str] = field(default_factory=list, metadata=_key("native"))
    # The provider's consent screen was already forced once (Google's refresh token).
    consent_forced: bool = field(default=False, metadata=_key("consentForced"))
    # Every flow: the account being re-authorized (``accountId``).
    account_id: int | None = field(default=None, metadata=_key("accountId"))
    # The optional authorize parameters (flows/options.py): native scopes asked for beside
    # the unified ones, the app's org id for the account, the identity that must sign in, the
    # checks of the outcome, whether an existing account may be reused, the provider prompt,
    # the server pre-filled on the sign-in form.
    native_extra: list[str] = field(default_factory=list, metadata=_key("nativeScopes"))
    client_org_id: str = field(default="", metadata=_key("clientOrgId"))
    auth_email: str = field(default="", metadata=_key("authEmail"))
    ensure_scopes: bool = field(default=False, metadata=_key("ensureScopes"))
    ensure_access: bool = field(default=False, metadata=_key("ensureAccess"))
    recycle: bool = field(default=True, metadata=_key("recycle"))
    prompt: str = field(default="", metadata=_key("prompt"))
    server_url: str = field(default="", metadata=_key("serverUrl"))
    # User flow: primary / secondary, the signing-in browser, the user a secondary account
    # joins (and the session that vouched for it), the session a primary sign-in replaces.
    role: str = field(default="", metadata=_key("role"))
    client: ClientInfo = field(default_factory=ClientInfo, metadata=_key("client"))
    user_id: str | None = field(default=None, metadata=_key("userId"))
    session_id: int | None = field(default=None, metadata=_key("sessionId"))
    replaces_session: int | None = field(default=None, metadata=_key("replacesSession"))
    # Multi-client setups: the mailbox whose session cookie this sign-in reads and sets.
    mailbox_info: str = field(default="", metadata=_key("mailboxInfo"))
    # A primary sign-in bound to a host identity (POST /v1/auth/prepare's token, claimed).
    prepared_id: int | None = field(default=None, metadata=_key("preparedAuth"))
    # Service accounts: the Office 365 tenant asked for, and the tenant id the admin's
    # verified OpenID sign-in proved (an "organizations" consent is then asked for exactly
    # that tenant); Google's delegated scopes (the admin's own sign-in asks for identity only).
    tenant: str = field(default="", metadata=_key("tenant"))
    proven_tenant: str = field(default="", metadata=_key("provenTenant"))
    daemon_scopes: list[str] = field(default_factory=list, metadata=_key("daemonScopes"))
    daemon_native: list[str] = field(default_factory=list, metadata=_key("daemonNative"))
    # The app's PKCE challenge (S256, flows/pkce.py): not a secret; its code carries it.
    code_challenge: str = field(default="", metadata=_key("codeChallenge"))
    # The redirect_uri the provider was sent (the app's redirect page, or our callback): the
    # token request repeats it exactly (RFC 6749 4.1.3), even if the page changed meanwhile.
    redirect_uri: str = field(default="", metadata=_key("redirectUri"))
    # A public client's flow (flows/pkce.py ``is_public``): its code is redeemed without the
    # client secret.
    public_client: bool = field(default=False, metadata=_key("publicClient"))

    def replace(self, **changes: Any) -> FlowParams:
        return dataclasses.replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        data = {f.metadata["key"]: getattr(self, f.name) for f in dataclasses.fields(self)}
        data["client"] = self.client.as_dict()
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FlowParams:
        """The parameters stored by :meth:`to_json`; keys it does not know are ignored (a row
        written by another version lives ``STATE_TTL`` seconds at most)."""
        values = {
            f.name: data[f.metadata["key"]]
            for f in dataclasses.fields(cls)
            if data.get(f.metadata["key"]) is not None
        }
        values["client"] = ClientInfo.from_dict(data.get("client"))
        return cls(**values)


def params_of(row: AuthState) -> FlowParams:
    """The typed parameters of a pending authorization."""
    return FlowParams.from_json(row.params or {})


def new_browser_id() -> str:
    return crypto.new_token(crypto.PREFIX_BROWSER)


def create(
    *,
    app: App,
    kind: str,
    service_type: str,
    params: FlowParams,
    secrets: dict[str, Any],
    browser_id: str,
) -> str:
    state = crypto.new_token(crypto.PREFIX_STATE)
    AuthState.objects.create(
        state_hash=crypto.hash_token(state),
        app=app,
        kind=kind,
        service_type=service_type,
        params=params.to_json(),
        secrets=secrets,
        browser_hash=crypto.hash_token(browser_id),
        expires_at=timezone.now() + timedelta(seconds=aurinko_settings.STATE_TTL),
    )
    return state


def check(state: str | None, browser_id: str | None) -> AuthState:
    """The pending authorization named by ``state`` if this browser may resume it, without
    using it up (a password form shown again after a wrong password). Raises
    :class:`StateError` whose code says why: ``state.missing``, ``state.invalid`` (unknown or
    forged), ``state.expired``, ``state.used`` or ``state.browser_mismatch``."""
    if not state:
        raise StateError("The provider returned no state.", code=Code.STATE_MISSING)
    if len(state) > 200 or not state.startswith(crypto.PREFIX_STATE):
        raise StateError()
    row = (
        AuthState.objects.select_related("app").filter(state_hash=crypto.hash_token(state)).first()
    )
    if row is None:
        raise StateError()
    if row.used_at is not None:
        raise StateError(
            "This authorization was already completed; start again from the app.",
            code=Code.STATE_USED,
        )
    if row.expired:
        raise StateError(
            "This authorization took too long and expired; start again from the app.",
            code=Code.STATE_EXPIRED,
        )
    if not browser_id:
        raise StateError(
            "This authorization was started in another browser, or the browser blocked our "
            "cookie (private mode, third-party cookies in an iframe).",
            code=Code.STATE_BROWSER_MISMATCH,
        )
    if not crypto.check_token(browser_id, row.browser_hash):
        raise StateError(
            "This authorization was started in another browser.", code=Code.STATE_BROWSER_MISMATCH
        )
    return row


def claim(row: AuthState) -> AuthState:
    """Use a checked pending authorization up, exactly once (one conditional UPDATE)."""
    claimed = AuthState.objects.filter(pk=row.pk, used_at__isnull=True).update(
        used_at=timezone.now()
    )
    if claimed != 1:
        raise StateError(
            "This authorization was already completed; start again from the app.",
            code=Code.STATE_USED,
        )
    return row


def consume(state: str | None, browser_id: str | None) -> AuthState:
    """Claim a pending authorization exactly once (:func:`check`, then :func:`claim`)."""
    return claim(check(state, browser_id))


def purge_expired() -> int:
    cutoff = timezone.now() - timedelta(hours=1)
    deleted, _ = AuthState.objects.filter(expires_at__lt=cutoff).delete()
    return deleted
