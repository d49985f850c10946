"""Whether a django-otp device verified the admin session (django-otp is optional: imported
by :mod:`aurinko_auth.admin.mfa` and :mod:`aurinko_auth.admin.passkeys` only)."""

from __future__ import annotations

from django.http import HttpRequest
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.models import Device


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
