"""The OpenAPI 3 schema of the ``/v1`` API (drf-spectacular), served at ``/v1/schema``.

Generated from the views (``extend_schema`` on each method) and the payload serializers of
:mod:`aurinko_auth.api.serializers`; this module adds the authentication schemes and the
generator's settings. Tests check real responses against this schema.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.views import SpectacularAPIView
from rest_framework.metadata import SimpleMetadata
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from aurinko_auth.api.errors import exception_handler


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


class PublicClientScheme(_Auth):
    target_class = "aurinko_auth.api.authentication.PublicClientAuthentication"
    name = "publicClient"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "X-Aurinko-ClientId",
            "description": "A public client's clientId alone (or clientId in the query or "
            "body), with code_verifier (PKCE).",
        }


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


SETTINGS = {
    "TITLE": "aurinko_auth API",
    "DESCRIPTION": "Aurinko-compatible unified OAuth broker: accounts, users, sessions.",
    "VERSION": "1",
    "OAS_VERSION": "3.1.0",
    "PREPROCESSING_HOOKS": ["aurinko_auth.api.schema.only_v1"],
    "COMPONENT_SPLIT_REQUEST": False,
    # One name for the user-account role (``type`` and ``userAccountType``): Aurinko's.
    "ENUM_NAME_OVERRIDES": {
        "UserAccountType": ["primary", "secondary"],
        "AccountType": "aurinko_auth.api.fields.ACCOUNT_KINDS",
    },
}


def only_v1(endpoints: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """The DRF views of ``/v1`` (the browser redirects of /v1/auth are not JSON APIs)."""
    return [e for e in endpoints if e[0].startswith("/v1/") and e[0] != "/v1/schema"]


class SchemaView(SpectacularAPIView):
    """``GET /v1/schema``: YAML, or JSON with ``?format=json`` / ``Accept: application/json``."""

    custom_settings = SETTINGS
    # Pinned like AurinkoAPIView's: the host's REST_FRAMEWORK defaults are not ours.
    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []
    throttle_classes: list[Any] = []
    parser_classes: list[Any] = []
    versioning_class = None
    content_negotiation_class = DefaultContentNegotiation
    metadata_class = SimpleMetadata

    def get_exception_handler(self) -> Any:
        return exception_handler

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        # Errors are JSON like every API error, also when Accept asked for YAML or for
        # something we cannot serve (DRF would render a 406 with the first renderer: YAML).
        if isinstance(response, Response) and response.exception:
            request.accepted_renderer, request.accepted_media_type = (
                JSONRenderer(),
                "application/json",
            )
        return super().finalize_response(request, response, *args, **kwargs)


schema_view = SchemaView.as_view()
