"""oauthlib's https rule, with our exception for loopback http, scoped to our own calls.

oauthlib refuses any http URL (``InsecureTransportError``) unless the process sets
``OAUTHLIB_INSECURE_TRANSPORT``, which would allow plain http to every host, for every user
of oauthlib in the process. The broker allows http only on loopback (development, test
peers; see ``transport``), so instead of the variable:

* :func:`install` wraps oauthlib's ``is_secure_transport`` (where oauthlib and
  requests-oauthlib look it up) once; outside our calls the wrapper is oauthlib's own check;
* :class:`OAuth2Session`, the session every provider uses, runs its calls inside
  :func:`loopback_http`, where the wrapper also accepts ``http://`` on a loopback host, and
  only that. The scope is a context variable: other threads and tasks are not affected.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import oauthlib.oauth2
import oauthlib.oauth2.rfc6749.clients.base
import oauthlib.oauth2.rfc6749.parameters
import oauthlib.oauth2.rfc6749.utils
import requests_oauthlib.oauth2_session

from aurinko_auth.security.transport import is_loopback_host

_allowed = contextvars.ContextVar("aurinko_loopback_http", default=False)
# The modules that bound ``is_secure_transport`` by name at their import.
_MODULES = (
    oauthlib.oauth2.rfc6749.utils,
    oauthlib.oauth2.rfc6749.parameters,
    oauthlib.oauth2.rfc6749.clients.base,
    oauthlib.oauth2,
    requests_oauthlib.oauth2_session,
)


def is_loopback_http(uri: str) -> bool:
    try:
        parts = urlsplit(uri)
    except ValueError:
        return False
    return parts.scheme.lower() == "http" and is_loopback_host(parts.hostname)


def _wrap(original: Callable[[str], bool]) -> Callable[[str], bool]:
    def is_secure_transport(uri: str) -> bool:
        return original(uri) or (_allowed.get() and is_loopback_http(uri))

    is_secure_transport.aurinko_original = original  # type: ignore[attr-defined]
    return is_secure_transport


def install() -> None:
    """Idempotent; called from ``AppConfig.ready`` (and on import, for code run without it)."""
    for module in _MODULES:
        current = module.is_secure_transport
        if not hasattr(current, "aurinko_original"):
            module.is_secure_transport = _wrap(current)


@contextmanager
def loopback_http() -> Iterator[None]:
    """oauthlib accepts http loopback URLs inside this block (in this context only)."""
    token = _allowed.set(True)
    try:
        yield
    finally:
        _allowed.reset(token)


class OAuth2Session(requests_oauthlib.OAuth2Session):
    """requests-oauthlib's session whose OAuth calls accept http on loopback hosts."""

    def authorization_url(self, url: str, state: Any = None, **kwargs: Any) -> Any:
        with loopback_http():
            return super().authorization_url(url, state, **kwargs)

    def fetch_token(self, token_url: str, *args: Any, **kwargs: Any) -> Any:
        with loopback_http():
            return super().fetch_token(token_url, *args, **kwargs)

    def refresh_token(self, token_url: str, *args: Any, **kwargs: Any) -> Any:
        with loopback_http():
            return super().refresh_token(token_url, *args, **kwargs)

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        with loopback_http():
            return super().request(method, url, *args, **kwargs)


install()
