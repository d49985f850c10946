"""Sandbox stand-ins for the service-account (daemon) endpoints of Microsoft and Google.

* ``adminconsent/<tenant>/``: Microsoft's admin-consent page, approved at once. It checks the
  client and its registered redirect URI like Microsoft does, then redirects back with
  ``tenant``, ``admin_consent=True``, ``state`` and ``scope``.
* ``t/<tenant>/token/``: the token endpoint of one tenant; an unknown tenant is refused
  (AADSTS90002), anything else goes to django-oauth-toolkit's token endpoint (client
  credentials).
* ``jwt/token/``: Google's token endpoint for the JWT bearer grant (RFC 7523): verifies the
  RS256 signature with the registered public key (``kid``), ``iss``, ``sub`` (a sandbox user
  of the delegated domain), ``aud``, ``scope`` (delegated scopes only), ``iat`` and ``exp``
  (at most one hour), then issues an access token.

Service accounts are registered in the JSON file named by ``SANDBOX_SERVICE_ACCOUNTS_FILE``:
``{client_email: {"keys": {kid: public_pem}, "domain": ..., "scopes": [...]}}``, read on
every request so a test can register one while the server runs.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any

import jwt
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from oauth2_provider.models import get_application_model
from oauth2_provider.views import TokenView
from oauthlib.common import add_params_to_uri

from project.sandbox.validators import SANDBOX_TENANT_ID

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
MAX_ASSERTION_SECONDS = 3600
CLOCK_SKEW = 60


def _tenant_known(tenant: str) -> bool:
    return tenant.lower() in (SANDBOX_TENANT_ID, "organizations", "example.com")


@require_GET
def admin_consent(request: HttpRequest, tenant: str) -> HttpResponse:
    client_id = request.GET.get("client_id", "")
    redirect_uri = request.GET.get("redirect_uri", "")
    app = get_application_model().objects.filter(client_id=client_id).first()
    if app is None:
        return HttpResponse("AADSTS700016: application not found.", status=400)
    if not redirect_uri or not app.redirect_uri_allowed(redirect_uri):
        return HttpResponse("AADSTS50011: redirect URI mismatch.", status=400)
    if not _tenant_known(tenant) or tenant.lower() in ("common", "consumers"):
        params = [
            ("error", "invalid_request"),
            ("error_description", "AADSTS90002: tenant not found."),
        ]
    else:
        params = [
            ("tenant", SANDBOX_TENANT_ID),
            ("admin_consent", "True"),
            ("scope", request.GET.get("scope", "")),
        ]
    if "state" in request.GET:
        params.append(("state", request.GET["state"]))
    return HttpResponseRedirect(add_params_to_uri(redirect_uri, params))


_token_view = TokenView.as_view()


@csrf_exempt
@require_POST
def tenant_token(request: HttpRequest, tenant: str) -> HttpResponse:
    if tenant.lower() != SANDBOX_TENANT_ID:
        return JsonResponse(
            {"error": "invalid_request", "error_description": "AADSTS90002: tenant not found."},
            status=400,
        )
    return _token_view(request)


def _registry() -> dict[str, Any]:
    path = os.environ.get("SANDBOX_SERVICE_ACCOUNTS_FILE", "")
    if not path or not Path(path).is_file():
        return {}
    return json.loads(Path(path).read_text())


def _error(error: str, description: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": error, "error_description": description}, status=status)


@csrf_exempt
@require_POST
def jwt_token(request: HttpRequest) -> HttpResponse:
    if request.POST.get("grant_type") != JWT_BEARER:
        return _error("unsupported_grant_type", "Invalid grant_type.")
    assertion = request.POST.get("assertion", "")
    try:
        header = jwt.get_unverified_header(assertion)
        unverified = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.PyJWTError:
        return _error("invalid_grant", "Invalid JWT.")
    account = _registry().get(str(unverified.get("iss", "")))
    if account is None:
        return _error("invalid_grant", "Invalid issuer: unknown service account.")
    keys = account["keys"]
    public_pem = keys.get(header.get("kid", "")) if header.get("kid") else None
    if public_pem is None:
        return _error("invalid_grant", "Invalid JWT Signature.")
    audience = request.build_absolute_uri(request.path)
    try:
        claims = jwt.decode(
            assertion,
            public_pem,
            algorithms=["RS256"],
            audience=audience,
            issuer=unverified["iss"],
            leeway=CLOCK_SKEW,
            options={"require": ["iss", "sub", "aud", "iat", "exp", "scope"]},
        )
    except jwt.InvalidSignatureError:
        return _error("invalid_grant", "Invalid JWT Signature.")
    except jwt.PyJWTError as exc:
        return _error("invalid_grant", f"Invalid JWT: {type(exc).__name__}.")
    if claims["exp"] - claims["iat"] > MAX_ASSERTION_SECONDS:
        return _error(
            "invalid_grant",
            "Invalid JWT: Token must be a short-lived token "
            "(60 minutes) and in a reasonable timeframe.",
        )
    subject = str(claims["sub"])
    if (
        subject.rpartition("@")[2].lower() != account["domain"].lower()
        or not get_user_model().objects.filter(email__iexact=subject).exists()
    ):
        return _error("invalid_grant", "Invalid email or User ID")
    scopes = str(claims["scope"]).split()
    if not scopes or not set(scopes) <= set(account["scopes"]):
        return _error(
            "unauthorized_client",
            "Client is unauthorized to retrieve access "
            "tokens using this method, or client not authorized for any of the "
            "scopes requested.",
        )
    return JsonResponse(
        {
            "access_token": "ya29.sandbox-" + secrets.token_urlsafe(24),
            "token_type": "Bearer",
            "expires_in": 3599,
        }
    )
