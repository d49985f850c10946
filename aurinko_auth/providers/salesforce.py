"""Salesforce over OAuth 2.0 (web server flow). Tokens carry no ``expires_in`` (the session
timeout is an org setting); ``instance_url`` is the org's API host (kept as ``serverUrl``) and
``id`` is the identity URL. Sandboxes sign in at test.salesforce.com (override the endpoints)."""

from __future__ import annotations

from typing import Any

from aurinko_auth.providers.base import Profile, TokenSet
from aurinko_auth.providers.oauth2 import OAuth2Provider

LOGIN = "https://login.salesforce.com/services/oauth2/"
SANDBOX_LOGIN = "https://test.salesforce.com/services/oauth2/"


class SalesforceProvider(OAuth2Provider):
    id = "Salesforce"
    service_provider = "Salesforce"
    name = "Salesforce"
    api_from_server_url = True
    endpoints = {
        "authorize": LOGIN + "authorize",
        "token": LOGIN + "token",
        "revoke": LOGIN + "revoke",
        "userinfo": LOGIN + "userinfo",
    }
    base_scopes = ("openid", "id", "refresh_token")
    offline_scope = "refresh_token"
    # Salesforce has one data scope for the REST API; the object permissions are the user's.
    scope_map = {
        "Calendar.Read": ("api",),
        "Calendar.ReadWrite": ("api",),
        "Contacts.Read": ("api",),
        "Contacts.ReadWrite": ("api",),
        "Tasks.Read": ("api",),
        "Tasks.ReadWrite": ("api",),
    }
    prompts = {"login": "login", "consent": "consent", "select_account": "select_account"}
    returns_expires_in = False
    rotates_refresh_tokens = False
    terminal_user_errors = ("inactive_user", "inactive_org")

    def parse_profile(self, data: dict[str, Any], tokens: TokenSet) -> Profile:
        email = data.get("email") or ""
        return Profile(
            auth_user_id=str(data.get("user_id") or ""),
            email=email,
            name=data.get("name") or data.get("display_name") or "",
            login_string=data.get("preferred_username") or data.get("username") or email,
            auth_org_id=str(data.get("organization_id") or ""),
            server_url=str(tokens.extra.get("instance_url") or ""),
            extra={"id": tokens.extra.get("id", "")} if tokens.extra.get("id") else {},
        )
