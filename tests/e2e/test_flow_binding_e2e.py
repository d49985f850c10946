"""Flow state bound to the browser, and re-authorization keeping the account id (real peer)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.e2e.conftest import follow_until
from tests.e2e.test_account_flow_e2e import RETURN_URL, configured_app  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _start(broker, app) -> str:
    return (
        f"{broker.url}/v1/auth/authorize?clientId={app.client_id}&serviceType=Google"
        f"&scopes=Mail.Read&returnUrl={RETURN_URL}&state=s-1"
    )


def test_callback_in_another_browser_is_refused(broker, oauth_peer, configured_app):  # noqa: F811
    app, _ = configured_app("Google")
    first = requests.Session()
    url = _start(broker, app)
    for _ in range(12):
        if "/v1/auth/callback" in url:
            break
        if "/sandbox/login/" in url:
            response = oauth_peer.login(first, url, "alice", "alice-pw")
        else:
            response = first.get(url, allow_redirects=False, timeout=15)
        url = requests.compat.urljoin(url, response.headers["Location"])
    assert "/v1/auth/callback" in url
    other = requests.Session()
    response = other.get(url, allow_redirects=False, timeout=15)
    assert response.status_code == 400
    assert "state.browser_mismatch" in response.text


def test_reauthorization_keeps_account_id(broker, oauth_peer, configured_app):  # noqa: F811
    app, secret = configured_app("Google")
    ids = []
    for _ in range(2):
        final = follow_until(
            requests.Session(),
            _start(broker, app),
            "app.example.com",
            oauth_peer,
            "alice",
            "alice-pw",
        )
        code = parse_qs(urlsplit(final).query)["code"][0]
        exchanged = requests.post(
            f"{broker.url}/v1/auth/token/{code}", auth=(app.client_id, secret), timeout=10
        )
        assert exchanged.status_code == 200, exchanged.text
        ids.append(exchanged.json()["accountId"])
    assert ids[0] == ids[1]
