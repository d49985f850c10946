"""The provider protocol: what every provider is (``Provider``), what a sign-in yields
(``Profile``, ``TokenSet``) and how a provider call fails (``ProviderCallError`` and its failure
classes). The two families build on it: :mod:`aurinko_auth.providers.oauth2` (the OAuth 2.0
protocol) and :mod:`aurinko_auth.providers.forms` (sign-in through our hosted form).

A provider is a small declarative class: its service type id, endpoints, placeholders, scope
map and lifecycle facts as class attributes, with a few hooks for its quirks. Nothing here
names a provider: each provider's knowledge lives in its own module. See
``docs/writing-a-provider.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

from django.utils import timezone

from aurinko_auth import inputs
from aurinko_auth.errorcodes import Code
from aurinko_auth.exceptions import (
    InvalidRequest,
    ProviderError,
    ProviderNotConfigured,
    UnsupportedScope,
)
from aurinko_auth.security import netguard
from aurinko_auth.security.returnurls import validate_redirect_page
from aurinko_auth.security.transport import is_secure_or_loopback

if TYPE_CHECKING:
    from aurinko_auth.models import ProviderConfig

# Failure classes of a provider call (see ProviderCallError.failure).
TERMINAL_USER = "terminal_user"
TERMINAL_APP = "terminal_app"
TRANSIENT = "transient"
CONFIG = "config"


class ProviderCallError(ProviderError):
    """A token, profile or revocation call failed. ``failure`` classifies it for the token
    lifecycle: terminal_user (re-authorize), terminal_app (fix the app's credentials),
    transient (retry later) or config (wrong endpoint, tenant or data centre)."""

    def __init__(
        self,
        message: str,
        *,
        code: str = "provider_error",
        failure: str = TRANSIENT,
        status: int | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(message, code=code, status=status)
        self.failure = failure
        # Seconds the provider asked us to wait (429/503 Retry-After), when it said.
        self.retry_after = retry_after


# Endpoints only the user's browser visits (we redirect to them, never call them).
BROWSER_ENDPOINTS = frozenset({"authorize", "adminconsent"})


def _owner_named_host(config: Any, name: str) -> bool:
    """Whether the app owner's own override of endpoint ``name`` names its host (the SSRF
    guard applies). Hosts the provider derives (a data centre from a fixed list, a placeholder
    filled from a server the provider guards itself) are not the owner's."""
    original = getattr(config, "config", config)  # a Resolved wraps the ProviderConfig
    raw = ((getattr(original, "endpoints", None) or {}) if original is not None else {}).get(name)
    return bool(raw) and "{" not in urlsplit(str(raw)).netloc and "{" not in str(raw)[:8]


def parse_retry_after(value: str | None) -> int | None:
    """``Retry-After`` as seconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    seconds = inputs.decimal(value)
    if seconds is not None:
        return seconds
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0, int((when - timezone.now()).total_seconds()))


@dataclass
class Profile:
    """Who the user is at the provider."""

    auth_user_id: str
    email: str = ""
    name: str = ""
    login_string: str = ""
    auth_org_id: str = ""
    server_url: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class TokenSet:
    """A parsed token response."""

    access_token: str
    refresh_token: str = ""
    token_type: str = "Bearer"
    expires_at: datetime | None = None
    scope: list[str] | None = None  # native scopes granted, when the provider says
    id_token: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    # When the provider issued the access token: now for a token response, unknown (None)
    # for tokens obtained elsewhere (an import).
    issued_at: datetime | None = None

    def credentials(self) -> dict[str, Any]:
        data: dict[str, Any] = {"access_token": self.access_token, "token_type": self.token_type}
        if self.refresh_token:
            data["refresh_token"] = self.refresh_token
        return data


@dataclass(frozen=True)
class Resolved:
    """A provider configuration as one call sees it: the app's ``ProviderConfig`` (never
    copied or changed) with the endpoints that apply to this call (the app's overrides, plus
    what the provider derived for this user: a data centre named by the callback, an
    instance URL, an account's API host) and ``facts`` the provider derived with them. It
    reads like the configuration (``client_id``, ``tenant``, ``options``, ...), so a provider's
    calls take either."""

    config: Any
    endpoints: dict[str, str] = field(default_factory=dict)
    facts: dict[str, str] = field(default_factory=dict)

    @property
    def client_id(self) -> str:
        return getattr(self.config, "client_id", "") or ""

    @property
    def client_secret(self) -> str:
        return getattr(self.config, "client_secret", "") or ""

    @property
    def tenant(self) -> str:
        return getattr(self.config, "tenant", "") or ""

    @property
    def options(self) -> dict[str, Any]:
        return dict(getattr(self.config, "options", None) or {})

    @property
    def service_account_key(self) -> Any:
        return getattr(self.config, "service_account_key", None)


class Provider:
    """Base of every provider. ``id`` is the canonical ``serviceType``."""

    id: ClassVar[str] = ""
    # Aurinko's ServiceProvider name (its OpenAPI enum) of this provider, ``serviceProvider``
    # in the account JSON; empty: none (a provider outside that enum), the field is left out.
    service_provider: ClassVar[str] = ""
    name: ClassVar[str] = ""
    kind: ClassVar[str] = ""
    # Unified scope -> native scopes. A unified scope missing here is unsupported.
    scope_map: ClassVar[dict[str, tuple[str, ...]]] = {}
    # Endpoint names and their default URLs (may contain the placeholders below).
    endpoints: ClassVar[dict[str, str]] = {}
    default_tenant: ClassVar[str] = ""
    # Placeholders this provider's endpoint URLs (and an app's overrides of them) may contain,
    # each with an example value: what the https rule is checked against when an override is
    # saved; the real values come per flow or per account.
    placeholders: ClassVar[dict[str, str]] = {"{tenant}": "tenant"}
    # Names of the provider options (``ProviderConfig.options``) it reads, with their meaning.
    option_names: ClassVar[dict[str, str]] = {}
    # Its sign-in sends the browser back to a redirect URI, which may then be the app's own
    # redirect page (``ProviderConfig.redirect_page``); our hosted form's sign-ins do not.
    redirects_browser: ClassVar[bool] = True

    def check_redirect_page(self, url: str) -> str:
        """An app's own redirect page for this provider, checked
        (:func:`~aurinko_auth.security.returnurls.validate_redirect_page`); "" removes it."""
        url = validate_redirect_page(url)
        if url and not self.redirects_browser:
            raise InvalidRequest(
                f"{self.id} signs in on the broker's own form: it takes no redirect page."
            )
        return url

    def example_endpoint(self, url: str) -> str:
        """``url`` with this provider's placeholders filled with their example values."""
        for placeholder, value in self.placeholders.items():
            url = url.replace(placeholder, value)
        return url

    def native_scopes(self, unified: list[str]) -> list[str]:
        native: list[str] = []
        for scope in unified:
            if scope not in self.scope_map:
                raise UnsupportedScope(f"{self.id} does not support the scope {scope}.")
            for item in self.scope_map[scope]:
                if item not in native:
                    native.append(item)
        return native

    def unified_scopes(self, native: list[str]) -> list[str]:
        """Unified scopes fully covered by granted native scopes."""
        granted = set(native)
        return [u for u, n in self.scope_map.items() if n and set(n) <= granted]

    def endpoint(
        self, name: str, config: ProviderConfig | None, *, tenant: str | None = None
    ) -> str:
        """The URL of a named endpoint: the app's override, else the default; ``{tenant}`` is
        filled from ``tenant`` when given (the daemon flow's consented tenant), else from the
        configuration. Only https, or http on loopback, is ever used."""
        overrides = (config.endpoints if config is not None else None) or {}
        url = overrides.get(name) or self.endpoints.get(name)
        if not url:
            raise ProviderNotConfigured(
                f"{self.id} has no {name!r} endpoint.", code=Code.ENDPOINT_MISSING
            )
        tenant = tenant or (config.tenant if config is not None else "") or self.default_tenant
        url = url.replace("{tenant}", tenant)
        if not is_secure_or_loopback(url):
            raise ProviderNotConfigured(
                f"The {self.id} {name!r} endpoint must use https (http only on loopback)."
            )
        if name not in BROWSER_ENDPOINTS and _owner_named_host(config, name):
            netguard.check_endpoint(url)  # the owner named this server, and we will call it
        return url

    def has_endpoint(self, name: str, config: ProviderConfig | None) -> bool:
        overrides = (config.endpoints if config is not None else None) or {}
        return bool(overrides.get(name) or self.endpoints.get(name))
