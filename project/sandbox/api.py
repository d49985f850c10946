"""A tiny protected API on the sandbox identity provider: what the broker's Direct API
forwards to in the demo and in end-to-end tests. Tokens are checked by django-oauth-toolkit's
ProtectedResourceView; a dead token gets 401 with WWW-Authenticate, as at Google and Graph."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider.views.generic import ProtectedResourceView


def invalid_token() -> HttpResponse:
    """What Google and Microsoft Graph answer to a dead token (RFC 6750 §3.1)."""
    response = JsonResponse(
        {
            "error": {
                "code": "InvalidAuthenticationToken",
                "message": "Access token is invalid or expired.",
            }
        },
        status=401,
    )
    response["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    return response


class SandboxAPIView(ProtectedResourceView):
    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # DOT's own check of the token; its plain 403 becomes the providers' 401.
        valid, oauth_request = self.verify_request(request)
        if not valid:
            return invalid_token()
        request.resource_owner = oauth_request.user
        request.resource_client = oauth_request.client
        return self.handle(request, *args, **kwargs)

    def handle(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return View.dispatch(self, request, *args, **kwargs)  # the method handler

    def user_json(self, request: HttpRequest) -> dict[str, Any]:
        user = request.resource_owner
        if user is None:  # an app-only token (client credentials): the app, no user
            return {"sub": None, "appId": request.resource_client.client_id}
        return {
            "sub": str(user.pk),
            "username": user.get_username(),
            "email": user.email or f"{user.get_username()}@example.com",
        }


class MeView(SandboxAPIView):
    """``GET /sandbox/api/me``: the token's user."""

    def get(self, request: HttpRequest) -> JsonResponse:
        return JsonResponse(self.user_json(request))


@method_decorator(csrf_exempt, name="dispatch")
class EchoView(SandboxAPIView):
    """``ANY /sandbox/api/echo/...``: what arrived (method, path, query, headers, body), or with
    ``?status=N&type=T`` that status and content type."""

    def handle(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        status = int(request.GET.get("status") or 200)
        if request.GET.get("type"):
            return HttpResponse(request.body, status=status, content_type=request.GET["type"])
        if request.GET.get("size"):
            return HttpResponse(
                b"x" * int(request.GET["size"]),
                status=status,
                content_type="application/octet-stream",
            )
        headers = {k: v for k, v in request.headers.items() if k.lower() != "authorization"}
        response = JsonResponse(
            {
                "user": self.user_json(request),
                "method": request.method,
                "path": request.path,
                "query": request.META.get("QUERY_STRING", ""),
                "headers": headers,
                "body": request.body.decode("utf-8", "replace"),
            },
            status=status,
        )
        response["Set-Cookie"] = "provider_session=1"  # the broker must not pass this on
        response["X-Request-Id"] = "sandbox-request"
        return response


SANDBOX_HUB_ID = 62515


@csrf_exempt
def hubspot_token_info(request: HttpRequest, token: str) -> HttpResponse:
    """HubSpot's token-information endpoint (``GET /oauth/v1/access-tokens/{token}``): the
    token in the path is checked by django-oauth-toolkit's own validator."""
    from oauth2_provider.oauth2_validators import OAuth2Validator
    from oauthlib.common import Request as OAuthRequest

    oauth_request = OAuthRequest(request.build_absolute_uri())
    if not OAuth2Validator().validate_bearer_token(token, [], oauth_request):
        return JsonResponse(
            {
                "status": "error",
                "message": "The access token is invalid.",
                "category": "EXPIRED_AUTHENTICATION",
            },
            status=401,
        )
    access = oauth_request.access_token
    user = access.user
    return JsonResponse(
        {
            "user": user.email or f"{user.get_username()}@example.com",
            "hub_domain": "sandbox.hubspot.example",
            "scopes": access.scope.split(),
            "hub_id": SANDBOX_HUB_ID,
            "app_id": access.application_id,
            "expires_in": max(0, int((access.expires - access.created).total_seconds())),
            "user_id": user.pk,
            "token_type": "access",
        }
    )
