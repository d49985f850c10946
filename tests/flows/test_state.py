"""The state parameter: forged, replayed, expired, another browser, parallel flows."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from django.test import Client
from django.utils import timezone

from aurinko_auth.models import Account, AccountToken, AuthCode, AuthState
from tests.conftest import RETURN_URL
from tests.flows.conftest import GOOGLE_TOKEN_URL, query


def callback(client, state, **extra):
    return client.get("/v1/auth/callback", {"state": state, "code": "4/provider-code", **extra})


def test_forged_state_is_400_page(client, start):
    start()
    r = callback(client, "ast_forged")
    assert r.status_code == 400 and "Location" not in r
    assert b"state.invalid" in r.content


def test_missing_state(client, start):
    start()
    r = client.get("/v1/auth/callback", {"code": "x"})
    assert r.status_code == 400 and b"state.missing" in r.content


def test_replayed_state(client, start, google_ok):
    google_ok()
    state = start()
    assert query(callback(client, state))["status"] == "success"
    r = callback(client, state)
    assert r.status_code == 400 and "Location" not in r
    assert b"state.used" in r.content
    assert AuthCode.objects.count() == 1


def test_expired_state(client, start, google_ok):
    google_ok()
    state = start()
    AuthState.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    r = callback(client, state)
    assert r.status_code == 400 and b"state.expired" in r.content
    assert not Account.objects.exists()


@pytest.mark.parametrize("cookie", [None, "abr_" + "x" * 43])
def test_another_browser(client, start, google_ok, cookie):
    google_ok()
    state = start()
    other = Client()
    if cookie:
        other.cookies["aurinko_flow"] = cookie
    r = callback(other, state)
    assert r.status_code == 400 and b"state.browser_mismatch" in r.content
    assert not Account.objects.exists()


def test_two_flows_in_one_browser(client, start, google_ok):
    google_ok(sub="1")
    s1 = start(state="one")
    s2 = start(state="two")
    assert s1 != s2
    q2 = query(callback(client, s2))
    q1 = query(callback(client, s1))
    assert (q1["status"], q1["state"]) == ("success", "one")
    assert (q2["status"], q2["state"]) == ("success", "two")


def test_access_denied(client, start):
    state = start()
    q = query(client.get("/v1/auth/callback", {"state": state, "error": "access_denied"}))
    assert (q["status"], q["error"], q["state"]) == ("error", "access_denied", "app-state")
    assert q["message"]


def nothing_written() -> bool:
    return not (Account.objects.exists() or AuthCode.objects.exists()
                or AccountToken.objects.exists())


@pytest.mark.parametrize("answer", [
    {"status": 503, "body": "unavailable"},
    {"body": requests.Timeout()},
    {"status": 200, "body": "<html>not json</html>"},
    {"status": 400, "json": {"error": "invalid_grant", "error_description": "Bad Request"}},
])
def test_token_endpoint_failures(client, start, mocked, answer):
    mocked.post(GOOGLE_TOKEN_URL, **answer)
    state = start()
    r = callback(client, state)
    q = query(r)
    assert r["Location"].startswith(RETURN_URL)
    assert q["status"] == "error" and q["error"] and q["state"] == "app-state"
    assert "provider-code" not in r["Location"]
    assert nothing_written()


def test_userinfo_failure_writes_nothing(client, start, mocked):
    mocked.post(GOOGLE_TOKEN_URL, json={"access_token": "ya29.a", "refresh_token": "1//r",
                                        "expires_in": 3599, "token_type": "Bearer"})
    mocked.get("https://openidconnect.googleapis.com/v1/userinfo", status=500)
    q = query(callback(client, start()))
    assert q["status"] == "error"
    assert nothing_written()
