"""System checks of the two-level auth cache (aurinko_auth.E040-E043, W040)."""

from __future__ import annotations

from django.conf import settings as django_settings
from django.db import connection

from aurinko_auth.checks import check_auth_cache

REDIS = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://x:6379/8"}
LOCMEM = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}


def ids(settings, caches=None, **overrides):
    if caches is not None:
        settings.CACHES = caches
    settings.AURINKO_AUTH = {**django_settings.AURINKO_AUTH, **overrides}
    return {e.id for e in check_auth_cache()}


def test_defaults_pass(settings):
    assert ids(settings) == set()


def test_unknown_cache_alias(settings):
    assert ids(settings, AUTH_CACHE="nope") == {"aurinko_auth.E040"}


def test_channel_must_be_known(settings):
    assert "aurinko_auth.E041" in ids(settings, AUTH_LOCAL_CACHE="memcached")
    # "redis" means AUTH_CACHE's Redis server: there must be one.
    assert "aurinko_auth.E041" in ids(settings, {"default": LOCMEM}, AUTH_LOCAL_CACHE="redis")
    assert (
        ids(settings, {"default": REDIS}, AUTH_CACHE="default", AUTH_LOCAL_CACHE="redis") == set()
    )
    assert ids(settings, AUTH_LOCAL_CACHE="redis://127.0.0.1:6379/8") == set()


def test_postgresql_channel_needs_postgresql(settings):
    found = ids(settings, AUTH_LOCAL_CACHE="postgresql")
    assert ("aurinko_auth.E042" in found) == (connection.vendor != "postgresql")


def test_sizes_must_be_positive(settings):
    channel = "redis://127.0.0.1:6379/8"
    assert "aurinko_auth.E043" in ids(settings, AUTH_LOCAL_CACHE=channel, AUTH_LOCAL_CACHE_SIZE=0)
    assert "aurinko_auth.E043" in ids(
        settings, AUTH_LOCAL_CACHE=channel, AUTH_LOCAL_CACHE_FALLBACK_TTL="1"
    )


def test_per_process_shared_cache_warns(settings):
    assert ids(settings, {"default": LOCMEM}, AUTH_CACHE="default") == {"aurinko_auth.W040"}
    assert ids(settings, {"default": REDIS}, AUTH_CACHE="default") == set()
