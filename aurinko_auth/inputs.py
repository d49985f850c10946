"""Untrusted values parsed in one place: ids and numbers from queries, headers, paths and forms.

``str.isdigit()`` is true for ``"²"`` and ``"١"`` (superscripts, other scripts' digits), and
``int()`` accepts some of them and refuses others: a check with one and a conversion with the
other is a 500 waiting to happen. Everything here takes ASCII decimal digits only.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import re
from collections.abc import Iterator
from typing import Any

_DECIMAL = re.compile(r"[0-9]{1,19}", re.ASCII)
_FORMS = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
_DIGITS = re.compile(r"[0-9]{1,1000}", re.ASCII)
# A database id (a positive signed 64-bit integer) at most.
MAX_ID = 2**63 - 1


def decimal(value: object, *, minimum: int = 0, maximum: int = MAX_ID) -> int | None:
    """``value`` as an int when it is ASCII decimal digits within [minimum, maximum], else None
    (the caller raises its own error: a 400 for a parameter, a 404 for a path id)."""
    if not isinstance(value, str) or not _DECIMAL.fullmatch(value):
        return None
    number = int(value)
    return number if minimum <= number <= maximum else None


def capped(value: object, maximum: int) -> int | None:
    """A count from a query: ASCII decimal digits of any length (up to 1000), larger values
    being ``maximum``; else None."""
    if not isinstance(value, str) or not _DIGITS.fullmatch(value):
        return None
    return min(int(value), maximum)


def object_id(value: object) -> int | None:
    """A primary key from a path, header or query (1 .. 2**63-1), else None."""
    return decimal(value, minimum=1)


def has_nul(*values: object) -> bool:
    """Whether any of ``values`` holds a NUL character (PostgreSQL refuses them in text)."""
    return any(isinstance(v, str) and "\x00" in v for v in values)


def _request_values(request: Any, *, body: bool) -> Iterator[str]:
    meta = request.META
    yield request.path
    # Decoding the query or the cookies costs more than the rest of a cached request: only
    # the raw text can hold what decodes to a NUL (``%00`` in a query; a raw NUL or an octal
    # escape, ``\\000``, in a quoted cookie value).
    query = meta.get("QUERY_STRING", "")
    if "%00" in query or "\x00" in query:
        for key, values in request.GET.lists():
            yield key
            yield from values
    for key, value in meta.items():
        if key.startswith("HTTP_") and isinstance(value, str):
            yield value
    scheme, _, credential = meta.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() == "basic":
        # A malformed one is the authentication class's to refuse.
        with contextlib.suppress(binascii.Error, ValueError):
            yield base64.b64decode(credential.strip(), validate=True).decode("utf-8", "replace")
    if "\\" in meta.get("HTTP_COOKIE", ""):
        yield from request.COOKIES.values()
    if body and request.content_type in _FORMS:
        for key, values in request.POST.lists():
            yield key
            yield from values


def nul_in_request(request: Any, *, body: bool = True) -> bool:
    """Whether the path, query, headers (with a Basic credential decoded), cookies or form
    body of a Django request hold a NUL. ``body=False`` leaves the body alone (a proxied body
    is the provider's business and must not be parsed here)."""
    return any("\x00" in value for value in _request_values(request, body=body))
