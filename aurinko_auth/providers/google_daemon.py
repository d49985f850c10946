"""Google Workspace service accounts: domain-wide delegation with a service-account key.

The Workspace administrator signs in with Google OAuth (who authorizes, which Workspace domain
``hd``); the broker proves the domain-wide delegation with a JWT bearer token (RFC 7523,
signed RS256 with the app's service-account key, ``sub`` = the mailbox) for the admin's own
mailbox. Tokens are issued per mailbox and scope set; the mailbox must be of the domain.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from aurinko_auth.errorcodes import Code
from aurinko_auth.exceptions import InvalidRequest, ProviderError
from aurinko_auth.providers.base import TERMINAL_APP, Profile, ProviderCallError, TokenSet
from aurinko_auth.providers.service_accounts import (
    DaemonGrant,
    InvalidServiceAccountKey,
    MailboxError,
    ServiceAccountProvider,
    SignedAssertionClient,
    UnknownMailbox,
    not_configured,
)
from aurinko_auth.security.oauth_transport import OAuth2Session

if TYPE_CHECKING:
    from aurinko_auth.models import Account, ProviderConfig

# Google accepts assertions valid for at most one hour.
ASSERTION_LIFETIME = 3600


@dataclass(frozen=True)
class ServiceAccountKey:
    client_email: str
    private_key: str
    private_key_id: str = ""
    client_id: str = ""


def parse_service_account_key(text: str) -> ServiceAccountKey:
    """Parse and check a Google service-account JSON key. Raises
    :class:`InvalidServiceAccountKey` with a message that never quotes the key."""
    try:
        data = json.loads(text)
    except (TypeError, ValueError):
        raise InvalidServiceAccountKey("The service-account key is not JSON.") from None
    if not isinstance(data, dict):
        raise InvalidServiceAccountKey("The service-account key is not a JSON object.")
    if data.get("type") != "service_account":
        raise InvalidServiceAccountKey(
            'The key file is not a service-account key ("type" must be "service_account").'
        )
    email = data.get("client_email")
    if not isinstance(email, str) or "@" not in email:
        raise InvalidServiceAccountKey("The service-account key has no client_email.")
    pem = data.get("private_key")
    if not isinstance(pem, str) or not pem.strip():
        raise InvalidServiceAccountKey("The service-account key has no private_key.")
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError):
        raise InvalidServiceAccountKey(
            "The service-account key's private_key is not a readable PEM private key."
        ) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise InvalidServiceAccountKey("The service-account key's private_key is not RSA.")
    key_id = data.get("private_key_id") or ""
    client_id = data.get("client_id") or ""
    return ServiceAccountKey(email, pem, str(key_id), str(client_id))


def config_key(config: ProviderConfig) -> ServiceAccountKey:
    if not config.service_account_key:
        raise not_configured(
            "The app's Google configuration has no service-account key "
            "(manage.py aurinko_app provider ... --service-account-key FILE)."
        )
    return parse_service_account_key(config.service_account_key)


class GoogleServiceAccounts(ServiceAccountProvider):
    """Mixed into :class:`~aurinko_auth.providers.google.GoogleProvider`."""

    admin_signs_in = True
    token_per_mailbox = True
    takes_service_account_key = True

    def check_daemon_config(self, config: ProviderConfig) -> None:
        if not config.service_account_key:
            raise not_configured(
                "Google service accounts need the app's service-account key "
                "(manage.py aurinko_app provider ... --service-account-key FILE)."
            )
        config_key(config)
        if not config.client_id or not config.client_secret:
            raise not_configured(
                "The administrator signs in with Google OAuth: the app's Google "
                "configuration needs an OAuth client id and client secret."
            )

    def parse_service_account_key(self, text: str) -> ServiceAccountKey:
        return parse_service_account_key(text)

    def describe_service_account_key(self, text: str) -> str:
        # Only the key's client_email (not secret), read even from a key that no longer
        # parses, so the admin still says which key is stored.
        try:
            email = json.loads(text).get("client_email")
        except (ValueError, AttributeError):
            return ""
        return f"service account {email}" if isinstance(email, str) and email else ""

    def complete_daemon_sign_in(
        self, config: ProviderConfig, admin: Profile, native: list[str]
    ) -> DaemonGrant:
        domain = (admin.auth_org_id or "").lower()
        if not domain:
            raise InvalidRequest(
                "Only a Google Workspace administrator can authorize a service account: this "
                "is a consumer Google account (no Workspace domain).",
                code=Code.DAEMON_NOT_WORKSPACE,
            )
        try:
            # Proves the domain-wide delegation (client id and scopes) before an account exists.
            self.jwt_bearer_token(config, admin.email, native)
        except ProviderCallError as exc:
            raise ProviderError(
                f"Google refused the service account for {domain} ({exc.code}): check the "
                "domain-wide delegation of the service account's client id and scopes in the "
                "Admin console.",
                code=Code.DAEMON_DELEGATION_FAILED,
                status=400,
            ) from None
        profile = Profile(
            auth_user_id=domain,
            auth_org_id=domain,
            email=admin.email,
            login_string=admin.email,
            name=f"Google Workspace {domain}",
            extra={"authorizedBy": admin.email},
        )
        return DaemonGrant(profile, {"domain": domain, "default_mailbox": admin.email})

    def import_service_account(
        self, config: ProviderConfig, *, org_id: str, mailbox: str, native: list[str]
    ) -> DaemonGrant:
        """The Workspace domain (``authOrgId``, default the mailbox's) delegated ``native``
        to the app's service-account key if Google issues a token acting as ``mailbox`` (an
        administrator's, as the admin sign-in proves it; it is then the default mailbox)."""
        if not mailbox:
            raise InvalidRequest(
                "email: a mailbox of the Workspace domain (the administrator's) proves the "
                "domain-wide delegation and is the default mailbox."
            )
        try:
            validate_email(mailbox)
        except ValidationError:
            raise MailboxError("email is not a mailbox address.") from None
        domain = (org_id or mailbox.rpartition("@")[2]).strip().lower()
        if mailbox.rpartition("@")[2].lower() != domain:
            raise MailboxError(
                f"The mailbox is outside the Workspace domain {domain} (authOrgId).",
                code=Code.MAILBOX_OUTSIDE_DOMAIN,
            )
        admin = Profile(
            auth_user_id=mailbox, email=mailbox, login_string=mailbox, auth_org_id=domain
        )
        return self.complete_daemon_sign_in(config, admin, native)

    def check_mailbox(self, account: Account, mailbox: str) -> None:
        domain = (account.auth_org_id or "").lower()
        if mailbox.rpartition("@")[2].lower() != domain:
            raise MailboxError(
                f"The mailbox is outside the service account's domain {domain}.",
                code=Code.MAILBOX_OUTSIDE_DOMAIN,
            )

    def service_account_token(
        self, config: ProviderConfig, account: Account, mailbox: str | None
    ) -> TokenSet:
        return self.jwt_bearer_token(config, mailbox or "", list(account.native_scopes or []))

    def service_account_error(self, error: str, description: str) -> ProviderCallError:
        if error == "invalid_grant":
            if "invalid email or user id" in description:
                # One mailbox Google does not know (deleted, suspended).
                return UnknownMailbox("Google does not know this mailbox, or it is suspended.")
            # Google says invalid_grant for a deleted or unknown key too: the app's fault.
            return ProviderCallError(
                f"Google refused the app-only token: {error}.", code=error, failure=TERMINAL_APP
            )
        return super().service_account_error(error, description)

    def jwt_bearer_token(self, config: ProviderConfig, mailbox: str, scopes: list[str]) -> TokenSet:
        """A Google token acting as ``mailbox`` (domain-wide delegation, RFC 7523)."""
        key = config_key(config)
        provider: Any = self
        url = provider.endpoint("jwtbearer", config)
        now = int(time.time())
        claims = {
            "iss": key.client_email,
            "sub": mailbox,
            "scope": " ".join(scopes),
            "aud": url,
            "iat": now,
            "exp": now + ASSERTION_LIFETIME,
        }
        client = SignedAssertionClient(
            key.client_id or key.client_email, key.private_key, key.private_key_id, claims
        )
        return self.fetch_app_token(OAuth2Session(client=client), url)
