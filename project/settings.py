"""Settings of the demo/dev/production project. The only place that reads the environment
(django-environ); the aurinko_auth app reads ``AURINKO_AUTH`` only. Every variable is listed in
the README's configuration table."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# Variables may also come from a file: AURINKO_ENV_FILE, else ./.env when present (`make .env`
# writes one for development). Real environment variables win over the file.
_env_file = os.environ.get("AURINKO_ENV_FILE") or BASE_DIR / ".env"
if Path(_env_file).is_file():
    env.read_env(str(_env_file), overwrite=False)

DEMO = env.bool("AURINKO_DEMO", default=False)
DEBUG = env.bool("DEBUG", default=DEMO)
SECRET_KEY = env.str("SECRET_KEY", default="")
SECRET_KEY_MISSING = not SECRET_KEY
if SECRET_KEY_MISSING:
    # An unguessable key for this process only (so management commands such as
    # makemigrations work on a fresh clone); `check` and `runserver` refuse it outside DEBUG.
    from django.core.management.utils import get_random_secret_key

    SECRET_KEY = get_random_secret_key()

PUBLIC_URL = env.str("AURINKO_PUBLIC_URL", default="http://127.0.0.1:8000").rstrip("/")
_public_host = urlsplit(PUBLIC_URL).hostname or "127.0.0.1"
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[_public_host, "127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[PUBLIC_URL])

# The sandbox identity provider (django-oauth-toolkit) mounted under /sandbox/ for the demo.
SANDBOX = env.bool("AURINKO_SANDBOX", default=DEMO)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "aurinko_auth",
]
if SANDBOX:
    INSTALLED_APPS += ["oauth2_provider", "project.sandbox"]

# Session, authentication and messages are skipped for the JSON API (project/middleware.py).
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "project.middleware.BrowserSessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "project.middleware.BrowserAuthenticationMiddleware",
    "project.middleware.BrowserMessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "project.urls"
WSGI_APPLICATION = "project.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

# A shared cache (e.g. redis://127.0.0.1:6379/0) for several workers; local memory otherwise.
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"

SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("BEHIND_TLS_PROXY", default=False) else None
)
SESSION_COOKIE_SECURE = PUBLIC_URL.startswith("https://")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# Staff passkeys (django-otp-webauthn, used when "django_otp_webauthn" is installed and
# AURINKO_AUTH["ADMIN_MFA"] = "required"): bound to the public URL's host by default. A passkey
# is registered for its RP ID and works on that host and its subdomains only; changing it later
# strands every registered passkey.
_public_parts = urlsplit(PUBLIC_URL)
OTP_WEBAUTHN_RP_ID = env.str("AURINKO_WEBAUTHN_RP_ID", default=_public_host)
OTP_WEBAUTHN_RP_NAME = env.str("AURINKO_WEBAUTHN_RP_NAME", default="Aurinko auth broker")
OTP_WEBAUTHN_ALLOWED_ORIGINS = env.list(
    "AURINKO_WEBAUTHN_ORIGINS", default=[f"{_public_parts.scheme}://{_public_parts.netloc}"]
)
# A passkey is a second factor after the password here, never a sign-in on its own.
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False

AURINKO_AUTH = {
    "PUBLIC_URL": PUBLIC_URL,
    "ENCRYPTION_KEYS": env.list("AURINKO_ENCRYPTION_KEYS", default=[]),
    "ALLOWED_PRIVATE_NETWORKS": env.list("AURINKO_ALLOWED_PRIVATE_NETWORKS", default=[]),
    # Endpoint overrides on loopback (the demo's sandbox, local test providers).
    "ALLOW_LOOPBACK_ENDPOINTS": env.bool("AURINKO_ALLOW_LOOPBACK_ENDPOINTS", default=DEMO),
    "DEMO": DEMO,
    # Cache alias for account-token lookups ("" = off); see the README before enabling it.
    "AUTH_CACHE": env.str("AURINKO_AUTH_CACHE", default="") or None,
    "AUTH_CACHE_TIMEOUT": env.int("AURINKO_AUTH_CACHE_TIMEOUT", default=30),
    # The per-process level and its invalidation channel ("" = off, "postgresql", "redis").
    "AUTH_LOCAL_CACHE": env.str("AURINKO_AUTH_LOCAL_CACHE", default="") or None,
    # PostgreSQL: prepare the account-token query (off behind poolers that lose statements).
    "AUTH_PREPARED_QUERY": env.bool("AURINKO_AUTH_PREPARED_QUERY", default=True),
    # Password sign-in (EWS, IMAP, SugarCRM): a private CA, and failed sign-ins allowed.
    "PASSWORD_CA_BUNDLE": env.str("AURINKO_PASSWORD_CA_BUNDLE", default="") or None,
    "PASSWORD_FAILURE_RATE_IP": env.str("AURINKO_PASSWORD_FAILURE_RATE_IP", default="30/h") or None,
    "PASSWORD_FAILURE_RATE_LOGIN": env.str("AURINKO_PASSWORD_FAILURE_RATE_LOGIN", default="10/h")
    or None,
    # Refused host identity tokens per client IP (docs/add-ins.md).
    "IDENTITY_FAILURE_RATE_IP": env.str("AURINKO_IDENTITY_FAILURE_RATE_IP", default="60/m") or None,
    # Refresh provider tokens this many seconds before expiry (at most half their lifetime).
    "REFRESH_LEEWAY": env.int("AURINKO_REFRESH_LEEWAY", default=120),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"redact_query": {"()": "aurinko_auth.security.redaction.RedactQueryStrings"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact_query"],
        }
    },
    "loggers": {
        "aurinko_auth": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
        # Request logs print URLs, and callback URLs carry codes: the filter redacts queries.
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.request": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        # requests-oauthlib and oauthlib log whole token requests and responses at DEBUG:
        # keep them quiet whatever the root level is.
        "requests_oauthlib": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        "oauthlib": {"handlers": ["console"], "level": "WARNING", "propagate": False},
    },
}

from django.core import checks  # noqa: E402


@checks.register(checks.Tags.security)
def _secret_key_check(app_configs=None, **kwargs):
    # A warning, so that makemigrations and migrate run on a fresh clone without a .env;
    # `check --deploy` refuses it (below).
    if SECRET_KEY_MISSING and not DEBUG:
        return [
            checks.Warning(
                "SECRET_KEY is not set: this process uses a random one (sessions and CSRF "
                "tokens do not survive a restart or reach other workers).",
                hint="Set the SECRET_KEY variable.",
                id="project.W001",
            )
        ]
    return []


@checks.register(checks.Tags.security, deploy=True)
def _secret_key_deploy_check(app_configs=None, **kwargs):
    if SECRET_KEY_MISSING:
        return [
            checks.Error(
                "SECRET_KEY is not set.", hint="Set the SECRET_KEY variable.", id="project.E001"
            )
        ]
    return []


if SANDBOX:
    from project.sandbox.settings import *  # noqa: E402,F401,F403
