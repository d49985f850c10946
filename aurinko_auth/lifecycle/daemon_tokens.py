"""App-only provider tokens of service (daemon) accounts.

* Office 365: the client credentials grant at the consented tenant's token endpoint (scope
  ``https://graph.microsoft.com/.default``). One token serves every mailbox of the tenant; it is
  kept in the account's encrypted ``credentials`` and fetched again when it expires (there is
  no refresh token).
* Google Workspace: the JWT bearer grant (RFC 7523) signed RS256 with the app's service-account
  key, with ``sub`` = the mailbox (domain-wide delegation). One token per mailbox and scope
  set, cached encrypted in the Django cache until shortly before it expires.

:func:`daemon_access_token` is the one entry point; the general refresh code
(``aurinko_auth.lifecycle.tokens``) should hand daemon accounts (``account.daemon``) to it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models
from django.utils import timezone
from oauthlib.common import to_unicode
from oauthlib.oauth2 import BackendApplicationClient, ServiceApplicationClient
from oauthlib.oauth2.rfc6749.errors import OAuth2Error
from oauthlib.oauth2.rfc6749.parameters import prepare_token_request
from requests_oauthlib import OAuth2Session

from aurinko_auth import crypto
from aurinko_auth.conf import aurinko_settings
from aurinko_auth.errorcodes import Code
from aurinko_auth.exceptions import AccountInactive, InvalidRequest, ProviderNotConfigured
from aurinko_auth.models import Account, ProviderConfig, TokenStatus
from aurinko_auth.providers.base import (
    CONFIG,
    TERMINAL_APP,
    TERMINAL_USER,
    TRANSIENT,
    ProviderCallError,
    TokenSet,
)
from aurinko_auth.providers.oauth2 import OAuth2Provider
from aurinko_auth.providers.registry import get_provider

logger = logging.getLogger("aurinko_auth.daemon")

GRAPH_DEFAULT_SCOPE = "https://graph.microsoft.com/.default"
# Google accepts assertions valid for at most one hour.
ASSERTION_LIFETIME = 3600
MAILBOX_HEADER = "HTTP_X_AURINKO_MAILBOX"

_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_DOMAIN = re.compile(r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$", re.I)


class InvalidServiceAccountKey(InvalidRequest):
    code = Code.SERVICE_ACCOUNT_KEY_INVALID
    default_message = "The service-account key is not a valid Google JSON key."


class MailboxError(InvalidRequest):
    code = Code.MAILBOX_INVALID
    default_message = "The mailbox is not valid for this service account."


# --- tenants and mailboxes ---------------------------------------------------------------


def is_tenant_id(value: str) -> bool:
    return bool(_GUID.match(value or ""))


def clean_tenant(value: str) -> str:
    """A tenant an admin may consent for: a tenant id (GUID), a verified domain name, or
    ``organizations``. ``common`` and ``consumers`` are refused: personal Microsoft accounts
    cannot give admin consent, and client credentials need a concrete tenant."""
    value = (value or "").strip().lower()
    if value in ("common", "consumers"):
        raise InvalidRequest(
            f"tenant {value!r} cannot give admin consent: use the tenant id, the tenant's "
            "domain name or 'organizations'.",
            code=Code.TENANT_INVALID,
        )
    if value == "organizations" or is_tenant_id(value) or _DOMAIN.match(value):
        return value
    raise InvalidRequest(
        "tenant must be a tenant id (GUID), a domain name or 'organizations'.",
        code=Code.TENANT_INVALID,
    )


def clean_mailbox(account: Account, mailbox: str) -> str:
    """Validate a mailbox a daemon account acts for. Google: an address of the account's
    Workspace domain. Office 365: any valid address (the tenant's verified domains are not
    known to the broker; Graph answers 404 for a mailbox outside the tenant)."""
    mailbox = (mailbox or "").strip()
    if not account.daemon:
        raise MailboxError(
            "X-Aurinko-Mailbox applies to service (daemon) accounts only.",
            code=Code.MAILBOX_NOT_DAEMON,
        )
    try:
        validate_email(mailbox)
    except ValidationError:
        raise MailboxError("The mailbox is not a valid email address.") from None
    if account.service_type == "Google":
        domain = (account.auth_org_id or "").lower()
        if mailbox.rpartition("@")[2].lower() != domain:
            raise MailboxError(
                f"The mailbox is outside the service account's domain {domain}.",
                code=Code.MAILBOX_OUTSIDE_DOMAIN,
            )
    return mailbox


def requested_mailbox(account: Account, meta: dict[str, Any]) -> str | None:
    """The ``X-Aurinko-Mailbox`` header of a request (``request.META``), validated against
    ``account``; None when the header is absent."""
    raw = meta.get(MAILBOX_HEADER)
    if raw is None:
        return None
    return clean_mailbox(account, raw)


# --- Google service-account keys ---------------------------------------------------------


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
        raise ProviderNotConfigured(
            "The app's Google configuration has no service-account key "
            "(manage.py aurinko_app provider ... --service-account-key FILE).",
            code=Code.DAEMON_NOT_CONFIGURED,
        )
    return parse_service_account_key(config.service_account_key)


class _SignedAssertionClient(ServiceApplicationClient):
    """oauthlib's JWT bearer client, signing with PyJWT and naming the key (``kid``) so
    the token endpoint picks the right public key after a key rotation."""

    def __init__(self, key: ServiceAccountKey, claims: dict[str, Any]) -> None:
        super().__init__(key.client_id or key.client_email)
        self._key = key
        self._claims = claims

    def prepare_request_body(self, body: str = "", **kwargs: Any) -> str:
        headers = {"kid": self._key.private_key_id} if self._key.private_key_id else None
        assertion = jwt.encode(
            self._claims, self._key.private_key, algorithm="RS256", headers=headers
        )
        return prepare_token_request(self.grant_type, body=body, assertion=to_unicode(assertion))


# --- token calls ---------------------------------------------------------------------------


def _fetch(provider: OAuth2Provider, session: OAuth2Session, url: str, **kwargs: Any) -> TokenSet:
    session.register_compliance_hook("access_token_response", provider.check_token_response)

    def call() -> dict[str, Any]:
        try:
            return session.fetch_token(url, timeout=provider.timeout(), **kwargs)
        except OAuth2Error as exc:
            error = exc.error or "provider_error"
            description = (exc.description or "").lower()
            failure = provider.classify_oauth_error(error, description)
            if (
                provider.id == "Google"
                and error == "invalid_grant"
                and "invalid email or user id" not in description
            ):
                # Google says invalid_grant for a deleted or unknown key too: the app's fault.
                failure = TERMINAL_APP
            logger.info("%s app-only token request failed: %s", provider.id, error)
            raise ProviderCallError(
                f"{provider.id} refused the app-only token: {error}.",
                code=error[:64],
                failure=failure,
            ) from None

    # Network errors and unreadable bodies are classified by the provider's own wrapper.
    tokens = provider.parse_token(provider.call("app-only token request", call))
    tokens.scope = None  # app permissions are the app registration's, not in the response
    return tokens


def _config(account: Account, provider: OAuth2Provider) -> ProviderConfig:
    config = ProviderConfig.objects.filter(app_id=account.app_id, service_type=provider.id).first()
    if config is None:
        raise ProviderNotConfigured(
            f"The app has no {provider.id} configuration.", code=Code.DAEMON_NOT_CONFIGURED
        )
    return config


def client_credentials_token(
    provider: OAuth2Provider, config: ProviderConfig, tenant: str
) -> TokenSet:
    """An app-only Microsoft Graph token for ``tenant`` (client credentials grant)."""
    if not config.client_id or not config.client_secret:
        raise ProviderNotConfigured(
            "The app's Office 365 configuration needs an OAuth client id and client secret "
            "for service accounts.",
            code=Code.DAEMON_NOT_CONFIGURED,
        )
    if not is_tenant_id(tenant) and not _DOMAIN.match(tenant or ""):
        raise InvalidRequest("Client credentials need a concrete tenant.", code=Code.TENANT_INVALID)
    session = OAuth2Session(client=BackendApplicationClient(client_id=config.client_id))
    return _fetch(
        provider,
        session,
        provider.endpoint("token", config, tenant=tenant),
        client_id=config.client_id,
        client_secret=config.client_secret,
        include_client_id=True,
        scope=[GRAPH_DEFAULT_SCOPE],
    )


def jwt_bearer_token(
    provider: OAuth2Provider, config: ProviderConfig, mailbox: str, scopes: list[str]
) -> TokenSet:
    """A Google token acting as ``mailbox`` (domain-wide delegation, RFC 7523)."""
    key = config_key(config)
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
    session = OAuth2Session(client=_SignedAssertionClient(key, claims))
    return _fetch(provider, session, url)


# --- the entry point -------------------------------------------------------------------------

_FAILURE_STATUS = {
    TERMINAL_USER: TokenStatus.NEEDS_REAUTH,
    TERMINAL_APP: TokenStatus.APP_MISCONFIGURED,
    CONFIG: TokenStatus.APP_MISCONFIGURED,
    TRANSIENT: TokenStatus.RETRYING,
}


def _mark(account: Account, status: str, error: str = "") -> None:
    if account.token_status == status and account.last_error == error:
        return
    Account.objects.filter(pk=account.pk).update(
        token_status=status, last_error=error[:255], updated_at=timezone.now()
    )
    account.token_status, account.last_error = status, error[:255]


def _leeway() -> int:
    return int(aurinko_settings.REFRESH_LEEWAY)


def _office365_token(account: Account, provider: OAuth2Provider) -> str:
    creds = account.credentials or {}
    expires = account.access_token_expires_at
    if (
        creds.get("access_token")
        and expires is not None
        and expires - timedelta(seconds=_leeway()) > timezone.now()
    ):
        return creds["access_token"]
    config = _config(account, provider)
    tokens = client_credentials_token(provider, config, account.auth_org_id)
    credentials = {**tokens.credentials(), "tenant": account.auth_org_id}
    Account.objects.filter(pk=account.pk).update(
        credentials=credentials,
        access_token_expires_at=tokens.expires_at,
        credential_version=models.F("credential_version") + 1,
        updated_at=timezone.now(),
    )
    account.credentials, account.access_token_expires_at = credentials, tokens.expires_at
    return tokens.access_token


def _cache_key(account: Account, mailbox: str, scopes: list[str]) -> str:
    digest = hashlib.sha256(
        "\n".join([mailbox.lower(), " ".join(sorted(scopes))]).encode()
    ).hexdigest()
    return f"aurinko:daemon:{account.pk}:{account.credential_version}:{digest}"


def _google_token(account: Account, provider: OAuth2Provider, mailbox: str) -> str:
    scopes = list(account.native_scopes or [])
    key = _cache_key(account, mailbox, scopes)
    cached = cache.get(key)
    if cached:
        try:
            return json.loads(crypto.decrypt(cached))["access_token"]
        except (crypto.DecryptionError, ValueError, KeyError, TypeError):
            cache.delete(key)  # written under a removed key: fetch a new one
    config = _config(account, provider)
    tokens = jwt_bearer_token(provider, config, mailbox, scopes)
    ttl = 3600
    if tokens.expires_at is not None:
        ttl = int((tokens.expires_at - timezone.now()).total_seconds())
    ttl -= _leeway()
    if ttl > 0:
        cache.set(key, crypto.encrypt(json.dumps({"access_token": tokens.access_token})), ttl)
    return tokens.access_token


def daemon_access_token(account: Account, mailbox: str | None = None) -> str:
    """A valid provider access token for a daemon account, fetched again when the cached one
    expires. Google needs a ``mailbox`` to act as (default: the admin who authorized);
    Office 365's token covers the whole tenant, ``mailbox`` is only validated.

    A provider failure sets the account's ``token_status`` (needs_reauth, app_misconfigured
    or retrying) and raises :class:`ProviderCallError`; a bad mailbox raises
    :class:`MailboxError` and leaves the account alone."""
    if not account.daemon:
        raise InvalidRequest("Not a service (daemon) account.", code=Code.ACCOUNT_NOT_DAEMON)
    if account.token_status == TokenStatus.REVOKED or not account.active:
        # The same answer as every inactive account (tokens.ensure_usable).
        raise AccountInactive("The service account was revoked; authorize it again.")
    provider = get_provider(account.service_type)
    assert isinstance(provider, OAuth2Provider)
    if mailbox is not None:
        mailbox = clean_mailbox(account, mailbox)
    try:
        if account.service_type == "Office365":
            token = _office365_token(account, provider)
        elif account.service_type == "Google":
            mailbox = mailbox or clean_mailbox(
                account, (account.credentials or {}).get("default_mailbox", "")
            )
            token = _google_token(account, provider, mailbox)
        else:
            raise InvalidRequest(f"{account.service_type} has no service accounts.")
    except ProviderCallError as exc:
        if (
            exc.code == "invalid_grant"
            and exc.failure != TERMINAL_APP
            and account.service_type == "Google"
        ):
            # One mailbox Google does not know (deleted, suspended): not the account's fault.
            raise MailboxError(
                "Google does not know this mailbox, or it is suspended.", code=Code.MAILBOX_UNKNOWN
            ) from None
        _mark(account, _FAILURE_STATUS.get(exc.failure, TokenStatus.RETRYING), exc.code)
        raise
    except ProviderNotConfigured as exc:
        _mark(account, TokenStatus.APP_MISCONFIGURED, exc.code)
        raise
    if account.token_status != TokenStatus.HEALTHY:
        _mark(account, TokenStatus.HEALTHY)
    return token
