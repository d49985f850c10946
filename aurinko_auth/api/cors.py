"""CORS with credentials for the session API, as a view mixin (no extra dependency, nothing
to add to MIDDLEWARE): an add-in or web page on one of the app's return-URL origins may call
``/v1/user`` or ``/v1/account`` with ``fetch(url, {credentials: "include"})``.

The allowed origin is echoed (never ``*``, which browsers refuse with credentials), with
``Access-Control-Allow-Credentials: true`` and ``Vary: Origin``; preflights are answered here,
before authentication. Which *app's* session a page may use is decided later, per app, by
:func:`aurinko_auth.hotpath.sessions.user_from_session`.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers

from aurinko_auth import requestids
from aurinko_auth.conf import aurinko_settings
from aurinko_auth.security import origins

ALLOW_HEADERS = ", ".join(
    (
        "Authorization",
        "Content-Type",
        "X-Requested-With",
        "X-Aurinko-Session",
        "X-Aurinko-AccountId",
        "X-Aurinko-Account-Id",
        "X-Aurinko-ClientId",
        "X-Aurinko-Client-Id",
        "X-Aurinko-AuthType",
        "X-Aurinko-Auth-Type",
        "X-Aurinko-Mailbox-Info",
    )
)


class CorsMixin:
    """Add to an API view to let allowed origins call it with credentials."""

    cors_enabled = True
    # Whether the allowed origin may send credentials (cookies); the token endpoint's public
    # clients send none.
    cors_credentials = True

    def cors_allowed(self, origin: str | None) -> bool:
        return origins.is_allowed(origin)

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        origin = request.META.get("HTTP_ORIGIN")
        if not self.cors_enabled:
            return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]
        if request.method == "OPTIONS" and "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in request.META:
            response = HttpResponse(status=204)
            if self.cors_allowed(origin):
                allow_origin(response, origin or "", credentials=self.cors_credentials)
                methods = [
                    m.upper()
                    for m in self.http_method_names  # type: ignore[attr-defined]
                    if hasattr(self, m) and m not in ("options", "head", "trace")
                ]
                response["Access-Control-Allow-Methods"] = ", ".join(methods)
                response["Access-Control-Allow-Headers"] = ALLOW_HEADERS
                response["Access-Control-Max-Age"] = str(int(aurinko_settings.CORS_MAX_AGE))
            patch_vary_headers(response, ("Origin",))
            return response
        response = super().dispatch(request, *args, **kwargs)  # type: ignore[misc]
        if origin and self.cors_allowed(origin):
            allow_origin(response, origin, credentials=self.cors_credentials)
        patch_vary_headers(response, ("Origin",))
        return response


def allow_origin(response: HttpResponse, origin: str, *, credentials: bool = True) -> None:
    """The headers that let ``origin`` (an allowed one) read ``response``, with credentials
    unless ``credentials`` is false."""
    response["Access-Control-Allow-Origin"] = origin.strip()
    # A page may read the request id (to quote it to support, as API errors' requestId).
    response["Access-Control-Expose-Headers"] = requestids.HEADER
    if credentials:
        response["Access-Control-Allow-Credentials"] = "true"


def add_cors_headers(response: HttpResponse, origin: str | None) -> None:
    """What every CORS-enabled API response carries (the preflight aside)."""
    if origin and origins.is_allowed(origin):
        allow_origin(response, origin)
    patch_vary_headers(response, ("Origin",))
