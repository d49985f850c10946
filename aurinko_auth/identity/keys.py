"""The issuers' public documents (OpenID metadata, JWKS, Exchange metadata), fetched through the
SSRF guard, bounded in time and size, and cached per URL in the process and in Django's cache.

A key set is fetched again when it is older than ``MAX_AGE``, or when a token names a key it
does not hold (a rotation) and the copy is older than ``REFETCH_INTERVAL``: a flood of tokens
with made-up ``kid`` values costs at most one fetch per URL per interval. When a document
cannot be fetched, nothing is accepted (fail closed)."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable
from typing import Any

import requests
from django.core.cache import cache

from aurinko_auth.errorcodes import Code
from aurinko_auth.exceptions import IdentityRefused
from aurinko_auth.security import netguard

MAX_BYTES = 256 * 1024
TIMEOUT = (3.05, 5.0)  # connect, read
MAX_AGE = 6 * 3600
REFETCH_INTERVAL = 60

MAX_URLS = 256  # documents held per process (the oldest fetched is dropped first)
Parsed = dict[str, Any]
# url -> (fetched_at, parsed document); parsing happens once per fetch, not per request.
_local: dict[str, tuple[float, Parsed]] = {}
# url -> when a fetch last failed: no second attempt for REFETCH_INTERVAL (a slow or dead key
# server named by a token costs one fetch a minute, not one per request).
_failed: dict[str, float] = {}
_lock = threading.Lock()


def unavailable(url: str, why: str) -> IdentityRefused:
    return IdentityRefused(
        f"The identity token's keys could not be fetched from {_origin(url)} ({why}).",
        code=Code.IDENTITY_KEYS_UNAVAILABLE,
        status=Code.IDENTITY_KEYS_UNAVAILABLE.status,
    )


def _origin(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def fetch_json(url: str) -> dict:
    """One GET of a JSON object, through the SSRF guard, without redirects, bounded."""
    try:
        session = netguard.endpoint_session(url)
    except netguard.BlockedHost as exc:
        raise IdentityRefused(
            f"The identity token names a key server that may not be contacted: {exc.message}",
            code=Code.IDENTITY_ISSUER,
        ) from None
    try:
        with session.get(
            url,
            timeout=TIMEOUT,
            stream=True,
            allow_redirects=False,
            headers={"Accept": "application/json"},
        ) as response:
            if response.status_code != 200:
                raise unavailable(url, f"HTTP {response.status_code}")
            body = response.raw.read(MAX_BYTES + 1, decode_content=True)
    except requests.RequestException as exc:
        raise unavailable(url, type(exc).__name__) from None
    finally:
        session.close()
    if len(body) > MAX_BYTES:
        raise unavailable(url, "the document is too large")
    try:
        document = json.loads(body)
    except ValueError:
        raise unavailable(url, "not JSON") from None
    if not isinstance(document, dict):
        raise unavailable(url, "not a JSON object")
    return document


def _cache_key(url: str) -> str:
    return "aurinko:idkeys:" + hashlib.sha256(url.encode()).hexdigest()


def document(
    url: str, parse: Callable[[dict], Parsed], *, refresh_older_than: float | None = None
) -> Parsed:
    """The parsed document at ``url``: the process's copy, else the shared cache's, else a
    fetch. ``refresh_older_than`` asks for a fresh copy unless the cached one is younger."""
    now = time.time()
    limit = MAX_AGE if refresh_older_than is None else min(MAX_AGE, refresh_older_than)
    entry = _local.get(url)
    if entry is not None and now - entry[0] < limit:
        return entry[1]
    with _lock:  # one fetch per URL at a time in this process
        entry = _local.get(url)
        if entry is not None and now - entry[0] < limit:
            return entry[1]
        shared = cache.get(_cache_key(url))
        if shared is not None and now - shared[0] < limit:
            fetched_at, raw = shared
        elif now - _failed.get(url, 0.0) < REFETCH_INTERVAL:
            if entry is not None and now - entry[0] < MAX_AGE:
                return entry[1]  # the copy we have, until the server answers again
            raise unavailable(url, "it failed less than a minute ago")
        else:
            try:
                fetched_at, raw = time.time(), fetch_json(url)
            except IdentityRefused:
                _failed[url] = now
                _trim(_failed)
                raise
            _failed.pop(url, None)
            cache.set(_cache_key(url), (fetched_at, raw), MAX_AGE)
        try:
            parsed = parse(raw)
        except (KeyError, TypeError, ValueError) as exc:
            raise unavailable(url, f"unreadable document: {type(exc).__name__}") from None
        _local[url] = (fetched_at, parsed)
        _trim(_local)
        return parsed


def _trim(held: dict) -> None:
    while len(held) > MAX_URLS:
        held.pop(next(iter(held)))  # insertion order: the oldest first


def key(url: str, kid: str, parse: Callable[[dict], Parsed]) -> tuple[Any, Parsed]:
    """The key ``kid`` of the key set at ``url`` (``parse`` returns ``{"keys": {kid: key}}``
    and whatever else the document says), refetched once on an unknown ``kid``."""
    parsed = document(url, parse)
    if kid not in parsed["keys"]:
        parsed = document(url, parse, refresh_older_than=REFETCH_INTERVAL)
    if kid not in parsed["keys"]:
        raise IdentityRefused(
            "The identity token is signed with a key its issuer does not publish.",
            code=Code.IDENTITY_KEY_UNKNOWN,
        )
    return parsed["keys"][kid], parsed


def clear() -> None:
    """Forget every process copy (tests; the shared cache expires on its own)."""
    _local.clear()
    _failed.clear()
