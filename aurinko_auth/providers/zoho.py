"""Zoho (Mail, Calendar, CRM) over Zoho Accounts OAuth 2.0. Zoho runs separate data centres
(accounts.zoho.com, .eu, .in, .com.au, .jp, .ca, .com.cn, zohocloud.ca); the token response's
``api_domain`` names the API host of the user's data centre, and we keep it as ``serverUrl``."""

from __future__ import annotations

from typing import Any

from aurinko_auth.providers.base import OAuth2Provider, Profile, TokenSet


class ZohoProvider(OAuth2Provider):
    id = "Zoho"
    name = "Zoho"
    endpoints = {
        "authorize": "https://accounts.zoho.com/oauth/v2/auth",
        "token": "https://accounts.zoho.com/oauth/v2/token",
        "revoke": "https://accounts.zoho.com/oauth/v2/token/revoke",
        "userinfo": "https://accounts.zoho.com/oauth/user/info",
        "api": "https://www.zohoapis.com",
    }
    base_scopes = ("AaaServer.profile.READ",)
    scope_delimiter = ","
    scope_map = {
        "Mail.Read": ("ZohoMail.messages.READ", "ZohoMail.accounts.READ", "ZohoMail.folders.READ"),
        "Mail.ReadWrite": ("ZohoMail.messages.ALL", "ZohoMail.accounts.READ",
                           "ZohoMail.folders.ALL"),
        "Mail.Send": ("ZohoMail.messages.CREATE", "ZohoMail.accounts.READ"),
        "Mail.Drafts": ("ZohoMail.messages.ALL", "ZohoMail.accounts.READ"),
        "Calendar.Read": ("ZohoCalendar.calendar.READ", "ZohoCalendar.event.READ"),
        "Calendar.ReadWrite": ("ZohoCalendar.calendar.ALL", "ZohoCalendar.event.ALL"),
        "Contacts.Read": ("ZohoCRM.modules.contacts.READ", "ZohoCRM.users.READ"),
        "Contacts.ReadWrite": ("ZohoCRM.modules.contacts.ALL", "ZohoCRM.users.READ"),
        "Tasks.Read": ("ZohoCRM.modules.tasks.READ",),
        "Tasks.ReadWrite": ("ZohoCRM.modules.tasks.ALL",),
    }
    pkce = False
    rotates_refresh_tokens = False
    refresh_token_cap = 20  # per user and client; the 21st deletes the oldest
    terminal_user_errors = ("invalid_code",)

    def extra_authorize_params(self, *, config: Any, login_hint: str, needs_consent: bool,
                               select_account: bool) -> dict[str, str]:
        # A refresh token is issued only with access_type=offline, and again only with
        # prompt=consent; each consent counts against the cap of 20.
        params = {"access_type": "offline"}
        if needs_consent:
            params["prompt"] = "consent"
        if login_hint:
            params["login_hint"] = login_hint
        return params

    def parse_profile(self, data: dict[str, Any], tokens: TokenSet) -> Profile:
        email = data.get("Email") or ""
        name = data.get("Display_Name") or " ".join(
            p for p in (data.get("First_Name"), data.get("Last_Name")) if p)
        return Profile(
            auth_user_id=str(data.get("ZUID") or ""),
            email=email,
            name=name,
            login_string=email,
            server_url=str(tokens.extra.get("api_domain") or ""),
        )
