"""The Direct API: ``ANY /v1/direct/{path}`` forwarded to the provider's API base (endpoint
``api``) with the account's fresh provider access token.

The account is chosen as for ``/v1/account``. Status, body and content type come back as the
provider sent them (plus a few harmless headers: caching, pagination links, rate-limit and
request-id headers). Never forwarded: hop-by-hop headers, ``Host``, ``Authorization``,
``Cookie``, ``Proxy-*``, ``X-Aurinko-*`` and ``X-Forwarded-*``; never returned: ``Set-Cookie``
and anything else off the list. Request and response bodies are size-limited
(``DIRECT_MAX_REQUEST_BYTES``, ``DIRECT_MAX_RESPONSE_BYTES``); the response is streamed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, unquote

import requests
from django.http import HttpResponseBase, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse
from rest_framework.request import Request

from aurinko_auth import inputs
from aurinko_auth.api.views import AurinkoAPIView, document, errors
from aurinko_auth.conf import aurinko_settings
from aurinko_auth.errorcodes import Code
from aurinko_auth.exceptions import (
    AurinkoError,
    InvalidRequest,
    ProviderError,
    ProviderNotConfigured,
    ProviderUnavailable,
    RateLimited,
)
from aurinko_auth.lifecycle import tokens
from aurinko_auth.models import ProviderConfig
from aurinko_auth.providers.oauth2 import OAuth2Provider
from aurinko_auth.providers.registry import get_provider
from aurinko_auth.providers.service_accounts import ServiceAccountProvider
from aurinko_auth.security import ratelimit

logger = logging.getLogger("aurinko_auth.direct")

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)
# Never forwarded to the provider: ours, the client's credentials, and what requests sets.
DROPPED_REQUEST = frozenset(
    {
        "host",
        "authorization",
        "cookie",
        "content-length",
        "accept-encoding",
        "forwarded",
        "x-real-ip",
        "x-csrftoken",
    }
)
DROPPED_REQUEST_PREFIXES = ("x-aurinko-", "proxy-", "x-forwarded-")
RETURNED = frozenset(
    {
        "content-type",
        "content-disposition",
        "content-language",
        "cache-control",
        "etag",
        "last-modified",
        "expires",
        "link",
        "location",
        "retry-after",
        "preference-applied",
    }
)
RETURNED_PREFIXES = (
    "x-ratelimit-",
    "ratelimit-",
    "x-ms-",
    "request-id",
    "client-request-id",
    "x-request-id",
    "x-goog-",
    "sforce-",
    "x-hubspot-",
)
SAFE_PATH_CHARS = "!$&'()*+,;=:@-._~%"


class ResponseTooLarge(ProviderError):
    code = Code.DIRECT_RESPONSE_TOO_LARGE
    status = 502
    default_message = "The provider's response is larger than the Direct API allows."


def clean_path(raw: str) -> str:
    """The provider-relative path to forward, percent-encoded. Refuses traversal in any
    spelling (``..``, ``%2e%2e``, ``%252e%252e``, ``..%2f``, backslashes) and control
    characters."""
    segments = raw.lstrip("/").split("/")
    cleaned = []
    for segment in segments:
        decoded, previous = segment, None
        while decoded != previous:  # undo every layer of percent-encoding
            previous, decoded = decoded, unquote(decoded)
        parts = decoded.replace("\\", "/").split("/")
        if any(part in (".", "..") for part in parts):
            raise InvalidRequest(
                "The Direct API path may not contain '.' or '..' segments.",
                code=Code.DIRECT_INVALID_PATH,
            )
        if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in decoded):
            raise InvalidRequest(
                "The Direct API path contains control characters.", code=Code.DIRECT_INVALID_PATH
            )
        # Keep the client's own percent-encoding (an id may contain an encoded slash); encode
        # whatever is not allowed in a path segment.
        cleaned.append(quote(segment, safe=SAFE_PATH_CHARS))
    return "/".join(cleaned)


def raw_direct_path(request: Any, decoded: str) -> str:
    """The path after ``/v1/direct/`` as the client encoded it, when the server tells
    (gunicorn's ``RAW_URI``, uWSGI's ``REQUEST_URI``); else the decoded path."""
    raw_uri = request.META.get("RAW_URI") or request.META.get("REQUEST_URI") or ""
    raw_path = raw_uri.split("?", 1)[0]
    prefix = aurinko_settings.path("direct", path="")
    if raw_path.startswith(prefix):
        return raw_path[len(prefix) :]
    return decoded


def forwarded_headers(request: Any) -> dict[str, str]:
    connection_tokens = {
        t.strip().lower() for t in request.headers.get("Connection", "").split(",") if t.strip()
    }
    headers = {}
    for name, value in request.headers.items():
        lowered = name.lower()
        if (
            not value
            or lowered in HOP_BY_HOP
            or lowered in DROPPED_REQUEST
            or lowered in connection_tokens
            or lowered.startswith(DROPPED_REQUEST_PREFIXES)
        ):
            continue
        headers[name] = value
    return headers


def read_body(request: Any) -> bytes:
    """The request body, at most ``DIRECT_MAX_REQUEST_BYTES``. A chunked body (no
    ``Content-Length``) is read from the WSGI stream when the server ends it
    (``wsgi.input_terminated``: gunicorn, uWSGI), else refused with a 411: Django reads
    nothing of it, and forwarding an empty body would silently drop the caller's."""
    limit = int(aurinko_settings.DIRECT_MAX_REQUEST_BYTES)
    length = inputs.capped((request.META.get("CONTENT_LENGTH") or "").strip(), 2**63)
    chunked = "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
    if length is not None and length > limit:
        raise _too_large(limit)
    if chunked and not length:
        if not request.META.get("wsgi.input_terminated"):
            raise AurinkoError(
                "This server cannot read chunked request bodies: send Content-Length.",
                code=Code.DIRECT_LENGTH_REQUIRED,
                status=411,
            )
        stream = request.META["wsgi.input"]
    else:
        # Read the stream ourselves: request.body would apply DATA_UPLOAD_MAX_MEMORY_SIZE.
        stream = request
    body = bytearray()
    while len(body) <= limit:
        chunk = stream.read(min(64 * 1024, limit + 1 - len(body)))
        if not chunk:
            break
        body += chunk
    if len(body) > limit:
        raise _too_large(limit)
    return bytes(body)


def _too_large(limit: int) -> AurinkoError:
    return AurinkoError(
        f"The request body is larger than {limit} bytes.",
        code=Code.DIRECT_REQUEST_TOO_LARGE,
        status=413,
    )


class DirectAPIView(AurinkoAPIView):
    """``ANY /v1/direct/{path}``: the provider's API with the account's provider token."""

    parser_classes: list[Any] = []
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        # The provider's Accept negotiation is the provider's business: never answer 406.
        return super().perform_content_negotiation(request, force=True)

    @document(
        summary="The provider's own API, with the account's provider token",
        description="Any method; the path, query and body go to the provider's API as they "
        "are, and its response comes back as it is (docs: the Direct API).",
        request={"*/*": OpenApiTypes.BINARY},
        responses={
            (200, "*/*"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The provider's response, relayed"
            ),
            **errors(400, 401, 404, 413, 429, 502),
        },
    )
    def forward(self, request: Request, path: str = "") -> HttpResponseBase:
        django_request = request._request
        target = clean_path(raw_direct_path(django_request, path))
        account = self.selected_account(request)
        tokens.ensure_usable(account)
        ratelimit.hit("direct_account", str(account.pk), aurinko_settings.DIRECT_RATE_LIMIT_ACCOUNT)
        ratelimit.hit("direct_app", str(account.app_id), aurinko_settings.DIRECT_RATE_LIMIT_APP)
        provider = get_provider(account.service_type)
        if not isinstance(provider, OAuth2Provider):
            raise InvalidRequest(
                f"The Direct API does not serve {provider.id} accounts.",
                code=Code.DIRECT_UNSUPPORTED,
            )
        if account.parent_id is not None and isinstance(provider, ServiceAccountProvider):
            # A managed account: its service account's token, its own mailbox only.
            confined = provider.managed_direct_path(target, account.email)
            if confined is None:
                raise AurinkoError(
                    f"A managed account reaches its own mailbox only ({provider.id}: "
                    "me/... or users/{its mailbox}/...).",
                    code=Code.DIRECT_OUTSIDE_MAILBOX,
                    status=403,
                )
            target = confined
        config = ProviderConfig.objects.filter(
            app_id=account.app_id, service_type=account.service_type
        ).first()
        if config is None:
            raise ProviderNotConfigured(f"The app has no {provider.id} configuration.")
        base = provider.endpoint("api", provider.resolve(config, account=account))
        body = read_body(django_request)
        access_token = tokens.fresh_access_token(
            account, mailbox=getattr(request, "aurinko_mailbox", None)
        )

        url = provider.direct_url(base, target)
        query = django_request.META.get("QUERY_STRING", "")
        if query:
            url += "?" + query
        headers = forwarded_headers(django_request)
        upstream = self.send(provider, account, request.method, url, headers, body, access_token)
        if (
            upstream.status_code == 401
            and account.kind == "personal"
            and self.may_refresh_on_401(account)
        ):
            # The provider refused a token we held for valid: replace it once and retry (the
            # body is in memory, so the retry sends the same request).
            replacement = tokens.replace_rejected_token(account, access_token)
            if replacement is not None:
                upstream.close()
                upstream = self.send(
                    provider, account, request.method, url, headers, body, replacement
                )
        return self.relay(upstream, head=request.method == "HEAD")

    @staticmethod
    def may_refresh_on_401(account: Any) -> bool:
        try:
            ratelimit.hit(
                "direct_401_refresh", str(account.pk), aurinko_settings.DIRECT_REFRESH_ON_401
            )
        except RateLimited:
            return False
        return bool(aurinko_settings.DIRECT_REFRESH_ON_401)

    @staticmethod
    def send(
        provider: Any,
        account: Any,
        method: str,
        url: str,
        headers: dict[str, str],
        body: bytes,
        access_token: str,
    ) -> requests.Response:
        try:
            with provider.http_session(url) as session:
                return session.request(
                    method,
                    url,
                    headers={**headers, **provider.api_auth_headers(access_token)},
                    data=body or None,
                    stream=True,
                    allow_redirects=False,
                    timeout=aurinko_settings.timeout("DIRECT_TIMEOUT"),
                )
        except requests.Timeout:
            raise ProviderUnavailable(
                f"{provider.id} did not answer in time.", code=Code.PROVIDER_TIMEOUT, status=504
            ) from None
        except requests.RequestException as exc:
            logger.info("direct call for account %s failed: %s", account.pk, type(exc).__name__)
            raise ProviderError(
                f"{provider.id} could not be reached.", code=Code.PROVIDER_UNREACHABLE
            ) from None

    def relay(self, upstream: requests.Response, *, head: bool) -> HttpResponseBase:
        limit = int(aurinko_settings.DIRECT_MAX_RESPONSE_BYTES)
        length = inputs.capped(upstream.headers.get("Content-Length", ""), 2**63)
        if length is not None and length > limit and not head:
            upstream.close()
            raise ResponseTooLarge(f"The provider's response is larger than {limit} bytes.")
        response = StreamingHttpResponse(
            [] if head else _capped(upstream, limit),
            status=upstream.status_code,
            content_type=upstream.headers.get("Content-Type") or "application/octet-stream",
        )
        if head:
            upstream.close()
        for name, value in upstream.headers.items():
            lowered = name.lower()
            if lowered != "content-type" and (
                lowered in RETURNED or lowered.startswith(RETURNED_PREFIXES)
            ):
                response[name] = value
        return response

    get = post = put = patch = delete = head = options = forward


def _capped(upstream: requests.Response, limit: int) -> Iterator[bytes]:
    """The body in chunks, decompressed; past ``limit`` bytes the stream is cut off with an
    error, so the client sees a broken transfer, never a silently truncated body."""
    total = 0
    try:
        for chunk in upstream.iter_content(chunk_size=64 * 1024):
            total += len(chunk)
            if total > limit:
                logger.warning("direct response cut off at %d bytes", limit)
                raise ResponseTooLarge()
            yield chunk
    finally:
        upstream.close()
