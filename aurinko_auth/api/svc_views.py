"""Service (daemon) accounts as Aurinko's API has them (``/v1/am/svc_accounts``): the accounts
of the Service Account flow (:mod:`aurinko_auth.flows.daemon`), with the app's client
credentials like ``/v1/am/accounts``."""

from __future__ import annotations

from rest_framework.request import Request
from rest_framework.response import Response

from aurinko_auth import accounts
from aurinko_auth.api.import_serializers import (
    AccountSaveResultSerializer,
    ManagedAccountImportSerializer,
    ManagedAccountQuery,
    ServiceAccountImportQuery,
    ServiceAccountImportSerializer,
)
from aurinko_auth.api.serializers import AccountPageSerializer, SvcAccountListQuery, parse_id
from aurinko_auth.api.views import ClientOnlyView, document, errors
from aurinko_auth.exceptions import NotFound
from aurinko_auth.flows import imports
from aurinko_auth.models import Account


class SvcAccountsView(ClientOnlyView):
    """``GET /v1/am/svc_accounts``: the app's service accounts, paginated (``limit``,
    ``offset``) and filtered (``serviceType``, ``authOrgId``, ``clientOrgId``); ``POST``:
    import (upsert) one, proven at the provider with the app's own credentials."""

    @document(
        summary="The app's service (daemon) accounts",
        operation_id="am_svc_accounts_list",
        parameters=[SvcAccountListQuery],
        responses={200: AccountPageSerializer, **errors(400, 401)},
    )
    def get(self, request: Request) -> Response:
        query = SvcAccountListQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        page = accounts.account_page(self.principal.app, query.validated_data, daemon=True)
        return Response(AccountPageSerializer(page).data)

    @document(
        summary="Import (upsert) a service account, proven with the app's own credentials",
        operation_id="am_svc_accounts_import",
        parameters=[ServiceAccountImportQuery],
        request=ServiceAccountImportSerializer,
        responses={200: AccountSaveResultSerializer, **errors(400, 401, 404, 502, 503)},
    )
    def post(self, request: Request) -> Response:
        query = ServiceAccountImportQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        body = ServiceAccountImportSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.account_import()
        app = self.principal.app
        saved = imports.save(app, data, imports.check_service_account(app, data))
        result = {"accountId": saved.account.pk, "accessToken": saved.access_token}
        return Response(AccountSaveResultSerializer(result).data)


class ManagedAccountsView(ClientOnlyView):
    """``POST /v1/am/svc_accounts/{accId}/accounts``: upsert a managed mailbox account of one
    of the app's service accounts (``type: managed``, ``parentId``), its tokens the service
    account's grant for that mailbox. Another app's account, or one that is not a service
    account, is a 404."""

    @document(
        summary="Upsert a managed mailbox account of a service account",
        operation_id="am_svc_accounts_managed_upsert",
        parameters=[ManagedAccountQuery],
        request=ManagedAccountImportSerializer,
        responses={200: AccountSaveResultSerializer, **errors(400, 401, 404, 502, 503)},
    )
    def post(self, request: Request, acc_id: str) -> Response:
        app = self.principal.app
        parent_id = parse_id(acc_id)
        parent = (
            Account.objects.filter(app=app, pk=parent_id, daemon=True).first()
            if parent_id is not None
            else None
        )
        if parent is None:
            raise NotFound("No such service account.")
        parent.app = app
        query = ManagedAccountQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        body = ManagedAccountImportSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.account_import()
        checked = imports.check_managed(
            app, parent, data, ensure_access=bool(query.validated_data.get("ensureAccess"))
        )
        saved = imports.save(app, data, checked)
        result = {"accountId": saved.account.pk, "accessToken": saved.access_token}
        return Response(AccountSaveResultSerializer(result).data)
