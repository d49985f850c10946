"""What every view of :mod:`aurinko_auth.urls` gets, applied in one place (``urls.py``):

- requests with a NUL anywhere we read (path, query, headers, a Basic credential, cookies,
  a form body) are refused with a clear 400 before any view or database sees them
  (PostgreSQL refuses NUL in text: it was a 500);
- responses are never stored by a browser or a shared cache (``Cache-Control: no-store``
  and ``Pragma: no-cache``, RFC 6749 §5.1): most of them carry a secret (codes, tokens,
  sessions, provider data), and the others are per-user;
- the browser flows' pages (``browser=True``: every view under ``/v1/auth/`` that a person's
  browser navigates to) keep their opener: ``Cross-Origin-Opener-Policy: unsafe-none``, set
  by the view so that Django's ``SecurityMiddleware`` (which only adds the header when it is
  missing) leaves it, in any host project and under any mount point. docs/security.md says
  why ``unsafe-none`` and not ``same-origin-allow-popups``; everything else (the API, the
  admin) keeps the host's policy (Django's default ``same-origin``).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.cache import add_never_cache_headers
from django.utils.http import http_date

from aurinko_auth import inputs, requestids
from aurinko_auth.exceptions import InvalidRequest, MethodNotAllowed, NotFound
from aurinko_auth.views import error_page

# An add-in or a page opens the sign-in in a popup (window.open, Teams'
# authentication.authenticate) and learns the result from the return page through
# window.opener. Any other value on one of our pages (redirects included) moves the popup to
# a new browsing context group whenever its opener is of another origin, which severs the
# opener for good: ``same-origin-allow-popups`` too, since it only spares the popups a page
# opens itself, not the page opened as one.
OPENER_POLICY = "unsafe-none"
NUL_MESSAGE = "The request holds a NUL character, which no parameter may contain."
View = Callable[..., HttpResponse]


# What Django's add_never_cache_headers writes on a response that has neither header yet
# (tests/test_guards.py holds the two equal). Building it takes that function ~20 µs (it parses
# and re-serialises Cache-Control), as much as the rest of a cached GET /v1/account: the hot
# path sets the strings, and anything with its own caching headers gets Django's merge.
NEVER_CACHE = "max-age=0, no-cache, no-store, must-revalidate, private"
_expires: list = [None, ""]  # [second, its HTTP date]


def _http_now() -> str:
    now = int(time.time())
    if _expires[0] != now:
        _expires[:] = [now, http_date(now)]
    return _expires[1]


def no_store(response: HttpResponse) -> HttpResponse:
    """Mark ``response`` as never to be stored (browser history, proxies, back button)."""
    headers = response.headers
    if "Cache-Control" in headers or "Expires" in headers:
        add_never_cache_headers(response)
    else:
        headers["Expires"] = _http_now()
        headers["Cache-Control"] = NEVER_CACHE
    headers["Pragma"] = "no-cache"  # HTTP/1.0 caches
    return response


def guarded(view: View, *, browser: bool = False, body: bool = True, store: bool = False) -> View:
    """``view`` behind the NUL check and, unless ``store``, with ``no-store`` responses. A
    refusal is the error page for ``browser`` views, else the API's JSON error."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        token = requestids.begin()
        try:
            response = _serve(request, args, kwargs)
            response[requestids.HEADER] = requestids.current()
        finally:
            requestids.end(token)
        return response

    def _serve(request: HttpRequest, args: tuple, kwargs: dict) -> HttpResponse:
        if inputs.nul_in_request(request, body=body):
            error = InvalidRequest(NUL_MESSAGE)
            if browser:
                response = error_page(request, error)
            else:
                response = JsonResponse(error.as_dict(), status=400)
        else:
            response = view(request, *args, **kwargs)
            if response.status_code == 405 and not browser and not _is_json(response):
                response = _method_not_allowed(response)
        if browser:
            response["Cross-Origin-Opener-Policy"] = OPENER_POLICY
        return response if store else no_store(response)

    return wrapper


def _is_json(response: HttpResponse) -> bool:
    return response.get("Content-Type", "").startswith("application/json")


def _method_not_allowed(refused: HttpResponse) -> HttpResponse:
    """Django's empty ``HttpResponseNotAllowed`` (``require_safe`` and the like) as the API's
    JSON error, keeping its ``Allow`` header."""
    response = JsonResponse(MethodNotAllowed().as_dict(), status=405)
    if "Allow" in refused:
        response["Allow"] = refused["Allow"]
    return response


def not_found(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    """Any other path in the broker's own namespaces (``/v1/auth/``, ``/v1/user``,
    ``/v1/account``, ``/v1/am/``): the API's JSON 404, not the host's HTML page. Other
    ``/v1/`` paths are left to the host project, which may serve its own there."""
    error = NotFound("No such endpoint.")
    return JsonResponse(error.as_dict(), status=404)
