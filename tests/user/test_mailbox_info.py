"""``mailboxInfo`` (Aurinko's multi-client setups): several mailboxes of one app signed in in
one browser, each with its own session cookie, read when the request names the mailbox in
``X-Aurinko-Mailbox-Info``."""

from __future__ import annotations

import pytest
from django.test import Client

from aurinko_auth import usersessions
from aurinko_auth.models import Account, AppUser
from tests.user.conftest import APP_ORIGIN, query_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def app(app_factory, provider_config_factory):
    app, _ = app_factory()
    provider_config_factory(app, "Google")
    return app


def me(browser, mailbox=None, **headers):
    if mailbox is not None:
        headers["HTTP_X_AURINKO_MAILBOX_INFO"] = mailbox
    return browser.get("/v1/user", HTTP_ORIGIN=APP_ORIGIN, **headers)


def test_each_mailbox_has_its_own_cookie_and_session(client, sign_in, app):
    _, first = sign_in(app, sub="g-a", email="a@example.com", mailboxInfo="a@example.com")
    _, second = sign_in(app, sub="g-b", email="b@example.com", mailboxInfo="b@example.com")
    assert query_of(first["Location"])["status"] == query_of(second["Location"])["status"]
    names = {name for name in client.cookies if name.startswith("AUR")}
    assert names == {
        usersessions.cookie_name(app, mailbox_info="a@example.com"),
        usersessions.cookie_name(app, mailbox_info="b@example.com"),
    }
    assert all("example" not in name for name in names)  # no address in a cookie name
    assert me(client, "a@example.com").json()["email"] == "a@example.com"
    assert me(client, "B@Example.com ").json()["email"] == "b@example.com"  # case, spaces
    assert AppUser.objects.count() == 2
    # Without the header only the plain cookie counts: there is none.
    refused = me(client)
    assert refused.status_code == 401 and refused.json()["code"] == "session.invalid"


def test_logout_of_one_mailbox_keeps_the_other(client, sign_in, app):
    sign_in(app, sub="g-a", email="a@example.com", mailboxInfo="a@example.com")
    sign_in(app, sub="g-b", email="b@example.com", mailboxInfo="b@example.com")
    out = client.post(
        "/v1/user/logout", HTTP_ORIGIN=APP_ORIGIN, HTTP_X_AURINKO_MAILBOX_INFO="a@example.com"
    )
    assert out.status_code == 200
    assert out.cookies[usersessions.cookie_name(app, mailbox_info="a@example.com")].value == ""
    assert me(client, "a@example.com").status_code == 401
    assert me(client, "b@example.com").json()["email"] == "b@example.com"


def test_a_new_sign_in_of_a_mailbox_replaces_only_that_mailboxs_session(client, sign_in, app):
    sign_in(app, sub="g-a", email="a@example.com", mailboxInfo="a@example.com")
    sign_in(app, sub="g-b", email="b@example.com", mailboxInfo="b@example.com")
    sign_in(app, sub="g-a", email="a@example.com", mailboxInfo="a@example.com")
    user_b = AppUser.objects.get(email="b@example.com")
    assert user_b.sessions.filter(revoked_at__isnull=True).count() == 1
    user_a = AppUser.objects.get(email="a@example.com")
    assert user_a.sessions.filter(revoked_at__isnull=True).count() == 1  # no fixation


def test_a_secondary_link_reads_its_mailboxs_cookie(client, sign_in, app):
    sign_in(app, sub="g-a", email="a@example.com", mailboxInfo="a@example.com")
    sign_in(app, sub="g-b", email="b@example.com", mailboxInfo="b@example.com")
    _, linked = sign_in(
        app,
        sub="g-a2",
        email="a.other@example.com",
        accountRole="secondary",
        mailboxInfo="a@example.com",
    )
    assert query_of(linked["Location"])["status"] == "success"
    account = Account.objects.get(email="a.other@example.com")
    assert account.user.email == "a@example.com"
    assert [a["email"] for a in me(client, "a@example.com").json()["accounts"]] == [
        "a@example.com",
        "a.other@example.com",
    ]


def test_without_mailbox_info_nothing_changes(client, sign_in, app):
    sign_in(app)
    assert usersessions.cookie_name(app) in client.cookies
    assert me(client).status_code == 200
    # A mailbox header that names no cookie is not signed in.
    assert me(client, "someone@example.com").status_code == 401


@pytest.mark.parametrize("bad", ["x" * 321, "a\x01b"])
def test_unusable_mailbox_info_is_refused(client, sign_in, app, bad):
    start, final = sign_in(app, mailboxInfo=bad)
    assert final is None and query_of(start["Location"])["error"] == "request.invalid"
    refused = me(Client(), bad)
    assert refused.status_code == 400 and refused.json()["code"] == "request.invalid"


def test_cors_preflight_allows_the_header(client, app):
    response = client.options(
        "/v1/user",
        HTTP_ORIGIN=APP_ORIGIN,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="x-aurinko-mailbox-info",
    )
    assert "X-Aurinko-Mailbox-Info" in response["Access-Control-Allow-Headers"]
