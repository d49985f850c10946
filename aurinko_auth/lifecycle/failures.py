"""What a failed provider token call does to an account, for user and daemon accounts alike.

:data:`TOKEN_STATUS` is the one failure-class -> token-status table
(:class:`~aurinko_auth.providers.base.ProviderCallError.failure` -> ``Account.token_status``).
:func:`record_failure` applies it to a failed refresh (:mod:`aurinko_auth.lifecycle.tokens`)
with everything that goes with it: the race check before a revocation is believed, the one
app-level record of refused client credentials, the backoff schedule of transient failures
(``REFRESH_RETRY_BASE`` doubling up to ``REFRESH_RETRY_MAX``, or the provider's
``Retry-After``) and the lifecycle events. Daemon accounts
(:mod:`aurinko_auth.lifecycle.daemon_tokens`) only take the status.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aurinko_auth.conf import aurinko_settings
from aurinko_auth.errorcodes import Code
from aurinko_auth.exceptions import (
    AurinkoError,
    ProviderError,
    ProviderUnavailable,
    TokenDead,
)
from aurinko_auth.models import Account, ProviderConfig, TokenStatus
from aurinko_auth.providers import base
from aurinko_auth.webhooks import events

logger = logging.getLogger("aurinko_auth.lifecycle.tokens")

# The failure class of a provider call -> the account's token status.
TOKEN_STATUS = {
    base.TERMINAL_USER: TokenStatus.NEEDS_REAUTH,
    base.TERMINAL_APP: TokenStatus.APP_MISCONFIGURED,
    base.CONFIG: TokenStatus.APP_MISCONFIGURED,
    base.TRANSIENT: TokenStatus.RETRYING,
}


def token_status(failure: str) -> str:
    """The token status a ``failure`` class puts an account in (unknown classes: retrying)."""
    return TOKEN_STATUS.get(failure, TokenStatus.RETRYING)


@dataclass
class Outcome:
    """What a refresh attempt did. ``result``: ``refreshed``, ``current`` (the stored token was
    still good, e.g. another worker had just refreshed it), ``failed``, ``paused`` (the app's
    provider configuration has an app-level failure on record), ``skipped`` (locked by
    another machine) or ``inactive``."""

    result: str
    account: Account | None = None
    error: AurinkoError | None = None

    def apply_to(self, account: Account) -> None:
        """Copy the attempt's account state (refreshed, or as re-read under the lock) onto the
        caller's instance of the account, updated in place."""
        if self.account is None or self.account is account:
            return
        for name in STATE_FIELDS:
            setattr(account, name, getattr(self.account, name))


# The account fields a refresh attempt may change (Outcome.apply_to copies them).
STATE_FIELDS = (
    "credentials",
    "credential_version",
    "access_token_expires_at",
    "access_token_issued_at",
    "token_status",
    "active",
    "last_error",
    "refresh_failures",
    "refresh_retry_at",
    "scopes",
    "native_scopes",
)


def record_failure(
    row: Account,
    config: ProviderConfig | None,
    exc: base.ProviderCallError,
    now: datetime,
    *,
    record_app: bool = True,
) -> Outcome:
    """Record a failed refresh on the account (and the app) and say what the caller gets."""
    failure = exc.failure
    update: dict[str, Any] = {
        "last_error": exc.code[:255],
        "token_status": token_status(failure),
        "updated_at": now,
    }
    if failure == base.TERMINAL_USER:
        current = (
            Account.objects.filter(pk=row.pk).values_list("credential_version", flat=True).first()
        )
        if current != row.credential_version:
            # The credentials changed while we refreshed: another worker won the race and our
            # refresh token was simply the old one. Not a revocation.
            logger.info(
                "account %s: %s after a concurrent update; not a revocation", row.pk, exc.code
            )
            return Outcome("current", Account.objects.get(pk=row.pk))
        update.update(active=False, refresh_retry_at=None)
        error: AurinkoError = TokenDead(
            f"The provider refused the account's refresh token ({exc.code}); the account is "
            "inactive until it is authorized again."
        )
        logger.warning("account %s: needs re-authorization (%s)", row.pk, exc.code)
    elif failure == base.TERMINAL_APP:
        update.update(refresh_retry_at=None)
        if record_app and config is not None:
            first = not config.refresh_blocked
            ProviderConfig.objects.filter(pk=config.pk).update(
                last_error=exc.code[:255], last_error_at=now
            )
            if first:
                # The one app-level alert; the app's other accounts pause silently.
                logger.error(
                    "app %s: the %s provider configuration was refused (%s); "
                    "token refreshes for its accounts are paused until it changes",
                    row.app_id,
                    row.service_type,
                    exc.code,
                )
        error = ProviderError(
            f"The app's {row.service_type} client credentials were refused ({exc.code}).",
            code=Code.PROVIDER_APP_MISCONFIGURED,
            status=502,
        )
    elif failure == base.CONFIG:
        wait = int(aurinko_settings.REFRESH_RETRY_MAX)
        update.update(refresh_retry_at=now + timedelta(seconds=wait))
        logger.warning("account %s: refresh failed, configuration problem (%s)", row.pk, exc.code)
        error = ProviderError(
            f"The {row.service_type} configuration does not work for this account ({exc.code}).",
            code=Code.PROVIDER_MISCONFIGURED,
            status=502,
        )
    else:
        failures = row.refresh_failures + 1
        wait = (
            exc.retry_after
            if exc.retry_after is not None
            else min(
                int(aurinko_settings.REFRESH_RETRY_BASE) * 2 ** min(failures - 1, 16),
                int(aurinko_settings.REFRESH_RETRY_MAX),
            )
        )
        update.update(
            refresh_failures=failures,
            refresh_retry_at=now + timedelta(seconds=wait),
        )
        logger.info(
            "account %s: transient refresh failure %d (%s), retry in %d s",
            row.pk,
            failures,
            exc.code,
            wait,
        )
        error = ProviderUnavailable(
            f"The provider could not refresh the account's token ({exc.code}); retry later.",
            code=Code.PROVIDER_UNAVAILABLE,
            retry_after=max(1, wait),
        )
    was = row.token_status
    Account.objects.filter(pk=row.pk).update(**update)
    for key, value in update.items():
        setattr(row, key, value)
    # Events (in the caller's transaction): needs_reauth once, when the grant is gone;
    # refresh_failed at the first failure of a streak, not at every retry.
    payload = {**events.account_payload(row), "failure": failure, "error": exc.code[:255]}
    if failure == base.TERMINAL_USER:
        events.emit(row.app_id, "account.needs_reauth", payload, account=row)
    elif was == TokenStatus.HEALTHY:
        events.emit(row.app_id, "account.refresh_failed", payload, account=row)
    return Outcome("failed", row, error)
