"""What every view of :mod:`aurinko_auth.urls` gets, applied in one place (``urls.py``):

- requests with a NUL anywhere we read (path, query, headers, a Basic credential, cookies,
  a form body) are refused with a clear 400 before any view or database sees them
  (PostgreSQL refuses NUL in text: it was a 500);
- responses are never stored by a browser or a shared cache (``Cache-Control: no-store``
  and ``Pragma: no-cache``, RFC 6749 §5.1): most of them carry a secret (codes, tokens,
  sessions, provider data), and the others are per-user.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.cache import add_never_cache_headers

from aurinko_auth import inputs
from aurinko_auth.exceptions import InvalidRequest
from aurinko_auth.views import error_page

NUL_MESSAGE = "The request holds a NUL character, which no parameter may contain."
View = Callable[..., HttpResponse]


def no_store(response: HttpResponse) -> HttpResponse:
    """Mark ``response`` as never to be stored (browser history, proxies, back button)."""
    add_never_cache_headers(response)  # max-age=0, no-cache, no-store, must-revalidate, private
    response["Pragma"] = "no-cache"  # HTTP/1.0 caches
    return response


def guarded(view: View, *, browser: bool = False, body: bool = True, store: bool = False) -> View:
    """``view`` behind the NUL check and, unless ``store``, with ``no-store`` responses. A
    refusal is the error page for ``browser`` views, else the API's JSON error."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if inputs.nul_in_request(request, body=body):
            error = InvalidRequest(NUL_MESSAGE)
            if browser:
                response = error_page(request, error)
            else:
                response = JsonResponse(error.as_dict(), status=400)
        else:
            response = view(request, *args, **kwargs)
        return response if store else no_store(response)

    return wrapper
