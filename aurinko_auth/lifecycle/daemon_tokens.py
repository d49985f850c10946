"""App-only provider tokens of service (daemon) accounts.

The grant is the provider's (:class:`~aurinko_auth.providers.service_accounts.ServiceAccountProvider`,
e.g. the client credentials grant of Office 365 or Google's JWT bearer grant with the app's
service-account key); this module keeps the tokens and the account's state:

* an organisation-wide token (``token_per_mailbox`` False) is kept in the account's encrypted
  ``credentials`` and fetched again when it expires (there is no refresh token);
* a per-mailbox token (``token_per_mailbox`` True) is cached encrypted in the Django cache per
  mailbox and scope set, until shortly before it expires.

:func:`daemon_access_token` is the one entry point; the general refresh code
(:func:`aurinko_auth.lifecycle.tokens.fresh_access_token`) hands daemon accounts
(``account.daemon``) to it. Failures set the token status from the same failure-class table as
user accounts (:mod:`aurinko_auth.lifecycle.failures`).
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models
from django.utils import timezone

from aurinko_auth import crypto
from aurinko_auth.accounts import mirror_to_managed
from aurinko_auth.conf import aurinko_settings
from aurinko_auth.errorcodes import Code
from aurinko_auth.exceptions import (
    AccountInactive,
    InvalidRequest,
    ProviderNotConfigured,
    TokenDead,
)
from aurinko_auth.lifecycle.failures import token_status
from aurinko_auth.models import Account, ProviderConfig, TokenStatus
from aurinko_auth.providers.base import ProviderCallError
from aurinko_auth.providers.registry import get_provider
from aurinko_auth.providers.service_accounts import (
    MailboxError,
    ServiceAccountProvider,
    UnknownMailbox,
)

__all__ = [
    "MAILBOX_HEADER",
    "MailboxError",
    "clean_mailbox",
    "daemon_access_token",
    "managed_access_token",
    "service_access_token",
]

MAILBOX_HEADER = "HTTP_X_AURINKO_MAILBOX"


# --- mailboxes -----------------------------------------------------------------------------


def clean_mailbox(account: Account, mailbox: str) -> str:
    """Validate a mailbox a daemon account acts for: a valid address, and whatever its
    provider requires (Google: an address of the account's Workspace domain; Office 365 takes
    any address, Graph answers 404 for a mailbox outside the tenant)."""
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
    provider = get_provider(account.service_type)
    if isinstance(provider, ServiceAccountProvider):
        provider.check_mailbox(account, mailbox)
    return mailbox


def requested_mailbox(account: Account, meta: dict[str, Any]) -> str | None:
    """The ``X-Aurinko-Mailbox`` header of a request (``request.META``), validated against
    ``account``; None when the header is absent."""
    raw = meta.get(MAILBOX_HEADER)
    if raw is None:
        return None
    return clean_mailbox(account, raw)


# --- keeping the tokens --------------------------------------------------------------------


def _config(account: Account, provider: ServiceAccountProvider) -> ProviderConfig:
    service_type = account.service_type
    config = ProviderConfig.objects.filter(app_id=account.app_id, service_type=service_type).first()
    if config is None:
        raise ProviderNotConfigured(
            f"The app has no {service_type} configuration.", code=Code.DAEMON_NOT_CONFIGURED
        )
    return config


def _leeway() -> int:
    return int(aurinko_settings.REFRESH_LEEWAY)


def _organisation_token(account: Account, provider: ServiceAccountProvider) -> str:
    creds = account.credentials or {}
    expires = account.access_token_expires_at
    if (
        creds.get("access_token")
        and expires is not None
        and expires - timedelta(seconds=_leeway()) > timezone.now()
    ):
        return creds["access_token"]
    tokens = provider.service_account_token(_config(account, provider), account, None)
    # Keys the authorization kept beside the token (the tenant) survive.
    credentials = {**creds, **tokens.credentials()}
    Account.objects.filter(pk=account.pk).update(
        credentials=credentials,
        access_token_expires_at=tokens.expires_at,
        access_token_issued_at=tokens.issued_at,
        credential_version=models.F("credential_version") + 1,
        updated_at=timezone.now(),
    )
    account.credentials, account.access_token_expires_at = credentials, tokens.expires_at
    account.access_token_issued_at = tokens.issued_at
    return tokens.access_token


def _cache_key(account: Account, mailbox: str, scopes: list[str]) -> str:
    digest = hashlib.sha256(
        "\n".join([mailbox.lower(), " ".join(sorted(scopes))]).encode()
    ).hexdigest()
    return f"aurinko:daemon:{account.pk}:{account.credential_version}:{digest}"


def _mailbox_token(account: Account, provider: ServiceAccountProvider, mailbox: str) -> str:
    key = _cache_key(account, mailbox, list(account.native_scopes or []))
    cached = cache.get(key)
    if cached:
        try:
            return json.loads(crypto.decrypt(cached))["access_token"]
        except (crypto.DecryptionError, ValueError, KeyError, TypeError):
            cache.delete(key)  # written under a removed key: fetch a new one
    tokens = provider.service_account_token(_config(account, provider), account, mailbox)
    ttl = 3600
    if tokens.expires_at is not None:
        ttl = int((tokens.expires_at - timezone.now()).total_seconds())
    ttl -= _leeway()
    if ttl > 0:
        cache.set(key, crypto.encrypt(json.dumps({"access_token": tokens.access_token})), ttl)
    return tokens.access_token


# --- the entry point -------------------------------------------------------------------------


def _mark(account: Account, status: str, error: str = "") -> None:
    if account.token_status == status and account.last_error == error:
        return
    Account.objects.filter(pk=account.pk).update(
        token_status=status, last_error=error[:255], updated_at=timezone.now()
    )
    account.token_status, account.last_error = status, error[:255]
    mirror_to_managed(account)  # its managed accounts' tokens are this grant


def daemon_access_token(account: Account, mailbox: str | None = None) -> str:
    """A valid provider access token for a daemon account, fetched again when the cached one
    expires. A per-mailbox provider needs a ``mailbox`` to act as (default: the admin who
    authorized); an organisation-wide token covers every mailbox, ``mailbox`` is only
    validated.

    A provider failure sets the account's ``token_status`` (needs_reauth, app_misconfigured
    or retrying) and raises :class:`ProviderCallError`; a bad or unknown mailbox raises
    :class:`MailboxError` and leaves the account alone."""
    if not account.daemon:
        raise InvalidRequest("Not a service (daemon) account.", code=Code.ACCOUNT_NOT_DAEMON)
    dead = TokenStatus.public(account.token_status) == "dead"
    if dead or not account.active:
        # The same answers as every inactive account (tokens.ensure_usable).
        if dead:
            raise TokenDead(
                "The service account's grant is dead (revoked, or refused by the provider); authorize it again."
            )
        raise AccountInactive("The service account is inactive; authorize it again.")
    provider = get_provider(account.service_type)
    if not isinstance(provider, ServiceAccountProvider):
        raise InvalidRequest(f"{account.service_type} has no service accounts.")
    if mailbox is not None:
        mailbox = clean_mailbox(account, mailbox)
    try:
        if provider.token_per_mailbox:
            mailbox = mailbox or clean_mailbox(account, provider.default_mailbox(account))
            token = _mailbox_token(account, provider, mailbox)
        else:
            token = _organisation_token(account, provider)
    except UnknownMailbox as exc:
        # One mailbox the provider does not know (deleted, suspended): not the account's fault.
        raise MailboxError(exc.message, code=Code.MAILBOX_UNKNOWN) from None
    except ProviderCallError as exc:
        _mark(account, token_status(exc.failure), exc.code)
        raise
    except ProviderNotConfigured as exc:
        _mark(account, TokenStatus.APP_MISCONFIGURED, exc.code)
        raise
    if account.token_status != TokenStatus.HEALTHY:
        _mark(account, TokenStatus.HEALTHY)
    return token


def managed_access_token(account: Account) -> str:
    """A provider access token for a managed mailbox account (``account.parent``): its
    service account's, for its mailbox, through :func:`daemon_access_token` exactly as
    ``X-Aurinko-Mailbox`` gets one. The service account's state decides: a dead or inactive
    one answers as it would (401 ``token.dead`` / ``account.inactive``), a provider failure
    marks it and, through :func:`mirror_to_managed`, its managed accounts. One query for the
    service account."""
    if not account.active:
        raise AccountInactive("The managed account was revoked; upsert it again.")
    parent = Account.objects.filter(pk=account.parent_id, daemon=True).first()
    if parent is None:
        raise AccountInactive("The managed account's service account no longer exists.")
    try:
        return daemon_access_token(parent, account.email)
    finally:
        if (account.token_status, account.last_error) != (parent.token_status, parent.last_error):
            # This account's answers follow its service account's, even when the service
            # account's status was written by someone else meanwhile (a refresh job).
            account.token_status, account.last_error = parent.token_status, parent.last_error
            account.save(update_fields=["token_status", "last_error", "updated_at"])


def service_access_token(account: Account, mailbox: str | None = None) -> str:
    """The provider token of a service account (for ``mailbox``) or of a managed account."""
    if account.daemon:
        return daemon_access_token(account, mailbox)
    return managed_access_token(account)
