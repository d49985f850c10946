"""``responseType=token`` goes only to a return URL on one of the app's trusted domains
(Aurinko: "the implicit grant flow is secured by the trusted domains setting"), and a trusted
domain is no return URL: the URL must be registered as well."""

from __future__ import annotations

import pytest

from aurinko_auth.models import AuthState
from tests.conftest import RETURN_URL
from tests.flows.conftest import query_of

pytestmark = pytest.mark.django_db


def allow_tokens(app, trusted: list[str], return_urls: list[str] | None = None) -> None:
    app.token_response = True
    app.trusted_domains = trusted
    if return_urls is not None:
        app.return_urls = return_urls
    app.save()


def test_token_goes_to_a_return_url_on_a_trusted_domain(google_app):
    allow_tokens(google_app.app, ["https://app.example.com"])
    back = google_app.complete(google_app.start(responseType="token"))
    assert back["status"] == "success" and back["accessToken"].startswith("aat_")


def test_token_to_a_registered_url_off_the_trusted_domains_is_refused(google_app):
    other = "https://other.example.org/callback"
    allow_tokens(google_app.app, ["https://app.example.com"], [RETURN_URL, other])
    response = google_app.authorize(responseType="token", returnUrl=other)
    assert response.status_code == 303
    assert response["Location"].startswith(other + "?")  # registered: an error redirect
    back = query_of(response["Location"])
    assert back["status"] == "error" and back["error"] == "responsetype.token_untrusted"
    assert "https://other.example.org is not one of them" in back["message"]
    assert "accessToken" not in back
    assert not AuthState.objects.exists()  # nothing started at the provider
    # The same URL still gets a code.
    assert google_app.authorize(returnUrl=other)["Location"].startswith(
        "https://accounts.google.com/"
    )


def test_no_trusted_domains_no_token(google_app):
    allow_tokens(google_app.app, [])
    back = query_of(google_app.authorize(responseType="token")["Location"])
    assert back["error"] == "responsetype.token_untrusted"


def test_origin_match_is_exact(google_app):
    # The return URL's origin is https://app.example.com; none of these is it.
    allow_tokens(
        google_app.app,
        ["http://localhost:5173", "https://app.example.com:8443", "https://sub.app.example.com"],
    )
    back = query_of(google_app.authorize(responseType="token")["Location"])
    assert back["error"] == "responsetype.token_untrusted"


def test_a_trusted_domain_is_not_a_return_url(google_app):
    """Aurinko: "It's crucial to register this URL [returnUrl] within the Aurinko settings for
    your application"; trusted domains widen who may use the session API, never where the
    broker redirects."""
    allow_tokens(google_app.app, ["https://app.example.com", "https://addin.example.com"])
    for url in ("https://addin.example.com/callback", "https://app.example.com/elsewhere"):
        for response_type in ("token", "code"):
            response = google_app.authorize(responseType=response_type, returnUrl=url)
            assert response.status_code == 400, (url, response_type)  # a page, no redirect
            assert b"returnurl.invalid" in response.content
    assert not AuthState.objects.exists()


def test_the_opt_in_still_comes_first(google_app):
    google_app.app.trusted_domains = ["https://app.example.com"]
    google_app.app.save()
    back = query_of(google_app.authorize(responseType="token")["Location"])
    assert back["error"] == "responsetype.token_disabled"
