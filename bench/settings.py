"""Benchmark server settings: the project's settings plus a bare view and a
django-oauth-toolkit protected resource, served by the same gunicorn and database."""

from project.settings import *  # noqa: F403

if "oauth2_provider" not in INSTALLED_APPS:  # noqa: F405
    INSTALLED_APPS += ["oauth2_provider"]  # noqa: F405
ROOT_URLCONF = "bench.urls"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
DATABASES["default"]["CONN_MAX_AGE"] = 600  # noqa: F405
LOGGING = {"version": 1, "disable_existing_loggers": True}
OAUTH2_PROVIDER = {"ACCESS_TOKEN_EXPIRE_SECONDS": 10 * 365 * 24 * 3600}

import os  # noqa: E402

if os.environ.get("BENCH_WORKER_HEADER"):  # the revocation run: which worker answered
    MIDDLEWARE = [*MIDDLEWARE, "bench.views.worker_header"]  # noqa: F405
