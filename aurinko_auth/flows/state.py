"""Pending authorizations: server-side, single use, expiring, bound to one browser.

The value sent to the provider as ``state`` is a random token; only its SHA-256 is stored.
The browser that started the flow holds a random *browser id* in a cookie (its own cookie,
independent of any app session); the state row stores that id's hash. Any number of flows may
run at once in one browser: they share the browser id and differ by state.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from aurinko_auth import crypto
from aurinko_auth.conf import aurinko_settings
from aurinko_auth.errorcodes import Code
from aurinko_auth.exceptions import StateError
from aurinko_auth.models import App, AuthState


def new_browser_id() -> str:
    return crypto.new_token(crypto.PREFIX_BROWSER)


def create(
    *,
    app: App,
    kind: str,
    service_type: str,
    params: dict[str, Any],
    secrets: dict[str, Any],
    browser_id: str,
) -> str:
    state = crypto.new_token(crypto.PREFIX_STATE)
    AuthState.objects.create(
        state_hash=crypto.hash_token(state),
        app=app,
        kind=kind,
        service_type=service_type,
        params=params,
        secrets=secrets,
        browser_hash=crypto.hash_token(browser_id),
        expires_at=timezone.now() + timedelta(seconds=aurinko_settings.STATE_TTL),
    )
    return state


def check(state: str | None, browser_id: str | None) -> AuthState:
    """The pending authorization named by ``state`` if this browser may resume it, without
    using it up (a password form shown again after a wrong password). Raises
    :class:`StateError` whose code says why: ``state.missing``, ``state.invalid`` (unknown or
    forged), ``state.expired``, ``state.used`` or ``state.browser_mismatch``."""
    if not state:
        raise StateError("The provider returned no state.", code=Code.STATE_MISSING)
    if len(state) > 200 or not state.startswith(crypto.PREFIX_STATE):
        raise StateError()
    row = (
        AuthState.objects.select_related("app").filter(state_hash=crypto.hash_token(state)).first()
    )
    if row is None:
        raise StateError()
    if row.used_at is not None:
        raise StateError(
            "This authorization was already completed; start again from the app.",
            code=Code.STATE_USED,
        )
    if row.expired:
        raise StateError(
            "This authorization took too long and expired; start again from the app.",
            code=Code.STATE_EXPIRED,
        )
    if not browser_id:
        raise StateError(
            "This authorization was started in another browser, or the browser blocked our "
            "cookie (private mode, third-party cookies in an iframe).",
            code=Code.STATE_BROWSER_MISMATCH,
        )
    if not crypto.check_token(browser_id, row.browser_hash):
        raise StateError(
            "This authorization was started in another browser.", code=Code.STATE_BROWSER_MISMATCH
        )
    return row


def claim(row: AuthState) -> AuthState:
    """Use a checked pending authorization up, exactly once (one conditional UPDATE)."""
    claimed = AuthState.objects.filter(pk=row.pk, used_at__isnull=True).update(
        used_at=timezone.now()
    )
    if claimed != 1:
        raise StateError(
            "This authorization was already completed; start again from the app.",
            code=Code.STATE_USED,
        )
    return row


def consume(state: str | None, browser_id: str | None) -> AuthState:
    """Claim a pending authorization exactly once (:func:`check`, then :func:`claim`)."""
    return claim(check(state, browser_id))


def purge_expired() -> int:
    cutoff = timezone.now() - timedelta(hours=1)
    deleted, _ = AuthState.objects.filter(expires_at__lt=cutoff).delete()
    return deleted
