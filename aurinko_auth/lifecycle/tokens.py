"""Provider access tokens: refreshed on use, exactly once across threads, processes and machines.

``fresh_access_token(account)`` returns the account's provider access token, refreshing it
first when it has expired or expires within ``REFRESH_LEEWAY`` (at most half the token's
lifetime, :func:`refresh_leeway`). Refreshes are single-flight:

1. an in-process lock per account (striped) keeps threads of one worker from queueing at the
   database, and is the whole guarantee on SQLite, which has no row locks;
2. on PostgreSQL the account row is locked with ``SELECT ... FOR UPDATE``; a second caller
   waits for it, **re-reads the row after the lock** and reuses the token the first one stored
   when the row's ``credential_version`` is no longer the one it saw (not "whether the token
   expires within the leeway": a token shorter-lived than the leeway always does);
3. the write is guarded by ``credential_version`` (``UPDATE ... WHERE credential_version = n``),
   so a writer that lost a race (a re-authorization in between) never overwrites newer tokens.

The row lock is held during the refresh's HTTP call on purpose: with rotating refresh tokens
(Microsoft, the sandbox) the old refresh token dies at the first use, so the only way to never
refresh twice is that nobody else may start a refresh before the new token is stored. The
wait is bounded: the HTTP call by ``HTTP_TIMEOUT`` and the lock wait by
``REFRESH_LOCK_TIMEOUT`` (PostgreSQL ``lock_timeout``). Only refreshes hold it, so the lock
costs one short wait per account per token lifetime.

Failures are classified (``ProviderCallError.failure``) and move the account along
``healthy -> retrying -> needs_reauth | app_misconfigured``
(:mod:`aurinko_auth.lifecycle.failures` records them, with the one failure-class ->
token-status table shared with daemon accounts):

* ``terminal_user`` (``invalid_grant``, AADSTS700082, ``BAD_REFRESH_TOKEN``...): after a
  re-read that shows nobody else changed the credentials meanwhile (else it was a race, not a
  revocation), the account becomes inactive with ``needs_reauth`` (public ``dead``).
  Authorizing the same identity again reactivates the same account.
* ``terminal_app`` (``invalid_client``, expired client secret): recorded once on the
  :class:`~aurinko_auth.models.ProviderConfig`; refreshes of all its accounts pause, without
  calling the provider, until the configuration is changed.
* ``config`` (wrong tenant or data centre): the account is ``app_misconfigured`` and retried
  after ``REFRESH_RETRY_MAX``.
* ``transient`` (5xx, timeouts, 429): ``retrying`` with exponential backoff, or the
  provider's ``Retry-After``; never a reason to give up on the account.
"""

from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from django.db import OperationalError, connection, models, transaction
from django.utils import timezone

from aurinko_auth.accounts import merge_credentials
from aurinko_auth.conf import aurinko_settings
from aurinko_auth.errorcodes import Code
from aurinko_auth.exceptions import (
    AccountInactive,
    AurinkoError,
    InvalidRequest,
    ProviderNotConfigured,
    ProviderUnavailable,
    TokenDead,
)
from aurinko_auth.lifecycle.daemon_tokens import service_access_token
from aurinko_auth.lifecycle.failures import Outcome, record_failure
from aurinko_auth.models import Account, ProviderConfig, TokenStatus
from aurinko_auth.providers import base
from aurinko_auth.providers.oauth2 import OAuth2Provider
from aurinko_auth.providers.registry import get_provider
from aurinko_auth.providers.service_accounts import ServiceAccountProvider
from aurinko_auth.webhooks import events

logger = logging.getLogger("aurinko_auth.lifecycle.tokens")

# Token states a refresh may be attempted from.
REFRESHABLE = (TokenStatus.HEALTHY, TokenStatus.RETRYING, TokenStatus.APP_MISCONFIGURED)

_STRIPES = tuple(threading.Lock() for _ in range(256))


@contextmanager
def _local_lock(pk: int):
    lock = _STRIPES[hash(pk) % len(_STRIPES)]
    if not lock.acquire(timeout=float(aurinko_settings.REFRESH_LOCK_TIMEOUT)):
        raise ProviderUnavailable(
            "Another refresh of this account is still running.",
            code=Code.REFRESH_BUSY,
            retry_after=5,
        )
    try:
        yield
    finally:
        lock.release()


def refresh_leeway(account: Account) -> timedelta:
    """How long before expiry a token is refreshed: ``REFRESH_LEEWAY``, but at most half the
    token's lifetime (from when it was stored, ``updated_at``, to its expiry). A provider
    token that lives 2 s is then used for its first second, not refreshed on every call."""
    leeway = timedelta(seconds=float(aurinko_settings.REFRESH_LEEWAY))
    expires, stored = account.access_token_expires_at, account.updated_at
    if expires is not None and stored is not None and expires > stored:
        leeway = min(leeway, (expires - stored) / 2)
    return leeway


def needs_refresh(account: Account, horizon: datetime | None = None) -> bool:
    """Whether the stored access token expires before ``horizon`` (default: now plus
    :func:`refresh_leeway`). A token without a known expiry is used until the provider refuses
    it (Salesforce returns no ``expires_in``)."""
    if not (account.credentials or {}).get("access_token"):
        return True
    expires = account.access_token_expires_at
    if expires is None:
        return False
    if horizon is None:
        horizon = timezone.now() + refresh_leeway(account)
    return expires <= horizon


def ensure_usable(account: Account) -> None:
    """Refuse accounts whose provider token cannot be used: 401 ``token.dead`` when the grant
    is dead (a managed account's: asked with its token), else 401 ``account.inactive``."""
    dead = account.parent_id is None and TokenStatus.public(account.token_status) == "dead"
    if not account.active or dead:
        raise _inactive_error(account)


def fresh_access_token(account: Account, mailbox: str | None = None) -> str:
    """The account's provider access token, refreshed first when expired or expiring within
    ``REFRESH_LEEWAY``. Safe to call from any number of threads, workers and machines at
    once: one of them refreshes, the others wait and reuse its token. Service and managed
    accounts have no refresh token (:func:`.daemon_tokens.service_access_token`, ``mailbox``).

    Raises :class:`AccountInactive` (401) for inactive accounts and when the refresh token was
    revoked, :class:`ProviderUnavailable` (503, with ``retry_after``) while the provider is
    failing or backing off, and :class:`ProviderError` (502) when the app's provider
    configuration is broken. ``account`` is updated in place."""
    ensure_usable(account)
    if account.daemon or account.parent_id is not None:
        return service_access_token(account, mailbox)
    if not needs_refresh(account):
        return account.credentials["access_token"]
    outcome = refresh_account(account, seen_version=account.credential_version)
    outcome.apply_to(account)
    if outcome.error is not None and not _still_valid(account):
        raise outcome.error
    ensure_usable(account)
    token = (account.credentials or {}).get("access_token")
    if not token:
        raise outcome.error or ProviderUnavailable("No provider token is available.")
    return token


def replace_rejected_token(account: Account, rejected: str) -> str | None:
    """The provider answered HTTP 401 to ``rejected`` although we held it for valid (revoked
    early, clock skew, or a provider that tells no expiry). Returns a different token to retry
    with: the one another worker stored meanwhile, else a freshly refreshed one; ``None`` when
    there is none. Raises like :func:`fresh_access_token` when the refresh fails."""
    ensure_usable(account)
    outcome = refresh_account(account, rejected=rejected)
    outcome.apply_to(account)
    if outcome.error is not None:
        raise outcome.error
    ensure_usable(account)
    token = (account.credentials or {}).get("access_token")
    return token if token and token != rejected else None


def refresh_account(
    account: Account | int,
    *,
    horizon: datetime | None = None,
    skip_locked: bool = False,
    rejected: str | None = None,
    seen_version: int | None = None,
) -> Outcome:
    """Refresh one account's provider token if it is due before ``horizon`` (default: now plus
    :func:`refresh_leeway`), or if its stored access token is still ``rejected``; single-flight.
    ``seen_version`` is the ``credential_version`` the caller found due: when the row has
    another one once locked, someone refreshed while we waited and their token is used (not
    refreshed again because it, too, "expires within the leeway"). With ``skip_locked`` an
    account another worker is refreshing right now is skipped instead of waited for
    (``aurinko_refresh``)."""
    pk = account if isinstance(account, int) else account.pk
    with _local_lock(pk):
        try:
            return _refresh_locked(
                pk,
                horizon=horizon,
                skip_locked=skip_locked,
                rejected=rejected,
                seen_version=seen_version,
            )
        except OperationalError as exc:
            # lock_timeout: another worker's refresh of this account is taking too long.
            if "lock" not in str(exc).lower():
                raise
            logger.warning("account %s: gave up waiting for a concurrent refresh", pk)
            return Outcome(
                "failed",
                error=ProviderUnavailable(
                    "Another refresh of this account is still running.",
                    code=Code.REFRESH_BUSY,
                    retry_after=5,
                ),
            )


def _refresh_locked(
    pk: int,
    *,
    horizon: datetime | None,
    skip_locked: bool,
    rejected: str | None = None,
    seen_version: int | None = None,
) -> Outcome:
    with transaction.atomic():
        if connection.vendor == "postgresql":
            timeout_ms = int(float(aurinko_settings.REFRESH_LOCK_TIMEOUT) * 1000)
            with connection.cursor() as cursor:
                # SET cannot take a bind parameter; the value is an int we computed.
                cursor.execute(f"SET LOCAL lock_timeout = {timeout_ms}")
        row = Account.objects.select_for_update(skip_locked=skip_locked).filter(pk=pk).first()
        if row is None:
            if skip_locked and Account.objects.filter(pk=pk).exists():
                return Outcome("skipped")
            return Outcome("inactive", error=AccountInactive("The account no longer exists."))
        # Re-read after the lock: whoever held it may have refreshed already.
        if not row.active or row.token_status not in REFRESHABLE:
            return Outcome("inactive", row, _inactive_error(row))
        now = timezone.now()
        if (
            seen_version is not None
            and row.credential_version != seen_version
            and _still_valid(row)
        ):
            return Outcome("current", row)  # another worker refreshed while we waited
        if rejected is not None:
            if (row.credentials or {}).get("access_token") != rejected:
                return Outcome("current", row)  # someone already replaced the refused token
        elif not needs_refresh(row, horizon):
            return Outcome("current", row)
        if row.refresh_retry_at is not None and row.refresh_retry_at > now:
            wait = max(1, int((row.refresh_retry_at - now).total_seconds()))
            return Outcome(
                "failed",
                row,
                ProviderUnavailable(
                    f"The provider refresh is backing off after {row.last_error or 'an error'}; "
                    f"retry in {wait} s.",
                    retry_after=wait,
                ),
            )
        provider = get_provider(row.service_type)
        if not isinstance(provider, OAuth2Provider):
            return Outcome(
                "skipped",
                row,
                InvalidRequest(
                    f"{provider.id} accounts have no refreshable token.",
                    code=Code.DIRECT_UNSUPPORTED,
                ),
            )
        if row.daemon and (
            not isinstance(provider, ServiceAccountProvider) or provider.token_per_mailbox
        ):
            # Per-mailbox tokens are fetched (and cached) when used: nothing to renew ahead.
            return Outcome(
                "skipped",
                row,
                InvalidRequest(
                    "This service account has per-mailbox tokens only.",
                    code=Code.DIRECT_UNSUPPORTED,
                ),
            )
        config = ProviderConfig.objects.filter(
            app_id=row.app_id, service_type=row.service_type
        ).first()
        if config is None:
            return record_failure(
                row,
                None,
                base.ProviderCallError(
                    f"The app has no {row.service_type} configuration.",
                    code=Code.PROVIDER_NOT_CONFIGURED,
                    failure=base.CONFIG,
                ),
                now,
            )
        if config.refresh_blocked:
            # One app-level failure is on record: do not hammer the provider with every account.
            outcome = record_failure(
                row,
                config,
                base.ProviderCallError(
                    f"The app's {row.service_type} credentials were refused "
                    f"({config.last_error}); fix the provider configuration.",
                    code=config.last_error or "invalid_client",
                    failure=base.TERMINAL_APP,
                ),
                now,
                record_app=False,
            )
            outcome.result = "paused"
            return outcome
        try:
            tokens = provider.renew(config, row)
        except base.ProviderCallError as exc:
            return record_failure(row, config, exc, now)
        except ProviderNotConfigured as exc:
            return record_failure(
                row,
                config,
                base.ProviderCallError(exc.message, code=exc.code, failure=base.CONFIG),
                now,
            )

        old = row.credentials or {}
        fields: dict[str, Any] = {
            # Keys a provider keeps beside the tokens (instance URL, API domain) survive; a
            # response without a refresh token keeps the old one.
            "credentials": {**old, **merge_credentials(old, tokens.credentials())},
            "access_token_expires_at": tokens.expires_at,
            "access_token_issued_at": tokens.issued_at,
            "token_status": TokenStatus.HEALTHY,
            "last_error": "",
            "refresh_failures": 0,
            "refresh_retry_at": None,
            "updated_at": now,
        }
        if tokens.scope is not None:
            fields["native_scopes"] = tokens.scope
            fields["scopes"] = provider.unified_scopes(tokens.scope)
        written = Account.objects.filter(pk=pk, credential_version=row.credential_version).update(
            credential_version=models.F("credential_version") + 1, **fields
        )
        if not written:
            # Someone else wrote newer credentials (a re-authorization, or a refresh on a
            # database without row locks): theirs win, ours are dropped.
            logger.info("account %s: credentials changed during the refresh; keeping theirs", pk)
            return Outcome("current", Account.objects.get(pk=pk))
        if config.last_error:
            ProviderConfig.objects.filter(pk=config.pk).update(last_error="", last_error_at=None)
        was = row.token_status
        for key, value in fields.items():
            setattr(row, key, value)
        row.credential_version += 1
        if was != TokenStatus.HEALTHY:
            # In the refresh's transaction: the outbox row commits with the new state.
            events.emit(
                row.app_id,
                "account.recovered",
                {**events.account_payload(row), "previousTokenStatus": was},
                account=row,
            )
        logger.info("account %s: provider token refreshed", pk)
        return Outcome("refreshed", row)


def _inactive_error(row: Account) -> AurinkoError:
    if TokenStatus.public(row.token_status) == "dead":
        return TokenDead(
            f"The account's provider grant is dead (tokenStatus {row.public_token_status}); "
            "authorize it again."
        )
    return AccountInactive(
        f"The account is inactive (tokenStatus {row.public_token_status}); authorize it again."
    )


def _still_valid(account: Account) -> bool:
    """An early refresh failed but the stored token has not expired yet: keep using it."""
    expires = account.access_token_expires_at
    return (
        account.active
        and bool((account.credentials or {}).get("access_token"))
        and (expires is None or expires > timezone.now())
    )
