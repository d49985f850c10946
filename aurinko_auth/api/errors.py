"""The API's one exception handler: every error is JSON ``{"code", "message", "requestId"}``
(Aurinko's ``ApiRequestFailed``, :class:`~aurinko_auth.api.serializers.ErrorSerializer`)."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response

from aurinko_auth import requestids
from aurinko_auth.api.authentication import missing_credentials_message
from aurinko_auth.errorcodes import Code
from aurinko_auth.exceptions import AurinkoError, InvalidRequest

# DRF's own exceptions in our catalogue's words (DRF's ``default_code`` values, such as
# ``parse_error``, are not ours; an APIException outside this table is ``request.failed``).
DRF_CODES: tuple[tuple[type[drf_exceptions.APIException], Code], ...] = (
    (drf_exceptions.NotAuthenticated, Code.AUTH_REQUIRED),
    (drf_exceptions.AuthenticationFailed, Code.AUTH_REQUIRED),
    (drf_exceptions.MethodNotAllowed, Code.METHOD_NOT_ALLOWED),
    (drf_exceptions.ParseError, Code.REQUEST_MALFORMED),
    (drf_exceptions.UnsupportedMediaType, Code.MEDIA_TYPE_UNSUPPORTED),
    (drf_exceptions.NotAcceptable, Code.NOT_ACCEPTABLE),
    (drf_exceptions.PermissionDenied, Code.FORBIDDEN),
    (drf_exceptions.NotFound, Code.NOT_FOUND),
    (drf_exceptions.Throttled, Code.RATE_LIMITED),
)


def drf_code(exc: drf_exceptions.APIException) -> Code:
    return next((code for cls, code in DRF_CODES if isinstance(exc, cls)), Code.REQUEST_FAILED)


def first_message(detail: Any) -> str:
    """The first message of a DRF ``ValidationError`` detail (a dict, list or string)."""
    while isinstance(detail, dict | list) and detail:
        detail = next(iter(detail.values())) if isinstance(detail, dict) else detail[0]
    return str(detail) if detail else InvalidRequest.default_message


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    headers: dict[str, str] = {}
    if isinstance(exc, AurinkoError):
        body, status = exc.as_dict(), exc.status
    elif isinstance(exc, Http404):
        body, status = {"code": str(Code.NOT_FOUND), "message": "Not found."}, 404
    elif isinstance(exc, drf_exceptions.ValidationError):
        # A query parameter, id or body that its serializer refused.
        body, status = {"code": InvalidRequest.code, "message": first_message(exc.detail)}, 400
    elif isinstance(exc, drf_exceptions.APIException):
        status = exc.status_code
        code = drf_code(exc)
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.default_detail)
        view, request = context.get("view"), context.get("request")
        if isinstance(exc, drf_exceptions.NotAuthenticated) and view is not None and request:
            # Say which form of credentials this endpoint takes (not DRF's "were not provided").
            detail = missing_credentials_message(
                request.META, getattr(view, "authentication_classes", [])
            )
        body = {"code": str(code), "message": str(detail)}
        if isinstance(exc, drf_exceptions.Throttled) and exc.wait:
            headers["Retry-After"] = str(int(exc.wait))
    else:
        return None
    request_id = requestids.current()
    if request_id:
        body["requestId"] = request_id
    retry_after = getattr(exc, "retry_after", None)
    if retry_after is not None and "Retry-After" not in headers:
        headers["Retry-After"] = str(int(retry_after))
    if status == 401:
        view = context.get("view")
        request = context.get("request")
        if view is not None and request is not None:
            header = view.get_authenticate_header(request)
            if header:
                headers["WWW-Authenticate"] = header
    return Response(body, status=status, headers=headers)
