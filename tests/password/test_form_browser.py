"""The hosted sign-in form in a real Chromium, against a real Dovecot: the Account flow (a
wrong password, then the right one, then the code) and a User-flow sign-in that ends with the
session cookie. The form is filled through its labels, as a screen reader user would."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
import requests

from aurinko_auth import usersessions
from aurinko_auth.models import Account, AppUser
from tests.conftest import RETURN_URL
from tests.flows.conftest import query_of
from tests.password.conftest import USERS

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def broker(live_server, settings, imap_settings):
    settings.AURINKO_AUTH = {**settings.AURINKO_AUTH, "PUBLIC_URL": live_server.url}
    return live_server


def _open(browser, broker, app, path: str, **params: str):
    """A new browser context at the broker's ``path`` for an IMAP sign-in; its visits to the
    app's returnUrl are answered by a stand-in app page."""
    context = browser.new_context()
    context.route(
        "https://app.example.com/**",
        lambda route: route.fulfill(
            status=200, content_type="text/html", body="<p id=app>Back at the app</p>"
        ),
    )
    page = context.new_page()
    page.goto(
        f"{broker.url}{path}?"
        + urlencode(
            {
                "clientId": app.client_id,
                "serviceType": "IMAP",
                "scopes": "Mail.Read",
                "returnUrl": RETURN_URL,
                **params,
            }
        )
    )
    return context, page


def _fill(page, login: str, password: str, port: int, *, starttls: bool = False) -> None:
    page.get_by_label("Login (usually your e-mail address)").fill(login)
    page.get_by_label("Password").fill(password)
    page.get_by_label("IMAP server").fill("127.0.0.1")
    page.get_by_label("Port", exact=True).fill(str(port))
    if starttls:
        page.get_by_label("STARTTLS").check()
    page.get_by_role("button", name="Sign in").click()


def test_account_flow_in_a_browser(broker, browser, app_factory, imap_settings):
    dovecot = imap_settings
    app, secret = app_factory(scopes="Mail.Read")
    context, page = _open(browser, broker, app, "/v1/auth/authorize", state="b-1")
    assert page.get_by_role("heading").inner_text() == "Sign in to your IMAP mailbox"
    _fill(page, "alice@example.com", "not-the-password", dovecot.imap_port, starttls=True)
    alert = page.get_by_role("alert")
    assert "did not accept" in alert.inner_text()
    assert (
        page.get_by_label("Login (usually your e-mail address)").input_value()
        == "alice@example.com"
    )
    assert page.get_by_label("Password").input_value() == ""  # never sent back
    assert not Account.objects.exists()
    _fill(page, "alice@example.com", USERS["alice@example.com"], dovecot.imap_port, starttls=True)
    page.wait_for_url("https://app.example.com/**")
    back = query_of(page.url)
    assert back["status"] == "success" and back["state"] == "b-1"
    token = requests.post(
        f"{broker.url}/v1/auth/token/{back['code']}", auth=(app.client_id, secret), timeout=10
    ).json()["accessToken"]
    me = requests.get(
        f"{broker.url}/v1/account", timeout=10, headers={"Authorization": f"Bearer {token}"}
    ).json()
    assert me["serviceType"] == "IMAP" and me["loginString"] == "alice@example.com"
    assert me["serverUrl"] == f"imap://127.0.0.1:{dovecot.imap_port}"
    context.close()


def test_user_flow_sign_in_in_a_browser(broker, browser, app_factory, imap_settings):
    dovecot = imap_settings
    app, _ = app_factory(scopes="Mail.Read")
    context, page = _open(
        browser, broker, app, "/v1/auth/authorizeUser", state="b-2", accountRole="primary"
    )
    _fill(page, "bob", USERS["bob"], dovecot.imaps_port)
    page.wait_for_url("https://app.example.com/**")
    assert query_of(page.url)["status"] == "success"
    cookies = {c["name"]: c for c in context.cookies(broker.url)}
    cookie = cookies[usersessions.cookie_name(app.pk)]
    assert cookie["httpOnly"] is True
    user = AppUser.objects.get()
    assert Account.objects.get().user_id == user.pk
    assert usersessions.find([cookie["value"]])[0].user_id == user.pk
    context.close()
