"""Provider bases. A provider is a small declarative class: its service type id, endpoints,
scope map and lifecycle facts as class attributes, with a few hooks for quirks
(``parse_profile``, ``extra_authorize_params``). All protocol logic lives here.

OAuth parameter handling is oauthlib's (through requests-oauthlib's ``OAuth2Session``): we
never build or parse OAuth messages by hand.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, ClassVar

import requests
from django.utils import timezone
from oauthlib.oauth2.rfc6749.errors import MissingTokenError, OAuth2Error
from requests_oauthlib import OAuth2Session

from aurinko_auth.errorcodes import Code
from aurinko_auth.exceptions import (
    AccessDenied,
    InvalidRequest,
    ProviderError,
    ProviderNotConfigured,
    UnsupportedScope,
)
from aurinko_auth.security.transport import is_secure_or_loopback

if TYPE_CHECKING:
    from aurinko_auth.models import Account, ProviderConfig

logger = logging.getLogger("aurinko_auth.providers")

# Failure classes of a provider call (see ProviderCallError.failure).
TERMINAL_USER = "terminal_user"
TERMINAL_APP = "terminal_app"
TRANSIENT = "transient"
CONFIG = "config"


# Placeholders an endpoint override may contain, with example values: what the https rule is
# checked against when an override is saved (the real values come per flow or per account).
ENDPOINT_PLACEHOLDERS = {
    "{tenant}": "tenant",
    "{accounts_host}": "accounts.zoho.com",  # Zoho: the user's data centre
    "{server}": "https://instance.example",  # SugarCRM: the account's instance URL
}


def example_endpoint(url: str) -> str:
    """``url`` with its placeholders filled with example values."""
    for placeholder, value in ENDPOINT_PLACEHOLDERS.items():
        url = url.replace(placeholder, value)
    return url


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


def parse_retry_after(value: str | None) -> int | None:
    """``Retry-After`` as seconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return int(value)
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

    def credentials(self) -> dict[str, Any]:
        data: dict[str, Any] = {"access_token": self.access_token, "token_type": self.token_type}
        if self.refresh_token:
            data["refresh_token"] = self.refresh_token
        return data


class Provider:
    """Base of every provider. ``id`` is the canonical ``serviceType``."""

    id: ClassVar[str] = ""
    name: ClassVar[str] = ""
    kind: ClassVar[str] = ""
    # Unified scope -> native scopes. A unified scope missing here is unsupported.
    scope_map: ClassVar[dict[str, tuple[str, ...]]] = {}
    # Endpoint names and their default URLs (may contain {tenant}).
    endpoints: ClassVar[dict[str, str]] = {}
    default_tenant: ClassVar[str] = ""

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
        return url

    def has_endpoint(self, name: str, config: ProviderConfig | None) -> bool:
        overrides = (config.endpoints if config is not None else None) or {}
        return bool(overrides.get(name) or self.endpoints.get(name))


class OAuth2Provider(Provider):
    """Authorization code grant with PKCE (S256), token exchange, refresh, revocation and a
    profile call. Subclasses declare endpoints and scopes and implement ``parse_profile``."""

    kind = "oauth2"
    # Native scopes always requested (identity, offline access).
    base_scopes: ClassVar[tuple[str, ...]] = ()
    scope_delimiter: ClassVar[str] = " "
    pkce: ClassVar[bool] = True
    # How the client authenticates at the token endpoint: "client_secret_post" or
    # "client_secret_basic".
    token_auth_method: ClassVar[str] = "client_secret_post"
    # Lifecycle facts (used by refresh scheduling and `aurinko_doctor`).
    rotates_refresh_tokens: ClassVar[bool] = False
    returns_expires_in: ClassVar[bool] = True
    inactivity_limit_days: ClassVar[int | None] = None
    refresh_token_cap: ClassVar[int | None] = None
    # The native scope without which no refresh token is issued (None: offline access is an
    # authorization parameter, as at Google and Zoho, or always on).
    offline_scope: ClassVar[str | None] = None
    # Provider error codes (besides invalid_grant) that mean "the user must authorize again".
    terminal_user_errors: ClassVar[tuple[str, ...]] = ()
    # The app registers an OAuth client (id and secret) at the provider. False for SugarCRM,
    # whose built-in public client "sugar" works without registration.
    requires_client_credentials: ClassVar[bool] = True
    # The endpoints live on each account's own server (SugarCRM's instance URL), not at one
    # address the app's configuration names: `aurinko_doctor` cannot probe them.
    endpoints_per_account: ClassVar[bool] = False

    # --- hooks -----------------------------------------------------------------------------
    def extra_authorize_params(
        self, *, config: ProviderConfig, login_hint: str, needs_consent: bool, select_account: bool
    ) -> dict[str, str]:
        """Provider-specific authorization parameters (offline access, prompts)."""
        params: dict[str, str] = {}
        if login_hint:
            params["login_hint"] = login_hint
        if select_account:
            params["prompt"] = "select_account"
        return params

    def parse_profile(self, data: dict[str, Any], tokens: TokenSet) -> Profile:
        """Turn the userinfo response (and the token response) into a Profile."""
        raise NotImplementedError

    def callback_config(self, config: ProviderConfig, query: Mapping[str, str]) -> ProviderConfig:
        """The configuration for the token exchange and profile call, given the callback's
        query. Providers whose callback names the user's data centre (Zoho's
        ``accounts-server``) return a copy with those endpoints; the default is unchanged."""
        return config

    def account_config(
        self, config: ProviderConfig, extra_data: Mapping[str, Any]
    ) -> ProviderConfig:
        """The configuration for calls on behalf of an existing account (refresh,
        revocation), given the account's ``extra_data`` (e.g. its data centre)."""
        return config

    def config_for_account(self, config: ProviderConfig, account: Any) -> ProviderConfig:
        """The configuration for every call on behalf of ``account`` (refresh, revocation,
        the Direct API): :meth:`account_config` for its ``extra_data``, and, where the API
        host differs per account (``api_from_server_url``), its ``serverUrl`` as ``api``
        unless the app overrides it."""
        config = self.account_config(config, account.extra_data or {})
        if self.api_from_server_url and account.server_url:
            config = self.with_endpoints(config, {"api": account.server_url})
        return config

    def direct_auth_headers(self, access_token: str) -> dict[str, str]:
        """How the Direct API presents the account's access token to the provider's API."""
        return {"Authorization": f"Bearer {access_token}"}

    def direct_session(self, url: str) -> requests.Session:
        """The session the Direct API sends ``url`` through (providers whose API host the
        user names pin it through the SSRF guard)."""
        return requests.Session()

    def config_warnings(self, config: ProviderConfig) -> list[str]:
        """What `aurinko_doctor` should remind the app owner of for this configuration."""
        return []

    @staticmethod
    def with_endpoints(config: ProviderConfig, endpoints: Mapping[str, str]) -> ProviderConfig:
        """An unsaved copy of ``config`` with ``endpoints`` as overrides; the app's own
        overrides win, so a configured endpoint is never replaced by callback data."""
        from copy import copy

        derived = copy(config)
        derived.endpoints = {**dict(endpoints), **(config.endpoints or {})}
        return derived

    def wants_refresh_token(self) -> bool:
        return True

    # The API host differs per account (a Salesforce instance, a Zoho data centre): the
    # account's serverUrl is its ``api`` endpoint.
    api_from_server_url: ClassVar[bool] = False

    # --- protocol --------------------------------------------------------------------------
    def _timeout(self) -> tuple[float, float]:
        from aurinko_auth.conf import aurinko_settings

        return tuple(aurinko_settings.HTTP_TIMEOUT)  # type: ignore[return-value]

    def _session(
        self,
        config: ProviderConfig,
        *,
        scope: list[str] | None = None,
        state: str | None = None,
        redirect_uri: str | None = None,
    ) -> OAuth2Session:
        if not config.client_id:
            raise ProviderNotConfigured(f"The app's {self.id} configuration has no client id.")
        session = OAuth2Session(
            client_id=config.client_id, scope=scope, state=state, redirect_uri=redirect_uri
        )
        session.register_compliance_hook("access_token_response", self._check_token_http)
        session.register_compliance_hook("refresh_token_response", self._check_token_http)
        return session

    def authorization_url(
        self,
        config: ProviderConfig,
        *,
        state: str,
        redirect_uri: str,
        scopes: list[str],
        code_challenge: str | None,
        login_hint: str = "",
        needs_consent: bool = True,
        select_account: bool = False,
    ) -> str:
        native = list(self.base_scopes) + [s for s in scopes if s not in self.base_scopes]
        # oauthlib joins a list with spaces; a provider with another delimiter (Zoho: comma)
        # gets the string already joined.
        scope: Any = native if self.scope_delimiter == " " else self.scope_delimiter.join(native)
        session = self._session(config, scope=scope, state=state, redirect_uri=redirect_uri)
        extra = self.extra_authorize_params(
            config=config,
            login_hint=login_hint,
            needs_consent=needs_consent,
            select_account=select_account,
        )
        if self.pkce and code_challenge:
            extra.update(code_challenge=code_challenge, code_challenge_method="S256")
        url, _ = session.authorization_url(self.endpoint("authorize", config), **extra)
        return url

    def _client_auth(self, config: ProviderConfig) -> dict[str, Any]:
        if self.token_auth_method == "client_secret_basic":
            return {"auth": requests.auth.HTTPBasicAuth(config.client_id, config.client_secret)}
        return {"client_secret": config.client_secret, "include_client_id": True}

    def exchange_code(
        self, config: ProviderConfig, *, code: str, redirect_uri: str, code_verifier: str | None
    ) -> TokenSet:
        session = self._session(config, redirect_uri=redirect_uri)
        kwargs: dict[str, Any] = {"code": code, "timeout": self._timeout()}
        if self.pkce and code_verifier:
            kwargs["code_verifier"] = code_verifier
        kwargs.update(self._client_auth(config))
        token = self._call(
            "token exchange",
            lambda: session.fetch_token(self.endpoint("token", config), **kwargs),
        )
        return self.parse_token(token)

    def refresh(self, config: ProviderConfig, refresh_token: str) -> TokenSet:
        session = self._session(config)
        kwargs: dict[str, Any] = {"timeout": self._timeout()}
        if self.token_auth_method == "client_secret_basic":
            kwargs["auth"] = requests.auth.HTTPBasicAuth(config.client_id, config.client_secret)
        else:
            kwargs.update(client_id=config.client_id, client_secret=config.client_secret)
        token = self._call(
            "token refresh",
            lambda: session.refresh_token(
                self.endpoint("token", config), refresh_token=refresh_token, **kwargs
            ),
        )
        tokens = self.parse_token(token)
        if not tokens.refresh_token:
            tokens.refresh_token = refresh_token  # a response without one keeps the old one
        return tokens

    def renew(self, config: ProviderConfig, account: Account) -> TokenSet:
        """New tokens for a stored account. The token lifecycle (:mod:`aurinko_auth.lifecycle.tokens`)
        calls this while it holds the account's refresh lock. Default: the refresh-token grant.
        Service-account providers override it for daemon accounts (client credentials, JWT
        bearer). Raise :class:`ProviderCallError` with the right ``failure`` class."""
        config = self.config_for_account(config, account)
        refresh_token = (account.credentials or {}).get("refresh_token")
        if not refresh_token:
            raise ProviderCallError(
                "The provider issued no refresh token; authorize the account again.",
                code=Code.TOKEN_NO_REFRESH,
                failure=TERMINAL_USER,
            )
        return self.refresh(config, refresh_token)

    def revoke(self, config: ProviderConfig, token: str, token_type_hint: str = "") -> bool:
        """RFC 7009 revocation. Returns False when the provider has no revocation endpoint."""
        if not self.has_endpoint("revoke", config):
            return False
        data = {"token": token}
        if token_type_hint:
            data["token_type_hint"] = token_type_hint
        auth = None
        if self.token_auth_method == "client_secret_basic":
            auth = (config.client_id, config.client_secret)
        else:
            data.update(client_id=config.client_id, client_secret=config.client_secret)
        response = self._call(
            "revocation",
            lambda: requests.post(
                self.endpoint("revoke", config), data=data, auth=auth, timeout=self._timeout()
            ),
        )
        # 200 revoked; 400 invalid_token means it was already gone (RFC 7009 §2.2).
        if response.status_code >= 500:
            raise ProviderCallError(
                f"{self.id} revocation failed with HTTP {response.status_code}.",
                failure=TRANSIENT,
            )
        return response.status_code < 400

    def fetch_profile(self, config: ProviderConfig, tokens: TokenSet) -> Profile:
        url = self.endpoint("userinfo", config)
        response = self._call(
            "profile request",
            lambda: requests.get(
                url,
                headers={
                    "Authorization": f"Bearer {tokens.access_token}",
                    "Accept": "application/json",
                },
                timeout=self._timeout(),
            ),
        )
        return self.profile_from_response(response, tokens)

    def profile_http_failure(self, status: int) -> str:
        """The failure class of an HTTP error from the profile endpoint."""
        return TRANSIENT if status >= 500 else CONFIG

    def profile_from_response(
        self, response: requests.Response, tokens: TokenSet, *, what: str = "profile"
    ) -> Profile:
        """Check, decode and parse a profile response: shared by every provider's profile
        call, whatever endpoint and authentication it uses."""
        if response.status_code >= 400:
            raise ProviderCallError(
                f"{self.id} {what} request failed with HTTP {response.status_code}.",
                failure=self.profile_http_failure(response.status_code),
            )
        try:
            data = response.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise ProviderCallError(f"{self.id} returned a {what} that is not JSON.")
        profile = self.parse_profile(data, tokens)
        if not profile.auth_user_id:
            raise ProviderCallError(f"{self.id} returned a {what} without a user id.")
        return profile

    # --- parsing and errors ----------------------------------------------------------------
    def parse_token(self, token: dict[str, Any]) -> TokenSet:
        access_token = token.get("access_token")
        if not access_token:
            raise ProviderCallError(f"{self.id} returned no access token.")
        expires_at = None
        if token.get("expires_in") not in (None, ""):
            try:
                expires_at = timezone.now() + timedelta(seconds=int(token["expires_in"]))
            except (TypeError, ValueError):
                expires_at = None
        scope = token.get("scope")
        if isinstance(scope, str):
            scope = [s for s in scope.replace(",", " ").split() if s]
        known = {
            "access_token",
            "refresh_token",
            "token_type",
            "expires_in",
            "expires_at",
            "scope",
            "id_token",
        }
        return TokenSet(
            access_token=access_token,
            refresh_token=token.get("refresh_token") or "",
            token_type=token.get("token_type") or "Bearer",
            expires_at=expires_at,
            scope=list(scope) if scope else None,
            id_token=token.get("id_token") or "",
            extra={k: v for k, v in token.items() if k not in known},
        )

    def classify_oauth_error(self, error: str, description: str) -> str:
        # BAD_REFRESH_TOKEN: HubSpot's non-OAuth answer for a dead refresh token.
        if error in ("invalid_grant", "BAD_REFRESH_TOKEN") or error in self.terminal_user_errors:
            return TERMINAL_USER
        if error in ("invalid_client", "unauthorized_client"):
            return TERMINAL_APP
        if error in ("temporarily_unavailable", "server_error", "slow_down"):
            return TRANSIENT
        return CONFIG

    def _check_token_http(self, response: requests.Response) -> requests.Response:
        """Compliance hook: a 5xx or 429 is transient whatever its body says."""
        if response.status_code >= 500 or response.status_code == 429:
            raise ProviderCallError(
                f"{self.id} token endpoint answered HTTP {response.status_code}.",
                code=Code.PROVIDER_UNAVAILABLE,
                failure=TRANSIENT,
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
            )
        if response.status_code >= 400:
            # Some providers answer a dead refresh token without an OAuth "error" member
            # (HubSpot: {"status": "BAD_REFRESH_TOKEN", ...}); classify those by that code.
            try:
                body = response.json()
            except ValueError:
                body = None
            if (
                isinstance(body, dict)
                and not body.get("error")
                and isinstance(body.get("status"), str)
                and body["status"].isupper()
            ):
                error = body["status"]
                raise ProviderCallError(
                    f"{self.id} token endpoint refused: {error}.",
                    code=error,
                    failure=self.classify_oauth_error(error, str(body.get("message") or "")),
                )
        return response

    def _call(self, what: str, fn: Any) -> Any:
        try:
            return fn()
        except ProviderCallError:
            raise
        except MissingTokenError:
            # A 200 whose body has no token (an HTML page, a proxy's answer): not an OAuth
            # error the provider chose, so it is a bad response, like unparsable ones.
            logger.info("%s %s returned no token", self.id, what)
            raise ProviderCallError(
                f"{self.id} returned an unreadable response ({what}).",
                code=Code.PROVIDER_BAD_RESPONSE,
                failure=TRANSIENT,
            ) from None
        except OAuth2Error as exc:
            error = exc.error or "provider_error"
            if error == "missing_token":
                # oauthlib's word for a body it could not read as a token (an HTML error
                # page, a proxy): the provider answered nonsense, not an OAuth error.
                logger.info("%s %s returned an unreadable response", self.id, what)
                raise ProviderCallError(
                    f"{self.id} returned an unreadable response ({what}).",
                    code=Code.PROVIDER_BAD_RESPONSE,
                    failure=TRANSIENT,
                ) from None
            failure = self.classify_oauth_error(error, exc.description or "")
            logger.info("%s %s failed: %s", self.id, what, error)
            if error == "access_denied":
                raise AccessDenied(f"{self.id} denied access.") from None
            raise ProviderCallError(
                f"{self.id} {what} failed: {error}.", code=error, failure=failure
            ) from None
        except requests.Timeout:
            logger.info("%s %s timed out", self.id, what)
            raise ProviderCallError(
                f"{self.id} did not answer in time ({what}).",
                code=Code.PROVIDER_TIMEOUT,
                failure=TRANSIENT,
            ) from None
        except requests.RequestException as exc:
            logger.info("%s %s failed: %s", self.id, what, type(exc).__name__)
            raise ProviderCallError(
                f"{self.id} could not be reached ({what}).",
                code=Code.PROVIDER_UNREACHABLE,
                failure=TRANSIENT,
            ) from None
        except (ValueError, KeyError, TypeError):
            # oauthlib could not parse the body (not JSON, not form-encoded).
            logger.info("%s %s returned an unreadable response", self.id, what)
            raise ProviderCallError(
                f"{self.id} returned an unreadable response ({what}).",
                code=Code.PROVIDER_BAD_RESPONSE,
                failure=TRANSIENT,
            ) from None


class SignInFailed(InvalidRequest):
    """The server refused or could not be used; shown on the form, no account is made."""

    code = Code.CREDENTIALS_INVALID
    default_message = "The server did not accept this login and password."


# Microsoft turned password (Basic) authentication off for Exchange Online's EWS and IMAP
# in 2022, for good: such mailboxes sign in with Office 365 (OAuth) instead.
EXCHANGE_ONLINE_HOSTS = (
    "outlook.office365.com",
    "outlook.office.com",
    "outlook.live.com",
    "imap-mail.outlook.com",
)


def refuse_exchange_online(host: str) -> None:
    """A clear answer before any connection, instead of a puzzling wrong-password error."""
    host = (host or "").lower().rstrip(".")
    if any(host == h or host.endswith("." + h) for h in EXCHANGE_ONLINE_HOSTS):
        raise InvalidRequest(
            "Exchange Online and Outlook.com no longer accept passwords: connect this "
            "mailbox with Office 365 instead.",
            code=Code.SERVER_EXCHANGE_ONLINE,
        )


@dataclass
class SignedIn:
    """What a sign-in through our hosted form proved: the identity, and what the broker keeps
    for the account: provider ``tokens`` (SugarCRM's password grant) or the ``credentials``
    themselves (EWS, IMAP), encrypted at rest."""

    profile: Profile
    tokens: TokenSet | None = None
    credentials: dict[str, Any] | None = None


class FormSignIn:
    """A provider signed in through our own hosted form (``/v1/auth/password/{state}``)
    instead of the provider's consent page. The form always asks ``login`` and ``password``;
    ``form_template`` adds the provider's own fields (server, port, ...)."""

    form_fields: ClassVar[tuple[str, ...]] = ("login", "password")
    form_template: ClassVar[str] = ""
    form_noun: ClassVar[str] = "account"
    login_label: ClassVar[str] = "Login (usually your e-mail address)"
    # Whether the broker keeps the password (EWS, IMAP) or only what the sign-in returned
    # (SugarCRM's tokens): the form tells the user which.
    keeps_password: ClassVar[bool] = True

    def clean(self, data: Mapping[str, str]) -> dict[str, Any]:
        """The form's values, validated; raise InvalidRequest with a message for the user."""
        raise NotImplementedError

    def sign_in(self, config: ProviderConfig | None, data: dict[str, Any]) -> SignedIn:
        """A real sign-in at the server with the cleaned values."""
        raise NotImplementedError

    def login_of(self, data: Mapping[str, str]) -> str:
        """The login a failed sign-in is counted against (rate limits), normalized."""
        return (data.get("login") or "").strip().lower()[:320]


class PasswordProvider(FormSignIn, Provider):
    """Providers whose password is what the broker keeps (EWS, IMAP): ``verify`` performs a
    real login and returns a Profile; the cleaned form values are stored encrypted."""

    kind = "password"
    form_noun = "mailbox"

    def verify(self, config: ProviderConfig | None, data: dict[str, Any]) -> Profile:
        raise NotImplementedError

    def sign_in(self, config: ProviderConfig | None, data: dict[str, Any]) -> SignedIn:
        return SignedIn(profile=self.verify(config, data), credentials=data)
