"""The User flow in a real Chromium: an add-in page on another origin signs a user in through
the broker and the sandbox identity provider (django-oauth-toolkit, own process), links a
secondary account, reads /v1/user with ``fetch(..., {credentials: "include"})`` and logs out.

The page is the documented example, docs/examples/addin/, served by a second HTTP server on
http://127.0.0.1:<port> while the broker runs on http://localhost:<port> (another site).
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
import requests

from aurinko_auth import usersessions
from aurinko_auth.models import Account, AppUser, UserSession
from tests.e2e.conftest import configure_addin_app

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _sign_in_popup(page, button: str, username: str, password: str) -> None:
    with page.expect_popup() as opened:
        page.click(button)
    popup = opened.value
    popup.wait_for_selector("#id_username")
    popup.fill("#id_username", username)
    popup.fill("#id_password", password)
    popup.click("button[type=submit]")


@pytest.mark.parametrize(
    ("page_host", "chromium"),
    [
        # Another origin on the same site (add-in at addin.example.com, broker at
        # auth.example.com): works with the browser's default settings.
        ("localhost", False),
        # Another site: the cookie is a third-party cookie there, so only where the user allows
        # them (code mode + X-Aurinko-Session is the path for browsers that block them).
        ("127.0.0.1", True),
    ],
    indirect=["chromium"],
    ids=["same-site", "cross-site"],
)
def test_add_in_signs_in_links_reads_user_and_logs_out(
    page_host, broker, oauth_peer, addin_site, chromium, app_factory, provider_config_factory
):
    addin_site = addin_site[0].replace("127.0.0.1", page_host)
    app = configure_addin_app(broker, oauth_peer, addin_site, app_factory, provider_config_factory)[
        0
    ]

    page = chromium.new_page()
    query = urlencode(
        {
            "broker": broker.url,
            "clientId": app.client_id,
            "primary": "Google",
            "secondary": "Office365",
        }
    )
    page.goto(f"{addin_site}/index.html?{query}")
    page.wait_for_selector("#status[data-state=signed-out]")

    # Primary sign-in in a popup (cookie mode).
    _sign_in_popup(page, "#signin", "alice", "alice-pw")
    page.wait_for_selector("#status[data-state=signed-in]")
    shown = json.loads(page.text_content("#user"))
    user = AppUser.objects.get()
    assert shown["id"] == str(user.pk) and shown["email"] == "alice@example.com"
    assert [(a["serviceType"], a["type"]) for a in shown["accounts"]] == [("Google", "primary")]

    # The session cookie, as the browser stores it.
    name = usersessions.cookie_name(app.pk)
    cookies = {c["name"]: c for c in chromium.cookies(broker.url)}
    assert name in cookies, cookies.keys()
    cookie = cookies[name]
    assert cookie["httpOnly"] is True and cookie["secure"] is True
    assert cookie["sameSite"] == "None" and cookie["path"] == "/"
    assert cookie["domain"] == "localhost"
    # Scripts can't read it, not even on the broker's own origin.
    broker_page = chromium.new_page()
    broker_page.goto(broker.url + "/v1/user")
    assert name not in broker_page.evaluate("document.cookie")
    assert json.loads(broker_page.text_content("body"))["id"] == str(user.pk)
    broker_page.close()

    # Link a secondary account (another provider, another sandbox user).
    _sign_in_popup(page, "#link", "bob", "bob-pw")
    page.wait_for_function("document.querySelector('#status').textContent.includes('2 accounts')")
    shown = json.loads(page.text_content("#user"))
    assert [(a["serviceType"], a["type"], a["email"]) for a in shown["accounts"]] == [
        ("Google", "primary", "alice@example.com"),
        ("Office365", "secondary", "bob@example.com"),
    ]
    assert Account.objects.filter(user=user).count() == 2

    # Log out from the other origin: the cookie goes, the session ends server-side, and a
    # copy of the cookie taken before stops working.
    copied = cookie["value"]
    page.click("#logout")
    page.wait_for_selector("#status[data-state=signed-out]")
    assert name not in {c["name"] for c in chromium.cookies(broker.url)}
    assert UserSession.objects.get().revoked_at is not None
    replay = requests.get(
        broker.url + "/v1/user", headers={"Cookie": f"{name}={copied}"}, timeout=10
    )
    assert replay.status_code == 401 and replay.json()["code"] == "session.revoked"


def test_add_in_code_mode_in_a_browser_blocking_third_party_cookies(
    broker, oauth_peer, addin_site, chromium, app_factory, provider_config_factory
):
    """The Office-dialog path, in a popup: code mode, the app's backend redeems the code, the
    page calls with X-Aurinko-Session, and links a secondary account by userSignature."""
    site, backend = addin_site
    app, secret = configure_addin_app(
        broker, oauth_peer, site, app_factory, provider_config_factory
    )
    backend.update(broker=broker.url, clientId=app.client_id, secret=secret)
    page = chromium.new_page()
    query = urlencode(
        {
            "broker": broker.url,
            "clientId": app.client_id,
            "primary": "Google",
            "secondary": "Office365",
            "mode": "code",
        }
    )
    page.goto(f"{site}/index.html?{query}")
    page.wait_for_selector("#status[data-state=signed-out]")

    _sign_in_popup(page, "#signin", "alice", "alice-pw")
    page.wait_for_selector("#status[data-state=signed-in]")
    assert usersessions.cookie_name(app.pk) not in {c["name"] for c in chromium.cookies()}
    _sign_in_popup(page, "#link", "bob", "bob-pw")
    page.wait_for_function("document.querySelector('#status').textContent.includes('2 accounts')")
    shown = json.loads(page.text_content("#user"))
    assert [(a["type"], a["email"]) for a in shown["accounts"]] == [
        ("primary", "alice@example.com"),
        ("secondary", "bob@example.com"),
    ]

    page.click("#logout")
    page.wait_for_selector("#status[data-state=signed-out]")
    assert UserSession.objects.get().revoked_at is not None
