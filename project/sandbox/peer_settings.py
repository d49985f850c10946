"""The sandbox as a standalone OAuth2/OpenID server process (the tests' real peer).
Configured by environment: SANDBOX_DB (SQLite file), SANDBOX_OIDC_KEY_FILE."""

import os

os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")  # loopback http only

SECRET_KEY = os.environ.get("SANDBOX_SECRET_KEY", "sandbox-peer-not-secret")
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "oauth2_provider",
    "project.sandbox",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "project.sandbox.middleware.SlowTokenEndpoint",
]
ROOT_URLCONF = "project.sandbox.peer_urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("SANDBOX_DB", "/tmp/aurinko-sandbox.sqlite3"),  # noqa: S108
        "OPTIONS": {"timeout": 20},
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
# Cookies ignore ports: keep ours apart from the broker's on the same host.
SESSION_COOKIE_NAME = "sandbox_sessionid"
CSRF_COOKIE_NAME = "sandbox_csrftoken"
# A test peer: fast hashing (DOT hashes client secrets with the default hasher).
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

from project.sandbox.settings import *  # noqa: E402,F403
