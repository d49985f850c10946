"""The lean ``GET /v1/user`` (api/lean.py) answers exactly what the DRF view answers, in
one query (session -> user -> app and the accounts), and hands every other case to the DRF
view without a second session lookup."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import RequestFactory
from django.urls import resolve
from django.utils import timezone

from aurinko_auth import usersessions
from aurinko_auth.api.lean import lean_user_view
from aurinko_auth.api.user_views import UserView
from aurinko_auth.models import Account, AppUser, UserSession
from tests.lean_compare import assert_same, call_both
from tests.user.conftest import APP_ORIGIN


@pytest.fixture
def both(rf: RequestFactory):
    """``both(cookies={...}, **headers) -> (lean response, DRF response)`` for one GET."""
    lean, drf = lean_user_view(UserView), UserView.as_view()

    def call(path: str = "/v1/user", cookies: dict[str, str] | None = None, **headers: str):
        def make_request():
            request = rf.get(path, **headers)
            request.COOKIES.update(cookies or {})
            return request

        return call_both(lean, drf, make_request)

    return call


@pytest.mark.parametrize("origin", [None, APP_ORIGIN, "http://localhost:5173"])
def test_lean_response_is_the_drf_response(both, signed_in, origin):
    app, user, token, _ = signed_in(accounts=3)
    Account.objects.filter(user=user, account_type=Account.Type.SECONDARY).update(
        name="Ünïcode \u2028 name", requested_scopes=["Mail.Read", "Mail.Send"]
    )
    extra = {"HTTP_ORIGIN": origin} if origin else {}
    for lean, drf in (
        both(HTTP_X_AURINKO_SESSION=token, **extra),
        both(cookies={usersessions.cookie_name(app.pk): token}, **extra),
    ):
        assert lean.status_code == 200 and type(lean).__module__.startswith("django.")
        body = json.loads(lean.content)
        assert body["id"] == str(user.pk) and len(body["accounts"]) == 4
        assert body["accounts"][0]["type"] == "primary"
        assert_same(lean, drf)
        if origin:
            assert lean["Access-Control-Allow-Origin"] == origin


def test_with_the_local_cache_warm(both, signed_in, settings, django_assert_num_queries):
    from django.conf import settings as django_settings

    from aurinko_auth.hotpath import channel

    settings.AURINKO_AUTH = {
        **django_settings.AURINKO_AUTH,
        "AUTH_LOCAL_CACHE": "redis://127.0.0.1:6379/8",
    }
    cache = channel.local_cache()
    try:
        assert channel._state["listener"].connected.wait(10) and cache.listening
        _, _, token, _ = signed_in(accounts=2)
        cold = both(HTTP_X_AURINKO_SESSION=token)
        with django_assert_num_queries(0):
            lean = lean_user_view(UserView)(
                RequestFactory().get("/v1/user", **{"HTTP_X_AURINKO_SESSION": token})
            )
        assert_same(*cold)
        assert lean.content == cold[0].content
    finally:
        channel.stop()


@pytest.mark.parametrize(
    "case",
    ["unknown", "garbage", "revoked", "expired", "idle", "disabled app", "none", "bearer"],
)
def test_failures_are_the_drf_failures(both, signed_in, case):
    app, user, token, _ = signed_in()
    session = UserSession.objects.get(user=user)
    headers = {"HTTP_X_AURINKO_SESSION": token}
    if case == "unknown":
        headers["HTTP_X_AURINKO_SESSION"] = "aus_" + "x" * 40
    elif case == "garbage":
        headers["HTTP_X_AURINKO_SESSION"] = "garbage"
    elif case == "revoked":
        usersessions.revoke(session)
    elif case == "expired":
        UserSession.objects.filter(pk=session.pk).update(expires_at=timezone.now())
    elif case == "idle":
        idle = timezone.now() - timedelta(seconds=session.idle_timeout + 5)
        UserSession.objects.filter(pk=session.pk).update(last_used_at=idle)
    elif case == "disabled app":
        app.active = False
        app.save()
    elif case == "none":
        headers = {}
    else:
        headers = {"HTTP_AUTHORIZATION": "Bearer aat_x"}
    lean, drf = both(**headers)
    assert lean.status_code == 401 and set(json.loads(lean.content)) == {"code", "message"}
    assert_same(lean, drf)


def test_cookie_from_another_origin_is_the_drf_403(both, signed_in):
    app, _, token, _ = signed_in()
    lean, drf = both(
        cookies={usersessions.cookie_name(app.pk): token}, HTTP_ORIGIN="https://evil.example.net"
    )
    assert lean.status_code == 403 and json.loads(lean.content)["code"] == "origin.not_allowed"
    assert_same(lean, drf)


def test_sessions_of_two_apps_need_client_id(both, signed_in, app_factory):
    a_app, a_user, a_token, _ = signed_in()
    b_app = app_factory(name="B", return_urls=["https://b.example.org/cb"])[0]
    _, b_user, b_token, _ = signed_in(app=b_app)
    cookies = {
        usersessions.cookie_name(a_app.pk): a_token,
        usersessions.cookie_name(b_app.pk): b_token,
    }
    lean, drf = both(cookies=cookies)
    assert lean.status_code == 400 and json.loads(lean.content)["code"] == "session.ambiguous"
    assert_same(lean, drf)
    lean, drf = both(path=f"/v1/user?clientId={b_app.client_id}", cookies=cookies)
    assert lean.status_code == 200 and json.loads(lean.content)["id"] == str(b_user.pk)
    assert_same(lean, drf)


def test_one_query_cold_and_the_failures_one_query(client, signed_in, django_assert_num_queries):
    _, user, token, browser = signed_in(accounts=5)
    browser.get("/v1/user")  # warm caches (content types, cookie name pattern)
    with django_assert_num_queries(1):
        response = client.get("/v1/user", HTTP_X_AURINKO_SESSION=token)
    assert response.status_code == 200 and len(response.json()["accounts"]) == 6
    usersessions.revoke(UserSession.objects.get(user=user))
    with django_assert_num_queries(1):  # the DRF view reuses the lean path's refusal
        response = client.get("/v1/user", HTTP_X_AURINKO_SESSION=token)
    assert response.status_code == 401 and response.json()["code"] == "session.revoked"
    assert response["WWW-Authenticate"] == 'Session realm="aurinko"'


def test_user_without_accounts(both, app_factory, session_factory):
    app, _ = app_factory()
    user = AppUser.objects.create(app=app, email="lonely@example.com")
    lean, drf = both(HTTP_X_AURINKO_SESSION=session_factory(user))
    assert lean.status_code == 200 and json.loads(lean.content)["accounts"] == []
    assert_same(lean, drf)


def test_route_still_looks_like_the_drf_view(client, signed_in):
    func = resolve("/v1/user").func
    assert func.cls is UserView and func.csrf_exempt is True
    _, _, token, _ = signed_in()
    preflight = client.options(
        "/v1/user", HTTP_ORIGIN=APP_ORIGIN, HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET"
    )
    assert preflight.status_code == 204 and preflight["Access-Control-Allow-Origin"] == APP_ORIGIN
    head = client.head("/v1/user", HTTP_X_AURINKO_SESSION=token)
    assert head.status_code == 200 and head.content == b""
