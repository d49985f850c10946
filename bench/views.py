from django.http import HttpRequest, JsonResponse
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
