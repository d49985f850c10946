"""Google (Gmail, Calendar, Contacts, Tasks) over OAuth 2.0 with OpenID Connect."""

from __future__ import annotations

from typing import Any

from aurinko_auth.providers.base import Profile, TokenSet
from aurinko_auth.providers.google_daemon import GoogleServiceAccounts
from aurinko_auth.providers.oauth2 import OAuth2Provider

_G = "https://www.googleapis.com/auth/"


class GoogleProvider(GoogleServiceAccounts, OAuth2Provider):
    id = "Google"
    service_provider = "Google"
    name = "Google"
    endpoints = {
        "authorize": "https://accounts.google.com/o/oauth2/v2/auth",
        "token": "https://oauth2.googleapis.com/token",
        "userinfo": "https://openidconnect.googleapis.com/v1/userinfo",
        "revoke": "https://oauth2.googleapis.com/revoke",
        "api": "https://www.googleapis.com",
        # Service accounts: the JWT bearer grant (RFC 7523); also the assertion's audience.
        "jwtbearer": "https://oauth2.googleapis.com/token",
    }
    base_scopes = ("openid", "email", "profile")
    scope_map = {
        "Mail.Read": (_G + "gmail.readonly",),
        "Mail.ReadWrite": (_G + "gmail.modify",),
        "Mail.Send": (_G + "gmail.send",),
        "Mail.Drafts": (_G + "gmail.compose",),
        "Mail.All": ("https://mail.google.com/",),  # full Gmail access: read, change, send
        "Calendar.Read": (_G + "calendar.readonly",),
        "Calendar.ReadWrite": (_G + "calendar",),
        "Contacts.Read": (_G + "contacts.readonly",),
        "Contacts.ReadWrite": (_G + "contacts",),
        "Tasks.Read": (_G + "tasks.readonly",),
        "Tasks.ReadWrite": (_G + "tasks",),
    }
    prompts = {"none": "none", "consent": "consent", "select_account": "select_account"}
    access_probes = {
        "Mail": "/gmail/v1/users/me/profile",
        "Calendar": "/calendar/v3/users/me/calendarList?maxResults=1",
        "Tasks": "/tasks/v1/users/@me/lists?maxResults=1",
    }
    rotates_refresh_tokens = False
    inactivity_limit_days = 180  # unused refresh tokens expire after about six months

    def extra_authorize_params(
        self, *, config: Any, login_hint: str, needs_consent: bool, select_account: bool
    ) -> dict[str, str]:
        # Offline access always; the consent screen (the only way Google issues a new refresh
        # token) only when we hold none for this identity or new scopes are asked.
        params = {"access_type": "offline", "include_granted_scopes": "true"}
        prompts = []
        if needs_consent:
            prompts.append("consent")
        if select_account:
            prompts.append("select_account")
        if prompts:
            params["prompt"] = " ".join(prompts)
        if login_hint:
            params["login_hint"] = login_hint
        return params

    def prompt_params(self, params: dict[str, str], prompt: str) -> dict[str, str]:
        # Google takes several prompts at once: the caller's joins the consent we may need
        # for a refresh token; "none" stands alone (no page at all).
        if prompt == "none":
            return {**params, "prompt": "none"}
        current = params.get("prompt", "").split()
        return {**params, "prompt": " ".join(dict.fromkeys([*current, self.prompts[prompt]]))}

    def parse_profile(self, data: dict[str, Any], tokens: TokenSet) -> Profile:
        email = data.get("email") or ""
        return Profile(
            auth_user_id=str(data.get("sub") or ""),
            email=email,
            name=data.get("name") or "",
            login_string=email,
            auth_org_id=data.get("hd") or "",  # Workspace hosted domain
            extra={k: data[k] for k in ("email_verified", "picture", "locale") if k in data},
        )
