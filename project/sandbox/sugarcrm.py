"""SugarCRM's REST API v11 on the sandbox: what the broker's SugarCRM provider talks to when
the instance URL is ``{sandbox}/sandbox``.

* ``POST rest/v11/oauth2/token``: django-oauth-toolkit's token endpoint doing the real
  resource-owner password grant (and the refresh grant) for Sugar's public client ``sugar``.
  Like Sugar it takes a ``platform`` (default ``base``), keeps one session per user and
  platform (a new login ends the previous session on that platform), answers a wrong password
  with ``401 need_login`` and shapes the token response like Sugar's (``scope: null``,
  ``refresh_expires_in``, ``download_token``).
* ``GET rest/v11/me``: the ``OAuth-Token`` header's user in Sugar's response shape.
* ``POST rest/v11/oauth2/logout``: ends the ``OAuth-Token`` session and forgets the
  ``refresh_token`` given in the body.

Bodies are form-encoded (Sugar also takes JSON; the broker sends forms).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from oauth2_provider.models import get_access_token_model, get_refresh_token_model
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.views import TokenView
from oauthlib.common import Request as OAuthRequest

from project.sandbox.models import SugarSession

REFRESH_EXPIRES_IN = 1209600  # Sugar's default: 14 days
_token_view = TokenView.as_view()


def _checksum(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invalid_token() -> JsonResponse:
    """Sugar's answer to a missing, expired or logged-out ``OAuth-Token``."""
    return JsonResponse(
        {"error": "invalid_grant", "error_message": "The access token provided is invalid."},
        status=401,
    )


def _session_token(request: HttpRequest) -> Any:
    """The live access token named by the ``OAuth-Token`` header (checked by
    django-oauth-toolkit's validator), or None."""
    token = request.headers.get("OAuth-Token", "")
    oauth_request = OAuthRequest(request.build_absolute_uri())
    if not token or not OAuth2Validator().validate_bearer_token(token, [], oauth_request):
        return None
    return oauth_request.access_token


def _end_session(access: Any) -> None:
    refresh = get_refresh_token_model().objects.filter(access_token=access).first()
    if refresh is not None:
        refresh.revoke()  # revokes the access token too
    else:
        access.revoke()


@csrf_exempt
@require_POST
def token(request: HttpRequest) -> HttpResponse:
    platform = (request.POST.get("platform") or "base")[:127]
    grant_type = request.POST.get("grant_type", "")
    response = _token_view(request)
    try:
        data = json.loads(response.content)
    except ValueError:
        return response
    if response.status_code != 200:
        if grant_type == "password" and data.get("error") == "invalid_grant":
            return JsonResponse(
                {
                    "error": "need_login",
                    "error_message": "You must specify a valid username and password.",
                },
                status=401,
            )
        data.setdefault("error_message", data.get("error_description", ""))
        return JsonResponse(data, status=response.status_code)
    access = get_access_token_model().objects.get(token_checksum=_checksum(data["access_token"]))
    with transaction.atomic():
        if grant_type == "password":
            earlier = (
                SugarSession.objects.select_related("access_token")
                .filter(platform=platform, access_token__user=access.user)
                .exclude(access_token=access)
            )
            for session in earlier:
                _end_session(session.access_token)
        SugarSession.objects.create(access_token=access, platform=platform)
    return JsonResponse(
        {
            "access_token": data["access_token"],
            "expires_in": data["expires_in"],
            "token_type": "bearer",
            "scope": None,
            "refresh_token": data.get("refresh_token"),
            "refresh_expires_in": REFRESH_EXPIRES_IN,
            "download_token": str(uuid.uuid4()),
        }
    )


def sugar_user_id(user: Any) -> str:
    """Sugar's user ids are UUIDs; the sandbox derives a stable one from the user."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"sandbox-sugar-user-{user.pk}"))


@require_GET
def me(request: HttpRequest) -> HttpResponse:
    access = _session_token(request)
    if access is None:
        return invalid_token()
    user = access.user
    email = user.email or f"{user.get_username()}@example.com"
    return JsonResponse(
        {
            "current_user": {
                "type": "user",
                "id": sugar_user_id(user),
                "user_name": user.get_username(),
                "full_name": user.get_full_name() or user.get_username(),
                "email": [
                    {
                        "email_address": email,
                        "primary_address": True,
                        "opt_out": False,
                        "invalid_email": False,
                    }
                ],
                "is_manager": False,
            }
        }
    )


@csrf_exempt
@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    access = _session_token(request)
    if access is None:
        return invalid_token()
    given = request.POST.get("refresh_token", "")
    if given:
        refresh = (
            get_refresh_token_model()
            .objects.filter(token_checksum=_checksum(given), revoked__isnull=True, user=access.user)
            .first()
        )
        if refresh is not None:
            refresh.revoke()
    access = get_access_token_model().objects.filter(pk=access.pk).first()
    if access is not None:
        access.revoke()
    return JsonResponse({"success": True})
