"""A popup sign-in keeps its opener (issue 17 item 4), in a real Chromium.

A page on another site (the example add-in on http://127.0.0.1:<port>; the broker is on
http://localhost:<port>) opens the authorize URL with ``window.open``; the popup goes through
the broker, the sandbox provider's sign-in (django-oauth-toolkit, own process, no COOP) and
the broker's callback to the return page, which reports to ``window.opener`` with
``postMessage``. A ``Cross-Origin-Opener-Policy`` other than ``unsafe-none`` on any broker
response on the way (``same-origin``: Django's default) would leave the popup without an
opener, and the message would never arrive.
"""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from aurinko_auth.models import Account
from tests.e2e.conftest import configure_addin_app

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

OPEN_AND_LISTEN = """(url) => {
  window.received = [];
  // Only window messages: the example's BroadcastChannel fallback does not count here.
  window.addEventListener("message", (event) => {
    window.received.push({ origin: event.origin, data: event.data });
  });
  window.signInPopup = window.open(url, "sign-in", "width=520,height=680");
}"""


def test_a_popup_opened_by_another_site_reports_back_through_window_opener(
    broker, oauth_peer, addin_site, chromium, app_factory, provider_config_factory
):
    site = addin_site[0]
    app = configure_addin_app(broker, oauth_peer, site, app_factory, provider_config_factory)[0]
    page = chromium.new_page()
    page.goto(f"{site}/index.html?" + urlencode({"broker": broker.url, "clientId": app.client_id}))
    authorize = f"{broker.url}/v1/auth/authorize?" + urlencode(
        {
            "clientId": app.client_id,
            "serviceType": "Google",
            "scopes": "Mail.Read",
            "responseType": "code",
            "returnUrl": f"{site}/callback.html",
            "state": "opener-state",
        }
    )
    with page.expect_popup() as opened:
        page.evaluate(OPEN_AND_LISTEN, authorize)
    popup = opened.value
    popup.wait_for_selector("#id_username")
    # Past the broker's authorize redirect, at the provider: the opener is still there.
    assert popup.evaluate("window.opener !== null")
    popup.fill("#id_username", "alice")
    popup.fill("#id_password", "alice-pw")
    popup.click("button[type=submit]")

    page.wait_for_function("window.received.length > 0")
    (message,) = page.evaluate("window.received")
    assert message["origin"] == site
    assert message["data"]["status"] == "success"
    assert message["data"]["state"] == "opener-state"
    assert message["data"]["code"].startswith("acd_")
    assert Account.objects.get().email == "alice@example.com"
    # The return page closed itself, which only a page opened by script may do.
    page.wait_for_function("window.signInPopup.closed")
