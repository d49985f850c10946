"""The session API of the User flow: ``/v1/user``, logout, the user's accounts (listed, read,
unlinked), and the user's sessions. Authenticated by the session cookie or ``X-Aurinko-Session`` only."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils import timezone
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers as s
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from aurinko_auth import accounts, usersessions
from aurinko_auth.api.authentication import UserSessionAuthentication
from aurinko_auth.api.import_serializers import OkSerializer
from aurinko_auth.api.serializers import (
    ACCOUNT_JSON_FIELDS,
    SessionListSerializer,
    UserAccountSerializer,
    UserSerializer,
    parse_id,
    primary_first,
    user_account_json,
    user_json,
    with_last_activity,
)
from aurinko_auth.api.views import AurinkoAPIView, document, errors, ok
from aurinko_auth.errorcodes import Code
from aurinko_auth.exceptions import InvalidRequest, NotFound
from aurinko_auth.flows import codes
from aurinko_auth.flows.state import ClientInfo
from aurinko_auth.hotpath import sessions
from aurinko_auth.hotpath.rowquery import ChainQuery
from aurinko_auth.models import Account, UserSession


class UserAPIView(AurinkoAPIView):
    authentication_classes = [UserSessionAuthentication]

    def ended(self, response: Response) -> Response:
        """Clear the cookie when the request's own session just ended."""
        if self.principal.from_cookie:
            usersessions.clear_cookie(
                response,
                self.principal.app,
                usersessions.checked_mailbox_info(
                    self.request.META.get(usersessions.MAILBOX_INFO_HEADER)
                ),
            )
        return response


def _path_id(raw: str) -> int:
    found = parse_id(raw)
    if found is None:
        raise NotFound()
    return found


_USER_ACCOUNTS = ChainQuery([(Account, (*ACCOUNT_JSON_FIELDS, "app"))], where="user")


class UserView(UserAPIView):
    """``GET /v1/user``: the signed-in user and its accounts (two queries, any number of
    accounts; none with ``AUTH_LOCAL_CACHE`` warm)."""

    @document(
        summary="The signed-in user and its accounts",
        responses={200: UserSerializer, **errors(401)},
    )
    def get(self, request: Request) -> Response:
        user = self.principal.user
        # Only what the JSON shows (SQL compiled once): provider credentials are never read.
        _accounts, body = sessions.user_accounts(user, _USER_ACCOUNTS, user_json)
        return Response(with_last_activity(body, self.principal.session))


class LogoutView(UserAPIView):
    """``POST /v1/user/logout``: ends the session server-side and clears the cookie; a copy of
    the cookie stops working too."""

    @document(
        summary="End this session", request=None, responses={200: OkSerializer, **errors(401, 403)}
    )
    def post(self, request: Request) -> Response:
        if self.principal.session is not None:  # an identity-token call has no session
            usersessions.revoke(self.principal.session)
        return self.ended(ok())


class UserAccountsPageSerializer(s.Serializer):
    """Aurinko's ``EndUserAccountsPage``: every account of the user in one page (a user has a
    handful), so ``done`` is always true and there is no ``nextPageToken``."""

    records = UserAccountSerializer(many=True)
    length = s.IntegerField(help_text="How many records this page holds.")
    totalSize = s.IntegerField()
    offset = s.IntegerField()
    done = s.BooleanField(help_text="No further page (always true: one page holds them all).")


def _accounts_page(user: Any, accounts: list[Account]) -> dict[str, Any]:
    records = [user_account_json(a, user.app) for a in primary_first(accounts)]
    return {
        "records": records,
        "length": len(records),
        "totalSize": len(records),
        "offset": 0,
        "done": True,
    }


class UserAccountsView(UserAPIView):
    """``GET /v1/user/accounts``: the signed-in user's accounts, the primary first (one query,
    any number of accounts; none with ``AUTH_LOCAL_CACHE`` warm)."""

    @document(
        summary="The signed-in user's accounts",
        operation_id="getEndUserAccounts",
        responses={200: UserAccountsPageSerializer, **errors(401)},
    )
    def get(self, request: Request) -> Response:
        _accounts, body = sessions.user_accounts(
            self.principal.user, _USER_ACCOUNTS, _accounts_page
        )
        return Response(body)


class UserAccountView(UserAPIView):
    """``GET /v1/user/accounts/{id}``: one of the user's accounts; ``DELETE``: unlink (revoke
    at the provider and delete) a secondary account, or, for the primary account (the user's
    sign-in identity, which stays), end this session: Aurinko's ``logoutAccount``."""

    def user_account(self, account_id: str) -> Account:
        account = Account.objects.filter(
            pk=_path_id(account_id), user=self.principal.user, app=self.principal.app
        ).first()
        if account is None:
            raise NotFound("No such account of this user.")
        account.app = self.principal.app
        return account

    @document(
        summary="One of the signed-in user's accounts",
        operation_id="getEndUserAccount",
        responses={200: UserAccountSerializer, **errors(401, 404)},
    )
    def get(self, request: Request, account_id: str) -> Response:
        return Response(user_account_json(self.user_account(account_id)))

    @document(
        summary="Unlink a secondary account, or log out with the primary one",
        operation_id="logoutAccount",
        responses={200: OkSerializer, **errors(400, 401, 403, 404)},
    )
    def delete(self, request: Request, account_id: str) -> Response:
        account = self.user_account(account_id)
        if account.account_type == Account.Type.PRIMARY:
            if self.principal.session is not None:
                usersessions.revoke(self.principal.session)
            return self.ended(ok())
        accounts.delete_account(account)
        return ok()


class UserAccountManagedView(UserAccountView):
    """``POST /v1/user/accounts/{id}/managed`` (Aurinko's ``copyAsManaged``): refused. A copy
    would hold the same provider grant in two accounts, each refreshing it on its own: with
    a provider that rotates refresh tokens, one refresh kills the other's. An app-managed
    account is authorized with the Account flow (``clientOrgId`` names its tenant)."""

    http_method_names = ["post", "options"]

    @document(
        summary="Copy an account as managed (refused: create it under its service account)",
        operation_id="copyAsManaged",
        request=None,
        responses=errors(400, 401, 403, 404),
    )
    def post(self, request: Request, account_id: str) -> Response:
        self.user_account(account_id)  # another user's account stays a 404
        raise InvalidRequest(
            "Accounts are not copied as managed ones here (two accounts would refresh one "
            "provider grant): a managed mailbox account is created under its service account "
            "with POST /v1/am/svc_accounts/{accId}/accounts (the app's client credentials).",
            code=Code.ACCOUNT_COPY_UNSUPPORTED,
        )


class UserSettingsView(UserAPIView):
    """``PATCH /v1/user/settings`` (Aurinko's ``updateSettings``: the user's work hours, for
    Aurinko's scheduling features, which this broker does not have): refused."""

    http_method_names = ["patch", "options"]

    @document(
        summary="Update the user's settings (refused: no settings are kept)",
        operation_id="updateSettings",
        request=None,
        responses=errors(400, 401, 403),
    )
    def patch(self, request: Request) -> Response:
        raise InvalidRequest(
            "This broker keeps no user settings: work hours belong to Aurinko's scheduling "
            "features, which it does not serve.",
            code=Code.USER_SETTINGS_UNSUPPORTED,
        )


class SessionsView(UserAPIView):
    """``GET /v1/user/sessions``: the user's active sessions."""

    @document(
        summary="The user's active sessions",
        responses={200: SessionListSerializer, **errors(401)},
    )
    def get(self, request: Request) -> Response:
        now = timezone.now()
        qs = UserSession.objects.filter(
            Q(user=self.principal.user) & Q(revoked_at__isnull=True) & Q(expires_at__gt=now)
        )
        records = [s for s in qs.order_by("-created_at")[:200] if s.is_valid(now)]
        listing = SessionListSerializer(
            {"records": records}, context={"current": self.principal.session}
        )
        return Response(listing.data)


class SessionView(UserAPIView):
    """``DELETE /v1/user/sessions/{id}``: end one of the user's sessions (another device)."""

    @document(
        summary="End one of the user's sessions",
        responses={200: OkSerializer, **errors(401, 403, 404)},
    )
    def delete(self, request: Request, session_id: str) -> Response:
        session = UserSession.objects.filter(
            pk=_path_id(session_id), user=self.principal.user, revoked_at__isnull=True
        ).first()
        if session is None:
            raise NotFound("No such session of this user.")
        usersessions.revoke(session)
        response = ok()
        if self.principal.session is not None and session.pk == self.principal.session.pk:
            return self.ended(response)
        return response


class SessionCookieView(AurinkoAPIView):
    """``POST /v1/auth/cookie`` with ``sessionCode``: the page itself (an add-in's iframe,
    ``fetch(..., {credentials: "include"})`` from one of the app's origins) turns the code its
    sign-in returned into the session cookie, set in that page's own partition (apps with
    partitioned cookies, docs/add-ins.md)."""

    authentication_classes: list[type] = []
    permission_classes = [AllowAny]

    @document(
        summary="Set the session cookie from a sessionCode (partitioned cookies)",
        request=inline_serializer("SessionCodeRequest", {"sessionCode": s.CharField()}),
        responses={
            200: inline_serializer("SessionCookieSet", {"userId": s.UUIDField()}),
            **errors(400, 401, 403),
        },
    )
    def post(self, request: Request) -> Response:
        code = request.data.get("sessionCode") if hasattr(request.data, "get") else None
        if not isinstance(code, str) or not code:
            raise InvalidRequest("Send the sessionCode of the sign-in.")
        meta = request.META
        mailbox = usersessions.checked_mailbox_info(meta.get(usersessions.MAILBOX_INFO_HEADER))
        app, user, token = codes.redeem_session_code(
            code,
            origin=meta.get("HTTP_ORIGIN"),
            client=ClientInfo(
                user_agent=meta.get("HTTP_USER_AGENT", ""), ip=meta.get("REMOTE_ADDR")
            ),
            cookies=request.COOKIES,
            mailbox_info=mailbox,
        )
        response = Response({"userId": str(user.pk)})
        usersessions.set_cookie(response, app, token, mailbox)
        return response
