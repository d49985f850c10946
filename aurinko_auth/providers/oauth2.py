"""The OAuth 2.0 family: authorization code grant with PKCE (S256), token exchange, refresh,
revocation (RFC 7009) and a profile call, shared by every OAuth provider.

OAuth parameter handling is oauthlib's (through requests-oauthlib's ``OAuth2Session``): we
never build or parse OAuth messages by hand.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

import requests
from django.utils import timezone

from aurinko_auth.conf import aurinko_settings
from aurinko_auth.errorcodes import Code
from aurinko_auth.exceptions import InvalidRequest, ProviderNotConfigured
from aurinko_auth.providers.base import (
    CONFIG,
    TERMINAL_USER,
    TRANSIENT,
    Profile,
    Provider,
    ProviderCallError,
    Resolved,
    TokenSet,
)
from aurinko_auth.providers.responses import ProviderResponses
from aurinko_auth.security.oauth_transport import OAuth2Session

if TYPE_CHECKING:
    from aurinko_auth.models import Account, ProviderConfig

logger = logging.getLogger("aurinko_auth.providers")
Probes = Mapping[str, str] | None


class OAuth2Provider(ProviderResponses, Provider):
    """Authorization code grant with PKCE (S256), token exchange, refresh, revocation and a
    profile call. Subclasses declare endpoints and scopes and implement ``parse_profile``."""

    kind = "oauth2"
    # Native scopes always requested (identity, offline access).
    base_scopes: ClassVar[tuple[str, ...]] = ()
    scope_delimiter: ClassVar[str] = " "
    pkce: ClassVar[bool] = True
    # Client authentication at the token endpoint: "client_secret_post" or "client_secret_basic".
    token_auth_method: ClassVar[str] = "client_secret_post"
    # The authorization server's issuer identifier (RFC 9207), where the provider sends ``iss``
    # on its callback; "" when it declares none (then the authorize endpoint's origin).
    issuer: ClassVar[str] = ""
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

    # The authorize request's ``prompt`` values this provider takes (OpenID Connect's names:
    # login, consent, select_account, none) and the value each is sent as; others are refused.
    prompts: ClassVar[dict[str, str]] = {}
    # ``ensureAccess``: per unified scope family (Mail, Calendar, Contacts, Tasks), a path under
    # the ``api`` endpoint that a GET with the new token must reach. Empty: not supported.
    access_probes: ClassVar[dict[str, str]] = {}

    # --- hooks -----------------------------------------------------------------------------
    def prompt_params(self, params: dict[str, str], prompt: str) -> dict[str, str]:
        """The authorization parameters with the caller's ``prompt`` (a key of ``prompts``)
        applied over what :meth:`extra_authorize_params` chose. Default: it replaces them."""
        return {**params, "prompt": self.prompts[prompt]}

    def direct_url(self, base: str, path: str) -> str:
        """The provider URL the Direct API forwards ``/v1/direct/{path}`` to, ``base`` being
        the resolved ``api`` endpoint. Default: the path under the base."""
        return f"{base.rstrip('/')}/{path}"

    def access_url(self, config: Any, path: str) -> str:
        """The URL of an ``access_probes`` path."""
        return self.endpoint("api", config).rstrip("/") + path

    def check_access(
        self, config: Any, tokens: TokenSet, unified: list[str], probes: Probes = None
    ) -> list[str]:
        """``ensureAccess``: GET each probe (default ``access_probes``) of the families in
        ``unified`` with ``tokens``; the families not reached (401, 403, 404) are returned. A
        provider failure (5xx, timeout) raises :class:`ProviderCallError` like any call."""
        probes = self.access_probes if probes is None else probes
        unreachable = []
        headers = {**self.api_auth_headers(tokens.access_token), "Accept": "application/json"}
        for family in [f for f in dict.fromkeys(s.split(".")[0] for s in unified) if f in probes]:
            url = self.access_url(config, probes[family])
            with self.http_session(url) as session:
                response = self.call(
                    "access check",
                    lambda url=url, session=session: session.get(
                        url, headers=headers, timeout=self.timeout()
                    ),
                )
            if response.status_code in (401, 403, 404):
                unreachable.append(family)
            elif response.status_code >= 400:
                raise ProviderCallError(
                    f"{self.id} access check failed with HTTP {response.status_code}.",
                    failure=TRANSIENT,
                )
        return unreachable

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

    def resolve(
        self,
        config: ProviderConfig,
        *,
        query: Mapping[str, str] | None = None,
        account: Account | None = None,
    ) -> Resolved:
        """The configuration one call sees: for the callback's token exchange and profile call
        (``query``), or for calls on behalf of ``account`` (refresh, revocation, the Direct
        API). Default: the app's endpoints, and where the API host differs per account
        (``api_from_server_url``) the account's ``serverUrl`` as ``api`` unless the app
        overrides it. Providers whose endpoints depend on the user (a data centre, an
        instance) override this; the app's ``ProviderConfig`` is never copied or changed."""
        endpoints = dict(config.endpoints or {})
        if account is not None and self.api_from_server_url and account.server_url:
            endpoints.setdefault("api", account.server_url)
        return Resolved(config, endpoints)

    def api_auth_headers(self, access_token: str) -> dict[str, str]:
        """How an access token is presented to the provider's API (the profile call, the
        Direct API)."""
        return {"Authorization": f"Bearer {access_token}"}

    def http_session(self, url: str, session: requests.Session | None = None) -> requests.Session:
        """The session that carries an outgoing call to ``url``: every call of a provider goes
        through here (token exchange, refresh, revocation, profile, the Direct API), given the
        OAuth2Session for token calls. A provider whose hosts the user names (an on-premises
        instance) overrides this one method to pin them through the SSRF guard."""
        return session if session is not None else requests.Session()

    def check_issuer(self, config: Any, iss: str | None) -> None:
        """RFC 9207 mix-up defence: when the callback carries ``iss``, it must name the
        authorization server this flow was sent to. That is the app's ``issuer`` override
        (exact match), else, when the app overrides the authorize endpoint, that endpoint's
        origin, else the provider's declared ``issuer`` (its origin: Microsoft's carries the
        tenant), else the default authorize endpoint's origin."""
        if iss is None:
            return
        overrides = getattr(config, "endpoints", None) or {}
        if overrides.get("issuer"):
            if iss == overrides["issuer"]:
                return
        else:
            declared = "" if overrides.get("authorize") else self.issuer
            expected = _origin(declared or self.endpoint("authorize", config))
            if expected and _origin(iss) == expected:
                return
        raise InvalidRequest(
            "The callback came from another authorization server than the one this sign-in "
            "went to (iss does not match).",
            code=Code.STATE_ISSUER_MISMATCH,
        )

    def config_warnings(self, config: ProviderConfig) -> list[str]:
        """What `aurinko_doctor` should remind the app owner of for this configuration."""
        return []

    def wants_refresh_token(self) -> bool:
        return True

    # The API host differs per account (a Salesforce instance, a Zoho data centre): the
    # account's serverUrl is its ``api`` endpoint.
    api_from_server_url: ClassVar[bool] = False

    # --- protocol --------------------------------------------------------------------------
    def timeout(self) -> tuple[float, float]:
        """(connect, read) timeout of every outgoing call."""
        return aurinko_settings.timeout("HTTP_TIMEOUT")

    def oauth_session(
        self,
        config: Any,
        *,
        client: Any = None,
        scope: Any = None,
        state: str | None = None,
        redirect_uri: str | None = None,
    ) -> OAuth2Session:
        """requests-oauthlib's session for this app's client (``client``: an oauthlib client
        for another grant), with our check of token responses."""
        if client is None:
            if not config.client_id:
                raise ProviderNotConfigured(f"The app's {self.id} configuration has no client id.")
            session = OAuth2Session(
                client_id=config.client_id, scope=scope, state=state, redirect_uri=redirect_uri
            )
        else:
            session = OAuth2Session(client=client, scope=scope, redirect_uri=redirect_uri)
        session.register_compliance_hook("access_token_response", self.check_token_response)
        session.register_compliance_hook("refresh_token_response", self.check_token_response)
        return session

    def client_auth(self, config: Any) -> tuple[requests.auth.AuthBase | None, dict[str, str]]:
        """How the app's client authenticates at the provider's token and revocation
        endpoints (``token_auth_method``, RFC 6749 §2.3.1): HTTP Basic, or ``client_id`` and
        ``client_secret`` in the form body. The one place that decides it."""
        if self.token_auth_method == "client_secret_basic":
            return requests.auth.HTTPBasicAuth(config.client_id, config.client_secret), {}
        return None, {"client_id": config.client_id, "client_secret": config.client_secret}

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
        prompt: str = "",
    ) -> str:
        native = list(self.base_scopes) + [s for s in scopes if s not in self.base_scopes]
        # oauthlib joins a list with spaces; a provider with another delimiter (Zoho: comma)
        # gets the string already joined.
        scope: Any = native if self.scope_delimiter == " " else self.scope_delimiter.join(native)
        session = self.oauth_session(config, scope=scope, state=state, redirect_uri=redirect_uri)
        extra = self.extra_authorize_params(
            config=config,
            login_hint=login_hint,
            needs_consent=needs_consent,
            select_account=select_account,
        )
        if prompt:
            extra = self.prompt_params(extra, prompt)
        if self.pkce and code_challenge:
            extra.update(code_challenge=code_challenge, code_challenge_method="S256")
        url, _ = session.authorization_url(self.endpoint("authorize", config), **extra)
        return url

    def exchange_code(
        self, config: ProviderConfig, *, code: str, redirect_uri: str, code_verifier: str | None
    ) -> TokenSet:
        url = self.endpoint("token", config)
        session = self.http_session(url, self.oauth_session(config, redirect_uri=redirect_uri))
        auth, body = self.client_auth(config)
        kwargs: dict[str, Any] = {"code": code, "timeout": self.timeout(), "auth": auth}
        if body:
            # requests-oauthlib puts client_id and client_secret in the body itself.
            kwargs.update(include_client_id=True, client_secret=body["client_secret"])
        if self.pkce and code_verifier:
            kwargs["code_verifier"] = code_verifier
        token = self.call("token exchange", lambda: session.fetch_token(url, **kwargs))
        return self.parse_token(token)

    def refresh(self, config: ProviderConfig, refresh_token: str) -> TokenSet:
        url = self.endpoint("token", config)
        session = self.http_session(url, self.oauth_session(config))
        auth, body = self.client_auth(config)
        token = self.call(
            "token refresh",
            lambda: session.refresh_token(
                url,
                refresh_token=refresh_token,
                auth=auth,
                timeout=self.timeout(),
                **body,
                **self.extra_token_params(config),
            ),
        )
        tokens = self.parse_token(token)
        if not tokens.refresh_token:
            tokens.refresh_token = refresh_token  # a response without one keeps the old one
        return tokens

    def extra_token_params(self, config: Any) -> dict[str, str]:
        """Provider-specific parameters of refresh requests (none by default)."""
        return {}

    def renew(self, config: ProviderConfig, account: Account) -> TokenSet:
        """New tokens for a stored account. The token lifecycle (:mod:`aurinko_auth.lifecycle.tokens`)
        calls this while it holds the account's refresh lock. Default: the refresh-token grant.
        Service-account providers override it for daemon accounts (client credentials, JWT
        bearer). Raise :class:`ProviderCallError` with the right ``failure`` class."""
        resolved = self.resolve(config, account=account)
        refresh_token = (account.credentials or {}).get("refresh_token")
        if not refresh_token:
            raise ProviderCallError(
                "The provider issued no refresh token; authorize the account again.",
                code=Code.TOKEN_NO_REFRESH,
                failure=TERMINAL_USER,
            )
        return self.refresh(resolved, refresh_token)  # type: ignore[arg-type]

    def revoke(self, config: ProviderConfig, token: str, token_type_hint: str = "") -> bool:
        """RFC 7009 revocation. Returns False when the provider has no revocation endpoint."""
        if not self.has_endpoint("revoke", config):
            return False
        data = {"token": token}
        if token_type_hint:
            data["token_type_hint"] = token_type_hint
        auth, body = self.client_auth(config)
        data.update(body)
        url = self.endpoint("revoke", config)
        with self.http_session(url) as session:
            response = self.call(
                "revocation",
                lambda: session.post(url, data=data, auth=auth, timeout=self.timeout()),
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
        headers = {**self.api_auth_headers(tokens.access_token), "Accept": "application/json"}
        with self.http_session(url) as session:
            response = self.call(
                "profile request",
                lambda: session.get(url, headers=headers, timeout=self.timeout()),
            )
        return self.profile_from_response(response, tokens)

    def verify_tokens(self, config: Any, tokens: TokenSet) -> tuple[TokenSet, Profile]:
        """Tokens obtained elsewhere (an import) checked at the provider: with no access token,
        or one past its ``expires_at``, the refresh token is redeemed first; then the profile
        call with the access token says whose they are. Returns the tokens to keep (the
        refreshed ones, a rotated refresh token included) and the profile. Raises
        :class:`ProviderCallError` (or InvalidRequest when nothing usable was given)."""
        expired = tokens.expires_at is not None and tokens.expires_at <= timezone.now()
        if not tokens.access_token or expired:
            if not tokens.refresh_token:
                raise InvalidRequest(
                    "The access token has expired and no refresh token was given."
                    if tokens.access_token
                    else "Give an access token or a refresh token."
                )
            tokens = self.refresh(config, tokens.refresh_token)
        return tokens, self.fetch_profile(config, tokens)

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


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme and parts.netloc else ""
