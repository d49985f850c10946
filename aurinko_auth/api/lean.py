"""``GET /v1/account`` with an account token and ``GET /v1/user`` with a session, the hottest
requests of the API, without DRF's dispatch (its Request wrapper, authenticator and permission loops and Response rendering
cost more than the rest of the request together; see bench/RESULTS.md).

Only the common case takes this path: ``GET``, ``Authorization: Bearer <token>`` that
authenticates, and neither ``X-Aurinko-AccountId`` nor ``X-Aurinko-Mailbox``. Its response is
the DRF view's, byte for byte, because it is made of the same parts: the body is the view's
payload (:func:`~aurinko_auth.api.serializers.account_json`) rendered by the API's renderer
(:data:`aurinko_auth.api.views.JSON`), the CORS headers come from
:func:`~aurinko_auth.api.cors.add_cors_headers`, ``Allow`` from the view's
``allowed_methods`` (tests/api/test_lean.py compares the two responses). Everything else
(other methods, other credentials, errors, preflights, throttles or versioning configured in
DRF) goes to :class:`aurinko_auth.api.views.AccountView`; a token this path already looked
up and refused is handed over (:meth:`AccountTokenAuthentication.refused`) so the DRF view
does not query it again.

``GET /v1/user`` likewise (:func:`lean_user_view`; tests/user/test_lean_user.py): ``GET``
with a session that authenticates answers the DRF view's response
(:func:`~aurinko_auth.api.serializers.user_json` rendered by the same renderer) in one query
reading the session, its user, its app and the user's accounts
(:func:`aurinko_auth.usersessions.find_with`), none when this process's cache holds them
with the rendered body; anything else, or a refused session, goes to
:class:`aurinko_auth.api.user_views.UserView` (without a second lookup).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject
from rest_framework.permissions import IsAuthenticated
from rest_framework.views import APIView

from aurinko_auth import usersessions
from aurinko_auth.api.authentication import (
    AccountTokenAuthentication,
    UserSessionAuthentication,
)
from aurinko_auth.api.cors import add_cors_headers
from aurinko_auth.api.serializers import (
    ACCOUNT_JSON_APP_FIELDS,
    ACCOUNT_JSON_FIELDS,
    account_json,
    user_json,
    with_last_activity,
)
from aurinko_auth.api.user_views import UserView
from aurinko_auth.api.views import ACCOUNT_ID_HEADERS, JSON, AccountView
from aurinko_auth.exceptions import AurinkoError
from aurinko_auth.hotpath import auth, tokens
from aurinko_auth.hotpath.rowquery import ChainQuery
from aurinko_auth.lifecycle.daemon_tokens import MAILBOX_HEADER
from aurinko_auth.models import Account, App, AppUser, UserSession

# Identity-token requests (docs/add-ins.md) are the DRF view's: their Bearer is no account token.
_BYPASSED_HEADERS = (
    *ACCOUNT_ID_HEADERS,
    MAILBOX_HEADER,
    "HTTP_X_AURINKO_AUTHTYPE",
    "HTTP_X_AURINKO_AUTH_TYPE",
)
JSON_COLUMNS = tokens.Columns("account_json", ACCOUNT_JSON_FIELDS, ACCOUNT_JSON_APP_FIELDS)


def _allow_header(view_class: type[APIView]) -> str:
    """DRF's ``Allow`` header for the view (``head`` is added by ``View.setup`` for ``get``)."""
    view = view_class()
    view.setup(HttpRequest())
    return ", ".join(view.allowed_methods)


def _lean_applies(
    view_class: type[APIView], authenticator: type = AccountTokenAuthentication
) -> bool:
    """The lean path skips nothing that is configured: the view's DRF policies are the ones it
    reproduces (first authenticator = ``authenticator``, IsAuthenticated, no throttles, no
    versioning, JSON only)."""
    return (
        view_class.authentication_classes[:1] == [authenticator]
        and list(view_class.permission_classes) == [IsAuthenticated]
        and not view_class.throttle_classes
        and view_class.versioning_class is None
        and len(view_class.renderer_classes) == 1
    )


def _body_of(columns: tokens.Columns) -> Callable[[str, tokens.TokenRow], bytes]:
    def render_body(db: str, row: tokens.TokenRow) -> bytes:
        """The response body: a function of the token's row alone, so the token cache keeps
        it with the row (and drops it with the row)."""
        return JSON.render(account_json(tokens.principal_from_row(db, row, columns).account))

    return render_body


def lean_account_view(view_class: type[AccountView] = AccountView) -> Callable[..., HttpResponse]:
    drf_view = view_class.as_view()
    content_type = JSON.media_type
    state: dict[str, Any] = {}
    render_all, render_json = _body_of(tokens.ALL_COLUMNS), _body_of(JSON_COLUMNS)

    def view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method != "GET" or args or kwargs:
            return drf_view(request, *args, **kwargs)
        meta = request.META
        scheme, value = auth.parse_authorization(meta.get("HTTP_AUTHORIZATION", ""))
        if scheme != "bearer" or not value:
            return drf_view(request)
        if "allow" not in state:
            state["applies"] = _lean_applies(view_class)
            state["allow"] = _allow_header(view_class)
        if not state["applies"]:
            return drf_view(request)
        if any(h in meta for h in _BYPASSED_HEADERS):
            return drf_view(request)
        # With a token cache, the whole row (shared with every other view) and the body are
        # cached; without one, only the columns of the body are read.
        columns = tokens.ALL_COLUMNS if tokens.caching() else JSON_COLUMNS
        try:
            db, row, body = tokens.token_entry(
                value,
                derive=render_all if columns is tokens.ALL_COLUMNS else render_json,
                columns=columns,
            )
        except AurinkoError as exc:
            AccountTokenAuthentication.refused(request, value, exc)
            return drf_view(request)
        # As DRF would set it (built only if something reads it; without the cache, fields
        # outside the body's columns are deferred).
        request.user = SimpleLazyObject(lambda: tokens.principal_from_row(db, row, columns))
        response = HttpResponse(body, content_type=content_type)
        response["Allow"] = state["allow"]
        add_cors_headers(response, meta.get("HTTP_ORIGIN"))
        return response

    # What DRF's as_view() carries (csrf_exempt, cls, initkwargs, name, docstring): the URL
    # resolver, CSRF middleware and the schema generator see the DRF view.
    return functools.update_wrapper(view, drf_view)


# GET /v1/user's one query: the session -> user -> app, and the user's accounts (what the
# body shows only: provider credentials and the app's signing key are never read).
USER_QUERY = ChainQuery(
    [(UserSession, None), (AppUser, None), (App, None)],
    ["user", "app"],
    where="token_hash",
    statement="aurinko_user",
    many=(Account, (*ACCOUNT_JSON_FIELDS, "app"), "user"),
)


def _with_last_activity(body: bytes, session: UserSession) -> bytes:
    """The cached ``body`` (a rendered JSON object) with ``lastActivity`` added last: the bytes
    the DRF view renders from :func:`~aurinko_auth.api.serializers.with_last_activity`."""
    added = JSON.render(with_last_activity({}, session))  # {"lastActivity": ...}
    return body[:-1] + (b"," if JSON.compact else b", ") + added[1:]


def _user_body(session: UserSession, accounts: list[Account]) -> bytes:
    """The response body: a function of the session's user, its app and accounts alone, so
    the session cache keeps it with them (and drops it with them)."""
    return JSON.render(user_json(session.user, accounts))


def lean_user_view(view_class: type[UserView] = UserView) -> Callable[..., HttpResponse]:
    drf_view = view_class.as_view()
    content_type = JSON.media_type
    state: dict[str, Any] = {}

    def view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method != "GET" or args or kwargs:
            return drf_view(request, *args, **kwargs)
        if "allow" not in state:
            state["applies"] = _lean_applies(view_class, UserSessionAuthentication)
            state["allow"] = _allow_header(view_class)
        if not state["applies"]:
            return drf_view(request)
        bodies: dict[int, bytes] = {}

        def find(found_tokens: Any) -> list[UserSession]:
            found = usersessions.find_with(found_tokens, USER_QUERY, _user_body, prefix="v:")
            bodies.update((session.pk, body) for session, body in found)
            return [session for session, _ in found]

        try:
            principal = UserSessionAuthentication.principal(request, find)
        except AurinkoError as exc:
            UserSessionAuthentication.refused(request, exc)
            return drf_view(request)
        if principal is None or principal.session is None:
            # No session credential: the DRF view says what it expects, or serves the
            # identity-token user UserSessionAuthentication found (kept on the request).
            return drf_view(request)
        request.user = principal  # as DRF would set it
        body = _with_last_activity(bodies[principal.session.pk], principal.session)
        response = HttpResponse(body, content_type=content_type)
        response["Allow"] = state["allow"]
        add_cors_headers(response, request.META.get("HTTP_ORIGIN"))
        return response

    return functools.update_wrapper(view, drf_view)
