"""Staff passkeys (WebAuthn) as a second factor of the admin sign-in, by django-otp-webauthn (a
django-otp plugin over py_webauthn; optional: ``pip install "aurinko-auth[mfa]"`` and
``"django_otp_webauthn"`` in ``INSTALLED_APPS``). A passkey is a django-otp device like a TOTP
authenticator, so :mod:`aurinko_auth.admin.mfa` admits a session it verified like any other.
Our own code does no cryptography: py_webauthn checks the challenge, origin, RP ID, signature
and signature counter.

- **Registration**: the *Passkeys* page of the admin (``PasskeyAdmin``'s list) runs
  django-otp-webauthn's registration views and script, behind the admin's own permission check:
  with ``ADMIN_MFA = "required"`` only a session already verified by a device (a TOTP code or a
  recovery code) reaches them. Passkeys are discoverable credentials (resident keys), so the
  sign-in needs no username to ask for one.
- **Sign-in**: the login page asks :func:`begin_sign_in` (``POST .../passkey-options/``) for a
  challenge bound to the browser's session, with no credential list (nothing tells a visitor
  which usernames exist or have passkeys); the browser's assertion comes back in the login
  form with the username and password, and :func:`verify_sign_in` checks it for the user the
  password identified. A challenge is used once, whatever the outcome.

The relying party is django-otp-webauthn's settings ``OTP_WEBAUTHN_RP_ID``,
``OTP_WEBAUTHN_RP_NAME`` and ``OTP_WEBAUTHN_ALLOWED_ORIGINS`` (the project derives them from
``AURINKO_PUBLIC_URL``); check ``aurinko_auth.W052`` compares them with ``PUBLIC_URL``."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin
from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_POST
from django_otp_webauthn.exceptions import OTPWebAuthnApiError
from django_otp_webauthn.helpers import WebAuthnHelper
from django_otp_webauthn.models import WebAuthnCredential
from django_otp_webauthn.views import (
    BeginCredentialRegistrationView,
    CompleteCredentialRegistrationView,
)
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import ResidentKeyRequirement

from aurinko_auth import audit
from aurinko_auth.admin import login
from aurinko_auth.admin.verification import session_verified
from aurinko_auth.conf import aurinko_settings
from aurinko_auth.exceptions import RateLimited

# The pending sign-in challenge, in the (not yet signed-in) browser's Django session.
CHALLENGE_SESSION_KEY = "aurinko_admin_passkey_challenge"


class PasskeyHelper(WebAuthnHelper):
    """django-otp-webauthn's ceremonies with our two choices: every passkey is discoverable
    (the sign-in challenge lists no credentials), and it is named by its registration date."""

    def get_discoverable_credentials_preference(self) -> ResidentKeyRequirement:
        return ResidentKeyRequirement.REQUIRED

    def create_credential(self, user: Any, response: Any, parsed: Any, original: Any) -> Any:
        device = super().create_credential(user, response, parsed, original)
        device.name = f"Passkey added {timezone.now():%Y-%m-%d %H:%M} UTC"
        return device


class PasskeyRefused(Exception):
    """The assertion does not verify the user; ``reason`` is a short code for the audit log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def enabled() -> bool:
    """Passkeys are offered at sign-in while the admin requires MFA."""
    return aurinko_settings.ADMIN_MFA == "required"


def begin_sign_in(request: HttpRequest) -> dict[str, Any]:
    """A new challenge for this browser (replacing any earlier one): the options for
    ``navigator.credentials.get``, with no credential list and user verification discouraged
    (the passkey is the second factor after the password)."""
    options, state = PasskeyHelper(request).authenticate_begin(
        user=None, require_user_verification=False
    )
    request.session[CHALLENGE_SESSION_KEY] = state
    return options


def verify_sign_in(request: HttpRequest, user: AbstractBaseUser, assertion: str) -> Any:
    """The user's passkey that signed this browser's pending challenge (the JSON of the
    browser's ``PublicKeyCredential``), or :class:`PasskeyRefused`. The challenge is consumed
    first, so an assertion never verifies twice."""
    state = request.session.pop(CHALLENGE_SESSION_KEY, None)
    if not state:
        raise PasskeyRefused("passkey.no_challenge")
    try:
        data = json.loads(assertion)
    except ValueError:
        raise PasskeyRefused("passkey.malformed") from None
    if not isinstance(data, dict):
        raise PasskeyRefused("passkey.malformed")
    try:
        device = PasskeyHelper(request).authenticate_complete(user=user, state=state, data=data)
    except OTPWebAuthnApiError as exc:  # unknown credential, another user's
        raise PasskeyRefused(f"passkey.{exc.code}") from None
    except (WebAuthnException, ValueError, TypeError, KeyError):
        # py_webauthn's refusals (challenge, origin, RP ID, signature, counter) and
        # undecodable fields.
        raise PasskeyRefused("passkey.invalid") from None
    if not device.confirmed:
        raise PasskeyRefused("passkey.disabled")
    return device


def _verified_user(request: HttpRequest) -> None:
    # django-otp-webauthn asks request.user.is_verified(), which OTPMiddleware provides; the
    # admin needs no middleware (session_verified reads django-otp's session record).
    if not callable(getattr(request.user, "is_verified", None)):
        verified = session_verified(request)
        request.user.is_verified = lambda: verified  # type: ignore[union-attr]


class RegistrationBegin(BeginCredentialRegistrationView):
    def get_helper(self) -> PasskeyHelper:
        return PasskeyHelper(self.request)

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        _verified_user(request)
        return super().dispatch(request, *args, **kwargs)


class RegistrationComplete(CompleteCredentialRegistrationView):
    def get_helper(self) -> PasskeyHelper:
        return PasskeyHelper(self.request)

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        _verified_user(request)
        response = super().dispatch(request, *args, **kwargs)
        if response.status_code == 200:
            audit.record(
                audit.Event.ADMIN_PASSKEY_ADDED,
                request=request,
                deviceId=json.loads(response.content)["id"],
            )
        return response


class PasskeyAdmin(admin.ModelAdmin):
    """*Passkeys*: each staff user sees, renames and removes their own (superusers everyone's,
    to remove a lost one) and registers new ones from the list page."""

    list_display = ("name", "created_at", "last_used_at")
    fields = ("name", "created_at", "last_used_at", "discoverable", "backup_state")
    readonly_fields = ("created_at", "last_used_at", "discoverable", "backup_state")
    change_list_template = "admin/aurinko_auth/passkeys/change_list.html"

    def get_list_display(self, request: HttpRequest) -> Any:
        if request.user.is_superuser:
            return ("name", "user", "created_at", "last_used_at")
        return self.list_display

    def get_queryset(self, request: HttpRequest) -> Any:
        queryset = super().get_queryset(request).select_related("user")
        if request.user.is_superuser:
            return queryset
        return queryset.filter(user=request.user)

    def _own(self, request: HttpRequest, obj: Any) -> bool:
        user = request.user
        if not (user.is_active and user.is_staff):
            return False
        return obj is None or user.is_superuser or obj.user_id == user.pk

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._own(request, None)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._own(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._own(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._own(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # a passkey is made by the browser's ceremony, on the list page

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        audit.record(
            audit.Event.ADMIN_PASSKEY_REMOVED, request=request, deviceId=obj.pk, userId=obj.user_id
        )
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for device_id, user_id in queryset.values_list("pk", "user_id"):
            audit.record(
                audit.Event.ADMIN_PASSKEY_REMOVED,
                request=request,
                deviceId=device_id,
                userId=user_id,
            )
        super().delete_queryset(request, queryset)

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> Any:
        config = {
            # The keys django-otp-webauthn's registration script reads.
            "csrfToken": get_token(request),
            "beginRegistrationUrl": reverse(
                f"{self.admin_site.name}:aurinko_passkey_register_begin"
            ),
            "completeRegistrationUrl": reverse(
                f"{self.admin_site.name}:aurinko_passkey_register_complete"
            ),
        }
        context = {"otp_webauthn_config": config, **(extra_context or {})}
        return super().changelist_view(request, extra_context=context)

    def sign_in_options(self, request: HttpRequest) -> HttpResponse:
        """``POST``: a sign-in challenge for the login page (anonymous; 404 while the admin
        does not require MFA, 429 while the client's address is locked out)."""
        if not enabled():
            return JsonResponse({"detail": "Passkeys are not enabled."}, status=404)
        try:  # a locked-out address gets no challenge (nor a session to hold one)
            login.check_address(audit.client_ip(request))
        except RateLimited as exc:
            response = JsonResponse({"detail": str(exc), "code": exc.code}, status=429)
            response["Retry-After"] = str(exc.retry_after or 60)
            return response
        return JsonResponse(begin_sign_in(request))

    def get_urls(self) -> list[URLPattern]:
        site = self.admin_site
        return [
            path(
                "register/begin/",
                site.admin_view(RegistrationBegin.as_view()),
                name="aurinko_passkey_register_begin",
            ),
            path(
                "register/complete/",
                site.admin_view(RegistrationComplete.as_view()),
                name="aurinko_passkey_register_complete",
            ),
            path(
                "passkey-options/",
                never_cache(csrf_protect(require_POST(self.sign_in_options))),
                name="aurinko_passkey_sign_in_options",
            ),
            *super().get_urls(),
        ]


admin.site.register(WebAuthnCredential, PasskeyAdmin)
