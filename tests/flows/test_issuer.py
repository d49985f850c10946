"""Issue 19 item 11: RFC 9207 mix-up defence. When the provider's callback carries ``iss``, it
must name the authorization server the flow was sent to (the provider's, or the app's
overrides); a mismatch is an error redirect and no code is redeemed anywhere."""

from __future__ import annotations

import pytest

from aurinko_auth.models import Account, ProviderConfig
from tests.flows.conftest import GOOGLE_TOKEN, query_of


@pytest.mark.parametrize("iss", [None, "https://accounts.google.com"])
def test_callback_without_or_with_the_right_iss_completes(google_app, iss):
    state = google_app.start()
    if iss is None:
        assert google_app.complete(state)["status"] == "success"
        return
    google_app.http.post(
        GOOGLE_TOKEN, json={"access_token": "a", "expires_in": 3599, "refresh_token": "1//r"}
    )
    google_app.http.get(
        "https://openidconnect.googleapis.com/v1/userinfo",
        json={"sub": "1", "email": "a@example.com", "email_verified": True},
    )
    back = google_app.callback(state=state, code="4/x", iss=iss)
    assert query_of(back["Location"])["status"] == "success"


@pytest.mark.parametrize(
    "iss", ["https://evil.example.com", "https://accounts.google.com.evil.example", ""]
)
def test_callback_with_another_iss_is_refused(google_app, iss):
    state = google_app.start()
    token = google_app.http.post(GOOGLE_TOKEN, json={"access_token": "a", "expires_in": 3599})
    back = google_app.callback(state=state, code="4/x", iss=iss)
    assert back.status_code == 303
    query = query_of(back["Location"])
    assert query["status"] == "error" and query["error"] == "state.issuer_mismatch"
    assert query["state"] == "app-state"
    assert token.call_count == 0 and not Account.objects.exists()


def test_error_callback_with_another_iss_is_refused(google_app):
    state = google_app.start()
    back = google_app.callback(state=state, error="access_denied", iss="https://evil.example")
    assert query_of(back["Location"])["error"] == "state.issuer_mismatch"


def test_overridden_endpoints_set_the_expected_issuer(google_app):
    config = ProviderConfig.objects.get(app=google_app.app)
    config.endpoints = {"authorize": "https://idp.example.com/o/authorize/"}
    config.save()
    state = google_app.start()
    back = google_app.callback(state=state, code="4/x", iss="https://accounts.google.com")
    assert query_of(back["Location"])["error"] == "state.issuer_mismatch"
    # An explicit issuer override is matched exactly.
    config.endpoints = {**config.endpoints, "issuer": "https://idp.example.com/o"}
    config.save()
    state = google_app.start()
    back = google_app.callback(state=state, code="4/x", iss="https://idp.example.com/other")
    assert query_of(back["Location"])["error"] == "state.issuer_mismatch"
