"""Zoho (Mail, Calendar, CRM) over Zoho Accounts OAuth 2.0. Zoho runs separate data centres
(accounts.zoho.com, .eu, .in, .com.au, .jp, .ca, .com.cn, zohocloud.ca); the token response's
``api_domain`` names the API host of the user's data centre, and we keep it as ``serverUrl``.

The callback's ``accounts-server`` (one of Zoho's own servers, nothing else) decides where the
code is redeemed and where the account refreshes later (kept in ``extra_data``). An app's
endpoint override wins; an override may contain ``{accounts_host}``, the host of that accounts
server (``accounts.zoho.eu``; ``accounts.zoho.com`` until a callback names one), to route each
data centre through the app's own URL (an egress proxy, a test server)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from aurinko_auth.providers.base import Profile, Resolved, TokenSet
from aurinko_auth.providers.oauth2 import OAuth2Provider

if TYPE_CHECKING:
    from aurinko_auth.models import Account

# Zoho's accounts servers: accounts.zoho.com, .eu, .in, .com.au, .jp, .ca, .sa, .uk, .com.cn,
# accounts.zohocloud.ca. The callback names one; anything else is ignored, so a forged
# callback cannot send our client secret elsewhere.
_ACCOUNTS_HOST = re.compile(r"^accounts\.zoho(cloud)?\.(com|eu|in|jp|ca|sa|uk|com\.au|com\.cn)$")
_ACCOUNT_ENDPOINTS = {
    "authorize": "/oauth/v2/auth",
    "token": "/oauth/v2/token",
    "revoke": "/oauth/v2/token/revoke",
    "userinfo": "/oauth/user/info",
}
ACCOUNTS_HOST = "{accounts_host}"
DEFAULT_ACCOUNTS_HOST = "accounts.zoho.com"


def accounts_server(value: str) -> str:
    """``https://accounts.zoho.<dc>`` when ``value`` names a Zoho accounts server, else ''."""
    parts = urlsplit((value or "").strip())
    host = (parts.hostname or "").lower()
    if (
        parts.scheme != "https"
        or parts.port
        or not _ACCOUNTS_HOST.match(host)
        or parts.path not in ("", "/")
    ):
        return ""
    return f"https://{host}"


class ZohoProvider(OAuth2Provider):
    id = "Zoho"
    service_provider = "Zoho"
    name = "Zoho"
    api_from_server_url = True
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
        "Mail.ReadWrite": (
            "ZohoMail.messages.ALL",
            "ZohoMail.accounts.READ",
            "ZohoMail.folders.ALL",
        ),
        "Mail.Send": ("ZohoMail.messages.CREATE", "ZohoMail.accounts.READ"),
        "Mail.Drafts": ("ZohoMail.messages.ALL", "ZohoMail.accounts.READ"),
        "Mail.All": ("ZohoMail.messages.ALL", "ZohoMail.accounts.READ", "ZohoMail.folders.ALL"),
        "Calendar.Read": ("ZohoCalendar.calendar.READ", "ZohoCalendar.event.READ"),
        "Calendar.ReadWrite": ("ZohoCalendar.calendar.ALL", "ZohoCalendar.event.ALL"),
        "Contacts.Read": ("ZohoCRM.modules.contacts.READ", "ZohoCRM.users.READ"),
        "Contacts.ReadWrite": ("ZohoCRM.modules.contacts.ALL", "ZohoCRM.users.READ"),
        "Tasks.Read": ("ZohoCRM.modules.tasks.READ",),
        "Tasks.ReadWrite": ("ZohoCRM.modules.tasks.ALL",),
    }
    placeholders = {"{tenant}": "tenant", ACCOUNTS_HOST: DEFAULT_ACCOUNTS_HOST}
    pkce = False
    rotates_refresh_tokens = False
    refresh_token_cap = 20  # per user and client; the 21st deletes the oldest
    terminal_user_errors = ("invalid_code",)

    prompts = {"consent": "consent"}

    def extra_authorize_params(
        self, *, config: Any, login_hint: str, needs_consent: bool, select_account: bool
    ) -> dict[str, str]:
        # A refresh token is issued only with access_type=offline, and again only with
        # prompt=consent; each consent counts against the cap of 20.
        params = {"access_type": "offline"}
        if needs_consent:
            params["prompt"] = "consent"
        if login_hint:
            params["login_hint"] = login_hint
        return params

    def resolve(
        self,
        config: Any,
        *,
        query: Mapping[str, str] | None = None,
        account: Account | None = None,
    ) -> Resolved:
        """The user's data centre: the callback names it (``location=eu&accounts-server=
        https://accounts.zoho.eu``), an account keeps it in ``extra_data``. Its accounts
        server serves the token, revocation and profile endpoints; the app's overrides win,
        with ``{accounts_host}`` naming this data centre."""
        resolved = super().resolve(config, query=query, account=account)
        if query is not None:
            server = accounts_server(query.get("accounts-server", ""))
        elif account is not None:
            server = accounts_server(str((account.extra_data or {}).get("accounts_server") or ""))
        else:
            server = ""
        if not server:
            return resolved
        host = urlsplit(server).hostname or DEFAULT_ACCOUNTS_HOST
        overrides = {
            name: str(url).replace(ACCOUNTS_HOST, host)
            for name, url in (config.endpoints or {}).items()
        }
        endpoints = {
            **{k: server + path for k, path in _ACCOUNT_ENDPOINTS.items()},
            **{k: v for k, v in resolved.endpoints.items() if k not in overrides},
            **overrides,
        }
        return Resolved(config, endpoints, {"accounts_server": server})

    def endpoint(self, name: str, config: Any, *, tenant: str | None = None) -> str:
        # An override for every data centre before any names one: Zoho's default (US).
        return (
            super()
            .endpoint(name, config, tenant=tenant)
            .replace(ACCOUNTS_HOST, DEFAULT_ACCOUNTS_HOST)
        )

    def fetch_profile(self, config: Any, tokens: TokenSet) -> Profile:
        profile = super().fetch_profile(config, tokens)
        server = (getattr(config, "facts", None) or {}).get("accounts_server", "")
        if not server:
            token_url = urlsplit(self.endpoint("token", config))
            server = accounts_server(f"{token_url.scheme}://{token_url.netloc}")
        if server:
            profile.extra["accounts_server"] = server
        return profile

    def parse_profile(self, data: dict[str, Any], tokens: TokenSet) -> Profile:
        email = data.get("Email") or ""
        name = data.get("Display_Name") or " ".join(
            p for p in (data.get("First_Name"), data.get("Last_Name")) if p
        )
        return Profile(
            auth_user_id=str(data.get("ZUID") or ""),
            email=email,
            name=name,
            login_string=email,
            server_url=str(tokens.extra.get("api_domain") or ""),
        )
