"""A tiny protected API on the sandbox identity provider: what the broker's Direct API
forwards to in the demo and in end-to-end tests. Tokens are checked by django-oauth-toolkit's
own ProtectedResourceView (an expired or revoked token gets its 403/401)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider.views.generic import ProtectedResourceView


class SandboxAPIView(ProtectedResourceView):
    def user_json(self, request: HttpRequest) -> dict[str, Any]:
        user = request.resource_owner
        return {"sub": str(user.pk), "username": user.get_username(),
                "email": user.email or f"{user.get_username()}@example.com"}


class MeView(SandboxAPIView):
    """``GET /sandbox/api/me``: the token's user."""

    def get(self, request: HttpRequest) -> JsonResponse:
        return JsonResponse(self.user_json(request))


@method_decorator(csrf_exempt, name="dispatch")
class EchoView(SandboxAPIView):
    """``ANY /sandbox/api/echo/...``: what arrived (method, path, query, headers, body), or with
    ``?status=N&type=T`` that status and content type."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        valid, oauth_request = self.verify_request(request)
        if not valid:
            return HttpResponse(status=403)
        request.resource_owner = oauth_request.user
        status = int(request.GET.get("status") or 200)
        if request.GET.get("type"):
            return HttpResponse(request.body, status=status, content_type=request.GET["type"])
        if request.GET.get("size"):
            return HttpResponse(b"x" * int(request.GET["size"]), status=status,
                                content_type="application/octet-stream")
        headers = {k: v for k, v in request.headers.items() if k.lower() != "authorization"}
        response = JsonResponse({
            "user": self.user_json(request), "method": request.method, "path": request.path,
            "query": request.META.get("QUERY_STRING", ""), "headers": headers,
            "body": request.body.decode("utf-8", "replace"),
        }, status=status)
        response["Set-Cookie"] = "provider_session=1"  # the broker must not pass this on
        response["X-Request-Id"] = "sandbox-request"
        return response
