"""Partitioned session cookies (issue 17 item 2) in a real Chromium that blocks third-party
cookies (the profile's "Block third-party cookies" setting, tests/e2e/conftest.py).

An outer page on one site (``http://127.0.0.1:<port>``, standing in for outlook.office.com)
embeds the example add-in of another site (``http://localhost:<port>``; the broker is on
``http://localhost:<port>`` too) in an iframe. The add-in signs in through a popup and reads
``/v1/user`` with ``fetch(..., {credentials: "include"})``:

* with the app's partitioned cookie, the popup returns a ``sessionCode``, the iframe redeems it
  at ``/v1/auth/cookie`` and the ``Partitioned`` cookie lands in the iframe's partition:
  signed in;
* with today's unpartitioned cookie, the popup sets it in the broker's own (first-party) jar,
  and the iframe's requests never carry it: not signed in. That is why the feature exists.

Chromium accepts ``Secure`` (and so ``Partitioned``) cookies from ``http://localhost``: it
counts localhost as a secure context, so no https is needed here.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlencode

import pytest

from aurinko_auth import usersessions
from aurinko_auth.models import Account, App, AppUser, UserSession
from tests.e2e.conftest import configure_addin_app

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

OUTER_PAGE = b"""<!doctype html><html><head><meta charset="utf-8"><title>Host</title></head>
<body><h1>Mail host</h1><iframe id="addin" width="600" height="500"></iframe>
<script>document.getElementById("addin").src =
  new URLSearchParams(location.search).get("addin");</script></body></html>"""


class _OuterHandler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def do_GET(self) -> None:  # noqa: N802
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(OUTER_PAGE)))
        self.end_headers()
        self.wfile.write(OUTER_PAGE)


@pytest.fixture
def outer_site() -> Iterator[str]:
    """The embedding page, on another site than the add-in and the broker."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _OuterHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _embedded_add_in(chromium, outer_site, addin, broker, app):
    page = chromium.new_page()
    query = urlencode(
        {
            "broker": broker.url,
            "clientId": app.client_id,
            "primary": "Google",
            "secondary": "Office365",
        }
    )
    page.goto(f"{outer_site}/host.html?" + urlencode({"addin": f"{addin}/index.html?{query}"}))
    frame = page.frame_locator("#addin")
    frame.locator("#status[data-state=signed-out]").wait_for()
    with page.expect_popup() as opened:
        frame.locator("#signin").click()
    popup = opened.value
    popup.wait_for_selector("#id_username")
    popup.fill("#id_username", "alice")
    popup.fill("#id_password", "alice-pw")
    # The return page closes itself: listen before the click (it may close at once).
    with popup.expect_event("close"):
        popup.click("button[type=submit]")
    return page, frame


def _user_status_from_iframe(page, broker) -> int:
    addin_frame = next(f for f in page.frames if f.url.startswith("http://localhost:"))
    return addin_frame.evaluate(
        "(url) => fetch(url, {credentials: 'include'}).then((r) => r.status)",
        broker.url + "/v1/user",
    )


def test_partitioned_cookie_signs_in_an_iframe_on_another_site(
    broker, oauth_peer, addin_site, outer_site, chromium, app_factory, provider_config_factory
):
    addin = addin_site[0].replace("127.0.0.1", "localhost")
    app = configure_addin_app(broker, oauth_peer, addin, app_factory, provider_config_factory)[0]
    App.objects.filter(pk=app.pk).update(cookie_partitioned=True)

    page, frame = _embedded_add_in(chromium, outer_site, addin, broker, app)
    frame.locator("#status[data-state=signed-in]").wait_for()
    user = AppUser.objects.get()
    assert str(user.pk) in frame.locator("#user").text_content()
    assert _user_status_from_iframe(page, broker) == 200
    assert UserSession.objects.filter(user=user, revoked_at__isnull=True).count() == 1
    # The cookie is in the iframe's partition only: the broker opened top-level has none.
    name = usersessions.cookie_name(app.pk)
    top = chromium.new_page()
    top.goto(broker.url + "/v1/user")
    assert '"auth.required"' in top.text_content("body")
    top.close()
    assert name in {c["name"] for c in chromium.cookies(broker.url)}

    # Link a secondary account: the popup has no cookie of the iframe's partition, so the
    # iframe asks POST /v1/auth/prepare (its partitioned cookie) for a token naming the user.
    with page.expect_popup() as opened:
        frame.locator("#link").click()
    popup = opened.value
    popup.wait_for_selector("#id_username")
    popup.fill("#id_username", "bob")
    popup.fill("#id_password", "bob-pw")
    with popup.expect_event("close"):
        popup.click("button[type=submit]")
    frame.locator("#status:has-text('2 accounts')").wait_for()
    linked = Account.objects.get(user=user, account_type=Account.Type.SECONDARY)
    assert (linked.service_type, linked.email) == ("Office365", "bob@example.com")
    assert AppUser.objects.count() == 1


def test_unpartitioned_cookie_fails_in_the_same_page(
    broker, oauth_peer, addin_site, outer_site, chromium, app_factory, provider_config_factory
):
    addin = addin_site[0].replace("127.0.0.1", "localhost")
    app = configure_addin_app(broker, oauth_peer, addin, app_factory, provider_config_factory)[0]

    page, frame = _embedded_add_in(chromium, outer_site, addin, broker, app)
    # The popup signed the user in and set today's cookie in the broker's first-party jar...
    assert UserSession.objects.filter(revoked_at__isnull=True).count() == 1
    top = chromium.new_page()
    top.goto(broker.url + "/v1/user")
    assert AppUser.objects.get().email in top.text_content("body")
    top.close()
    # ...which the iframe under another site never sends: third-party cookies are blocked.
    assert _user_status_from_iframe(page, broker) == 401
    frame.locator("#status[data-state=signed-out]").wait_for()
