"""SugarCRM (self-hosted or SugarCloud), signed in through our hosted form: the user gives the
instance URL, user name and password; we use Sugar's OAuth 2.0 password grant at
``{serverUrl}/rest/v11/oauth2/token`` with client id ``sugar`` (configurable) and a platform
name of our own, because a second login on the same platform logs the first session out.
The account keeps Sugar's tokens, never the password. Refresh tokens are single use (rotated).

Every request to the instance (token, profile, refresh, logout) goes through a session pinned
to the address the SSRF guard checked (:func:`aurinko_auth.security.netguard.pin`): the instance URL is
the user's, so a second DNS answer must not send the request (or the password) elsewhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

import requests
from oauthlib.oauth2 import LegacyApplicationClient

from aurinko_auth.conf import aurinko_settings
from aurinko_auth.exceptions import InvalidRequest
from aurinko_auth.providers.base import TRANSIENT, Profile, ProviderCallError, Resolved, TokenSet
from aurinko_auth.providers.forms import FormSignIn, SignedIn
from aurinko_auth.providers.forms import SignInFailed as BaseSignInFailed
from aurinko_auth.providers.oauth2 import OAuth2Provider
from aurinko_auth.security import netguard
from aurinko_auth.security.oauth_transport import OAuth2Session
from aurinko_auth.security.transport import is_secure_or_loopback

if TYPE_CHECKING:
    from aurinko_auth.models import Account, ProviderConfig

DEFAULT_CLIENT_ID = "sugar"
DEFAULT_PLATFORM = "aurinko_auth"
# The instance URL is part of the account's identity (auth_user_id is "{user id}@{instance}",
# at most 255 characters; Sugar's ids are 36-character UUIDs).
MAX_LENGTHS = {"serverUrl": 200, "login": 320, "password": 1024}
# Token-endpoint errors that mean "wrong user name or password": Sugar answers need_login
# (HTTP 401); an OAuth 2.0 server answers invalid_grant (RFC 6749 §5.2).
BAD_CREDENTIALS = ("invalid_grant", "need_login")


class SignInFailed(BaseSignInFailed):
    """Sugar refused the user name and password; shown on the form, no account is made."""

    default_message = "The CRM did not accept this user name and password."


def normalize_server_url(url: str) -> str:
    """``https://host[:port][/path]`` without a trailing slash, fragment or ``/rest/vNN``
    suffix (users paste their browser's address, ``https://crm.example.com/#Home``); a bare
    host name gets ``https://``. http only on loopback."""
    url = (url or "").strip()
    if url and "://" not in url:
        url = "https://" + url
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    for suffix in ("/rest/v11", "/rest/v10", "/index.php"):
        if path.lower().endswith(suffix):
            path = path[: -len(suffix)]
    try:
        parts.port  # noqa: B018  (raises ValueError for a bad port)
    except ValueError:
        raise InvalidRequest("The SugarCRM URL has an invalid port.") from None
    if (
        parts.scheme not in ("https", "http")
        or not parts.hostname
        or parts.query
        or parts.username
        or parts.password
    ):
        raise InvalidRequest("The SugarCRM URL must be an https URL of the instance.")
    url = urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, "", ""))
    if not is_secure_or_loopback(url):
        raise InvalidRequest("The SugarCRM URL must be an https URL of the instance.")
    return url


class SugarCRMProvider(FormSignIn, OAuth2Provider):
    id = "SugarCRM"
    service_provider = "SugarCRM"
    name = "SugarCRM"
    kind = "password"
    form_fields: ClassVar[tuple[str, ...]] = ("serverUrl", "login", "password")
    form_template = "aurinko_auth/password_fields/sugarcrm.html"
    form_noun = "CRM"
    login_label = "SugarCRM user name"
    keeps_password = False
    # Paths below the instance URL; the instance is the account's serverUrl. An app may
    # override them (with or without ``{server}``).
    endpoints = {
        "token": "{server}/rest/v11/oauth2/token",
        "userinfo": "{server}/rest/v11/me",
        "revoke": "{server}/rest/v11/oauth2/logout",
        # The Direct API's base: /v1/direct/Contacts -> {server}/rest/v11/Contacts.
        "api": "{server}/rest/v11",
    }
    scope_map = {
        "Calendar.Read": (),
        "Calendar.ReadWrite": (),
        "Contacts.Read": (),
        "Contacts.ReadWrite": (),
        "Tasks.Read": (),
        "Tasks.ReadWrite": (),
    }
    pkce = False
    rotates_refresh_tokens = True
    refresh_token_lifetime_days = 14  # Sugar's default refresh_expires_in (1209600 s)
    terminal_user_errors = ("need_login",)
    requires_client_credentials = False
    endpoints_per_account = True

    # Each account's endpoints are at its own instance: ``{server}`` is its URL.
    placeholders = {"{server}": "https://instance.example"}
    option_names = {"platform": f"the Sugar API platform of our sessions ({DEFAULT_PLATFORM!r})"}

    # --- configuration ---------------------------------------------------------------------
    def client_id(self, config: Any) -> str:
        return (config.client_id if config is not None else "") or DEFAULT_CLIENT_ID

    def platform(self, config: Any) -> str:
        """Sugar's API platform our sessions use (``options["platform"]``): a second login on
        the same platform ends the first session, so it is ours, not "base"."""
        options = (getattr(config, "options", None) or {}) if config is not None else {}
        return str(options.get("platform") or "") or DEFAULT_PLATFORM

    def at(self, config: ProviderConfig | None, server_url: str) -> Resolved:
        """The configuration as calls to the instance ``server_url`` see it: every endpoint a
        concrete URL there (the app's overrides, with or without ``{server}``, win)."""
        server = normalize_server_url(server_url)
        overrides = (config.endpoints if config is not None else None) or {}
        return Resolved(
            config,
            {
                name: (overrides.get(name) or url).replace("{server}", server)
                for name, url in self.endpoints.items()
            },
        )

    def resolve(
        self,
        config: Any,
        *,
        query: Mapping[str, str] | None = None,
        account: Account | None = None,
    ) -> Resolved:
        if account is None:
            return super().resolve(config, query=query)
        return self.at(config, account.server_url)

    def oauth_session(self, config: Any, **kwargs: Any) -> OAuth2Session:
        # The password grant with Sugar's built-in public client unless the app names its own.
        client = LegacyApplicationClient(client_id=self.client_id(config))
        return super().oauth_session(config, client=client, **kwargs)

    def client_auth(self, config: Any) -> tuple[requests.auth.AuthBase | None, dict[str, str]]:
        return None, {"client_id": self.client_id(config), "client_secret": self._secret(config)}

    def extra_token_params(self, config: Any) -> dict[str, str]:
        return {"platform": self.platform(config)}

    def http_session(self, url: str, session: requests.Session | None = None) -> requests.Session:
        """Every call to the user-named instance is pinned to the address the SSRF guard
        checked, trusting the CA bundle of on-premises servers (like the password
        providers' servers)."""
        session = netguard.pin(session if session is not None else requests.Session(), url)
        session.verify = aurinko_settings.PASSWORD_CA_BUNDLE or True
        return session

    def api_auth_headers(self, access_token: str) -> dict[str, str]:
        return {"OAuth-Token": access_token}  # Sugar's REST API ignores Authorization

    # --- the form --------------------------------------------------------------------------
    def clean(self, data: Mapping[str, str]) -> dict[str, Any]:
        values = {
            "serverUrl": (data.get("serverUrl") or "").strip(),
            "login": (data.get("login") or "").strip(),
            "password": data.get("password") or "",
        }
        for key, value in values.items():
            if "\x00" in value:
                raise InvalidRequest("The form contains characters that are not allowed.")
            if len(value) > MAX_LENGTHS[key]:
                raise InvalidRequest(f"The {key} field is too long.")
        if not values["serverUrl"] or not values["login"] or not values["password"]:
            raise InvalidRequest("Enter the CRM address, the user name and the password.")
        values["serverUrl"] = normalize_server_url(values["serverUrl"])
        return values

    def sign_in(self, config: ProviderConfig | None, data: dict[str, Any]) -> SignedIn:
        """Password grant at the instance with the cleaned form values, then ``/me``."""
        server = data["serverUrl"]
        instance = self.at(config, server)
        token_url = self.endpoint("token", instance)
        session = self.http_session(token_url, self.oauth_session(config))
        try:
            token = self.call(
                "token request",
                lambda: session.fetch_token(
                    token_url,
                    username=data["login"],
                    password=data["password"],
                    include_client_id=True,
                    client_secret=self._secret(config),
                    platform=self.platform(config),
                    timeout=self.timeout(),
                ),
            )
        except ProviderCallError as exc:
            if exc.code in BAD_CREDENTIALS:
                raise SignInFailed() from None
            raise
        tokens = self.parse_token(token)
        profile = self.fetch_profile(instance, tokens)
        profile.server_url = server
        host = urlsplit(server)
        instance_id = f"{host.netloc}{host.path}"
        profile.auth_org_id = instance_id
        # Sugar ids are unique per instance only (the admin is "1" everywhere).
        profile.auth_user_id = f"{profile.auth_user_id}@{instance_id}"
        return SignedIn(profile=profile, tokens=tokens)

    def config_warnings(self, config: ProviderConfig) -> list[str]:
        return [
            f"users' Sugar instances must accept client id {self.client_id(config)!r} "
            f"and the platform {self.platform(config)!r} (Sugar 12+: Admin > Configure "
            "API Platforms); logins on another platform do not end ours"
        ]

    def _secret(self, config: Any) -> str:
        return (config.client_secret if config is not None else "") or ""

    # --- calls on behalf of an account -----------------------------------------------------
    def refresh_at(
        self, config: ProviderConfig | None, server_url: str, refresh_token: str
    ) -> TokenSet:
        return self.refresh(self.at(config, server_url), refresh_token)  # type: ignore[arg-type]

    def revoke(self, config: ProviderConfig, token: str, token_type_hint: str = "") -> bool:
        """Sugar has no RFC 7009 endpoint: ``/oauth2/logout`` ends the session of the
        ``OAuth-Token`` header and forgets the ``refresh_token`` in the body. Given a refresh
        token, we first redeem it (rotation makes it useless anyway) for a session to end."""
        url = self.endpoint("revoke", config)
        access_token, body = token, {}
        if token_type_hint != "access_token":
            tokens = self.refresh(config, token)
            access_token, body = tokens.access_token, {"refresh_token": tokens.refresh_token}
        with self.http_session(url) as session:
            response = self.call(
                "logout",
                lambda: session.post(
                    url,
                    data=body,
                    headers={**self.api_auth_headers(access_token), "Accept": "application/json"},
                    timeout=self.timeout(),
                    allow_redirects=False,
                ),
            )
        if response.status_code >= 500:
            raise ProviderCallError(
                f"{self.id} logout failed with HTTP {response.status_code}.", failure=TRANSIENT
            )
        return response.status_code < 400

    def fetch_profile(self, config: ProviderConfig, tokens: TokenSet) -> Profile:
        url = self.endpoint("userinfo", config)
        headers = {**self.api_auth_headers(tokens.access_token), "Accept": "application/json"}
        with self.http_session(url) as session:
            # Not followed: a redirect away from the checked instance is an error.
            response = self.call(
                "profile request",
                lambda: session.get(
                    url, headers=headers, timeout=self.timeout(), allow_redirects=False
                ),
            )
        return self.profile_from_response(response, tokens)

    def parse_profile(self, data: dict[str, Any], tokens: TokenSet) -> Profile:
        user = data.get("current_user") or {}
        emails = user.get("email") or []
        email = next(
            (
                e.get("email_address", "")
                for e in emails
                if isinstance(e, dict) and e.get("primary_address")
            ),
            "",
        )
        if not email and emails and isinstance(emails[0], dict):
            email = emails[0].get("email_address", "")
        return Profile(
            auth_user_id=str(user.get("id") or ""),
            email=email,
            name=user.get("full_name") or "",
            login_string=user.get("user_name") or email,
        )
