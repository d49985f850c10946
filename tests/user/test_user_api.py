"""The session API: /v1/user, logout, sessions, unlinking, X-Aurinko-AccountId, CSRF, CORS."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from aurinko_auth import usersessions
from aurinko_auth.hotpath import sessions
from aurinko_auth.models import Account, UserSession
from tests.user.conftest import APP_ORIGIN

pytestmark = pytest.mark.django_db


def assert_error(response, status: int, code: str | None = None) -> None:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "requestId"}
    if code:
        assert body["code"] == code, body


# --- authentication --------------------------------------------------------------------------


def test_user_by_cookie_and_by_header(signed_in):
    app, user, token, browser = signed_in(accounts=2)
    by_cookie = browser.get("/v1/user")
    assert by_cookie.status_code == 200
    by_header = Client().get("/v1/user", HTTP_X_AURINKO_SESSION=token)
    assert by_header.json() == by_cookie.json()
    body = by_header.json()
    # Aurinko's EndUserDto; name and authOrgId left out while unknown (never null).
    assert set(body) == {
        "id",
        "appId",
        "email",
        "createdAt",
        "trustedIdentity",
        "accounts",
        "lastActivity",
    }
    created = datetime.fromisoformat(body["createdAt"].replace("Z", "+00:00"))
    assert body["createdAt"].endswith("Z") and abs(created - user.created_at) < timedelta(seconds=1)
    assert [a["type"] for a in body["accounts"]] == ["primary", "secondary", "secondary"]
    assert set(body["accounts"][0]) >= {
        "id",
        "serviceType",
        "type",
        "daemon",
        "active",
        "loginString",
        "email",
        "name",
        "authUserId",
        "tokenStatus",
        "userAccountType",
    }
    # unknown values (serverUrl, authOrgId, clientOrgId, authObtainedAt) are left out, not null
    assert all(None not in account.values() for account in body["accounts"])


def test_user_name_and_org_when_known(signed_in):
    app, user, token, browser = signed_in(accounts=1)
    user.accounts.filter(account_type="primary").update(name="Alice Example")
    user.accounts.filter(account_type="secondary").update(name="Someone Else")
    user.auth_org_id = "example.com"
    user.save()
    body = Client().get("/v1/user", HTTP_X_AURINKO_SESSION=token).json()
    assert body["name"] == "Alice Example"  # the primary account's
    assert body["authOrgId"] == "example.com"


def test_not_signed_in_is_401_json():
    assert_error(Client().get("/v1/user"), 401, "auth.required")


@pytest.mark.parametrize("token", ["aus_forged", "aat_not-a-session", "x" * 500, ""])
def test_forged_session_header_is_401(signed_in, token):
    signed_in()
    response = Client().get("/v1/user", HTTP_X_AURINKO_SESSION=token)
    assert_error(response, 401, "session.invalid")


def test_forged_cookie_is_401(signed_in):
    app, *_ = signed_in()
    browser = Client()
    browser.cookies[usersessions.cookie_name(app.pk)] = "aus_" + "A" * 43
    assert_error(browser.get("/v1/user"), 401, "session.invalid")


def test_cookie_of_app_a_renamed_for_app_b_is_refused(signed_in, app_factory):
    app, user, token, _ = signed_in()
    other, _ = app_factory(name="Other", return_urls=[APP_ORIGIN + "/callback"])
    browser = Client()
    browser.cookies[usersessions.cookie_name(other.pk)] = token
    assert_error(browser.get("/v1/user"), 401, "session.invalid")


@pytest.mark.parametrize(
    "change,code",
    [
        ({"expires_at": timezone.now() - timedelta(seconds=1)}, "session.expired"),
        ({"last_used_at": timezone.now() - timedelta(days=15)}, "session.expired"),
        ({"revoked_at": timezone.now()}, "session.revoked"),
    ],
)
def test_ended_sessions_are_401(signed_in, change, code):
    app, user, token, browser = signed_in()
    UserSession.objects.update(**change)
    assert_error(browser.get("/v1/user"), 401, code)
    assert_error(Client().get("/v1/user", HTTP_X_AURINKO_SESSION=token), 401, code)


def test_idle_timeout_is_a_setting(signed_in, settings):
    app, user, token, browser = signed_in()
    UserSession.objects.update(last_used_at=timezone.now() - timedelta(hours=2))
    assert browser.get("/v1/user").status_code == 200
    settings.AURINKO_AUTH = {**settings.AURINKO_AUTH, "SESSION_IDLE_TIMEOUT": 3600}
    token2 = usersessions.start(user)
    UserSession.objects.filter(pk__gt=UserSession.objects.order_by("pk").first().pk).update(
        last_used_at=timezone.now() - timedelta(hours=2)
    )
    assert_error(Client().get("/v1/user", HTTP_X_AURINKO_SESSION=token2), 401, "session.expired")


def test_disabled_app_ends_its_sessions(signed_in):
    app, user, token, browser = signed_in()
    app.active = False
    app.save()
    assert_error(browser.get("/v1/user"), 401, "client.inactive")


# --- logout ----------------------------------------------------------------------------------


def test_logout_ends_session_server_side_and_clears_cookie(signed_in):
    app, user, token, browser = signed_in()
    copied = Client()
    copied.cookies[usersessions.cookie_name(app.pk)] = token
    assert copied.get("/v1/user").status_code == 200
    response = browser.post("/v1/user/logout", HTTP_ORIGIN=APP_ORIGIN)
    assert response.status_code == 200 and response.json() == {"status": "Ok"}  # OkResponse
    morsel = response.cookies[usersessions.cookie_name(app.pk)]
    assert morsel.value == "" and morsel["max-age"] == 0
    assert morsel["secure"] and morsel["httponly"] and morsel["samesite"] == "None"
    assert UserSession.objects.get().revoked_at is not None
    # A copy of the cookie stops working too.
    assert_error(copied.get("/v1/user"), 401, "session.revoked")
    assert_error(Client().get("/v1/user", HTTP_X_AURINKO_SESSION=token), 401, "session.revoked")


def test_logout_by_header_needs_no_origin(signed_in):
    app, user, token, _ = signed_in()
    response = Client().post("/v1/user/logout", HTTP_X_AURINKO_SESSION=token)
    assert response.status_code == 200
    assert usersessions.cookie_name(app.pk) not in response.cookies


# --- CSRF ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_ORIGIN": "https://evil.example.net"},
        {},
        {"HTTP_ORIGIN": "null"},
        {"HTTP_ORIGIN": "https://app.example.com.evil.net"},
    ],
)
def test_cross_site_post_with_cookie_is_403(signed_in, headers):
    app, user, token, browser = signed_in()
    response = browser.post("/v1/user/logout", **headers)
    assert_error(response, 403)
    assert response.json()["code"] in ("csrf.failed", "origin.not_allowed")
    assert UserSession.objects.get().revoked_at is None
    assert browser.get("/v1/user").status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_ORIGIN": APP_ORIGIN},
        {"HTTP_ORIGIN": "http://localhost:5173"},
        {"HTTP_X_REQUESTED_WITH": "XMLHttpRequest"},
    ],
)
def test_post_from_app_origin_or_with_custom_header_passes(signed_in, headers):
    app, user, token, browser = signed_in()
    assert browser.post("/v1/user/logout", **headers).status_code == 200


def test_cross_site_delete_of_account_is_403(signed_in):
    app, user, token, browser = signed_in(accounts=1)
    secondary = user.accounts.get(account_type="secondary")
    response = browser.delete(
        f"/v1/user/accounts/{secondary.pk}", HTTP_ORIGIN="https://evil.example.net"
    )
    assert_error(response, 403)
    assert Account.objects.filter(pk=secondary.pk).exists()


def test_page_of_another_app_cannot_read_the_user(signed_in, app_factory):
    app, user, token, browser = signed_in()
    app_factory(name="Other", return_urls=["https://other.example.org/cb"])
    assert_error(
        browser.get("/v1/user", HTTP_ORIGIN="https://other.example.org"), 403, "origin.not_allowed"
    )
    assert browser.get("/v1/user", HTTP_ORIGIN=APP_ORIGIN).status_code == 200


def test_browser_signed_in_to_two_apps(signed_in, app_factory):
    app_a, user_a, token_a, browser = signed_in()
    app_b = app_factory(name="B", return_urls=["https://b.example.org/cb"])[0]
    _, user_b, token_b, _ = signed_in(app=app_b)
    browser.cookies[usersessions.cookie_name(app_b.pk)] = token_b
    assert_error(browser.get("/v1/user"), 400, "session.ambiguous")
    assert browser.get("/v1/user", {"clientId": app_b.client_id}).json()["id"] == str(user_b.pk)
    assert browser.get("/v1/user", HTTP_X_AURINKO_CLIENTID=app_a.client_id).json()["id"] == str(
        user_a.pk
    )
    assert browser.get("/v1/user", HTTP_ORIGIN="https://b.example.org").json()["id"] == str(
        user_b.pk
    )


# --- X-Aurinko-AccountId with a session ------------------------------------------------------


def test_account_of_the_signed_in_user(signed_in):
    app, user, token, browser = signed_in(accounts=1)
    for account in user.accounts.all():
        for header in ("HTTP_X_AURINKO_ACCOUNTID", "HTTP_X_AURINKO_ACCOUNT_ID"):
            response = browser.get("/v1/account", **{header: str(account.pk)})
            assert response.status_code == 200, response.content
            assert response.json()["id"] == account.pk


def test_account_of_another_user_or_app_is_404(
    signed_in, app_factory, user_factory, account_factory
):
    app, user, token, browser = signed_in()
    other_user = user_factory(app, accounts=1)
    unlinked = account_factory(app, "Google")
    other_app, _ = app_factory(name="Other")
    foreign = user_factory(other_app)
    for account in [*other_user.accounts.all(), unlinked, *foreign.accounts.all()]:
        response = browser.get("/v1/account", HTTP_X_AURINKO_ACCOUNTID=str(account.pk))
        assert_error(response, 404)
    assert_error(browser.get("/v1/account", HTTP_X_AURINKO_ACCOUNTID="abc"), 404)
    assert_error(browser.get("/v1/account"), 400, "account.missing")


def test_session_cannot_delete_primary_through_v1_account(signed_in):
    app, user, token, browser = signed_in()
    primary = user.accounts.get(account_type="primary")
    response = browser.delete(
        "/v1/account", HTTP_X_AURINKO_ACCOUNTID=str(primary.pk), HTTP_ORIGIN=APP_ORIGIN
    )
    assert_error(response, 400, "account.primary")


# --- unlinking -------------------------------------------------------------------------------


def test_unlink_secondary_account(signed_in):
    app, user, token, browser = signed_in(accounts=2)
    secondary = user.accounts.filter(account_type="secondary").first()
    response = browser.delete(f"/v1/user/accounts/{secondary.pk}", HTTP_ORIGIN=APP_ORIGIN)
    assert response.status_code == 200 and response.json() == {"status": "Ok"}, response.content
    assert not Account.objects.filter(pk=secondary.pk).exists()
    assert len(browser.get("/v1/user").json()["accounts"]) == 2


def test_unlink_foreign_account_is_refused(signed_in, user_factory):
    # The primary account's DELETE logs out: tests/user/test_user_accounts.py.
    app, user, token, browser = signed_in(accounts=1)
    other = user_factory(app, accounts=1).accounts.get(account_type="secondary")
    assert_error(browser.delete(f"/v1/user/accounts/{other.pk}", HTTP_ORIGIN=APP_ORIGIN), 404)
    assert Account.objects.filter(pk=other.pk).exists()


# --- sessions --------------------------------------------------------------------------------


def test_list_and_revoke_sessions(signed_in, session_factory):
    app, user, token, browser = signed_in()
    other_token = session_factory(user, user_agent="Phone", ip="2001:db8::1")
    records = browser.get("/v1/user/sessions").json()["records"]
    assert len(records) == 2
    current = [r for r in records if r["current"]]
    other = [r for r in records if not r["current"]][0]
    assert len(current) == 1 and other["userAgent"] == "Phone" and other["ip"] == "2001:db8::1"
    assert "token" not in str(records).lower()
    response = browser.delete(f"/v1/user/sessions/{other['id']}", HTTP_ORIGIN=APP_ORIGIN)
    assert response.status_code == 200
    assert usersessions.cookie_name(app.pk) not in response.cookies  # not this browser's session
    assert_error(
        Client().get("/v1/user", HTTP_X_AURINKO_SESSION=other_token), 401, "session.revoked"
    )
    assert browser.get("/v1/user").status_code == 200
    assert len(browser.get("/v1/user/sessions").json()["records"]) == 1


def test_cannot_revoke_session_of_another_user(signed_in, user_factory, session_factory):
    app, user, token, browser = signed_in()
    other = user_factory(app)
    session_factory(other)
    foreign = UserSession.objects.get(user=other)
    assert_error(browser.delete(f"/v1/user/sessions/{foreign.pk}", HTTP_ORIGIN=APP_ORIGIN), 404)
    assert UserSession.objects.get(pk=foreign.pk).revoked_at is None


# --- hot path --------------------------------------------------------------------------------


def test_session_lookup_is_one_query(signed_in, django_assert_num_queries):
    app, user, token, browser = signed_in()
    with django_assert_num_queries(1):
        principal = sessions.user_from_session(header=token, cookies={}, origin=None)
    assert principal.user.app.client_id == app.client_id
    with django_assert_num_queries(1):
        sessions.user_from_session(
            header=None, cookies={usersessions.cookie_name(app.pk): token}, origin=APP_ORIGIN
        )


def test_last_use_written_at_most_once_a_minute(signed_in, django_assert_num_queries):
    app, user, token, browser = signed_in()
    stale = timezone.now() - timedelta(minutes=5)
    UserSession.objects.update(last_used_at=stale)
    with django_assert_num_queries(2):  # read + one UPDATE
        sessions.user_from_session(header=token, cookies={}, origin=None)
    assert UserSession.objects.get().last_used_at > stale
    with django_assert_num_queries(1):
        sessions.user_from_session(header=token, cookies={}, origin=None)


@pytest.mark.parametrize("accounts", [1, 20])
def test_v1_user_costs_constant_queries(signed_in, accounts, django_assert_num_queries):
    app, user, token, browser = signed_in(accounts=accounts)
    browser.get("/v1/user")  # warm caches (content types, cookie name pattern)
    # One query: session -> user -> app joined with the user's accounts.
    with django_assert_num_queries(1) as queries:
        response = browser.get("/v1/user")
    assert len(response.json()["accounts"]) == accounts + 1
    # Nothing encrypted is read (or decrypted): no provider credentials, no signing key.
    sql = " ".join(q["sql"] for q in queries.captured_queries)
    assert "credentials" not in sql and "user_signing_key" not in sql


# --- CORS ------------------------------------------------------------------------------------


def test_preflight_from_app_origin(signed_in):
    signed_in()
    response = Client().options(
        "/v1/user/logout",
        HTTP_ORIGIN="http://localhost:5173",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="x-requested-with",
    )
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == "http://localhost:5173"
    assert response["Access-Control-Allow-Credentials"] == "true"
    assert "POST" in response["Access-Control-Allow-Methods"]
    assert "X-Requested-With" in response["Access-Control-Allow-Headers"]
    assert "X-Aurinko-Session" in response["Access-Control-Allow-Headers"]
    assert "Origin" in response["Vary"]


def test_preflight_from_unknown_origin_gets_no_grant(signed_in):
    signed_in()
    response = Client().options(
        "/v1/user", HTTP_ORIGIN="https://evil.example.net", HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET"
    )
    assert "Access-Control-Allow-Origin" not in response
    assert "Origin" in response["Vary"]


def test_cors_headers_on_success_and_on_401(signed_in):
    app, user, token, browser = signed_in()
    ok = browser.get("/v1/user", HTTP_ORIGIN=APP_ORIGIN)
    assert ok["Access-Control-Allow-Origin"] == APP_ORIGIN
    assert ok["Access-Control-Allow-Credentials"] == "true"
    assert "Origin" in ok["Vary"]
    # An add-in must be able to read the 401 that tells it to sign in.
    anonymous = Client().get("/v1/user", HTTP_ORIGIN=APP_ORIGIN)
    assert anonymous.status_code == 401
    assert anonymous["Access-Control-Allow-Origin"] == APP_ORIGIN
    evil = browser.get("/v1/user", HTTP_ORIGIN="https://evil.example.net")
    assert "Access-Control-Allow-Origin" not in evil


def test_no_cors_on_server_side_endpoints(signed_in):
    signed_in()
    response = Client().options(
        "/v1/auth/token/acd_x", HTTP_ORIGIN=APP_ORIGIN, HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST"
    )
    assert "Access-Control-Allow-Origin" not in response
    response = Client().get("/v1/am/accounts", HTTP_ORIGIN=APP_ORIGIN)
    assert "Access-Control-Allow-Origin" not in response


def test_origins_follow_return_url_changes(signed_in):
    app, *_ = signed_in()
    app.return_urls = ["https://new.example.com/cb"]
    app.save()
    preflight = {"HTTP_ACCESS_CONTROL_REQUEST_METHOD": "GET"}
    assert "Access-Control-Allow-Origin" not in Client().options(
        "/v1/user", HTTP_ORIGIN=APP_ORIGIN, **preflight
    )
    assert (
        Client().options("/v1/user", HTTP_ORIGIN="https://new.example.com", **preflight)[
            "Access-Control-Allow-Origin"
        ]
        == "https://new.example.com"
    )


def test_cleanup_deletes_ended_sessions(signed_in):
    from django.core.management import call_command

    app, user, token, browser = signed_in()
    usersessions.start(user)
    UserSession.objects.filter(pk=UserSession.objects.first().pk).update(
        expires_at=timezone.now() - timedelta(days=2)
    )
    call_command("aurinko_cleanup")
    assert UserSession.objects.count() == 1


@pytest.mark.parametrize(
    "override,error_id",
    [
        ({"SESSION_COOKIE_SAMESITE": "none"}, "aurinko_auth.E030"),
        ({"SESSION_COOKIE_SECURE": False}, "aurinko_auth.E031"),
        ({"SESSION_COOKIE_NAME": "aurinko_session"}, "aurinko_auth.E032"),
    ],
)
def test_session_cookie_settings_are_checked(settings, override, error_id):
    from aurinko_auth.checks import check_session_cookie

    assert check_session_cookie() == []
    settings.AURINKO_AUTH = {**settings.AURINKO_AUTH, **override}
    assert [e.id for e in check_session_cookie()] == [error_id]


def test_cookie_name_domain_and_samesite_are_settings(signed_in, settings):
    app, user, token, browser = signed_in()
    settings.AURINKO_AUTH = {
        **settings.AURINKO_AUTH,
        "SESSION_COOKIE_NAME": "sess_{app_id}",
        "SESSION_COOKIE_DOMAIN": "example.com",
        "SESSION_COOKIE_SAMESITE": "Lax",
    }
    from django.http import HttpResponse

    response = HttpResponse()
    usersessions.set_cookie(response, app.pk, token)
    morsel = response.cookies[f"sess_{app.pk}"]
    assert morsel["domain"] == "example.com" and morsel["samesite"] == "Lax"
    renamed = Client()
    renamed.cookies[f"sess_{app.pk}"] = token
    assert renamed.get("/v1/user").status_code == 200
    assert_error(browser.get("/v1/user"), 401, "auth.required")  # the old name is not read
