"""System checks (ids ``aurinko_auth.E00x`` / ``W00x``)."""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.db import connections

from aurinko_auth import crypto, settings_checks
from aurinko_auth.conf import aurinko_settings
from aurinko_auth.hotpath import channel
from aurinko_auth.providers import registry
from aurinko_auth.security import ratelimit
from aurinko_auth.security.transport import is_loopback_host, is_secure_or_loopback

KEYS_HINT = (
    'Put a key in AURINKO_AUTH["ENCRYPTION_KEYS"] (python manage.py aurinko_keygen prints one).'
)


def _no_key() -> bool:
    return not crypto.configured_keys() and not aurinko_settings.DEMO


# A day: provider tokens live an hour or so; a leeway above their lifetime is capped anyway.
MAX_REFRESH_LEEWAY = 86400


@checks.register(checks.Tags.security, deploy=False)
def check_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = []
    if _no_key():
        # A warning, so that what runs before a key exists (makemigrations, migrate, a CI
        # job) is not blocked; `check --deploy` makes it an error (E001), and a sign-in
        # without a key fails with this same advice.
        errors.append(
            checks.Warning(
                "No encryption key yet: provider tokens and passwords cannot be stored, so "
                "sign-ins will fail.",
                hint=KEYS_HINT,
                id="aurinko_auth.W001",
            )
        )
    elif not isinstance(aurinko_settings.ENCRYPTION_KEYS, str):
        try:
            crypto.reset_keys()
            crypto.encrypt("check")
        except ImproperlyConfigured as exc:
            errors.append(checks.Error(str(exc), hint=KEYS_HINT, id="aurinko_auth.E002"))
    errors.extend(_check_public_url())
    try:
        duplicates = registry.duplicate_ids()
    except ImportError as exc:
        errors.append(
            checks.Error(f"A provider could not be imported: {exc}", id="aurinko_auth.E004")
        )
    else:
        if duplicates:
            errors.append(
                checks.Error(
                    f"Several providers declare the service type(s) {', '.join(duplicates)}.",
                    id="aurinko_auth.E005",
                )
            )
    errors.extend(_check_networks_and_rates())
    return errors


def _check_public_url() -> list[checks.CheckMessage]:
    url = aurinko_settings.PUBLIC_URL
    if not isinstance(url, str):
        return []  # E010
    parts = urlsplit(url)
    if not is_secure_or_loopback(url) or parts.query or parts.fragment:
        return [
            checks.Error(
                f'AURINKO_AUTH["PUBLIC_URL"] is {url!r}.',
                hint="The broker's external base URL, e.g. https://auth.example.com: https "
                "(http only on loopback), no query or fragment.",
                id="aurinko_auth.E003",
            )
        ]
    return []


@checks.register(checks.Tags.security)
def check_setting_values(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Every setting's type and value (settings_checks.VALIDATORS)."""
    return [
        checks.Error(
            f'AURINKO_AUTH["{name}"] is {value!r}.',
            hint=f"Use {expected}.",
            id="aurinko_auth.E010",
        )
        for name, value, expected in settings_checks.problems()
    ]


@checks.register(checks.Tags.security, deploy=True)
def check_deploy(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """``check --deploy``: what works on a laptop and fails, or is unsafe, in production."""
    found: list[checks.CheckMessage] = []
    if _no_key():
        found.append(checks.Error("No encryption key.", hint=KEYS_HINT, id="aurinko_auth.E001"))
    url = aurinko_settings.PUBLIC_URL
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is not None and is_loopback_host(parts.hostname):
        found.append(
            checks.Warning(
                f'AURINKO_AUTH["PUBLIC_URL"] is {url!r}, a loopback address: providers and '
                "browsers elsewhere cannot reach the callback.",
                hint="Set it to the broker's external https URL (the default is for "
                "development only).",
                id="aurinko_auth.W010",
            )
        )
    elif parts is not None and parts.scheme == "http":
        found.append(
            checks.Warning(
                f'AURINKO_AUTH["PUBLIC_URL"] is {url!r}: plain http.',
                hint="Use https: codes, tokens and session cookies travel in these URLs.",
                id="aurinko_auth.W011",
            )
        )
    if settings.DEBUG:
        found.append(
            checks.Warning(
                "DEBUG is on: error pages show settings and request data.",
                hint="Set DEBUG = False in production.",
                id="aurinko_auth.W012",
            )
        )
    for name in ("RATE_LIMIT_CACHE", "AUTH_CACHE"):
        alias = getattr(aurinko_settings, name)
        backend = str(settings.CACHES.get(alias, {}).get("BACKEND", "")) if alias else ""
        if backend.endswith(("LocMemCache", "DummyCache")):
            found.append(
                checks.Warning(
                    f'AURINKO_AUTH["{name}"] is the cache {alias!r} ({backend.rsplit(".", 1)[-1]}'
                    "), which each worker process keeps for itself: with several workers, "
                    + (
                        "rate limits count per worker."
                        if name == "RATE_LIMIT_CACHE"
                        else "a revoked token stays valid in the other workers."
                    ),
                    hint="Use a shared cache (Redis, Memcached, the database) with several "
                    "workers or machines.",
                    id="aurinko_auth.W013",
                )
            )
    return found


def _check_networks_and_rates() -> list[checks.CheckMessage]:
    """Values read at request time: a typo must fail at start, not as a 500 on a sign-in."""
    errors: list[checks.CheckMessage] = []
    networks = aurinko_settings.ALLOWED_PRIVATE_NETWORKS
    for network in networks if isinstance(networks, list | tuple) else ():
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError:
            errors.append(
                checks.Error(
                    f'AURINKO_AUTH["ALLOWED_PRIVATE_NETWORKS"]: {network!r} is not a network '
                    "(use CIDR, e.g. "
                    "10.0.0.0/8).",
                    id="aurinko_auth.E006",
                )
            )
    for name in (
        "PASSWORD_FAILURE_RATE_IP",
        "PASSWORD_FAILURE_RATE_LOGIN",
        "IDENTITY_FAILURE_RATE_IP",
        "DIRECT_RATE_LIMIT_ACCOUNT",
        "DIRECT_RATE_LIMIT_APP",
        "DIRECT_REFRESH_ON_401",
        "ADMIN_LOGIN_RATE_ACCOUNT",
        "ADMIN_LOGIN_RATE_IP",
    ):
        rate = getattr(aurinko_settings, name)
        if rate is not None and not isinstance(rate, str):
            continue  # E010
        try:
            ratelimit.parse_rate(rate)
        except ValueError as exc:
            errors.append(checks.Error(f'AURINKO_AUTH["{name}"]: {exc}', id="aurinko_auth.E007"))
    leeway = aurinko_settings.REFRESH_LEEWAY
    if (
        isinstance(leeway, bool)
        or not isinstance(leeway, int | float)
        or not 0 <= leeway <= MAX_REFRESH_LEEWAY
    ):
        errors.append(
            checks.Error(
                f"REFRESH_LEEWAY: {leeway!r} is not a number of seconds between 0 and "
                f"{MAX_REFRESH_LEEWAY}.",
                id="aurinko_auth.E008",
            )
        )
    return errors


@checks.register(checks.Tags.security)
def check_session_cookie(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """The User flow's session cookie settings (ids E030-E039)."""
    errors: list[checks.CheckMessage] = []
    samesite = aurinko_settings.SESSION_COOKIE_SAMESITE
    if samesite not in ("Lax", "Strict", "None"):
        errors.append(
            checks.Error(
                f"AURINKO_AUTH['SESSION_COOKIE_SAMESITE'] is {samesite!r}.",
                hint="Use 'None' (add-ins, iframes, other sites), 'Lax' or 'Strict'.",
                id="aurinko_auth.E030",
            )
        )
    elif samesite == "None" and not aurinko_settings.SESSION_COOKIE_SECURE:
        errors.append(
            checks.Error(
                "SESSION_COOKIE_SAMESITE 'None' needs SESSION_COOKIE_SECURE: browsers drop "
                "SameSite=None cookies that are not Secure.",
                id="aurinko_auth.E031",
            )
        )
    if "{app_id}" not in str(aurinko_settings.SESSION_COOKIE_NAME):
        errors.append(
            checks.Error(
                "AURINKO_AUTH['SESSION_COOKIE_NAME'] must contain {app_id}: one cookie per app.",
                id="aurinko_auth.E032",
            )
        )
    return errors


# The optional django-otp apps that ADMIN_MFA = "required" needs (aurinko_auth.admin.mfa).
MFA_APPS = ("django_otp", "django_otp.plugins.otp_totp", "django_otp.plugins.otp_static")


@checks.register(checks.Tags.security)
def check_admin_mfa(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """``ADMIN_MFA`` (ids E050-E059)."""
    from django.apps import apps

    value = aurinko_settings.ADMIN_MFA
    if value in (None, "off"):
        return []
    if value != "required":
        return [
            checks.Error(
                f'AURINKO_AUTH["ADMIN_MFA"] is {value!r}: use None (off) or "required".',
                id="aurinko_auth.E050",
            )
        ]
    missing = [name for name in MFA_APPS if not apps.is_installed(name)]
    if missing:
        return [
            checks.Error(
                'AURINKO_AUTH["ADMIN_MFA"] = "required" needs django-otp: '
                f"{', '.join(missing)} missing from INSTALLED_APPS.",
                hint='pip install "aurinko-auth[mfa]" and add them to INSTALLED_APPS '
                "(README: Staff MFA).",
                id="aurinko_auth.E051",
            )
        ]
    if apps.is_installed("django_otp_webauthn"):
        return _passkey_relying_party()
    return []


def _passkey_relying_party() -> list[checks.CheckMessage]:
    """Passkeys sign in only where the browser's origin is allowed and its host is the RP ID
    or under it (WebAuthn); the admin is served at PUBLIC_URL."""
    import ipaddress
    from urllib.parse import urlsplit

    public = urlsplit(aurinko_settings.public_url)
    origin = f"{public.scheme}://{public.netloc}"
    host = (public.hostname or "").lower()
    rp_id = str(getattr(settings, "OTP_WEBAUTHN_RP_ID", "") or "").lower()
    origins = list(getattr(settings, "OTP_WEBAUTHN_ALLOWED_ORIGINS", None) or [])
    problems = []
    try:
        ipaddress.ip_address(host)
    except ValueError:
        hint = f"Set OTP_WEBAUTHN_RP_ID = {host!r} and OTP_WEBAUTHN_ALLOWED_ORIGINS = [{origin!r}]"
    else:
        hint = "Serve the admin at a host name (PUBLIC_URL), then set OTP_WEBAUTHN_RP_ID and "
        hint += "OTP_WEBAUTHN_ALLOWED_ORIGINS to its host and origin"
    try:
        ipaddress.ip_address(rp_id)
    except ValueError:
        if rp_id and host != rp_id and not host.endswith("." + rp_id):
            problems.append(f"OTP_WEBAUTHN_RP_ID {rp_id!r} is not {host!r} nor a parent domain")
    else:
        problems.append(f"OTP_WEBAUTHN_RP_ID {rp_id!r} is an IP address (browsers refuse one)")
    if origin not in origins:
        problems.append(f"OTP_WEBAUTHN_ALLOWED_ORIGINS {origins!r} lacks {origin!r}")
    if not problems:
        return []
    return [
        checks.Warning(
            "Staff passkeys will not work at PUBLIC_URL: " + "; ".join(problems) + ".",
            hint=hint + " (this repository's project: AURINKO_WEBAUTHN_RP_ID, "
            "AURINKO_WEBAUTHN_ORIGINS; README: Staff MFA).",
            id="aurinko_auth.W052",
        )
    ]


@checks.register(checks.Tags.caches)
def check_auth_cache(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """The two-level auth cache (ids E040-E049, W040-W049; docs/caching.md)."""
    errors: list[checks.CheckMessage] = []
    alias = aurinko_settings.AUTH_CACHE
    if alias and alias not in settings.CACHES:
        errors.append(
            checks.Error(f"AUTH_CACHE {alias!r} is not in CACHES.", id="aurinko_auth.E040")
        )
        return errors
    mode = aurinko_settings.AUTH_LOCAL_CACHE
    if mode:
        try:
            channel_of = channel.transport()
        except (ValueError, KeyError) as exc:
            errors.append(checks.Error(str(exc), id="aurinko_auth.E041"))
        else:
            if isinstance(channel_of, channel.PostgresTransport):
                vendor = connections[channel_of.alias].vendor
                if vendor != "postgresql":
                    errors.append(
                        checks.Error(
                            f"AUTH_LOCAL_CACHE 'postgresql' needs PostgreSQL (the database is "
                            f"{vendor}).",
                            hint="Use 'redis' (with AUTH_CACHE on Redis) or a redis:// URL.",
                            id="aurinko_auth.E042",
                        )
                    )
        for name in ("AUTH_LOCAL_CACHE_SIZE", "AUTH_LOCAL_CACHE_FALLBACK_TTL"):
            value = getattr(aurinko_settings, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                errors.append(
                    checks.Error(f"{name} must be a positive number.", id="aurinko_auth.E043")
                )
    backend = settings.CACHES[alias]["BACKEND"] if alias else ""
    if backend.endswith(("locmem.LocMemCache", "dummy.DummyCache")):
        # Whether several workers run cannot be seen from here: warn on the configuration.
        errors.append(
            checks.Warning(
                f"AUTH_CACHE {alias!r} is a per-process cache ({backend.rsplit('.', 1)[-1]}): "
                "with several workers, a revocation is seen only by the worker that made it "
                + ("(AUTH_LOCAL_CACHE's channel tells the others)." if mode else "."),
                hint="Use a shared cache (Redis) for AUTH_CACHE, or only AUTH_LOCAL_CACHE.",
                id="aurinko_auth.W040",
            )
        )
    return errors
