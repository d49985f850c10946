"""Issue 16 item 5: the app's own redirect page. A provider configuration naming one sends it
as ``redirect_uri`` in the authorization (or admin consent) request and again in the token
request (RFC 6749 4.1.3: they must match), for the Account, User and Service Account flows; the
page forwards the provider's query to ``/v1/auth/callback``, where the state machinery stays the
defence (single use, bound to the browser) and the RFC 9207 ``iss`` check still applies."""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest
import responses
from django.test import Client

from aurinko_auth.models import Account, ProviderConfig
from tests.conftest import RETURN_URL
from tests.daemon.graph import ms_app_token_response
from tests.daemon.keys import make_service_account_key
from tests.flows.conftest import GOOGLE_TOKEN, GOOGLE_USERINFO, query_of

PAGE = "https://app.example.com/aurinko/redirect"
CALLBACK = "http://127.0.0.1:8000/v1/auth/callback"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"


def token_request_body(mock: responses.RequestsMock) -> dict[str, list[str]]:
    (call,) = [c for c in mock.calls if c.request.url == GOOGLE_TOKEN]
    return parse_qs(call.request.body)


@pytest.fixture
def with_page(google_app):
    ProviderConfig.objects.filter(app=google_app.app).update(redirect_page=PAGE)
    return google_app


def test_account_flow_sends_the_page_in_both_requests(with_page):
    response = with_page.authorize()
    assert response.status_code == 303
    sent = query_of(response["Location"])
    assert sent["redirect_uri"] == PAGE
    # What the page forwards: the provider's query, unchanged, to our callback.
    back = with_page.complete(sent["state"])
    assert back["status"] == "success" and back["state"] == "app-state"
    assert token_request_body(with_page.http)["redirect_uri"] == [PAGE]
    assert Account.objects.get().email == "alice@example.com"


def test_without_a_page_the_callback_is_sent_in_both_requests(google_app):
    sent = query_of(google_app.authorize()["Location"])
    assert sent["redirect_uri"] == CALLBACK
    google_app.complete(sent["state"])
    assert token_request_body(google_app.http)["redirect_uri"] == [CALLBACK]


def test_the_token_request_repeats_what_the_flow_sent_even_if_the_page_changed(with_page):
    state = with_page.start()
    ProviderConfig.objects.filter(app=with_page.app).update(
        redirect_page="https://app.example.com/other-page"
    )
    assert with_page.complete(state)["status"] == "success"
    assert token_request_body(with_page.http)["redirect_uri"] == [PAGE]
    # Removing the page: the next flow is sent our callback again.
    ProviderConfig.objects.filter(app=with_page.app).update(redirect_page="")
    assert query_of(with_page.authorize()["Location"])["redirect_uri"] == CALLBACK


def test_a_forwarded_callback_works_in_the_starting_browser_only(with_page):
    state = with_page.start()
    other = Client()
    refused = other.get("/v1/auth/callback", {"state": state, "code": "4/x"})
    assert refused.status_code == 400 and b"state.browser_mismatch" in refused.content
    assert not with_page.http.calls
    # The starting browser still completes, once.
    assert with_page.complete(state)["status"] == "success"
    again = with_page.callback(state=state, code="4/x")
    assert again.status_code == 400 and b"state.used" in again.content


def test_a_forwarded_iss_is_still_checked(with_page):
    state = with_page.start()
    back = with_page.callback(state=state, code="4/x", iss="https://evil.example.com")
    assert query_of(back["Location"])["error"] == "state.issuer_mismatch"
    assert not with_page.http.calls and not Account.objects.exists()
    state = with_page.start()
    with_page.http.post(
        GOOGLE_TOKEN, json={"access_token": "a", "refresh_token": "1//r", "expires_in": 3599}
    )
    with_page.http.get(GOOGLE_USERINFO, json={"sub": "1", "email": "a@example.com"})
    back = with_page.callback(state=state, code="4/x", iss="https://accounts.google.com")
    assert back.status_code == 303, back.content
    assert query_of(back["Location"])["status"] == "success", back["Location"]


def test_a_forwarded_provider_error_reaches_the_return_url(with_page):
    state = with_page.start()
    back = with_page.callback(
        state=state, error="access_denied", error_description="The user said no"
    )
    query = query_of(back["Location"])
    assert query["status"] == "error" and query["error"] == "access.denied"


@responses.activate
def test_user_flow_token_request_carries_the_page(client, app_factory, provider_config_factory):
    app, _ = app_factory(return_urls=["https://app.example.com/callback"])
    provider_config_factory(app, "Google", redirect_page=PAGE)
    start = client.get(
        "/v1/auth/authorizeUser",
        {
            "clientId": app.client_id,
            "serviceType": "Google",
            "scopes": "Mail.Read",
            "returnUrl": "https://app.example.com/callback",
            "accountRole": "primary",
        },
    )
    sent = query_of(start["Location"])
    assert sent["redirect_uri"] == PAGE
    responses.post(
        GOOGLE_TOKEN, json={"access_token": "ya29.u", "refresh_token": "1//u", "expires_in": 3599}
    )
    responses.get(GOOGLE_USERINFO, json={"sub": "u-1", "email": "u@example.com"})
    final = client.get("/v1/auth/callback", {"state": sent["state"], "code": "4/u"})
    assert query_of(final["Location"])["status"] == "success"
    assert parse_qs(responses.calls[0].request.body)["redirect_uri"] == [PAGE]


# --- the Service Account flow ---------------------------------------------------------------


def daemon_start(client, app, service_type="Office365", **extra):
    return client.get(
        "/v1/auth/authorizeDaemon",
        {
            "clientId": app.client_id,
            "serviceType": service_type,
            "scopes": "Mail.Read",
            "returnUrl": RETURN_URL,
            "state": "d-1",
            **extra,
        },
    )


@responses.activate
def test_office365_admin_consent_goes_through_the_page(
    client, app_factory, provider_config_factory
):
    app, _ = app_factory()
    provider_config_factory(app, "Office365", redirect_page=PAGE)
    # A named tenant: straight to its consent (organizations: test_office365_admin_sign_in).
    sent = query_of(daemon_start(client, app, tenant=TENANT)["Location"])
    assert sent["redirect_uri"] == PAGE
    responses.post(
        f"https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/token",
        json=ms_app_token_response(TENANT),
    )
    # Microsoft's answer to the consent, forwarded by the page.
    back = client.get(
        "/v1/auth/callback",
        {"tenant": TENANT, "admin_consent": "True", "state": sent["state"], "scope": ".default"},
    )
    query = query_of(back["Location"])
    assert query["status"] == "success" and query["state"] == "d-1", query
    account = Account.objects.get()
    assert account.daemon and account.auth_org_id == TENANT


@responses.activate
def test_google_admin_sign_in_goes_through_the_page(client, app_factory, provider_config_factory):
    app, _ = app_factory()
    key = make_service_account_key().json_text
    provider_config_factory(app, "Google", service_account_key=key, redirect_page=PAGE)
    sent = query_of(daemon_start(client, app, "Google")["Location"])
    assert sent["redirect_uri"] == PAGE
    responses.post(GOOGLE_TOKEN, json={"access_token": "ya29.admin", "expires_in": 3599})
    responses.get(GOOGLE_USERINFO, json={"sub": "1", "email": "admin@example.com"})
    client.get("/v1/auth/callback", {"state": sent["state"], "code": "4/admin"})
    assert parse_qs(responses.calls[0].request.body)["redirect_uri"] == [PAGE]
