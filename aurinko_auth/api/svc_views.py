"""Service (daemon) accounts as Aurinko's API has them (``/v1/am/svc_accounts``): the accounts
of the Service Account flow (:mod:`aurinko_auth.flows.daemon`), with the app's client
credentials like ``/v1/am/accounts``."""

from __future__ import annotations

from rest_framework.request import Request
from rest_framework.response import Response

from aurinko_auth import accounts
from aurinko_auth.api.serializers import AccountPageSerializer, SvcAccountListQuery
from aurinko_auth.api.views import ClientOnlyView, document, errors


class SvcAccountsView(ClientOnlyView):
    """``GET /v1/am/svc_accounts``: the app's service accounts, paginated (``limit``,
    ``offset``) and filtered (``serviceType``, ``authOrgId``, ``clientOrgId``)."""

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
