"""A page of an app's origin can read X-Aurinko-Request-Id (issue 16 item 1): CORS exposes it,
on successes and on errors alike, to allowed origins only."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.user.conftest import APP_ORIGIN

pytestmark = pytest.mark.django_db


def test_allowed_origins_may_read_the_request_id(signed_in):
    _, _, _, browser = signed_in()
    ok = browser.get("/v1/user", HTTP_ORIGIN=APP_ORIGIN)
    assert ok.status_code == 200 and ok["X-Aurinko-Request-Id"]
    assert ok["Access-Control-Expose-Headers"] == "X-Aurinko-Request-Id"
    refused = Client().get("/v1/user", HTTP_ORIGIN=APP_ORIGIN)
    assert refused.status_code == 401
    assert refused["Access-Control-Expose-Headers"] == "X-Aurinko-Request-Id"
    assert refused.json()["requestId"] == refused["X-Aurinko-Request-Id"]


def test_other_origins_are_not_told(signed_in):
    _, _, _, browser = signed_in()
    evil = browser.get("/v1/user", HTTP_ORIGIN="https://evil.example.net")
    assert "Access-Control-Expose-Headers" not in evil
