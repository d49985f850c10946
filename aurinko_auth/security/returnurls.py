"""Authorized return URLs: validation of registered URLs, exact matching of requested ones,
and building the redirect back to the app; and the check of an app's own redirect page (the
provider's redirect URI when the app names one)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from aurinko_auth.exceptions import InvalidRequest, InvalidReturnUrl
from aurinko_auth.security.transport import is_loopback_host

_DEFAULT_PORTS = {"http": 80, "https": 443}
# Browser extensions' own pages (docs/add-ins.md "Public clients (PKCE)"): Chromium's
# chrome-extension://<id>/ with its 32-letter a-p id; for public clients only (an extension
# keeps no secret). chrome.identity's https://<id>.chromiumapp.org/ and Firefox's
# https://<id>.extensions.allizom.org/ are plain https URLs.
EXTENSION_SCHEMES = ("chrome-extension",)
_EXTENSION_ID = re.compile(r"\A[a-p]{32}\Z")
_FORBIDDEN_CHARS = frozenset("\\\x00\r\n\t <>\"'`{}|^")
# What the broker itself puts on the redirect back to the app. A caller's query may extend a
# registered return URL, but never with these: an app whose framework reads a parameter's first
# value (Go, Flask, Java servlets) would read the caller's `status=success&code=...` instead of
# ours. Compared case-insensitively (some frameworks fold case).
RESPONSE_PARAMS = frozenset(
    name.lower()
    for name in (
        "status", "state", "code", "error", "message", "details", "requestId",
        "accessToken", "accountId", "userId", "userSession", "sessionCode",
    )
)  # fmt: skip


def _parse(url: str, *, max_length: int) -> tuple:
    """Split a URL and refuse anything ambiguous: we only ever redirect to plain, absolute
    http(s) URLs with no credentials, no fragment and no path tricks."""
    if not url or len(url) > max_length:
        raise InvalidReturnUrl("returnUrl is missing or too long.")
    if not url.isascii() or any(c in _FORBIDDEN_CHARS for c in url):
        raise InvalidReturnUrl("returnUrl contains characters that are not allowed.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise InvalidReturnUrl("returnUrl is not a valid URL.") from None
    if parts.scheme in EXTENSION_SCHEMES:
        if not _EXTENSION_ID.match(parts.netloc) or port is not None:
            raise InvalidReturnUrl(
                "A chrome-extension returnUrl names the extension by its 32-letter id (a-p)."
            )
    elif parts.scheme not in _DEFAULT_PORTS or not parts.hostname or not parts.netloc:
        raise InvalidReturnUrl("returnUrl must be an absolute http(s) URL.")
    if "@" in parts.netloc or parts.username or parts.password:
        raise InvalidReturnUrl("returnUrl must not contain credentials.")
    reserved = sorted({k for k, _ in parse_qsl(parts.query, keep_blank_values=True)
                       if k.lower() in RESPONSE_PARAMS})  # fmt: skip
    if reserved:
        raise InvalidReturnUrl(
            f"returnUrl's query must not contain {', '.join(reserved)}: the broker adds "
            "these to the redirect back to the app."
        )
    if parts.fragment or "#" in url:
        raise InvalidReturnUrl("returnUrl must not contain a fragment.")
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise InvalidReturnUrl("returnUrl must use https (http only on loopback hosts).")
    segments = parts.path.split("/")
    if (
        any(s in ("..", ".") for s in segments)
        or "%2e" in parts.path.lower()
        or "//" in parts.path
        or "*" in url
    ):
        raise InvalidReturnUrl("returnUrl path is not allowed.")
    return (
        parts.scheme,
        parts.hostname.lower(),
        port or _DEFAULT_PORTS.get(parts.scheme, 0),
        parts.path or "/",
        parse_qsl(parts.query, keep_blank_values=True),
    )


def validate_registered(url: str, *, public_client: bool = False) -> str:
    """Validate a return URL an app owner registers (no wildcard, no fragment, https; an
    extension's own page only for a public client, or as a public return URL:
    ``public_client`` says whether either holds)."""
    _parse(url, max_length=2048)
    if not public_client and is_extension(url):
        raise InvalidReturnUrl(
            "chrome-extension return URLs are for public clients (an extension keeps no "
            "secret): declare the app a public client (PKCE), or this URL one of its public "
            "return URLs."
        )
    return url


def is_extension_id(value: str) -> bool:
    """Whether ``value`` is a Chromium extension id (32 letters a-p)."""
    return bool(_EXTENSION_ID.match(value))


MAX_REDIRECT_PAGE_LENGTH = 500


def validate_redirect_page(url: str) -> str:
    """An app's own redirect page (``ProviderConfig.redirect_page``): the URL registered at
    the provider and sent there as ``redirect_uri``, which forwards the provider's query to our
    callback. Absolute https (http only on loopback), no credentials, no fragment (a browser
    never sends it), no query (the provider's parameters arrive there), no path tricks. An
    empty value is returned as it is: no page, the broker's callback is the redirect URI."""
    url = (url or "").strip()
    if not url:
        return ""

    def refused(why: str) -> InvalidRequest:
        return InvalidRequest(f"The redirect page {why}.")

    if len(url) > MAX_REDIRECT_PAGE_LENGTH:
        raise refused(f"is longer than {MAX_REDIRECT_PAGE_LENGTH} characters")
    if not url.isascii() or any(c in _FORBIDDEN_CHARS or ord(c) < 0x20 for c in url):
        raise refused("contains characters that are not allowed (percent-encode them)")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises ValueError on a bad port)
    except ValueError:
        raise refused("is not a valid URL") from None
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise refused("must be an absolute https URL")
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise refused("must use https (http only on loopback hosts)")
    if "@" in parts.netloc or parts.username or parts.password:
        raise refused("must not contain credentials")
    if "#" in url:
        raise refused("must not contain a fragment")
    if "?" in url:
        raise refused("must not contain a query (the provider's parameters arrive there)")
    if any(s in ("..", ".") for s in parts.path.split("/")) or "%2e" in parts.path.lower():
        raise refused("path is not allowed")
    return url


def validate_list(
    urls: list[str], *, public_client: bool = False, public_urls: list[str] = ()
) -> list[str]:
    """An app's registered return URLs, deduplicated; every refused one is named in one error
    (``public_client``: whether extension pages may be among them; else only among the
    ``public_urls``, a confidential app's public return URLs)."""
    cleaned, refused = [], []
    for url in urls:
        try:
            validate_registered(
                url.strip(), public_client=public_client or url.strip() in public_urls
            )
        except InvalidReturnUrl as exc:
            refused.append(f"Return URL {url[:200]!r}: {exc.message}")
            continue
        if url.strip() not in cleaned:
            cleaned.append(url.strip())
    if refused:
        raise InvalidRequest(" ".join(refused))
    return cleaned


def validate_public(public_urls: list[str], return_urls: list[str]) -> list[str]:
    """A confidential app's public return URLs (docs/add-ins.md "Public return URLs"),
    deduplicated: each one of its ``return_urls``, exactly."""
    cleaned = list(dict.fromkeys(u.strip() for u in public_urls if u.strip()))
    outside = [u for u in cleaned if u not in return_urls]
    if outside:
        raise InvalidRequest(
            f"A public return URL must be one of the app's return URLs: {outside[0][:200]!r} "
            "is not."
        )
    return cleaned


def is_extension(url: str) -> bool:
    return urlsplit(url).scheme.lower() in EXTENSION_SCHEMES


def match(url: str, registered: Iterable[str], *, max_length: int = 2048) -> str:
    """Return ``url`` if it matches one registered URL exactly (scheme, host, port and path; the
    query string may be extended), else raise :class:`InvalidReturnUrl` saying which URL
    arrived (origin and path only: a query may carry secrets) and how it differs from the
    closest registered one."""
    parsed = _parse(url, max_length=max_length)
    scheme, host, port, path, query = parsed
    candidates = []
    for candidate in registered:
        try:
            c_parsed = _parse(candidate, max_length=2048)
        except InvalidReturnUrl:
            continue
        c_scheme, c_host, c_port, c_path, c_query = c_parsed
        if (scheme, host, port, path) == (c_scheme, c_host, c_port, c_path) and all(
            pair in query for pair in c_query
        ):
            return url
        candidates.append((candidate, c_parsed))
    raise InvalidReturnUrl(mismatch_message(url, parsed, candidates))


def matches_any(url: str, registered: Iterable[str]) -> bool:
    """Whether ``url`` is one of ``registered`` by :func:`match`'s rule (never raises)."""
    try:
        match(url, registered)
    except InvalidReturnUrl:
        return False
    return True


def shown(url: str) -> str:
    """A URL as it may be shown and logged: scheme, host, port and path, never the query."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


_LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1", "[::1]"}


def _differences(parsed: tuple, other: tuple) -> list[str]:
    scheme, host, port, path, query = parsed
    o_scheme, o_host, o_port, o_path, o_query = other
    found = []
    if scheme != o_scheme:
        found.append(f"scheme ({scheme} instead of {o_scheme})")
    if host != o_host:
        if host in _LOOPBACK_NAMES and o_host in _LOOPBACK_NAMES:
            found.append(f"host ({host} instead of {o_host}: loopback names differ too)")
        else:
            found.append(f"host ({host} instead of {o_host})")
    if port != o_port:
        found.append(f"port ({port} instead of {o_port})")
    if path != o_path:
        if path.rstrip("/") == o_path.rstrip("/"):
            found.append(
                "trailing slash (" + ("added" if len(path) > len(o_path) else "missing") + ")"
            )
        else:
            found.append("path")
    missing = sorted({k for k, v in o_query if (k, v) not in query})
    if missing:
        found.append(f"the registered query's {', '.join(missing)} missing")
    return found


def mismatch_message(url: str, parsed: tuple, candidates: list[tuple[str, tuple]]) -> str:
    arrived = f"returnUrl {shown(url)} is not an authorized return URL of this app."
    if not candidates:
        return f"{arrived} The app has no return URLs registered."
    closest, c_parsed = min(candidates, key=lambda c: len(_differences(parsed, c[1])))
    differs = ", ".join(_differences(parsed, c_parsed))
    return (
        f"{arrived} Closest registered: {shown(closest)}; differs in {differs}. "
        "Return URLs match exactly (scheme, host, port and path)."
    )


def with_params(url: str, params: dict[str, str | None]) -> str:
    """``url`` with ``params`` added to its query string (None values are left out). A name of
    ``params`` already in the query is replaced, never repeated (return URLs with our response
    parameters are refused before, see ``RESPONSE_PARAMS``; this holds for any URL)."""
    parts = urlsplit(url)
    ours = {k.lower() for k in params}
    query = [
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k.lower() not in ours
    ]
    query += [(k, v) for k, v in params.items() if v is not None]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()
