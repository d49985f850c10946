"""Partitioned session cookies (CHIPS) and ``__Host-`` naming, per app (issue 17 item 2): the
cookie's attributes, the User flow's ``sessionCode`` and ``POST /v1/auth/cookie``."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.http import HttpResponse
from django.test import Client

from aurinko_auth import crypto, usersessions
from aurinko_auth.models import App, AppUser, AuthCode, UserSession
from tests.user.conftest import query_of

pytestmark = pytest.mark.django_db

ORIGIN = "https://app.example.com"


@pytest.fixture
def chips_app(app_factory, provider_config_factory):
    app, secret = app_factory(scopes="Mail.Read")
    provider_config_factory(app, "Google")
    App.objects.filter(pk=app.pk).update(cookie_partitioned=True)
    app.refresh_from_db()
    return app, secret


@pytest.fixture
def mounted(settings):
    settings.ROOT_URLCONF = "tests.mount_urls"


def header_of(response: HttpResponse, name: str) -> str:
    """The Set-Cookie line as the WSGI handler sends it."""
    return response.cookies[name].output(header="").strip()


def test_partitioned_cookie_carries_partitioned_secure_and_samesite_none(app_factory, settings):
    app, _ = app_factory()
    app.cookie_partitioned = True
    settings.AURINKO_AUTH = {
        **settings.AURINKO_AUTH,
        "SESSION_COOKIE_SECURE": False,
        "SESSION_COOKIE_SAMESITE": "Lax",
    }
    response = HttpResponse()
    usersessions.set_cookie(response, app, "aus_x")
    line = header_of(response, f"AUR{app.pk}")
    attributes = [part.strip() for part in line.split(";")]
    assert attributes[0] == f"AUR{app.pk}=aus_x"
    assert {"Partitioned", "Secure", "HttpOnly", "SameSite=None", "Path=/"} <= set(attributes)

    response = HttpResponse()
    usersessions.clear_cookie(response, app)
    cleared = [part.strip() for part in header_of(response, f"AUR{app.pk}").split(";")]
    assert {"Partitioned", "Secure", "Max-Age=0"} <= set(cleared)


def test_unpartitioned_cookie_has_no_partitioned_attribute(app_factory):
    app, _ = app_factory()
    response = HttpResponse()
    usersessions.set_cookie(response, app, "aus_x")
    assert "Partitioned" not in header_of(response, f"AUR{app.pk}")


def test_host_prefix_names_the_cookie_with_path_slash_and_no_domain(app_factory, settings, mounted):
    app, _ = app_factory()
    app.cookie_host_prefix = True
    settings.AURINKO_AUTH = {**settings.AURINKO_AUTH, "SESSION_COOKIE_DOMAIN": "example.com"}
    response = HttpResponse()
    usersessions.set_cookie(response, app, "aus_x")
    morsel = response.cookies[f"__Host-AUR{app.pk}"]
    # The mount point is /broker/, but __Host- needs Path=/ (and no Domain).
    assert morsel["path"] == "/" and morsel["domain"] == "" and morsel["secure"]
    assert usersessions.cookie_name(app) == f"__Host-AUR{app.pk}"
    plain = HttpResponse()
    app.cookie_host_prefix = False
    usersessions.set_cookie(plain, app, "aus_x")
    assert plain.cookies[f"AUR{app.pk}"]["path"] == "/broker/"


def test_host_prefixed_app_reads_only_its_prefixed_cookie(signed_in):
    app, user, token, browser = signed_in()
    App.objects.filter(pk=app.pk).update(cookie_host_prefix=True)
    # The plain name could have been set by any host of the site: not read any more.
    assert browser.get("/v1/user").status_code == 401
    prefixed = Client()
    prefixed.cookies[f"__Host-AUR{app.pk}"] = token
    me = prefixed.get("/v1/user")
    assert me.status_code == 200 and me.json()["id"] == str(user.pk)


def test_partitioned_app_sign_in_returns_a_session_code_not_a_cookie(chips_app, sign_in):
    app, secret = chips_app
    _, final = sign_in(app, responseType="cookie")
    assert final.status_code == 303
    back = query_of(final["Location"])
    assert back["status"] == "success" and back["state"] == "st-1"
    assert back["sessionCode"].startswith("acd_")
    # No cookie in the popup (it would land in the broker's own partition), no session yet.
    assert f"AUR{app.pk}" not in final.cookies
    assert not UserSession.objects.exists()
    # The app's backend can't redeem it with the client secret either.
    refused = Client().post(
        f"/v1/auth/token/{back['sessionCode']}",
        HTTP_X_AURINKO_CLIENTID=app.client_id,
        HTTP_X_AURINKO_CLIENTSECRET=secret,
    )
    assert refused.status_code == 400 and refused.json()["code"] == "code.invalid"
    assert AuthCode.objects.get().used_at is None


def test_the_page_redeems_the_session_code_for_a_partitioned_cookie(chips_app, sign_in):
    app, _ = chips_app
    _, final = sign_in(app, responseType="cookie")
    code = query_of(final["Location"])["sessionCode"]
    page = Client()
    response = page.post(
        "/v1/auth/cookie",
        json.dumps({"sessionCode": code}),
        content_type="application/json",
        HTTP_ORIGIN=ORIGIN,
        HTTP_USER_AGENT="Outlook add-in",
    )
    assert response.status_code == 200, response.content
    user = AppUser.objects.get()
    assert response.json() == {"userId": str(user.pk)}
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    assert response["Access-Control-Allow-Credentials"] == "true"
    line = header_of(response, f"AUR{app.pk}")
    assert "Partitioned" in line and "HttpOnly" in line and "SameSite=None" in line
    token = response.cookies[f"AUR{app.pk}"].value
    session = UserSession.objects.get()
    assert session.token_hash == crypto.hash_token(token)
    assert session.user == user and session.user_agent == "Outlook add-in"
    assert token not in response.content.decode()
    me = page.get("/v1/user", HTTP_ORIGIN=ORIGIN)
    assert me.status_code == 200 and me.json()["id"] == str(user.pk)

    # Single use.
    again = Client().post("/v1/auth/cookie", {"sessionCode": code}, HTTP_ORIGIN=ORIGIN)
    assert again.status_code == 400 and again.json()["code"] == "code.invalid"
    assert UserSession.objects.count() == 1

    # Signing in again in the same partition ends the session it had (no fixation).
    _, final = sign_in(app, responseType="cookie")
    code = query_of(final["Location"])["sessionCode"]
    renewed = page.post("/v1/auth/cookie", {"sessionCode": code}, HTTP_ORIGIN=ORIGIN)
    assert renewed.status_code == 200
    assert UserSession.objects.get(pk=session.pk).revoked_at is not None

    # Logging out from the page clears the partitioned cookie.
    out = page.post("/v1/user/logout", HTTP_ORIGIN=ORIGIN)
    assert out.status_code == 200
    assert "Partitioned" in header_of(out, f"AUR{app.pk}")


@pytest.mark.parametrize(
    ("origin", "status", "error"),
    [
        ("https://evil.example.net", 403, "origin.not_allowed"),
        (None, 403, "origin.not_allowed"),
    ],
)
def test_session_code_from_another_origin_is_refused_and_not_spent(
    chips_app, sign_in, origin, status, error
):
    app, _ = chips_app
    _, final = sign_in(app, responseType="cookie")
    code = query_of(final["Location"])["sessionCode"]
    extra = {"HTTP_ORIGIN": origin} if origin else {}
    refused = Client().post("/v1/auth/cookie", {"sessionCode": code}, **extra)
    assert refused.status_code == status and refused.json()["code"] == error
    assert f"AUR{app.pk}" not in refused.cookies
    assert not UserSession.objects.exists() and AuthCode.objects.get().used_at is None


@pytest.mark.parametrize("body", [{}, {"sessionCode": ""}, {"sessionCode": "acd_nope"}])
def test_bad_session_codes_are_clear_json_errors(chips_app, body):
    refused = Client().post("/v1/auth/cookie", body, HTTP_ORIGIN=ORIGIN)
    assert refused.status_code == 400
    assert {"code", "message"} <= set(refused.json())
    assert not UserSession.objects.exists()


def test_an_ordinary_code_is_not_a_session_code(app_factory, provider_config_factory, sign_in):
    app, _ = app_factory(scopes="Mail.Read")
    provider_config_factory(app, "Google")
    _, final = sign_in(app, responseType="code")
    code = query_of(final["Location"])["code"]
    refused = Client().post("/v1/auth/cookie", {"sessionCode": code}, HTTP_ORIGIN=ORIGIN)
    assert refused.status_code == 400 and refused.json()["code"] == "code.invalid"
    assert AuthCode.objects.get().used_at is None


def test_session_cookie_preflight_allows_the_apps_origin(chips_app):
    preflight = Client().options(
        "/v1/auth/cookie",
        HTTP_ORIGIN=ORIGIN,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type",
    )
    assert preflight.status_code == 204
    assert preflight["Access-Control-Allow-Origin"] == ORIGIN
    assert "POST" in preflight["Access-Control-Allow-Methods"]


def test_aurinko_app_cookie_command(app_factory):
    app, _ = app_factory()
    out = io.StringIO()
    call_command(
        "aurinko_app", "cookie", app.client_id, "--partitioned", "--host-prefix", stdout=out
    )
    assert json.loads(out.getvalue()) == {
        "clientId": app.client_id,
        "partitioned": True,
        "hostPrefix": True,
        "cookieName": f"__Host-AUR{app.pk}",
        "sessionLifetime": 60 * 24 * 3600,  # the deployment's (tests/user/test_session_policy.py)
        "sessionIdleTimeout": 14 * 24 * 3600,
    }
    app.refresh_from_db()
    assert app.cookie_partitioned and app.cookie_host_prefix
    out = io.StringIO()
    call_command("aurinko_app", "cookie", app.client_id, "--unpartitioned", stdout=out)
    app.refresh_from_db()
    assert not app.cookie_partitioned and app.cookie_host_prefix
    out = io.StringIO()
    call_command(
        "aurinko_app",
        "create",
        "--name",
        "Add-in",
        "--return-url",
        "https://addin.example.com/cb",
        "--partitioned-cookie",
        stdout=out,
    )
    created = App.objects.get(client_id=json.loads(out.getvalue())["clientId"])
    assert created.cookie_partitioned and not created.cookie_host_prefix


def test_admin_app_page_switches_the_cookie_options(app_factory, client, django_user_model):
    from django.urls import reverse

    from aurinko_auth.models import AppMembership
    from tests.admin.conftest import form_data

    app, _ = app_factory()
    owner = django_user_model.objects.create_user("olivia", password="pw", is_staff=True)
    AppMembership.objects.create(app=app, user=owner, role="owner")
    client.force_login(owner)
    url = reverse("admin:aurinko_auth_app_change", args=[app.pk])
    page = client.get(url)
    assert b"Session cookie" in page.content and b"Partitioned session cookie" in page.content
    data = form_data(page)
    data.update(cookie_partitioned="on", cookie_host_prefix="on")
    done = client.post(url, data)
    assert done.status_code == 302, done.content[:2000]
    app.refresh_from_db()
    assert app.cookie_partitioned and app.cookie_host_prefix
