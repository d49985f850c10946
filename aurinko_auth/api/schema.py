"""The OpenAPI 3 schema of the ``/v1`` API (drf-spectacular), served at ``/v1/schema``.

Our views are plain DRF ``APIView``s returning dicts, so the real JSON shapes are described
here with ``inline_serializer`` and attached to the views from this module (the views stay
free of documentation noise). Tests check real responses against this schema.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from drf_spectacular.views import SpectacularAPIView
from rest_framework import serializers as s

from aurinko_auth.api import user_views
from aurinko_auth.api import views as api

ERROR = inline_serializer(
    "Error",
    {
        "code": s.CharField(help_text="Stable machine-readable error code."),
        "message": s.CharField(help_text="Human-readable explanation."),
    },
)
ACCOUNT = inline_serializer(
    "Account",
    {
        "id": s.IntegerField(),
        "serviceType": s.CharField(),
        "type": s.ChoiceField(choices=["primary", "secondary"], allow_null=True),
        "daemon": s.BooleanField(),
        "active": s.BooleanField(),
        "loginString": s.CharField(allow_blank=True),
        "email": s.CharField(allow_blank=True),
        "name": s.CharField(allow_blank=True),
        "serverUrl": s.CharField(allow_null=True),
        "authUserId": s.CharField(),
        "authOrgId": s.CharField(allow_null=True),
        "authObtainedAt": s.DateTimeField(allow_null=True),
        "scopes": s.ListField(child=s.CharField(), help_text="Granted scopes (= grantedScopes)."),
        "requestedScopes": s.ListField(child=s.CharField()),
        "grantedScopes": s.ListField(child=s.CharField()),
        "missingScopes": s.ListField(
            child=s.CharField(), help_text="Required by the app, not granted (docs/scopes.md)."
        ),
        "tokenStatus": s.CharField(),
    },
)
USER = inline_serializer(
    "User",
    {
        "id": s.UUIDField(),
        "appId": s.IntegerField(),
        "email": s.CharField(allow_blank=True),
        "authOrgId": s.CharField(allow_null=True),
        "trustedIdentity": s.BooleanField(),
        "accounts": ACCOUNT.__class__(many=True),
    },
)
SESSION = inline_serializer(
    "Session",
    {
        "id": s.IntegerField(),
        "current": s.BooleanField(),
        "createdAt": s.DateTimeField(),
        "lastUsedAt": s.DateTimeField(),
        "expiresAt": s.DateTimeField(),
        "userAgent": s.CharField(allow_blank=True),
        "ip": s.CharField(allow_null=True),
    },
)
TOKEN = inline_serializer(
    "TokenExchange",
    {
        "accountId": s.IntegerField(),
        "accessToken": s.CharField(),
        "userId": s.UUIDField(required=False),
        "userSession": s.CharField(required=False),
    },
)
ACCOUNT_ID_HEADER = OpenApiParameter(
    "X-Aurinko-AccountId",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="The account, with client credentials or a user session.",
)


def errors(*statuses: int) -> dict[int, Any]:
    return {status: OpenApiResponse(ERROR) for status in statuses}


class _Auth(OpenApiAuthenticationExtension):
    priority = 1


class AccountTokenScheme(_Auth):
    target_class = "aurinko_auth.api.authentication.AccountTokenAuthentication"
    name = "accountToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An account token from POST /v1/auth/token/{code}.",
        }


class ClientCredentialsScheme(_Auth):
    target_class = "aurinko_auth.api.authentication.ClientCredentialsAuthentication"
    name = "clientCredentials"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {"type": "http", "scheme": "basic", "description": "base64(clientId:clientSecret)."}


class UserSessionScheme(_Auth):
    target_class = "aurinko_auth.api.authentication.UserSessionAuthentication"
    name = ["userSessionHeader", "userSessionCookie"]

    def get_security_requirement(self, auto_schema: Any) -> list[dict[str, list[Any]]]:
        return [{"userSessionHeader": []}, {"userSessionCookie": []}]

    def get_security_definition(self, auto_schema: Any) -> list[dict[str, Any]]:
        return [
            {"type": "apiKey", "in": "header", "name": "X-Aurinko-Session"},
            {
                "type": "apiKey",
                "in": "cookie",
                "name": "AUR{appId}",
                "description": "The session cookie; its name ends with the app id.",
            },
        ]


# drf-spectacular's inspector on our views only (projects keep their DEFAULT_SCHEMA_CLASS).
api.AurinkoAPIView.schema = AutoSchema()


def doc(view: type, method: str, **kwargs: Any) -> None:
    """Describe one method of a view (stacked per method on the class, so our AutoSchema
    stays the base whatever the project's DEFAULT_SCHEMA_CLASS)."""
    extend_schema(methods=[method], **kwargs)(view)


doc(
    api.TokenExchangeView,
    "POST",
    summary="Redeem a one-time code for an account token",
    request=None,
    responses={200: TOKEN, **errors(400, 401)},
)
doc(
    api.AccountView,
    "GET",
    summary="The account",
    parameters=[ACCOUNT_ID_HEADER],
    responses={200: ACCOUNT, **errors(400, 401, 404)},
)
doc(
    api.AccountView,
    "DELETE",
    summary="Delete the account (revoking the grant)",
    parameters=[ACCOUNT_ID_HEADER],
    responses={204: None, **errors(400, 401, 404)},
)
doc(
    api.AccountTokenView,
    "DELETE",
    summary="Revoke the provider grant; the account stays, inactive",
    parameters=[ACCOUNT_ID_HEADER],
    request=None,
    responses={
        200: inline_serializer(
            "Revoked", {"revoked": s.BooleanField(), "providerConfirmed": s.BooleanField()}
        ),
        **errors(400, 401, 404),
    },
)
doc(
    api.AmAccountsView,
    "GET",
    summary="The app's accounts",
    parameters=[
        OpenApiParameter("serviceType", str),
        OpenApiParameter("active", bool),
        OpenApiParameter("daemon", bool),
        OpenApiParameter("limit", int),
        OpenApiParameter("offset", int),
    ],
    responses={
        200: inline_serializer(
            "AccountPage",
            {
                "records": ACCOUNT.__class__(many=True),
                "totalSize": s.IntegerField(),
                "offset": s.IntegerField(),
                "limit": s.IntegerField(),
            },
        ),
        **errors(400, 401),
    },
)
doc(
    api.AmAccountView,
    "GET",
    summary="One of the app's accounts",
    responses={200: ACCOUNT, **errors(401, 404)},
)
doc(
    api.AmAccountView,
    "DELETE",
    summary="Delete one of the app's accounts",
    responses={204: None, **errors(401, 404)},
)
doc(
    user_views.UserView,
    "GET",
    summary="The signed-in user and its accounts",
    responses={200: USER, **errors(401)},
)
doc(
    user_views.LogoutView,
    "POST",
    summary="End this session",
    request=None,
    responses={204: None, **errors(401, 403)},
)
doc(
    user_views.UserAccountView,
    "DELETE",
    summary="Unlink a secondary account",
    responses={204: None, **errors(400, 401, 403, 404)},
)
doc(
    user_views.SessionsView,
    "GET",
    summary="The user's active sessions",
    responses={
        200: inline_serializer("SessionList", {"records": SESSION.__class__(many=True)}),
        **errors(401),
    },
)
doc(
    user_views.SessionView,
    "DELETE",
    summary="End one of the user's sessions",
    responses={204: None, **errors(401, 403, 404)},
)

SETTINGS = {
    "TITLE": "aurinko_auth API",
    "DESCRIPTION": "Aurinko-compatible unified OAuth broker: accounts, users, sessions.",
    "VERSION": "1",
    "OAS_VERSION": "3.1.0",
    "PREPROCESSING_HOOKS": ["aurinko_auth.api.schema.only_v1"],
    "COMPONENT_SPLIT_REQUEST": False,
}


def only_v1(endpoints: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """The DRF views of ``/v1`` (the browser redirects of /v1/auth are not JSON APIs)."""
    return [e for e in endpoints if e[0].startswith("/v1/") and e[0] != "/v1/schema"]


class SchemaView(SpectacularAPIView):
    """``GET /v1/schema``: YAML, or JSON with ``?format=json`` / ``Accept: application/json``."""

    custom_settings = SETTINGS
    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []


schema_view = SchemaView.as_view()
