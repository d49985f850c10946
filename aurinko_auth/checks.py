"""System checks (ids ``aurinko_auth.E00x`` / ``W00x``)."""

from __future__ import annotations

import ipaddress
from typing import Any

from django.conf import settings as django_settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.db import connections

from aurinko_auth import crypto
from aurinko_auth.conf import aurinko_settings
from aurinko_auth.hotpath import channel
from aurinko_auth.providers import registry
from aurinko_auth.security import ratelimit
from aurinko_auth.security.transport import is_secure_or_loopback


@checks.register(checks.Tags.security, deploy=False)
def check_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = []
    if not crypto.configured_keys() and not aurinko_settings.DEMO:
        errors.append(
            checks.Error(
                "No encryption key: provider tokens and passwords cannot be stored.",
                hint="Set AURINKO_ENCRYPTION_KEYS (python manage.py aurinko_keygen prints one).",
                id="aurinko_auth.E001",
            )
        )
    else:
        try:
            crypto.reset_keys()
            crypto.encrypt("check")
        except ImproperlyConfigured as exc:
            errors.append(checks.Error(str(exc), id="aurinko_auth.E002"))
    if not is_secure_or_loopback(aurinko_settings.public_url):
        errors.append(
            checks.Error(
                f"AURINKO_PUBLIC_URL {aurinko_settings.public_url!r} must be https "
                "(http only on loopback).",
                id="aurinko_auth.E003",
            )
        )
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


def _check_networks_and_rates() -> list[checks.CheckMessage]:
    """Values read at request time: a typo must fail at start, not as a 500 on a sign-in."""
    errors: list[checks.CheckMessage] = []
    for network in aurinko_settings.ALLOWED_PRIVATE_NETWORKS or ():
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError:
            errors.append(
                checks.Error(
                    f"ALLOWED_PRIVATE_NETWORKS: {network!r} is not a network (use CIDR, e.g. "
                    "10.0.0.0/8).",
                    id="aurinko_auth.E006",
                )
            )
    for name in (
        "PASSWORD_FAILURE_RATE_IP",
        "PASSWORD_FAILURE_RATE_LOGIN",
        "DIRECT_RATE_LIMIT_ACCOUNT",
        "DIRECT_RATE_LIMIT_APP",
    ):
        try:
            ratelimit.parse_rate(getattr(aurinko_settings, name))
        except ValueError as exc:
            errors.append(checks.Error(f"{name}: {exc}", id="aurinko_auth.E007"))
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


@checks.register(checks.Tags.caches)
def check_auth_cache(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """The two-level auth cache (ids E040-E049, W040-W049; docs/caching.md)."""
    errors: list[checks.CheckMessage] = []
    alias = aurinko_settings.AUTH_CACHE
    if alias and alias not in django_settings.CACHES:
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
    backend = django_settings.CACHES[alias]["BACKEND"] if alias else ""
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
