"""Cross-Origin-Opener-Policy: the browser flows' pages keep the popup's opener (issue 17
item 4); the API and the admin keep the host's policy (Django's default ``same-origin``)."""

from __future__ import annotations

import pytest

from tests.flows.conftest import (
    GOOGLE_TOKEN,
    GOOGLE_TOKEN_RESPONSE,
    GOOGLE_USERINFO,
    GOOGLE_USERINFO_RESPONSE,
    RETURN_URL,
    query_of,
)

COOP = "Cross-Origin-Opener-Policy"


def test_every_step_of_a_flow_keeps_the_opener(google_app):
    """The authorize redirect, the callback's redirect to the return URL: one COOP other than
    unsafe-none anywhere on the way severs the opener for good."""
    response = google_app.authorize()
    assert response.status_code == 303 and response[COOP] == "unsafe-none"
    state = query_of(response["Location"])["state"]
    google_app.http.post(GOOGLE_TOKEN, json=GOOGLE_TOKEN_RESPONSE)
    google_app.http.get(GOOGLE_USERINFO, json=GOOGLE_USERINFO_RESPONSE)
    back = google_app.callback(state=state, code="4/x")
    assert back.status_code == 303 and back["Location"].startswith(RETURN_URL)
    assert back[COOP] == "unsafe-none"


@pytest.mark.parametrize(
    "path",
    [
        "/v1/auth/authorize?clientId=nope",
        "/v1/auth/authorizeUser?clientId=nope",
        "/v1/auth/authorizeDaemon?clientId=nope",
        "/v1/auth/callback?state=ast_unknown",
        "/v1/auth/password/ast_unknown",
        "/v1/auth/authorize?clientId=%00",  # refused by the NUL guard, before the view
    ],
)
def test_error_pages_of_the_flows_keep_the_opener(client, db, path):
    response = client.get(path)
    assert response.status_code == 400 and response["Content-Type"].startswith("text/html")
    assert response[COOP] == "unsafe-none"


def test_under_a_mount_point_too(client, db, settings):
    settings.ROOT_URLCONF = "tests.mount_urls"
    response = client.get("/broker/v1/auth/authorize", {"clientId": "nope"})
    assert response.status_code == 400 and response[COOP] == "unsafe-none"


@pytest.mark.parametrize(
    "path", ["/v1/user", "/v1/account", "/v1/auth/token/acd_x", "/v1/health", "/admin/login/"]
)
def test_api_and_admin_keep_same_origin(client, db, path):
    response = client.get(path)
    assert response[COOP] == "same-origin"
