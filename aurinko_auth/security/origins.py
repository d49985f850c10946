"""Which web origins may use the session API: the origins of an app's authorized return URLs
(the pages the app already trusts to receive codes and sessions), plus
``CORS_EXTRA_ORIGINS`` and the broker's own origin. Used by CORS and by the CSRF rule."""

from __future__ import annotations

from django.core.cache import cache
from django.db.models.signals import post_delete, post_save

from aurinko_auth.conf import aurinko_settings
from aurinko_auth.models import App
from aurinko_auth.security import returnurls

_CACHE_KEY = "aurinko_auth:cors_origins:v1"
_PUBLIC_CACHE_KEY = "aurinko_auth:cors_public_origins:v1"
_CACHE_SECONDS = 60


def normalize(origin: str | None) -> str:
    """``scheme://host[:port]`` lower-cased, or "" for a missing or opaque ("null") origin."""
    origin = (origin or "").strip()
    if not origin or origin == "null" or len(origin) > 300 or "://" not in origin:
        return ""
    return origin.rstrip("/").lower()


def _common() -> set[str]:
    extra = {normalize(o) for o in aurinko_settings.CORS_EXTRA_ORIGINS}
    extra.add(normalize(returnurls.origin(aurinko_settings.public_url)))
    return {o for o in extra if o}


def app_origins(app: App) -> set[str]:
    origins = {normalize(returnurls.origin(url)) for url in app.return_urls or []}
    return {o for o in origins if o} | _common()


def is_allowed_for_app(origin: str | None, app: App) -> bool:
    value = normalize(origin)
    return bool(value) and value in app_origins(app)


def all_allowed() -> set[str]:
    """Every origin of every active app (cached briefly in the shared cache)."""
    cached = cache.get(_CACHE_KEY)
    if cached is None:
        cached = set()
        for urls in App.objects.filter(active=True).values_list("return_urls", flat=True):
            cached |= {normalize(returnurls.origin(u)) for u in urls or []}
        cached.discard("")
        cache.set(_CACHE_KEY, cached, _CACHE_SECONDS)
    return set(cached) | _common()


def is_allowed(origin: str | None) -> bool:
    value = normalize(origin)
    return bool(value) and value in all_allowed()


def public_client_origins() -> set[str]:
    """The return-URL origins of every active public client (cached like :func:`all_allowed`):
    the pages that may redeem a code with PKCE from the browser."""
    cached = cache.get(_PUBLIC_CACHE_KEY)
    if cached is None:
        cached = set()
        apps = App.objects.filter(active=True, public_client=True)
        for urls in apps.values_list("return_urls", flat=True):
            cached |= {normalize(returnurls.origin(u)) for u in urls or []}
        cached.discard("")
        cache.set(_PUBLIC_CACHE_KEY, cached, _CACHE_SECONDS)
    return set(cached)


def is_public_client_origin(origin: str | None) -> bool:
    value = normalize(origin)
    return bool(value) and value in public_client_origins()


def _forget(**kwargs: object) -> None:
    cache.delete_many([_CACHE_KEY, _PUBLIC_CACHE_KEY])


post_save.connect(_forget, sender=App, dispatch_uid="aurinko_auth.security.origins.save")
post_delete.connect(_forget, sender=App, dispatch_uid="aurinko_auth.security.origins.delete")
