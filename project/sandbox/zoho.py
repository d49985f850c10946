"""Zoho Accounts on the sandbox, one accounts server per data centre under
``zoho/<accounts host>/`` (``zoho/accounts.zoho.eu/oauth/v2/auth`` ...), in front of
django-oauth-toolkit. The shims are Zoho's quirks, nothing more:

* authorize: Zoho's scopes are comma-separated; DOT reads space-separated ones, so commas
  become spaces before DOT sees the request. The redirect back carries Zoho's ``location``
  and ``accounts-server`` parameters naming the data centre that signed the user in (the one
  in the path).
* token: codes and refresh tokens are good only at the data centre that issued them (else
  ``invalid_code``, as at Zoho); the response names the data centre's API host
  (``api_domain``).
* user info: ``/oauth/user/info`` in Zoho's shape, for any valid access token (no ``openid``
  scope needed, unlike DOT's OIDC userinfo).
* revoke: DOT's RFC 7009 endpoint.
"""

from __future__ import annotations

import hashlib
import json
from urllib.parse import parse_qs, urlsplit

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.views import AuthorizationView, RevokeTokenView, TokenView
from oauthlib.common import Request as OAuthRequest
from oauthlib.common import add_params_to_uri

from project.sandbox.models import ZohoToken

# Accounts host -> (the callback's ``location``, the data centre's API domain).
DATA_CENTRES = {
    "accounts.zoho.com": ("us", "https://www.zohoapis.com"),
    "accounts.zoho.eu": ("eu", "https://www.zohoapis.eu"),
    "accounts.zoho.in": ("in", "https://www.zohoapis.in"),
    "accounts.zoho.com.au": ("au", "https://www.zohoapis.com.au"),
    "accounts.zoho.jp": ("jp", "https://www.zohoapis.jp"),
    "accounts.zohocloud.ca": ("ca", "https://www.zohoapis.ca"),
}
_authorize = AuthorizationView.as_view()
_token = TokenView.as_view()
_revoke = RevokeTokenView.as_view()


def _data_centre(host: str) -> tuple[str, str]:
    if host not in DATA_CENTRES:
        raise Http404("No such Zoho data centre.")
    return DATA_CENTRES[host]


def _checksum(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def authorize(request: HttpRequest, host: str) -> HttpResponse:
    location, _ = _data_centre(host)
    if "scope" in request.GET:
        query = request.GET.copy()
        query["scope"] = " ".join(s.strip() for s in query["scope"].split(",") if s.strip())
        request.GET = query
        request.META["QUERY_STRING"] = query.urlencode()
    response = _authorize(request)
    redirect_uri = request.GET.get("redirect_uri", "")
    target = response.get("Location", "")
    if response.status_code == 302 and redirect_uri and target.startswith(redirect_uri):
        code = parse_qs(urlsplit(target).query).get("code", [""])[0]
        if code:
            ZohoToken.objects.create(checksum=_checksum(code), accounts_host=host)
        response["Location"] = add_params_to_uri(
            target, [("location", location), ("accounts-server", f"https://{host}")]
        )
    return response


@csrf_exempt
@require_POST
def token(request: HttpRequest, host: str) -> HttpResponse:
    _, api_domain = _data_centre(host)
    grant = request.POST.get("grant_type", "")
    presented = request.POST.get("code" if grant == "authorization_code" else "refresh_token", "")
    issued = ZohoToken.objects.filter(checksum=_checksum(presented)).first() if presented else None
    if issued is not None and issued.accounts_host != host:
        # Zoho answers HTTP 200 with an error member.
        return JsonResponse({"error": "invalid_code"})
    response = _token(request)
    if response.status_code != 200:
        return response
    data = json.loads(response.content)
    if data.get("refresh_token"):
        ZohoToken.objects.create(checksum=_checksum(data["refresh_token"]), accounts_host=host)
    data["api_domain"] = api_domain
    return JsonResponse(data)


@require_GET
def user_info(request: HttpRequest, host: str) -> HttpResponse:
    _data_centre(host)
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    oauth_request = OAuthRequest(request.build_absolute_uri())
    if (
        scheme.lower() not in ("bearer", "zoho-oauthtoken")
        or not token
        or not OAuth2Validator().validate_bearer_token(token, [], oauth_request)
    ):
        return JsonResponse({"error": "invalid_oauthtoken"}, status=401)
    user = oauth_request.access_token.user
    email = user.email or f"{user.get_username()}@example.com"
    return JsonResponse(
        {
            "First_Name": user.first_name,
            "Last_Name": user.last_name,
            "Email": email,
            "Display_Name": user.get_full_name() or user.get_username(),
            "ZUID": 20000000000 + user.pk,
        }
    )


@csrf_exempt
@require_POST
def revoke(request: HttpRequest, host: str) -> HttpResponse:
    _data_centre(host)
    return _revoke(request)
