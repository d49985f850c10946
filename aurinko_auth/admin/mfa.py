"""Multi-factor sign-in for the admin, by django-otp (an optional dependency:
``pip install "aurinko-auth[mfa]"``): TOTP authenticator apps (``otp_totp``), single-use
recovery codes (``otp_static``) and, with ``django_otp_webauthn`` installed, passkeys
(:mod:`aurinko_auth.admin.passkeys`). Our own code does no cryptography: django-otp verifies the
codes, throttles wrong ones per device and keeps which device verified the session;
py_webauthn verifies passkeys.

With ``AURINKO_AUTH["ADMIN_MFA"] = "required"``, ``AppConfig.ready`` calls :func:`install` on
Django's default admin site: its login form asks for the code after the password (still
throttled, :mod:`aurinko_auth.admin.login`), and only sessions verified by a device may use
the admin. No middleware is needed (``django_otp.middleware.OTPMiddleware`` is used when
present). A wrong code or passkey counts as a failed sign-in and is audited
(``admin.signin_failed``, ``reason``). A staff user without a device cannot sign in: a
superuser gives them one (admin: *TOTP devices*, which shows the QR code; or a recovery code,
``manage.py addstatictoken USERNAME``, to sign in once and register a passkey)."""

from __future__ import annotations

import contextlib
from typing import Any

from django import forms
from django.apps import apps
from django.contrib.admin import AdminSite
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django_otp import devices_for_user
from django_otp.admin import OTPAdminAuthenticationForm

from aurinko_auth import audit
from aurinko_auth.admin.login import ThrottledAdminAuthenticationForm
from aurinko_auth.admin.verification import session_verified

REQUIRED_APPS = ("django_otp", "django_otp.plugins.otp_totp", "django_otp.plugins.otp_static")
PASSKEY_APP = "django_otp_webauthn"
LOGIN_TEMPLATE = "admin/aurinko_auth/mfa_login.html"


def passkeys_installed() -> bool:
    return apps.is_installed(PASSKEY_APP)


class ThrottledOTPAdminAuthenticationForm(
    ThrottledAdminAuthenticationForm, OTPAdminAuthenticationForm
):
    """Password, then a code from one of the user's devices or one of their passkeys; all
    throttled: a wrong code or passkey counts as a failed sign-in like a wrong password, and
    is audited."""

    failure_codes = ThrottledAdminAuthenticationForm.failure_codes | {
        "invalid_token",
        "invalid_passkey",
    }
    # The browser's assertion (PublicKeyCredential JSON), set by the login page's script.
    passkey = forms.CharField(required=False, widget=forms.HiddenInput, max_length=16_384)

    error_messages = {
        **ThrottledAdminAuthenticationForm.error_messages,
        "invalid_passkey": "That passkey did not verify. Sign in again with a passkey "
        "registered for this account, or with a code.",
    }

    def clean_otp(self, user: Any) -> None:
        try:
            if user is not None and self.cleaned_data.get("passkey") and passkeys_installed():
                self._verify_passkey(user, self.cleaned_data["passkey"])
            else:
                super().clean_otp(user)
        except ValidationError as exc:
            if exc.code in ("invalid_token", "invalid_passkey"):
                reason = getattr(self, "_passkey_reason", None) or "otp.invalid_token"
                audit.record(
                    audit.Event.ADMIN_SIGN_IN_FAILED,
                    request=self.request,
                    actor_name=user.get_username(),
                    reason=reason,
                )
            raise

    def _verify_passkey(self, user: Any, assertion: str) -> None:
        from aurinko_auth.admin import passkeys  # optional dependency: django-otp-webauthn

        user.otp_device = None
        try:
            user.otp_device = passkeys.verify_sign_in(self.request, user, assertion)
        except passkeys.PasskeyRefused as exc:
            self._passkey_reason = exc.reason
            self._update_form(user)
            raise ValidationError(
                self.error_messages["invalid_passkey"], code="invalid_passkey"
            ) from None

    @staticmethod
    def device_choices(user: Any) -> list[tuple[str, str]]:
        # Passkeys are used with the passkey button, not chosen for a typed code.
        return [("", "---------")] + [
            (d.persistent_id, d.name)
            for d in devices_for_user(user)
            if d._meta.app_label != "django_otp_webauthn"
        ]


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
