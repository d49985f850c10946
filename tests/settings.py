"""Test settings: the project's settings with fixed test keys and fast hashing.
DATABASE_URL picks the database (SQLite by default, PostgreSQL in CI)."""

import os

os.environ.setdefault("SECRET_KEY", "tests-only-secret-key")
# Test-only keys; never used anywhere else.
os.environ.setdefault("AURINKO_ENCRYPTION_KEYS", "EP13v8kMEIzprRkJb6MOcG9bKtKgUG9ql-BEkwkb5r0=")
os.environ.setdefault("DEBUG", "0")

from project.settings import *  # noqa: E402,F403

TEST_SECOND_KEY = "pWM_U18my-Ta3x24hppV3AIan-piTZrVMmp1yavCU0A="
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# django-otp for the admin MFA tests (tests/admin/test_admin_mfa.py); ADMIN_MFA stays off here.
INSTALLED_APPS += [  # noqa: F405
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_otp_webauthn",
]
# Passkeys need a host name (not the default public URL's 127.0.0.1: django-otp-webauthn's check
# otp_webauthn.E031 refuses it); the passkey tests set the relying party they serve.
OTP_WEBAUTHN_RP_ID = "localhost"
OTP_WEBAUTHN_ALLOWED_ORIGINS = ["http://localhost:8000"]
LOGGING["loggers"]["aurinko_auth"]["level"] = "DEBUG"  # noqa: F405  (tests assert no secrets)
# The test peers (tests/peers/) serve on loopback: app endpoint overrides point there.
AURINKO_AUTH["ALLOW_LOOPBACK_ENDPOINTS"] = True  # noqa: F405
