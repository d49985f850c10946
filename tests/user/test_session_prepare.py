"""``POST /v1/auth/prepare`` with a signed-in session instead of an identity token: the token
lets a popup that never sees the session cookie (a partitioned cookie lives in the iframe's
partition) link a secondary account to that user."""

from __future__ import annotations

import pytest
from django.test import Client

from aurinko_auth.models import Account, PreparedAuth
from tests.user.conftest import APP_ORIGIN, query_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(signed_in, provider_config_factory):
    app, user, token, browser = signed_in(accounts=0)
    provider_config_factory(app, "Google")
    return app, user, token, browser


def prepare(browser, **headers):
    return browser.post("/v1/auth/prepare", **headers)


def link_secondary(sign_in, app, token, **kw):
    return sign_in(
        app,
        path="/v1/auth/authorize",
        userAccount="secondary",
        token=token,
        sub="g-work",
        email="alice.work@example.com",
        browser=Client(),  # the popup: no cookie of the app's
        **kw,
    )


def test_session_header_prepares_a_secondary_link(member, sign_in):
    app, user, token, _ = member
    response = prepare(Client(), HTTP_X_AURINKO_SESSION=token)
    assert response.status_code == 200
    prepared = response.json()["token"]
    stored = PreparedAuth.objects.get()
    assert stored.user == user and stored.token_type == "" and prepared not in stored.token_hash
    _, final = link_secondary(sign_in, app, prepared)
    assert query_of(final["Location"])["status"] == "success"
    linked = Account.objects.get(email="alice.work@example.com")
    assert linked.user == user and linked.account_type == Account.Type.SECONDARY


def test_cookie_from_an_app_origin_prepares(member, sign_in):
    app, user, _, browser = member
    response = prepare(browser, HTTP_ORIGIN=APP_ORIGIN)
    assert response.status_code == 200
    _, final = link_secondary(sign_in, app, response.json()["token"])
    assert Account.objects.get(email="alice.work@example.com").user == user


def test_cookie_from_another_origin_is_refused(member):
    _, _, _, browser = member
    response = prepare(browser, HTTP_ORIGIN="https://evil.example")
    assert response.status_code == 403 and response.json()["code"] == "origin.not_allowed"
    assert not PreparedAuth.objects.exists()


def test_nothing_to_prepare_with_says_what_to_send(client, db):
    response = prepare(client)
    assert response.status_code == 401
    assert response.json()["code"] == "identity.untrusted"


def test_ended_session_is_refused(member):
    from aurinko_auth import usersessions

    _, _, token, _ = member
    usersessions.revoke(usersessions.find([token])[0])
    response = prepare(Client(), HTTP_X_AURINKO_SESSION=token)
    assert response.status_code == 401 and response.json()["code"].startswith("session.")
    assert not PreparedAuth.objects.exists()


def test_session_token_cannot_bind_a_primary_sign_in(member, sign_in):
    app, _, token, _ = member
    prepared = prepare(Client(), HTTP_X_AURINKO_SESSION=token).json()["token"]
    start, final = sign_in(
        app, path="/v1/auth/authorize", userAccount="primary", token=prepared, browser=Client()
    )
    assert final is None and query_of(start["Location"])["error"] == "request.invalid"


def test_token_is_single_use_and_the_apps_own(
    member, sign_in, app_factory, provider_config_factory
):
    app, _, token, _ = member
    prepared = prepare(Client(), HTTP_X_AURINKO_SESSION=token).json()["token"]
    other, _ = app_factory(name="Other")
    provider_config_factory(other, "Google")
    start, _ = link_secondary(sign_in, other, prepared)
    assert query_of(start["Location"])["error"] == "identity.prepared_invalid"
    _, final = link_secondary(sign_in, app, prepared)
    assert query_of(final["Location"])["status"] == "success"
    again, _ = link_secondary(sign_in, app, prepared)
    assert query_of(again["Location"])["error"] == "identity.prepared_invalid"


def test_cookie_without_origin_is_a_csrf_refusal(member):
    _, _, _, browser = member
    response = prepare(browser)
    assert response.status_code == 403 and response.json()["code"] == "csrf.failed"
    assert not PreparedAuth.objects.exists()
