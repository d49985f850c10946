"""The broker mounted under a prefix (``path("broker/", include(...))``): every URL it builds
and every cookie path comes from reverse() and the mount point (issue 18 item 4)."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings

from aurinko_auth import usersessions
from aurinko_auth.api.direct import raw_direct_path
from aurinko_auth.conf import aurinko_settings
from tests.conftest import RETURN_URL
from tests.flows.conftest import query_of


@pytest.fixture
def mounted(settings):
    settings.ROOT_URLCONF = "tests.mount_urls"
    settings.AURINKO_AUTH = {**django_settings.AURINKO_AUTH, "PUBLIC_URL": "https://a.example"}


def test_paths_follow_the_mount_point(mounted):
    assert aurinko_settings.callback_url == "https://a.example/broker/v1/auth/callback"
    assert aurinko_settings.mount_path == "/broker/"
    assert aurinko_settings.auth_path == "/broker/v1/auth/"
    assert aurinko_settings.url("password", state="ast_1").endswith(
        "/broker/v1/auth/password/ast_1"
    )


@pytest.mark.parametrize(
    "public_url",
    ["https://a.example/broker", "https://a.example/broker/"],
)
def test_a_public_url_naming_the_mount_is_not_doubled(mounted, settings, public_url):
    settings.AURINKO_AUTH = {**settings.AURINKO_AUTH, "PUBLIC_URL": public_url}
    assert aurinko_settings.callback_url == "https://a.example/broker/v1/auth/callback"


def test_a_proxy_prefix_in_the_public_url_is_kept(settings):
    """Mounted at the root, behind a proxy serving the project under /auth."""
    settings.AURINKO_AUTH = {**settings.AURINKO_AUTH, "PUBLIC_URL": "https://a.example/auth"}
    assert aurinko_settings.callback_url == "https://a.example/auth/v1/auth/callback"


def test_root_mount_is_unchanged(settings):
    assert aurinko_settings.mount_path == "/"
    assert aurinko_settings.auth_path == "/v1/auth/"


def test_flow_under_a_prefix(mounted, google_app):
    """authorize sets the flow cookie on the prefixed path and names the prefixed callback;
    the callback, sent the cookie, completes (no state.browser_mismatch)."""
    client = google_app.client
    response = client.get(
        "/broker/v1/auth/authorize",
        {
            "clientId": google_app.app.client_id,
            "serviceType": "Google",
            "scopes": "Mail.Read",
            "returnUrl": RETURN_URL,
            "state": "s",
        },
    )
    assert response.status_code == 303, response.content
    provider = query_of(response["Location"])
    assert provider["redirect_uri"] == "https://a.example/broker/v1/auth/callback"
    cookie = response.cookies[aurinko_settings.FLOW_COOKIE_NAME]
    assert cookie["path"] == "/broker/v1/auth/"
    from tests.flows.conftest import (
        GOOGLE_TOKEN,
        GOOGLE_TOKEN_RESPONSE,
        GOOGLE_USERINFO,
        GOOGLE_USERINFO_RESPONSE,
    )

    google_app.http.post(GOOGLE_TOKEN, json=GOOGLE_TOKEN_RESPONSE)
    google_app.http.get(GOOGLE_USERINFO, json=GOOGLE_USERINFO_RESPONSE)
    back = client.get("/broker/v1/auth/callback", {"state": provider["state"], "code": "4/x"})
    assert back.status_code == 303, back.content
    assert query_of(back["Location"])["status"] == "success"


def test_session_cookie_path_is_the_mount_point(mounted):
    from django.http import HttpResponse

    response = HttpResponse()
    usersessions.set_cookie(response, 7, "aus_x")
    assert response.cookies["AUR7"]["path"] == "/broker/"
    response = HttpResponse()
    usersessions.clear_cookie(response, 7)
    assert response.cookies["AUR7"]["path"] == "/broker/"


def test_direct_api_path_under_a_prefix(mounted, rf):
    request = rf.get("/broker/v1/direct/a%2Fb/c", RAW_URI="/broker/v1/direct/a%2Fb/c?x=1")
    assert raw_direct_path(request, "a/b/c") == "a%2Fb/c"
    request = rf.get("/v1/direct/x", RAW_URI="/other/v1/direct/a%2Fb")
    assert raw_direct_path(request, "decoded") == "decoded"
