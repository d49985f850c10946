"""Multi-factor sign-in for the admin, by django-otp (an optional dependency:
``pip install "aurinko-auth[mfa]"``): TOTP authenticator apps (``otp_totp``) and single-use
recovery codes (``otp_static``). Our own code does no cryptography: django-otp verifies the
codes, throttles wrong ones per device and keeps which device verified the session.

With ``AURINKO_AUTH["ADMIN_MFA"] = "required"``, ``AppConfig.ready`` calls :func:`install` on
Django's default admin site: its login form asks for the code after the password (still
throttled, :mod:`aurinko_auth.admin.login`), and only sessions verified by a device may use
the admin. No middleware is needed (``django_otp.middleware.OTPMiddleware`` is used when
present). A staff user without a device cannot sign in: a superuser adds one (admin: *TOTP
devices*, which shows the QR code; ``manage.py addstatictoken USERNAME`` for recovery
codes)."""

from __future__ import annotations

import contextlib
from typing import Any

from django.contrib.admin import AdminSite
from django.http import HttpRequest
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.admin import OTPAdminAuthenticationForm
from django_otp.models import Device

from aurinko_auth.admin.login import ThrottledAdminAuthenticationForm

REQUIRED_APPS = ("django_otp", "django_otp.plugins.otp_totp", "django_otp.plugins.otp_static")
LOGIN_TEMPLATE = "otp/admin111/login.html"


class ThrottledOTPAdminAuthenticationForm(
    ThrottledAdminAuthenticationForm, OTPAdminAuthenticationForm
):
    """Password, then a code from one of the user's devices; both throttled: a wrong code
    counts as a failed sign-in like a wrong password."""

    failure_codes = ThrottledAdminAuthenticationForm.failure_codes | {"invalid_token"}


def session_verified(request: HttpRequest) -> bool:
    """Whether a device of the signed-in user verified this session (django-otp's record)."""
    user = request.user
    if not user.is_authenticated:
        return False
    is_verified = getattr(user, "is_verified", None)
    if callable(is_verified):  # OTPMiddleware installed
        return bool(is_verified())
    persistent_id = request.session.get(DEVICE_ID_SESSION_KEY)
    device = Device.from_persistent_id(persistent_id) if persistent_id else None
    return bool(device is not None and device.user_id == user.pk and device.confirmed)


def install(site: AdminSite) -> None:
    """Require a verified second factor on ``site`` (idempotent)."""
    if getattr(site, "_aurinko_mfa", False):
        return
    site.login_form = ThrottledOTPAdminAuthenticationForm
    site.login_template = LOGIN_TEMPLATE
    password_only = site.has_permission

    def has_permission(request: HttpRequest) -> bool:
        return password_only(request) and session_verified(request)

    site.has_permission = has_permission  # type: ignore[method-assign]
    site._aurinko_mfa = True  # type: ignore[attr-defined]


def uninstall(site: AdminSite, saved: dict[str, Any]) -> None:
    """Undo :func:`install` (tests): ``saved`` holds the ``login_form`` and ``login_template``
    from before."""
    for name, value in saved.items():
        setattr(site, name, value)
    for name in ("has_permission", "_aurinko_mfa"):
        with contextlib.suppress(AttributeError):
            delattr(site, name)  # the instance's own, set by install()
