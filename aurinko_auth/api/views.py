"""The server-side API (``/v1/...``). Thin: authenticate, call a plain function, render JSON."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from rest_framework import exceptions as drf_exceptions
from rest_framework.parsers import FormParser, JSONParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from aurinko_auth import accounts
from aurinko_auth.api.authentication import (
    AccountTokenAuthentication,
    ClientCredentialsAuthentication,
    UserSessionAuthentication,
)
from aurinko_auth.api.cors import CorsMixin
from aurinko_auth.api.serializers import account_json
from aurinko_auth.errorcodes import Code
from aurinko_auth.exceptions import AurinkoError, InvalidRequest, NotFound
from aurinko_auth.flows import codes
from aurinko_auth.hotpath.auth import Principal
from aurinko_auth.lifecycle import daemon_tokens
from aurinko_auth.models import Account
from aurinko_auth.providers.registry import canonical_service_type

ACCOUNT_ID_HEADERS = ("HTTP_X_AURINKO_ACCOUNTID", "HTTP_X_AURINKO_ACCOUNT_ID")


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Every API error is JSON ``{"code", "message"}``."""
    headers: dict[str, str] = {}
    if isinstance(exc, AurinkoError):
        body, status = exc.as_dict(), exc.status
    elif isinstance(exc, Http404):
        body, status = {"code": "not_found", "message": "Not found."}, 404
    elif isinstance(exc, drf_exceptions.APIException):
        status = exc.status_code
        code = exc.default_code
        if isinstance(exc, drf_exceptions.NotAuthenticated):
            code = Code.AUTH_REQUIRED
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.default_detail)
        body = {"code": str(code), "message": str(detail)}
        if isinstance(exc, drf_exceptions.Throttled) and exc.wait:
            headers["Retry-After"] = str(int(exc.wait))
    else:
        return None
    retry_after = getattr(exc, "retry_after", None)
    if retry_after is not None and "Retry-After" not in headers:
        headers["Retry-After"] = str(int(retry_after))
    if status == 401:
        view = context.get("view")
        request = context.get("request")
        if view is not None and request is not None:
            header = view.get_authenticate_header(request)
            if header:
                headers["WWW-Authenticate"] = header
    return Response(body, status=status, headers=headers)


class AurinkoAPIView(CorsMixin, APIView):
    renderer_classes = [JSONRenderer]
    parser_classes = [JSONParser, FormParser]
    permission_classes = [IsAuthenticated]
    authentication_classes = [
        AccountTokenAuthentication,
        ClientCredentialsAuthentication,
        UserSessionAuthentication,
    ]

    _json = JSONRenderer()

    def get_exception_handler(self) -> Any:
        return exception_handler

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        # The API speaks JSON only, whatever Accept says; skipping DRF's negotiation is the
        # largest saving on the hot paths (see bench/).
        return self._json, self._json.media_type

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
            if raw is not None and raw.strip() != str(principal.account.pk):
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
        raw = str(raw).strip()
        if not raw.isdigit() or len(raw) > 18:
            raise NotFound("No such account.")
        qs = Account.objects.filter(app=self.principal.app, pk=int(raw))
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


class TokenExchangeView(ClientOnlyView):
    """``POST /v1/auth/token/{code}``: the app redeems a one-time code."""

    def post(self, request: Request, code: str) -> Response:
        return Response(codes.redeem(self.principal.app, code))


class AccountView(AurinkoAPIView):
    """``GET /v1/account`` and ``DELETE /v1/account``."""

    def get(self, request: Request) -> Response:
        return Response(account_json(self.selected_account(request)))

    def delete(self, request: Request) -> Response:
        account = self.selected_account(request)
        if self.principal.via == "session" and account.account_type == Account.Type.PRIMARY:
            raise InvalidRequest(
                "The primary account is the user's sign-in identity; it "
                "cannot be deleted with a session.",
                code=Code.ACCOUNT_PRIMARY,
            )
        accounts.delete_account(account)
        return Response(status=204)


class AccountTokenView(AurinkoAPIView):
    """``DELETE /v1/account/token``: revoke the provider grant; the account stays, inactive."""

    def delete(self, request: Request) -> Response:
        account = self.selected_account(request)
        confirmed = accounts.revoke_grant(account)
        return Response({"revoked": True, "providerConfirmed": confirmed})


def _bool_param(value: str | None, name: str) -> bool | None:
    if value in (None, ""):
        return None
    lowered = value.lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise InvalidRequest(f"{name} must be true or false.")


def _int_param(value: str | None, name: str, default: int, maximum: int) -> int:
    if value in (None, ""):
        return default
    if not value.isdigit():
        raise InvalidRequest(f"{name} must be a non-negative integer.")
    return min(int(value), maximum)


class AmAccountsView(ClientOnlyView):
    """``GET /v1/am/accounts``: the app's accounts, paginated (``limit``, ``offset``) and
    filtered (``serviceType``, ``active``, ``daemon``)."""

    def get(self, request: Request) -> Response:
        qs = Account.objects.filter(app=self.principal.app).order_by("id")
        params = request.query_params
        if params.get("serviceType"):
            qs = qs.filter(service_type=canonical_service_type(params["serviceType"]))
        for name, field in (("active", "active"), ("daemon", "daemon")):
            value = _bool_param(params.get(name), name)
            if value is not None:
                qs = qs.filter(**{field: value})
        limit = max(_int_param(params.get("limit"), "limit", 50, 200), 1)
        offset = _int_param(params.get("offset"), "offset", 0, 10**9)
        total = qs.count()
        records = [account_json(a, self.principal.app) for a in qs[offset : offset + limit]]
        return Response({"records": records, "totalSize": total, "offset": offset, "limit": limit})


class AmAccountView(ClientOnlyView):
    """``GET/DELETE /v1/am/accounts/{id}``."""

    def get(self, request: Request, account_id: str) -> Response:
        return Response(account_json(self.app_account(account_id)))

    def delete(self, request: Request, account_id: str) -> Response:
        accounts.delete_account(self.app_account(account_id))
        return Response(status=204)
