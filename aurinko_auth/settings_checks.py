"""The type and value of every ``AURINKO_AUTH`` setting, checked at start (``manage.py
check``, ``runserver``, ``migrate``): a typo fails there, not as a 500 in the middle of a
sign-in. Used by ``checks.check_setting_values`` (id ``aurinko_auth.E010``); the settings
with checks of their own (keys, public URL, networks, rates, cookies) are in ``checks``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings

from aurinko_auth.conf import DEFAULTS, aurinko_settings

# A validator returns None when the value is right, else what was expected.
Validator = Callable[[Any], str | None]


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def positive(value: Any) -> str | None:
    return None if _number(value) and value > 0 else "a number above 0"


def non_negative(value: Any) -> str | None:
    return None if _number(value) and value >= 0 else "a number, 0 or more"


def timeout(value: Any) -> str | None:
    """A number of seconds for both, or a (connect, read) pair: what requests takes."""
    if _number(value) and value > 0:
        return None
    if (
        isinstance(value, list | tuple)
        and len(value) == 2
        and all(positive(v) is None for v in value)
    ):
        return None
    return "a number of seconds above 0, or a (connect, read) pair of them"


def boolean(value: Any) -> str | None:
    return None if isinstance(value, bool) else "True or False"


def text(value: Any) -> str | None:
    return None if isinstance(value, str) and value else "a non-empty string"


def optional_text(value: Any) -> str | None:
    return None if value is None or (isinstance(value, str) and value) else "None or a string"


def list_of_text(value: Any) -> str | None:
    if isinstance(value, list | tuple) and all(isinstance(v, str) and v for v in value):
        return None
    return "a list of strings (a single string is not a list)"


def optional_rate(value: Any) -> str | None:
    """The type only: a string's syntax is E007's (checks.py)."""
    if value is None or isinstance(value, str):
        return None
    return 'None or a rate such as "300/m" (N/s, N/m, N/h, N/d, or N/<count><unit>)'


def checked_elsewhere(value: Any) -> str | None:
    """A setting with a check id of its own (checks.py)."""
    return None


def samesite(value: Any) -> str | None:
    return None if value in ("Lax", "Strict", "None") else "'Lax', 'Strict' or 'None'"


def cache_alias(value: Any) -> str | None:
    if isinstance(value, str) and value in getattr(settings, "CACHES", {}):
        return None
    return f"an alias of settings.CACHES ({', '.join(sorted(settings.CACHES)) or 'none'})"


def optional_cache_alias(value: Any) -> str | None:
    return None if value is None else cache_alias(value)


def origins(value: Any) -> str | None:
    """A list of web origins: ``scheme://host[:port]``, nothing after."""
    expected = 'a list of origins such as ["https://app.example.com"]'
    if not isinstance(value, list | tuple):
        return expected + " (a single string is not a list)"
    for origin in value:
        try:
            parts = urlsplit(origin) if isinstance(origin, str) else None
            port_ok = parts is not None and (parts.port is None or parts.port > 0)
        except ValueError:
            parts, port_ok = None, False
        if (
            parts is None
            or not port_ok
            or parts.scheme not in ("http", "https")
            or not parts.hostname
            or parts.path not in ("", "/")
            or parts.query
            or parts.fragment
        ):
            return f"{expected}; {origin!r} is not an origin"
    return None


# Every setting of conf.DEFAULTS; tests/test_checks.py fails when one is missing here.
VALIDATORS: dict[str, Validator] = {
    "PUBLIC_URL": text,
    "ENCRYPTION_KEYS": list_of_text,
    "DEMO": boolean,
    "ALLOWED_PRIVATE_NETWORKS": list_of_text,
    "PROVIDERS": list_of_text,
    "STATE_TTL": positive,
    "CODE_TTL": positive,
    "REFRESH_LEEWAY": non_negative,
    "HTTP_TIMEOUT": timeout,
    "REFRESH_LOCK_TIMEOUT": positive,
    "REFRESH_RETRY_BASE": positive,
    "REFRESH_RETRY_MAX": positive,
    "DIRECT_TIMEOUT": timeout,
    "DIRECT_MAX_REQUEST_BYTES": positive,
    "DIRECT_MAX_RESPONSE_BYTES": positive,
    "DIRECT_RATE_LIMIT_ACCOUNT": optional_rate,
    "DIRECT_REFRESH_ON_401": optional_rate,
    "DIRECT_RATE_LIMIT_APP": optional_rate,
    "RATE_LIMIT_CACHE": cache_alias,
    "FLOW_COOKIE_NAME": text,
    "FLOW_COOKIE_SAMESITE": samesite,
    "PASSWORD_CA_BUNDLE": optional_text,
    "PASSWORD_TIMEOUT": timeout,
    "PASSWORD_FAILURE_RATE_IP": optional_rate,
    "IDENTITY_FAILURE_RATE_IP": optional_rate,
    "PASSWORD_FAILURE_RATE_LOGIN": optional_rate,
    "AUTH_CACHE": optional_cache_alias,
    "AUTH_CACHE_TIMEOUT": positive,
    "AUTH_PREPARED_QUERY": boolean,
    "SESSION_IDLE_TIMEOUT": positive,
    "SESSION_LIFETIME": positive,
    "SESSION_TOUCH_INTERVAL": non_negative,
    "SESSION_COOKIE_NAME": text,
    "SESSION_COOKIE_DOMAIN": optional_text,
    "SESSION_COOKIE_SAMESITE": checked_elsewhere,  # E030
    "SESSION_COOKIE_SECURE": boolean,
    "USER_SIGNATURE_MAX_AGE": positive,
    "CORS_EXTRA_ORIGINS": origins,
    "CORS_MAX_AGE": non_negative,
    "WEBHOOK_TIMEOUT": timeout,
    "WEBHOOK_MAX_ATTEMPTS": positive,
    "WEBHOOK_BACKOFF_BASE": positive,
    "WEBHOOK_BACKOFF_MAX": positive,
    "WEBHOOK_LEASE": positive,
    "MAX_RETURN_URL_LENGTH": positive,
    "MAX_STATE_LENGTH": positive,
    "ALLOW_LOOPBACK_ENDPOINTS": boolean,
    "ADMIN_LOGIN_RATE_ACCOUNT": optional_rate,
    "ADMIN_LOGIN_RATE_IP": optional_rate,
    "ADMIN_MFA": checked_elsewhere,  # E050, E051
    "AUTH_LOCAL_CACHE": checked_elsewhere,  # E041, E042
    "AUTH_LOCAL_CACHE_SIZE": checked_elsewhere,  # E043
    "AUTH_LOCAL_CACHE_FALLBACK_TTL": checked_elsewhere,  # E043
}


def problems() -> list[tuple[str, Any, str]]:
    """``(name, value, expected)`` for every setting whose value its validator refuses."""
    found = []
    for name in DEFAULTS:
        value = getattr(aurinko_settings, name)
        expected = VALIDATORS[name](value)
        if expected is not None:
            found.append((name, value, expected))
    return found
