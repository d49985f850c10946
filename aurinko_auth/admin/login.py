"""Admin sign-in throttling: failed sign-ins are counted per account and per client address in
the rate-limit cache (``RATE_LIMIT_CACHE``, shared by every worker when it is Redis); once
either window is used up the login form refuses, without checking the password, until the
window ends. Every refusal is in the audit log (``admin.signin_failed`` with
``reason: throttled``).

``AppConfig.ready`` installs :class:`ThrottledAdminAuthenticationForm` as the login form of
Django's default admin site (when the site has no login form of its own); a project with its
own ``AdminSite`` sets ``login_form = ThrottledAdminAuthenticationForm`` on it."""

from __future__ import annotations

import hashlib
import math
from typing import Any

from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError

from aurinko_auth import audit
from aurinko_auth.conf import aurinko_settings
from aurinko_auth.exceptions import RateLimited
from aurinko_auth.security import ratelimit

SCOPE_ACCOUNT = "admin-login-account"
SCOPE_IP = "admin-login-ip"


def _account_key(username: str) -> str:
    # The cache key names no username (hashed, case-insensitive like most user models).
    return hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]


def check(username: str, ip: str) -> None:
    """Raise :class:`RateLimited` while the account or the address is locked out."""
    ratelimit.check(
        SCOPE_ACCOUNT, _account_key(username), aurinko_settings.ADMIN_LOGIN_RATE_ACCOUNT
    )
    check_address(ip)


def check_address(ip: str) -> None:
    """Raise :class:`RateLimited` while the address is locked out (whatever the account)."""
    ratelimit.check(SCOPE_IP, ip or "-", aurinko_settings.ADMIN_LOGIN_RATE_IP)


def count_failure(username: str, ip: str) -> None:
    ratelimit.count(
        SCOPE_ACCOUNT, _account_key(username), aurinko_settings.ADMIN_LOGIN_RATE_ACCOUNT
    )
    ratelimit.count(SCOPE_IP, ip or "-", aurinko_settings.ADMIN_LOGIN_RATE_IP)


class ThrottledAdminAuthenticationForm(AdminAuthenticationForm):
    """Django's admin login form, refusing while the account or address is locked out."""

    # Validation error codes that count as a failed sign-in.
    failure_codes = frozenset({"invalid_login"})

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "throttled": "Too many failed sign-ins for this account or from your address. "
        "Try again in %(minutes)s minute(s).",
    }

    def clean(self) -> dict[str, Any]:
        username = str(self.cleaned_data.get("username") or "")
        ip = audit.client_ip(self.request) if self.request is not None else ""
        try:
            check(username, ip)
        except RateLimited as exc:
            audit.record(
                audit.Event.ADMIN_SIGN_IN_FAILED,
                request=self.request,
                actor_name=username,
                reason="throttled",
            )
            minutes = max(1, math.ceil((exc.retry_after or 60) / 60))
            raise ValidationError(
                self.error_messages["throttled"], code="throttled", params={"minutes": minutes}
            ) from None
        try:
            return super().clean()
        except ValidationError as exc:
            if exc.code in self.failure_codes:
                count_failure(username, ip)
            raise
