"""Which web origins may use the session API: the origins of an app's authorized return URLs
(the pages the app already trusts to receive codes and sessions), its trusted domains
(``App.trusted_domains``: origins beyond those, Aurinko's "trusted domains" setting), plus
``CORS_EXTRA_ORIGINS`` and the broker's own origin. Used by CORS, by the CSRF rule and by
``responseType=token``, which goes only to a return URL on a trusted domain."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save

from aurinko_auth.conf import aurinko_settings
from aurinko_auth.exceptions import InvalidRequest
from aurinko_auth.models import App
from aurinko_auth.security import returnurls
from aurinko_auth.security.transport import is_loopback_host

_CACHE_KEY = "aurinko_auth:cors_origins:v1"
_PUBLIC_CACHE_KEY = "aurinko_auth:cors_public_origins:v1"
_CACHE_SECONDS = 60
# An app's trusted domains: at most this many (each one widens who may read its users).
MAX_TRUSTED_DOMAINS = 50
_DEFAULT_PORTS = {"http": 80, "https": 443}
# A host name or an IPv4 address (letters, digits, dots and hyphens: IDNs in their punycode
# form, as browsers send them in Origin); IPv6 literals are checked by urlsplit.
_HOST = re.compile(r"\A[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?\Z")


def normalize(origin: str | None) -> str:
    """``scheme://host[:port]`` lower-cased, or "" for a missing or opaque ("null") origin."""
    origin = (origin or "").strip()
    if not origin or origin == "null" or len(origin) > 300 or "://" not in origin:
        return ""
    return origin.rstrip("/").lower()


def validate_trusted(value: str) -> str:
    """An app owner's trusted domain as the origin browsers send: ``scheme://host[:port]``,
    lower-cased, the default port left out. https, or http on loopback hosts; an extension's
    own pages as ``chrome-extension://<32-letter id>``. Exact: no wildcard, no path, query,
    fragment or credentials. Raises :class:`InvalidRequest` saying what is wrong."""
    raw = (value or "").strip()
    shown = repr(raw[:200])
    if not raw or len(raw) > 300 or not raw.isascii() or "://" not in raw:
        raise InvalidRequest(
            f"Trusted domain {shown}: an origin such as https://app.example.com (scheme, host "
            "and port; IDNs in punycode)."
        )
    if "*" in raw:
        raise InvalidRequest(f"Trusted domain {shown}: no wildcards; name each origin exactly.")
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:
        raise InvalidRequest(f"Trusted domain {shown}: not a valid origin.") from None
    scheme = parts.scheme.lower()
    if parts.path not in ("", "/") or parts.query or parts.fragment or "?" in raw or "#" in raw:
        raise InvalidRequest(
            f"Trusted domain {shown}: an origin has no path, query or fragment "
            "(scheme://host[:port])."
        )
    if "@" in parts.netloc:
        raise InvalidRequest(f"Trusted domain {shown}: no credentials in an origin.")
    if scheme in returnurls.EXTENSION_SCHEMES:
        if port is not None or not returnurls.is_extension_id(parts.netloc):
            raise InvalidRequest(
                f"Trusted domain {shown}: a chrome-extension origin names the extension by its "
                "32-letter id (a-p)."
            )
        return f"{scheme}://{parts.netloc}"
    if scheme == "moz-extension":
        raise InvalidRequest(
            f"Trusted domain {shown}: Firefox gives every installation of an extension its own "
            "moz-extension UUID, so no origin names the extension; give it host permission "
            "for the broker instead."
        )
    host = (parts.hostname or "").lower()
    if scheme not in _DEFAULT_PORTS or not host:
        raise InvalidRequest(f"Trusted domain {shown}: an https origin (or chrome-extension).")
    if scheme == "http" and not is_loopback_host(host):
        raise InvalidRequest(
            f"Trusted domain {shown}: must use https (http only on loopback hosts)."
        )
    if ":" in host:  # an IPv6 literal (urlsplit checked it)
        host = f"[{host}]"
    elif not _HOST.match(host) or ".." in host:
        raise InvalidRequest(f"Trusted domain {shown}: not a valid host name.")
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}:{port}"
    return f"{scheme}://{host}"


def validate_trusted_list(values: list[str]) -> list[str]:
    """An app's trusted domains, normalized and deduplicated in order; every refused one is
    named in one error."""
    cleaned: list[str] = []
    refused: list[str] = []
    for value in values:
        try:
            origin = validate_trusted(value)
        except InvalidRequest as exc:
            refused.append(exc.message)
            continue
        if origin not in cleaned:
            cleaned.append(origin)
    if refused:
        raise InvalidRequest(" ".join(refused))
    if len(cleaned) > MAX_TRUSTED_DOMAINS:
        raise InvalidRequest(f"An app has at most {MAX_TRUSTED_DOMAINS} trusted domains.")
    return cleaned


def edited(
    current: list[str],
    *,
    add: Sequence[str] = (),
    remove: Sequence[str] = (),
    replace: Sequence[str] | None = None,
) -> list[str]:
    """``current`` trusted domains with ``replace`` instead of them (if given), then ``add``
    and ``remove`` applied, each normalized first (``HTTPS://App.example.com`` removes
    ``https://app.example.com``). Removing one that is not there is an error."""
    kept = list(current) if replace is None else []
    wanted = validate_trusted_list([*(replace or []), *add])
    gone = validate_trusted_list(list(remove))
    unknown = [o for o in gone if o not in kept and o not in wanted]
    if unknown:
        raise InvalidRequest(f"Not a trusted domain of the app: {', '.join(unknown)}.")
    return validate_trusted_list([o for o in kept + wanted if o not in gone])


@transaction.atomic
def set_trusted_domains(app: App, **change: Any) -> App:
    """Change an app's trusted domains (``add``, ``remove``, ``replace``: see :func:`edited`)
    for the command line; the admin's form saves the field itself. ``save()`` drops the
    allowed-origins cache (:func:`_forget`) and every process's hot-path entries of the app
    (signals.py)."""
    app.trusted_domains = edited(app.trusted_domains or [], **change)
    app.save(update_fields=["trusted_domains", "updated_at"])
    return app


def is_trusted_domain(url: str, app: App) -> bool:
    """Whether ``url`` (a return URL) is on one of ``app``'s trusted domains (exactly: scheme,
    host and port; a default port written out counts as left out)."""
    try:
        origin = validate_trusted(returnurls.origin(url))
    except InvalidRequest:
        return False
    return origin in (app.trusted_domains or [])


def _common() -> set[str]:
    extra = {normalize(o) for o in aurinko_settings.CORS_EXTRA_ORIGINS}
    extra.add(normalize(returnurls.origin(aurinko_settings.public_url)))
    return {o for o in extra if o}


def app_origins(app: App) -> set[str]:
    origins = {normalize(returnurls.origin(url)) for url in app.return_urls or []}
    origins.update(app.trusted_domains or [])
    return {o for o in origins if o} | _common()


def is_allowed_for_app(origin: str | None, app: App) -> bool:
    value = normalize(origin)
    return bool(value) and value in app_origins(app)


def all_allowed() -> set[str]:
    """Every origin of every active app (cached briefly in the shared cache)."""
    cached = cache.get(_CACHE_KEY)
    if cached is None:
        cached = set()
        rows = App.objects.filter(active=True).values_list("return_urls", "trusted_domains")
        for urls, trusted in rows:
            cached |= {normalize(returnurls.origin(u)) for u in urls or []}
            cached.update(trusted or [])
        cached.discard("")
        cache.set(_CACHE_KEY, cached, _CACHE_SECONDS)
    return set(cached) | _common()


def is_allowed(origin: str | None) -> bool:
    value = normalize(origin)
    return bool(value) and value in all_allowed()


def public_client_origins() -> set[str]:
    """The return-URL origins of every active public client and the origins of confidential
    apps' public return URLs (cached like :func:`all_allowed`): the pages that may redeem a
    code with PKCE from the browser."""
    cached = cache.get(_PUBLIC_CACHE_KEY)
    if cached is None:
        cached = set()
        apps = App.objects.filter(active=True)
        for public, urls, public_urls in apps.values_list(
            "public_client", "return_urls", "public_return_urls"
        ):
            chosen = urls if public else public_urls
            cached |= {normalize(returnurls.origin(u)) for u in chosen or []}
        cached.discard("")
        cache.set(_PUBLIC_CACHE_KEY, cached, _CACHE_SECONDS)
    return set(cached)


def is_public_client_origin(origin: str | None) -> bool:
    value = normalize(origin)
    return bool(value) and value in public_client_origins()


def _forget(using: str | None = None, **kwargs: object) -> None:
    # Now, and again once the change commits: a request between the two may have cached the
    # rows as they were before the transaction.
    def forget() -> None:
        cache.delete_many([_CACHE_KEY, _PUBLIC_CACHE_KEY])

    forget()
    transaction.on_commit(forget, using=using)


post_save.connect(_forget, sender=App, dispatch_uid="aurinko_auth.security.origins.save")
post_delete.connect(_forget, sender=App, dispatch_uid="aurinko_auth.security.origins.delete")
