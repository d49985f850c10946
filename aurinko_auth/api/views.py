"""The server-side API (``/v1/...``). Thin: authenticate, call a plain function, render JSON.

Every payload is a serializer of :mod:`aurinko_auth.api.serializers`; the OpenAPI schema
(``/v1/schema``) is generated from them and the ``extend_schema`` of each method here."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.metadata import SimpleMetadata
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import FormParser, JSONParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from aurinko_auth import accounts, audit
from aurinko_auth.api.authentication import (
    AccountTokenAuthentication,
    ClientCredentialsAuthentication,
    PublicClientAuthentication,
    UserSessionAuthentication,
)
from aurinko_auth.api.cors import CorsMixin
from aurinko_auth.api.errors import exception_handler
from aurinko_auth.api.import_serializers import (
    AccountImportQuery,
    AccountImportSerializer,
    AccountSaveResultSerializer,
    OkSerializer,
    PreparedAuthSerializer,
)
from aurinko_auth.api.serializers import (
    AccountListQuery,
    AccountPageSerializer,
    AccountSerializer,
    ErrorSerializer,
    RevokedSerializer,
    TokenExchangeSerializer,
    account_json,
    parse_id,
)
from aurinko_auth.errorcodes import Code
from aurinko_auth.exceptions import InvalidRequest, NotFound
from aurinko_auth.flows import codes, imports
from aurinko_auth.hotpath.auth import Principal
from aurinko_auth.identity import prepared
from aurinko_auth.identity import principals as identity_principals
from aurinko_auth.lifecycle import daemon_tokens
from aurinko_auth.models import Account
from aurinko_auth.security import origins

ACCOUNT_ID_HEADERS = ("HTTP_X_AURINKO_ACCOUNTID", "HTTP_X_AURINKO_ACCOUNT_ID")
ACCOUNT_ID_HEADER = OpenApiParameter(
    "X-Aurinko-AccountId",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="The account, with client credentials or a user session.",
)
F = TypeVar("F", bound=Callable[..., Any])
# The API's one renderer: every view and the lean GET /v1/account render with it.
JSON = JSONRenderer()


def document(**kwargs: Any) -> Callable[[F], F]:
    """``extend_schema`` for a view method, based on drf-spectacular's AutoSchema whatever
    the project's ``DEFAULT_SCHEMA_CLASS`` (projects keep theirs for their own views)."""

    def decorate(method: F) -> F:
        method.kwargs = {"schema": AutoSchema}  # type: ignore[attr-defined]
        return extend_schema(**kwargs)(method)

    return decorate


def errors(*statuses: int) -> dict[int, Any]:
    return {status: OpenApiResponse(ErrorSerializer) for status in statuses}


class AurinkoAPIView(CorsMixin, APIView):
    """Every DRF policy is pinned here, so that a host project's ``REST_FRAMEWORK`` defaults
    (throttles, authentication, permissions, renderers, versioning...) are for its own views
    and never reach ours."""

    renderer_classes = [JSONRenderer]
    parser_classes = [JSONParser, FormParser]
    permission_classes = [IsAuthenticated]
    authentication_classes = [
        AccountTokenAuthentication,
        ClientCredentialsAuthentication,
        UserSessionAuthentication,
    ]
    # Rate limits are ours (security/ratelimit.py); the host's throttles would key on
    # request.user.pk, which a Principal has not.
    throttle_classes: list[Any] = []
    versioning_class = None
    content_negotiation_class = DefaultContentNegotiation
    metadata_class = SimpleMetadata
    pagination_class = None
    # drf-spectacular's inspector on our views only (projects keep their DEFAULT_SCHEMA_CLASS).
    schema = AutoSchema()

    def get_exception_handler(self) -> Any:
        return exception_handler

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        # The API speaks JSON only, whatever Accept says; skipping DRF's negotiation is the
        # largest saving on the hot paths (see bench/).
        return JSON, JSON.media_type

    @property
    def principal(self) -> Principal:
        return self.request.user  # type: ignore[return-value]

    def selected_account(self, request: Request) -> Account:
        """The account a call is about: the account token's own, else ``X-Aurinko-AccountId``
        among the app's accounts, or the signed-in user's for a session (404 when it is not one
        of them). ``X-Aurinko-Mailbox`` (daemon accounts) is validated here too."""
        account = self._selected_account(request)
        # A daemon account acts for one mailbox per call; a bad mailbox is a 400 here, before
        # anything reaches the provider. Views read it from request.aurinko_mailbox.
        request.aurinko_mailbox = daemon_tokens.requested_mailbox(account, request.META)
        return account

    def _selected_account(self, request: Request) -> Account:
        principal = self.principal
        raw = next((request.META[h] for h in ACCOUNT_ID_HEADERS if request.META.get(h)), None)
        if principal.account is not None:
            if raw is not None and parse_id(raw) != principal.account.pk:
                raise NotFound("No such account for this token.")
            return principal.account
        if raw is None:
            raise InvalidRequest(
                "Send an account token, or X-Aurinko-AccountId with the "
                "app's credentials or a user session.",
                code=Code.ACCOUNT_MISSING,
            )
        return self.app_account(raw)

    def app_account(self, raw: str | int) -> Account:
        account_id = parse_id(str(raw))
        if account_id is None:
            raise NotFound("No such account.")
        qs = Account.objects.filter(app=self.principal.app, pk=account_id)
        if self.principal.via == "session":
            qs = qs.filter(user=self.principal.user)
        account = qs.first()
        if account is None:
            raise NotFound("No such account.")
        account.app = self.principal.app
        return account


class ClientOnlyView(AurinkoAPIView):
    """Server-to-server calls with the client secret: no CORS, so browsers can't be used."""

    authentication_classes = [ClientCredentialsAuthentication]
    cors_enabled = False


def ok() -> Response:
    """Aurinko's ``OkResponse``: what logout and deletions answer (200, a body a client
    calling ``res.json()`` can read; they answered 204 before)."""
    return Response(OkSerializer({"status": "Ok"}).data)


class TokenExchangeView(ClientOnlyView):
    """``POST /v1/auth/token/{code}``: the app redeems a one-time code with its client
    secret, or a public client with its ``clientId`` and PKCE ``code_verifier`` (query, form
    or JSON body). CORS for the return-URL origins of public clients only, without
    credentials (docs/add-ins.md "Public clients (PKCE)")."""

    authentication_classes = [ClientCredentialsAuthentication, PublicClientAuthentication]
    cors_enabled = True
    cors_credentials = False

    def cors_allowed(self, origin: str | None) -> bool:
        return origins.is_public_client_origin(origin)

    @document(
        summary="Redeem a one-time code for an account token",
        request=None,
        parameters=[
            OpenApiParameter("code_verifier", str, required=False, description="PKCE"),
            OpenApiParameter("clientId", str, required=False, description="Public clients"),
        ],
        responses={200: TokenExchangeSerializer, **errors(400, 401)},
    )
    def post(self, request: Request, code: str) -> Response:
        verifier = request.query_params.get("code_verifier")
        if verifier is None and hasattr(request.data, "get"):
            verifier = request.data.get("code_verifier")
        result = codes.redeem(
            self.principal.app,
            code,
            verifier if isinstance(verifier, str) else None,
            secret_checked=self.principal.via == "client",
        )
        return Response(TokenExchangeSerializer(result).data)

    @document(
        summary="Redeem a one-time code (deprecated: use POST)",
        request=None,
        responses={200: TokenExchangeSerializer, **errors(400, 401)},
        deprecated=True,
    )
    def get(self, request: Request, code: str) -> Response:
        """Seed 002 and Aurinko's OpenAPI (``exchangeAuthCodeDeprecated``) redeem with a GET:
        the same credentials, the same single use, never stored (``no-store``)."""
        return self.post(request, code)


class PrepareAuthView(AurinkoAPIView):
    """``POST /v1/auth/prepare``: authenticated by the host identity token itself
    (``X-Aurinko-AuthType``, ``Authorization: Bearer``, ``X-Aurinko-ClientId``), or by a
    signed-in user's session (``X-Aurinko-Session``, or the session cookie from one of the
    app's origins): then the token links a secondary account to that user."""

    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []

    @document(
        summary="Prepare a sign-in bound to a host identity token or to the signed-in user",
        request=None,
        responses={200: PreparedAuthSerializer, **errors(401, 403, 503)},
    )
    def post(self, request: Request) -> Response:
        if identity_principals.has_identity_headers(request.META):
            token = prepared.prepare(request.META)
        else:
            principal = UserSessionAuthentication.principal(request)
            token = (
                prepared.prepare_for_user(principal.user)
                if principal is not None
                else prepared.prepare(request.META)  # says what to send
            )
        return Response(PreparedAuthSerializer({"token": token}).data)


class AccountView(AurinkoAPIView):
    """``GET /v1/account`` and ``DELETE /v1/account``."""

    @document(
        summary="The account",
        parameters=[ACCOUNT_ID_HEADER],
        responses={200: AccountSerializer, **errors(400, 401, 404)},
    )
    def get(self, request: Request) -> Response:
        return Response(account_json(self.selected_account(request)))

    @document(
        summary="Delete the account (revoking the grant)",
        parameters=[ACCOUNT_ID_HEADER],
        responses={200: OkSerializer, **errors(400, 401, 404)},
    )
    def delete(self, request: Request) -> Response:
        account = self.selected_account(request)
        if self.principal.via == "session" and account.account_type == Account.Type.PRIMARY:
            raise InvalidRequest(
                "The primary account is the user's sign-in identity; it "
                "cannot be deleted with a session.",
                code=Code.ACCOUNT_PRIMARY,
            )
        accounts.delete_account(account)
        return ok()


class AccountTokenView(AurinkoAPIView):
    """``DELETE /v1/account/token``: revoke the provider grant; the account stays, inactive."""

    @document(
        summary="Revoke the provider grant; the account stays, inactive",
        parameters=[ACCOUNT_ID_HEADER],
        request=None,
        responses={200: RevokedSerializer, **errors(400, 401, 404)},
    )
    def delete(self, request: Request) -> Response:
        account = self.selected_account(request)
        confirmed = accounts.revoke_grant(account)
        return Response(RevokedSerializer({"revoked": True, "providerConfirmed": confirmed}).data)


def account_import(request: Request) -> imports.AccountImport:
    """The body of an import (``ApiAccountInDto``), validated."""
    body = AccountImportSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    return body.account_import()


class AmAccountsView(ClientOnlyView):
    """``GET /v1/am/accounts``: the app's accounts, paginated (``limit``, ``offset``) and
    filtered (``serviceType``, ``authOrgId``, ``clientOrgId``, ``active``, ``daemon``);
    ``POST``: import one."""

    @document(
        summary="The app's accounts",
        operation_id="am_accounts_list",
        parameters=[AccountListQuery],
        responses={200: AccountPageSerializer, **errors(400, 401)},
    )
    def get(self, request: Request) -> Response:
        query = AccountListQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        page = accounts.account_page(self.principal.app, query.validated_data)
        return Response(AccountPageSerializer(page).data)

    @document(
        summary="Import (upsert) an account with provider tokens or password credentials",
        operation_id="am_accounts_import",
        parameters=[AccountImportQuery],
        request=AccountImportSerializer,
        responses={200: AccountSaveResultSerializer, **errors(400, 401, 404, 409, 429, 502, 503)},
    )
    def post(self, request: Request) -> Response:
        query = AccountImportQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        verify = query.validated_data.get("pingProvider")
        data = account_import(request)
        app = self.principal.app
        checked = imports.check(
            app,
            data,
            verify=verify is not False,
            ensure_access=bool(query.validated_data.get("ensureAccess")),
            ip=audit.client_ip(request),
        )
        saved = imports.save(app, data, checked)
        result = {"accountId": saved.account.pk, "accessToken": saved.access_token}
        return Response(AccountSaveResultSerializer(result).data)


class AmAccountConnectView(ClientOnlyView):
    """``POST /v1/am/accounts/connect``: the checks of an import, nothing saved."""

    @document(
        summary="Check an account's credentials at the provider without saving",
        request=AccountImportSerializer,
        responses={200: OkSerializer, **errors(400, 401, 404, 429, 502, 503)},
    )
    def post(self, request: Request) -> Response:
        if request.query_params:
            name = next(iter(request.query_params))[:64]
            raise InvalidRequest(f"Unknown parameter {name!r}: this endpoint takes none.")
        imports.check(self.principal.app, account_import(request), ip=audit.client_ip(request))
        return ok()


class AmAccountView(ClientOnlyView):
    """``GET/DELETE /v1/am/accounts/{id}``."""

    @document(
        summary="One of the app's accounts", responses={200: AccountSerializer, **errors(401, 404)}
    )
    def get(self, request: Request, account_id: str) -> Response:
        return Response(account_json(self.app_account(account_id)))

    @document(
        summary="Delete one of the app's accounts",
        responses={200: OkSerializer, **errors(401, 404)},
    )
    def delete(self, request: Request, account_id: str) -> Response:
        accounts.delete_account(self.app_account(account_id))
        return ok()
