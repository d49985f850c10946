"""Trusted domains on the session API: CORS with credentials (preflight and actual responses)
for exactly the app's origins, the cookie's per-app Origin rule, CSRF, the add-in popup's
closing page; changes take effect at once; the hot path costs what it did."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from aurinko_auth import usersessions
from aurinko_auth.conf import aurinko_settings
from aurinko_auth.hotpath import sessions
from aurinko_auth.security import origins, returnurls
from tests.user.conftest import APP_ORIGIN

pytestmark = pytest.mark.django_db

ADDIN = "https://addin.example.net"
EXTENSION = "chrome-extension://" + "b" * 32


def trusting(signed_in, *trusted: str, accounts: int = 1):
    app, user, token, browser = signed_in(accounts=accounts)
    origins.set_trusted_domains(app, add=list(trusted))
    return app, user, token, browser


def preflight(origin: str, path: str = "/v1/user", method: str = "GET"):
    return Client().options(
        path,
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD=method,
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="x-requested-with",
    )


def test_cors_allows_exactly_the_apps_origins(signed_in):
    app, user, token, browser = trusting(signed_in, ADDIN, EXTENSION)
    public = returnurls.origin(aurinko_settings.public_url)
    allowed = [APP_ORIGIN, "http://localhost:5173", ADDIN, EXTENSION, public]
    near_misses = [
        "http://addin.example.net",  # scheme
        "https://addin.example.net:8443",  # port
        "https://www.addin.example.net",  # a subdomain
        "https://addin.example.net.evil.org",  # a suffix
        "https://example.net",  # the parent
        "chrome-extension://" + "c" * 32,  # another extension
        "null",
    ]
    for origin in allowed:
        answer = preflight(origin, "/v1/user/logout", "POST")
        assert answer.status_code == 204
        assert answer["Access-Control-Allow-Origin"] == origin, origin
        assert answer["Access-Control-Allow-Credentials"] == "true"
        assert "POST" in answer["Access-Control-Allow-Methods"]
        actual = browser.get("/v1/user", HTTP_ORIGIN=origin)
        assert actual.status_code == 200, (origin, actual.content)
        assert actual["Access-Control-Allow-Origin"] == origin
        assert actual["Access-Control-Allow-Credentials"] == "true"
        assert "Origin" in actual["Vary"]
    for origin in near_misses:
        answer = preflight(origin)
        assert "Access-Control-Allow-Origin" not in answer, origin
        assert "Origin" in answer["Vary"]
        actual = browser.get("/v1/user", HTTP_ORIGIN=origin)
        assert "Access-Control-Allow-Origin" not in actual, origin
        assert actual.status_code == 403, origin  # the cookie counts for the app's pages only


def test_the_header_session_from_a_trusted_page_reads_the_user(signed_in):
    app, user, token, _ = trusting(signed_in, ADDIN)
    response = Client().get("/v1/user", HTTP_X_AURINKO_SESSION=token, HTTP_ORIGIN=ADDIN)
    assert response.status_code == 200 and response.json()["id"] == str(user.pk)
    assert response["Access-Control-Allow-Origin"] == ADDIN


def test_another_apps_trusted_domain_cannot_read_this_apps_user(signed_in, app_factory):
    app, user, token, browser = signed_in()
    other, _ = app_factory(name="B", return_urls=["https://b.example.org/cb"])
    origins.set_trusted_domains(other, add=[ADDIN])
    # The browser may call (B trusts the origin), but A's cookie does not count there.
    response = browser.get("/v1/user", HTTP_ORIGIN=ADDIN)
    assert response.status_code == 403 and response.json()["code"] == "origin.not_allowed"
    assert response["Access-Control-Allow-Origin"] == ADDIN  # so the page can read the 403


def test_csrf_lets_a_trusted_page_change_things(signed_in):
    app, user, token, browser = trusting(signed_in, ADDIN)
    refused = browser.post("/v1/user/logout", HTTP_ORIGIN="https://evil.example.net")
    assert refused.status_code == 403
    assert browser.get("/v1/user").status_code == 200  # still signed in
    done = browser.post("/v1/user/logout", HTTP_ORIGIN=ADDIN)
    assert done.status_code == 200 and done.json() == {"status": "Ok"}


def test_removing_a_trusted_domain_takes_effect_at_once(signed_in):
    app, user, token, browser = trusting(signed_in, ADDIN)
    assert preflight(ADDIN)["Access-Control-Allow-Origin"] == ADDIN  # now cached
    assert browser.get("/v1/user", HTTP_ORIGIN=ADDIN).status_code == 200
    origins.set_trusted_domains(app, remove=[ADDIN])
    assert "Access-Control-Allow-Origin" not in preflight(ADDIN)
    gone = browser.get("/v1/user", HTTP_ORIGIN=ADDIN)
    assert gone.status_code == 403 and gone.json()["code"] == "origin.not_allowed"
    origins.set_trusted_domains(app, add=[ADDIN])
    assert preflight(ADDIN)["Access-Control-Allow-Origin"] == ADDIN
    assert browser.get("/v1/user", HTTP_ORIGIN=ADDIN).status_code == 200


def test_with_the_local_cache_a_change_drops_the_cached_app(
    signed_in, settings, django_assert_num_queries, django_capture_on_commit_callbacks
):
    """This process's hot-path cache holds the session's app: a trusted-domains change is
    announced on commit (signals.py) and the next request reads the app again."""
    from django.conf import settings as django_settings

    from aurinko_auth.hotpath import channel

    settings.AURINKO_AUTH = {
        **django_settings.AURINKO_AUTH,
        "AUTH_LOCAL_CACHE": "redis://127.0.0.1:6379/8",
    }
    cache = channel.local_cache()
    try:
        assert channel._state["listener"].connected.wait(10) and cache.listening
        app, user, token, _ = trusting(signed_in, ADDIN)
        cookies = {usersessions.cookie_name(app.pk): token}
        sessions.user_from_session(header=None, cookies=cookies, origin=ADDIN)
        with django_assert_num_queries(0):  # warm
            sessions.user_from_session(header=None, cookies=cookies, origin=ADDIN)
        with django_capture_on_commit_callbacks(execute=True):
            origins.set_trusted_domains(app, remove=[ADDIN])
        with django_assert_num_queries(1), pytest.raises(Exception) as refused:
            sessions.user_from_session(header=None, cookies=cookies, origin=ADDIN)
        assert refused.value.code == "origin.not_allowed"
    finally:
        channel.stop()


def test_session_lookup_from_a_trusted_page_is_one_query(signed_in, django_assert_num_queries):
    app, user, token, _ = trusting(signed_in, ADDIN)
    cookies = {usersessions.cookie_name(app.pk): token}
    for origin in (APP_ORIGIN, ADDIN):
        with django_assert_num_queries(1):
            principal = sessions.user_from_session(header=None, cookies=cookies, origin=origin)
        assert principal.user == user


@pytest.mark.parametrize("accounts", [1, 20])
def test_v1_user_from_a_trusted_page_costs_what_it_did(
    signed_in, accounts, django_assert_num_queries
):
    app, user, token, browser = trusting(signed_in, ADDIN, accounts=accounts)
    for origin in (APP_ORIGIN, ADDIN):
        browser.get("/v1/user", HTTP_ORIGIN=origin)  # warm Django's caches
        with django_assert_num_queries(1):
            response = browser.get("/v1/user", HTTP_ORIGIN=origin)
        assert response.status_code == 200 and len(response.json()["accounts"]) == accounts + 1


def test_the_popup_closing_page_posts_to_trusted_domains(signed_in, client):
    app, user, token, browser = trusting(signed_in, ADDIN)
    page = client.get("/v1/auth/done", {"clientId": app.client_id, "status": "success"})
    html = page.content.decode()
    marker = '<script id="aurinko-origins" type="application/json">'
    posted_to = set(json.loads(html.split(marker)[1].split("<")[0]))
    assert {ADDIN, APP_ORIGIN} <= posted_to and "*" not in posted_to
