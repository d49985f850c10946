"""project/middleware.py: the JSON API skips Django's session, auth and messages middleware;
browser pages keep them, and every response keeps the security headers."""

from __future__ import annotations

import pytest

from project.middleware import is_api

SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


@pytest.mark.parametrize(
    ("path", "api"),
    [
        ("/v1/account", True),
        ("/v1/user", True),
        ("/v1/am/accounts/1", True),
        ("/v1/direct/gmail/v1/users/me", True),
        ("/v1/health", True),
        ("/v1/auth/authorize", False),
        ("/v1/auth/password/ast_x", False),
        ("/admin/", False),
        ("/sandbox/o/authorize/", False),
        ("/v1", False),
    ],
)
def test_is_api(path, api):
    assert is_api(path) is api


def test_api_request_has_no_django_session_user_or_messages(client, app_with_account):
    token = app_with_account[3]
    response = client.get("/v1/account", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    request = response.wsgi_request
    assert not hasattr(request, "session") and not hasattr(request, "_messages")
    assert request.user.account.pk == app_with_account[2].pk  # the API's principal
    for name, value in SECURITY_HEADERS.items():
        assert response[name] == value
    assert not response.cookies


def test_api_errors_keep_the_security_headers(client, db):
    response = client.get("/v1/account", HTTP_AUTHORIZATION="Bearer aat_unknown")
    assert response.status_code == 401
    for name, value in SECURITY_HEADERS.items():
        assert response[name] == value


def test_browser_pages_keep_session_auth_and_messages(client, db):
    response = client.get("/admin/login/")
    assert response.status_code == 200
    request = response.wsgi_request
    assert hasattr(request, "session") and hasattr(request, "_messages")
    assert request.user.is_anonymous
