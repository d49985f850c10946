"""Sandbox stand-ins for the service-account (daemon) endpoints of Microsoft and Google.

* ``adminconsent/<tenant>/``: Microsoft's admin-consent page, approved at once. It checks the
  client and its registered redirect URI like Microsoft does, then redirects back with
  ``tenant`` (the tenant id; the sandbox's own for ``organizations``), ``admin_consent=True``, ``state`` and ``scope``.
* ``t/<tenant>/token/``: the token endpoint of one tenant (id or verified domain,
  ``tenants.TENANTS``); an unknown tenant is refused (AADSTS90002). ``organizations`` and
  ``common`` take the code grant only (the daemon flow's admin sign-in), never client
  credentials, as at Microsoft; its client authenticates with a secret or with a client
  assertion (checked here, then django-oauth-toolkit redeems the code for that client). Client credentials
  get a Microsoft Graph-like JWT naming the tenant in ``tid`` (``graph_tokens``). A client that authenticates with a client assertion (Microsoft's certificate
  credentials, RFC 7523) is checked here: the certificate named by ``x5t#S256`` or ``x5t``
  must be registered for the client, the signature (PS256 or RS256) must verify with its
  public key, ``aud`` must be this endpoint, ``iss`` = ``sub`` = the client id, ``exp``,
  ``nbf`` and ``jti`` present, the ``jti`` never seen before; then an access token of the
  client is issued. Anything else goes to django-oauth-toolkit's token endpoint (client
  credentials with a secret).
* ``jwt/token/``: Google's token endpoint for the JWT bearer grant (RFC 7523): verifies the
  RS256 signature with the registered public key (``kid``), ``iss``, ``sub`` (a sandbox user
  of the delegated domain), ``aud``, ``scope`` (delegated scopes only), ``iat`` and ``exp``
  (at most one hour), then issues an access token.

Service accounts are registered in the JSON file named by ``SANDBOX_SERVICE_ACCOUNTS_FILE``:
``{client_email: {"keys": {kid: public_pem}, "domain": ..., "scopes": [...]}}``, read on
every request so a test can register one while the server runs. App certificates likewise,
in ``SANDBOX_APP_CERTIFICATES_FILE``: ``{client_id: [certificate_pem, ...]}``.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from django.contrib.auth import get_user_model
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from oauth2_provider.models import get_access_token_model, get_application_model
from oauth2_provider.settings import oauth2_settings
from oauth2_provider.views import TokenView
from oauthlib.common import add_params_to_uri

from project.sandbox.graph_tokens import graph_app_token
from project.sandbox.models import UsedAssertion
from project.sandbox.tenants import SANDBOX_TENANT_ID, tenant_id
from project.sandbox.validators import ASSERTED_CLIENT

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
MAX_ASSERTION_SECONDS = 3600
CLOCK_SKEW = 60


def _consented_tenant(tenant: str) -> str | None:
    """The tenant an admin consents for at ``adminconsent/<tenant>/`` (the admin signs in
    to the sandbox's own tenant for ``organizations``)."""
    return SANDBOX_TENANT_ID if tenant.lower() == "organizations" else tenant_id(tenant)


@require_GET
def admin_consent(request: HttpRequest, tenant: str) -> HttpResponse:
    client_id = request.GET.get("client_id", "")
    redirect_uri = request.GET.get("redirect_uri", "")
    app = get_application_model().objects.filter(client_id=client_id).first()
    if app is None:
        return HttpResponse("AADSTS700016: application not found.", status=400)
    if not redirect_uri or not app.redirect_uri_allowed(redirect_uri):
        return HttpResponse("AADSTS50011: redirect URI mismatch.", status=400)
    consented = _consented_tenant(tenant)
    if consented is None:
        params = [
            ("error", "invalid_request"),
            ("error_description", "AADSTS90002: tenant not found."),
        ]
    else:
        params = [
            ("tenant", consented),
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
    if tenant.lower() in ("organizations", "common"):
        if request.POST.get("grant_type") == "client_credentials":
            return _error(
                "invalid_request",
                "AADSTS90002: client credentials need a tenant-specific endpoint "
                "(the sandbox's stand-in for Microsoft's refusal).",
            )
        if "client_assertion" in request.POST or "client_assertion_type" in request.POST:
            app, refusal = _asserted_client(request)
            if refusal is not None:
                return refusal
            # django-oauth-toolkit redeems the code for the client the assertion proved (a
            # server-side environ key: no client-sent header can set it, see validators.py).
            request.META[ASSERTED_CLIENT] = app.client_id
        return _token_view(request)
    if tenant_id(tenant) is None:
        return JsonResponse(
            {"error": "invalid_request", "error_description": "AADSTS90002: tenant not found."},
            status=400,
        )
    if "client_assertion" in request.POST or "client_assertion_type" in request.POST:
        return _certificate_token(request, tenant_id(tenant) or "")
    return _token_view(request)  # its ACCESS_TOKEN_GENERATOR issues the Graph-like JWT


def _app_certificates(client_id: str) -> list[x509.Certificate]:
    path = os.environ.get("SANDBOX_APP_CERTIFICATES_FILE", "")
    if not path or not Path(path).is_file():
        return []
    pems = json.loads(Path(path).read_text()).get(client_id, [])
    return [x509.load_pem_x509_certificate(pem.encode()) for pem in pems]


def _thumbprint(certificate: x509.Certificate, algorithm: hashes.HashAlgorithm) -> str:
    return base64.urlsafe_b64encode(certificate.fingerprint(algorithm)).rstrip(b"=").decode()


def _certificate_token(request: HttpRequest, tid: str) -> HttpResponse:
    """Client credentials, the client authenticated by a certificate (Microsoft's rules)."""
    if request.POST.get("grant_type") != "client_credentials":
        return _error("unsupported_grant_type", "AADSTS70003: unsupported grant type.")
    app, refusal = _asserted_client(request)
    if refusal is not None:
        return refusal
    seconds = oauth2_settings.ACCESS_TOKEN_EXPIRE_SECONDS
    token = get_access_token_model().objects.create(
        application=app,
        token=graph_app_token(app.client_id, tid, seconds),
        expires=timezone.now() + timedelta(seconds=seconds),
        scope=request.POST.get("scope", ""),
    )
    return JsonResponse(
        {"access_token": token.token, "token_type": "Bearer", "expires_in": seconds}
    )


def _asserted_client(request: HttpRequest) -> tuple[Any, JsonResponse | None]:
    """The client a certificate-signed client assertion authenticates (Microsoft's rules),
    or the refusal to answer."""
    if request.POST.get("client_assertion_type") != CLIENT_ASSERTION_TYPE:
        return None, _error("invalid_request", "AADSTS50027: invalid client_assertion_type.")
    if "client_secret" in request.POST:
        return None, _error(
            "invalid_request", "AADSTS50027: a secret and an assertion were both sent."
        )
    assertion = request.POST.get("client_assertion", "")
    try:
        header = jwt.get_unverified_header(assertion)
        unverified = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None, _error(
            "invalid_client", "AADSTS50027: JWT token is invalid or malformed.", 401
        )
    client_id = request.POST.get("client_id") or str(unverified.get("iss", ""))
    app = get_application_model().objects.filter(client_id=client_id).first()
    if app is None:
        return None, _error("unauthorized_client", "AADSTS700016: application not found.")
    names = {header.get("x5t#S256"), header.get("x5t")} - {None}
    certificate = next(
        (
            candidate
            for candidate in _app_certificates(client_id)
            if names
            & {
                _thumbprint(candidate, hashes.SHA256()),
                _thumbprint(candidate, hashes.SHA1()),  # noqa: S303 (Microsoft's x5t)
            }
        ),
        None,
    )
    if certificate is None:
        return None, _error(
            "invalid_client",
            "AADSTS700027: the certificate used to sign the client assertion is not "
            "registered on the application.",
            401,
        )
    try:
        claims = jwt.decode(
            assertion,
            certificate.public_key(),
            algorithms=["PS256", "RS256"],
            audience=request.build_absolute_uri(request.path),
            issuer=client_id,
            leeway=CLOCK_SKEW,
            options={"require": ["aud", "iss", "sub", "exp", "nbf", "jti"]},
        )
    except jwt.InvalidSignatureError:
        return None, _error(
            "invalid_client", "AADSTS7000274: invalid client assertion signature.", 401
        )
    except jwt.PyJWTError as exc:
        return None, _error(
            "invalid_client", f"AADSTS700024: invalid assertion ({type(exc).__name__}).", 401
        )
    if claims["sub"] != client_id:
        return None, _error("invalid_client", "AADSTS700021: sub is not the client id.", 401)
    try:
        UsedAssertion.objects.create(jti=str(claims["jti"])[:255])
    except IntegrityError:
        return None, _error("invalid_client", "AADSTS700025: the assertion was already used.", 401)
    return app, None


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
