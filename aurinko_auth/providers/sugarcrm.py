"""SugarCRM (self-hosted or SugarCloud): the user gives the instance URL on our sign-in form;
we use Sugar's OAuth 2.0 password grant at ``{serverUrl}/rest/v11/oauth2/token`` with client id
``sugar`` (configurable) and a platform name of our own, because a second login on the same
platform logs the first session out. Refresh tokens are single use (rotated)."""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import urlsplit

from oauthlib.oauth2 import LegacyApplicationClient
from requests_oauthlib import OAuth2Session

from aurinko_auth.exceptions import InvalidRequest
from aurinko_auth.netguard import resolve_public_host
from aurinko_auth.netutil import is_secure_or_loopback
from aurinko_auth.providers.base import OAuth2Provider, Profile, TokenSet

DEFAULT_CLIENT_ID = "sugar"
DEFAULT_PLATFORM = "aurinko_auth"


def normalize_server_url(url: str) -> str:
    """``https://host[:port][/path]`` without a trailing slash; http only on loopback."""
    url = (url or "").strip().rstrip("/")
    parts = urlsplit(url)
    if not parts.hostname or parts.query or parts.fragment or parts.username \
            or not is_secure_or_loopback(url):
        raise InvalidRequest("The SugarCRM URL must be an https URL of the instance.")
    return url


class SugarCRMProvider(OAuth2Provider):
    id = "SugarCRM"
    name = "SugarCRM"
    kind = "password"
    form_fields: ClassVar[tuple[str, ...]] = ("serverUrl", "login", "password")
    # Paths below the instance URL; the instance is the account's serverUrl.
    endpoints = {
        "token": "{server}/rest/v11/oauth2/token",
        "userinfo": "{server}/rest/v11/me",
        "revoke": "{server}/rest/v11/oauth2/logout",
    }
    scope_map = {
        "Calendar.Read": (), "Calendar.ReadWrite": (),
        "Contacts.Read": (), "Contacts.ReadWrite": (),
        "Tasks.Read": (), "Tasks.ReadWrite": (),
    }
    pkce = False
    rotates_refresh_tokens = True
    refresh_token_lifetime_days = 14  # Sugar's default refresh_expires_in (1209600 s)

    def client_id(self, config: Any) -> str:
        return (config.client_id if config is not None else "") or DEFAULT_CLIENT_ID

    def platform(self, config: Any) -> str:
        return (config.tenant if config is not None else "") or DEFAULT_PLATFORM

    def url(self, name: str, config: Any, server_url: str) -> str:
        server = normalize_server_url(server_url)
        resolve_public_host(server)  # refuses private addresses unless allowed
        overrides = (config.endpoints if config is not None else None) or {}
        return (overrides.get(name) or self.endpoints[name]).replace("{server}", server)

    def _grant(self, config: Any, server_url: str, **kw: Any) -> TokenSet:
        client_id = self.client_id(config)
        session = OAuth2Session(client=LegacyApplicationClient(client_id=client_id))
        session.register_compliance_hook("access_token_response", self._check_token_http)
        session.register_compliance_hook("refresh_token_response", self._check_token_http)
        url = self.url("token", config, server_url)
        secret = (config.client_secret if config is not None else "") or ""
        token = self._call("token request", lambda: session.fetch_token(
            url, include_client_id=True, client_secret=secret, platform=self.platform(config),
            timeout=self._timeout(), **kw))
        return self.parse_token(token)

    def sign_in(self, config: Any, data: dict[str, str]) -> tuple[TokenSet, Profile]:
        """Password grant with the form's serverUrl, login and password; then ``/me``."""
        if not data.get("login") or not data.get("password"):
            raise InvalidRequest("Enter the SugarCRM user name and password.")
        server = normalize_server_url(data.get("serverUrl", ""))
        tokens = self._grant(config, server, username=data["login"], password=data["password"])
        profile = self.fetch_profile_at(config, server, tokens)
        return tokens, profile

    def refresh_at(self, config: Any, server_url: str, refresh_token: str) -> TokenSet:
        session = OAuth2Session(client_id=self.client_id(config))
        session.register_compliance_hook("refresh_token_response", self._check_token_http)
        url = self.url("token", config, server_url)
        token = self._call("token refresh", lambda: session.refresh_token(
            url, refresh_token=refresh_token, client_id=self.client_id(config),
            client_secret=(config.client_secret if config is not None else "") or "",
            platform=self.platform(config), timeout=self._timeout()))
        tokens = self.parse_token(token)
        if not tokens.refresh_token:
            tokens.refresh_token = refresh_token
        return tokens

    def fetch_profile_at(self, config: Any, server_url: str, tokens: TokenSet) -> Profile:
        import requests

        url = self.url("userinfo", config, server_url)
        response = self._call("profile request", lambda: requests.get(
            url, headers={"OAuth-Token": tokens.access_token, "Accept": "application/json"},
            timeout=self._timeout(), allow_redirects=False))
        profile = self.profile_from_response(response, tokens)
        profile.server_url = normalize_server_url(server_url)
        return profile

    def parse_profile(self, data: dict[str, Any], tokens: TokenSet) -> Profile:
        user = data.get("current_user") or {}
        emails = user.get("email") or []
        email = next((e.get("email_address", "") for e in emails
                      if isinstance(e, dict) and e.get("primary_address")), "")
        if not email and emails and isinstance(emails[0], dict):
            email = emails[0].get("email_address", "")
        return Profile(
            auth_user_id=str(user.get("id") or ""),
            email=email,
            name=user.get("full_name") or "",
            login_string=user.get("user_name") or email,
        )

