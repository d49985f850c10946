"""Microsoft 365 (Outlook mail, calendar, contacts, To Do) over the Microsoft identity
platform v2.0 and Microsoft Graph."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, unquote

import jwt

from aurinko_auth.providers.base import CONFIG, TERMINAL_APP, TERMINAL_USER, Profile, TokenSet
from aurinko_auth.providers.oauth2 import OAuth2Provider
from aurinko_auth.providers.office365_daemon import Office365ServiceAccounts

GRAPH = "https://graph.microsoft.com/"
GRAPH_VERSIONS = ("v1.0", "beta")


class Office365Provider(Office365ServiceAccounts, OAuth2Provider):
    id = "Office365"
    service_provider = "Office365"
    name = "Office 365"
    default_tenant = "common"
    endpoints = {
        "authorize": "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize",
        "token": "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token",
        "userinfo": "https://graph.microsoft.com/v1.0/me",
        # Aurinko's Direct API base: /v1/direct/me/messages is Graph's /v1.0/me/messages.
        "api": "https://graph.microsoft.com/v1.0",
        # Admin consent for the daemon flow; "common" is not accepted there.
        "adminconsent": "https://login.microsoftonline.com/{tenant}/v2.0/adminconsent",
        # The keys of every tenant's ID tokens (the daemon flow's admin sign-in verifies one).
        "jwks": "https://login.microsoftonline.com/common/discovery/v2.0/keys",
    }
    base_scopes = ("openid", "email", "profile", "offline_access", "User.Read")
    offline_scope = "offline_access"
    scope_map = {
        "Mail.Read": ("Mail.Read",),
        "Mail.ReadWrite": ("Mail.ReadWrite",),
        "Mail.Send": ("Mail.Send",),
        "Mail.Drafts": ("Mail.ReadWrite",),  # Graph has no narrower drafts permission
        "Mail.All": ("Mail.ReadWrite", "Mail.Send"),
        "Calendar.Read": ("Calendars.Read",),
        "Calendar.ReadWrite": ("Calendars.ReadWrite",),
        "Contacts.Read": ("Contacts.Read",),
        "Contacts.ReadWrite": ("Contacts.ReadWrite",),
        "Tasks.Read": ("Tasks.Read",),
        "Tasks.ReadWrite": ("Tasks.ReadWrite",),
    }
    prompts = {
        "login": "login",
        "none": "none",
        "consent": "consent",
        "select_account": "select_account",
    }
    access_probes = {
        "Mail": "/v1.0/me/mailFolders/inbox",
        "Calendar": "/v1.0/me/calendar",
        "Contacts": "/v1.0/me/contactFolders?$top=1",
        "Tasks": "/v1.0/me/todo/lists?$top=1",
    }
    rotates_refresh_tokens = True
    inactivity_limit_days = 90  # AADSTS700082 after 90 days unused
    terminal_user_errors = ("interaction_required", "consent_required", "login_required")
    # AADSTS codes in error_description that settle the class whatever the OAuth error says:
    # 700082 unused for 90 days, 70043 sign-in frequency (conditional access), 50173 grant
    # revoked after a password change, 65001 consent withdrawn, 700084 SPA token lifetime;
    # 7000215/7000222 invalid or expired client secret, 700016 app not in the tenant;
    # 90002/90072 unknown tenant or user not in it.
    aadsts_classes = {
        "AADSTS700082": TERMINAL_USER,
        "AADSTS70043": TERMINAL_USER,
        "AADSTS50173": TERMINAL_USER,
        "AADSTS65001": TERMINAL_USER,
        "AADSTS700084": TERMINAL_USER,
        "AADSTS7000215": TERMINAL_APP,
        "AADSTS7000222": TERMINAL_APP,
        "AADSTS700016": TERMINAL_APP,
        "AADSTS90002": CONFIG,
        "AADSTS90072": CONFIG,
    }

    def direct_url(self, base: str, path: str) -> str:
        # A path naming its Graph version (v1.0/..., beta/...) replaces the base's version.
        base = base.rstrip("/")
        root, _, version = base.rpartition("/")
        if version in GRAPH_VERSIONS and path.split("/", 1)[0] in GRAPH_VERSIONS:
            base = root
        return f"{base}/{path}"

    def access_url(self, config: Any, path: str) -> str:
        # The probes name their Graph version; the api endpoint may name one too.
        base = self.endpoint("api", config).rstrip("/").removesuffix("/v1.0")
        return base + path

    def managed_direct_path(self, path: str, mailbox: str) -> str | None:
        # The app-only token reaches every mailbox of the tenant: a managed account's calls
        # stay in its own, /me/... being /users/{mailbox}/... (Graph has no /me app-only).
        version, _, rest = path.partition("/")
        if version not in GRAPH_VERSIONS:
            version, rest = "", path
        first, _, tail = rest.partition("/")
        if first == "me":
            rest = f"users/{quote(mailbox, safe='@')}" + (f"/{tail}" if tail else "")
        elif first == "users":
            user = tail.partition("/")[0]
            if unquote(user).lower() != mailbox.lower():
                return None
        else:
            return None
        return f"{version}/{rest}" if version else rest

    def mailbox_probe(self, path: str, mailbox: str) -> str:
        # An app-only Graph token has no /me: the mailbox is the user of the path.
        return path.replace("/me/", f"/users/{quote(mailbox, safe='@')}/", 1)

    def config_warnings(self, config: Any) -> list[str]:
        return [
            "Microsoft client secrets expire (24 months at most): note the expiry date in "
            "Entra ID and rotate before it"
        ]

    def classify_oauth_error(self, error: str, description: str) -> str:
        match = re.search(r"AADSTS\d+", description or "")
        if match and match.group(0) in self.aadsts_classes:
            return self.aadsts_classes[match.group(0)]
        return super().classify_oauth_error(error, description)

    def parse_token(self, token: dict[str, Any]) -> TokenSet:
        tokens = super().parse_token(token)
        if tokens.scope:
            # Graph scopes come back either short or as full resource URIs.
            tokens.scope = [s.removeprefix(GRAPH) for s in tokens.scope]
        return tokens

    @staticmethod
    def id_token_claims(tokens: TokenSet) -> dict[str, Any]:
        """Claims of the ID token. It came straight from the token endpoint over TLS, so the
        signature check is optional here (OpenID Connect Core 3.1.3.7)."""
        if not tokens.id_token:
            return {}
        try:
            return jwt.decode(tokens.id_token, options={"verify_signature": False})
        except jwt.PyJWTError:
            return {}

    def parse_profile(self, data: dict[str, Any], tokens: TokenSet) -> Profile:
        claims = self.id_token_claims(tokens)
        email = (
            data.get("mail")
            or data.get("email")
            or data.get("userPrincipalName")
            or claims.get("email")
            or claims.get("preferred_username")
            or ""
        )
        login = data.get("userPrincipalName") or claims.get("preferred_username") or email
        return Profile(
            auth_user_id=str(data.get("id") or claims.get("oid") or data.get("sub") or ""),
            email=email,
            name=data.get("displayName") or data.get("name") or claims.get("name") or "",
            login_string=login,
            auth_org_id=claims.get("tid") or data.get("tid") or "",
        )
