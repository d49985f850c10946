import os

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider.views.generic import ProtectedResourceView


def bare(request: HttpRequest) -> JsonResponse:
    """The ceiling: a Django JSON view with no authentication and no query."""
    return JsonResponse(
        {
            "id": 1,
            "serviceType": "Google",
            "email": "bench@example.com",
            "active": True,
            "tokenStatus": "active",
        }
    )


class DotResource(ProtectedResourceView):
    """The usual alternative: a resource protected by django-oauth-toolkit's token check."""

    def get(self, request: HttpRequest) -> JsonResponse:
        user = request.resource_owner
        return JsonResponse(
            {"id": user.pk, "username": user.get_username(), "email": user.email, "active": True}
        )


@csrf_exempt
def revoke(request: HttpRequest) -> HttpResponse:
    """``POST /bench/revoke?i=N``: delete bench token N through the ORM, as a revocation in the
    admin or an API would (signals announce it once the delete commits)."""
    from aurinko_auth import crypto
    from aurinko_auth.models import AccountToken
    from bench.seed import bench_token

    i = int(request.GET["i"])
    deleted, _ = AccountToken.objects.filter(token_hash=crypto.hash_token(bench_token(i))).delete()
    return HttpResponse(status=204 if deleted else 404)


def worker_header(get_response):  # noqa: ANN001, ANN201
    """Bench middleware of the revocation run only: which worker answered."""
    pid = str(os.getpid())

    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        response["X-Bench-Worker"] = pid
        return response

    return middleware
