"""HubSpot CRM over OAuth 2.0. The user and the hub (portal) come from the token-information
endpoint ``/oauth/v1/access-tokens/{token}``; the hub id is the account's ``authOrgId``.
Token errors arrive as ``{"status": "BAD_REFRESH_TOKEN", "message": ...}``, not RFC 6749."""

from __future__ import annotations

from typing import Any

import requests

from aurinko_auth.providers.base import (
    TERMINAL_APP,
    TERMINAL_USER,
    TRANSIENT,
    Profile,
    ProviderCallError,
    TokenSet,
)
from aurinko_auth.providers.oauth2 import OAuth2Provider

_USER_ERRORS = ("BAD_REFRESH_TOKEN", "BAD_AUTH_CODE", "EXPIRED_AUTH_CODE", "invalid_grant")
_APP_ERRORS = ("BAD_CLIENT_ID", "BAD_CLIENT_SECRET", "BAD_REDIRECT_URI", "invalid_client")


class HubSpotProvider(OAuth2Provider):
    id = "Hubspot"  # Aurinko's spelling (OpenAPI ServiceType enum, seed 001)
    service_provider = "Hubspot"
    name = "HubSpot"
    endpoints = {
        "authorize": "https://app.hubspot.com/oauth/authorize",
        "token": "https://api.hubapi.com/oauth/v1/token",
        "userinfo": "https://api.hubapi.com/oauth/v1/access-tokens/{token}",
        "api": "https://api.hubapi.com",
    }
    base_scopes = ("oauth",)
    scope_map = {
        "Contacts.Read": ("crm.objects.contacts.read",),
        "Contacts.ReadWrite": ("crm.objects.contacts.read", "crm.objects.contacts.write"),
        "Tasks.Read": ("crm.objects.contacts.read",),
        "Tasks.ReadWrite": ("crm.objects.contacts.read", "crm.objects.contacts.write"),
    }
    pkce = False
    rotates_refresh_tokens = False
    terminal_user_errors = _USER_ERRORS

    def extra_authorize_params(
        self, *, config: Any, login_hint: str, needs_consent: bool, select_account: bool
    ) -> dict[str, str]:
        return {}

    def classify_oauth_error(self, error: str, description: str) -> str:
        if error in _APP_ERRORS:
            return TERMINAL_APP
        return super().classify_oauth_error(error, description)

    def check_token_response(self, response: requests.Response) -> requests.Response:
        response = super().check_token_response(response)
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = {}
            status = (
                (body.get("status") or body.get("error") or "") if isinstance(body, dict) else ""
            )
            if status:
                raise ProviderCallError(
                    f"{self.id} token call failed: {status}.",
                    code=status,
                    failure=self.classify_oauth_error(status, ""),
                    status=response.status_code,
                )
        return response

    def fetch_profile(self, config: Any, tokens: TokenSet) -> Profile:
        url = self.endpoint("userinfo", config)
        # The token-information endpoint takes the token in its path (HubSpot's design).
        url = url.replace("%7Btoken%7D", "{token}").replace(
            "{token}", requests.utils.quote(tokens.access_token, safe="")
        )
        with self.http_session(url) as session:
            response = self.call(
                "profile request",
                lambda: session.get(
                    url, headers={"Accept": "application/json"}, timeout=self.timeout()
                ),
            )
        return self.profile_from_response(response, tokens, what="token information")

    def profile_http_failure(self, status: int) -> str:
        # The token information of a revoked or unknown token answers 401/404.
        return TERMINAL_USER if status in (401, 404) else TRANSIENT

    def parse_profile(self, data: dict[str, Any], tokens: TokenSet) -> Profile:
        email = data.get("user") or ""
        return Profile(
            auth_user_id=str(data.get("user_id") or ""),
            email=email,
            login_string=email,
            auth_org_id=str(data.get("hub_id") or ""),
            extra={"hub_domain": data.get("hub_domain", "")} if data.get("hub_domain") else {},
        )
