"""The flows redirect with 303 See Other, as Aurinko's OpenAPI says for authorize,
authorizeUser and authorizeDaemon (issue 16 item 1): to the provider, back to the app, and
with an error."""

from __future__ import annotations

from tests.conftest import RETURN_URL
from tests.flows.conftest import query_of


def test_authorize_redirects_to_the_provider_with_303(google_app, conforms):
    response = google_app.authorize()
    assert response.status_code == 303
    assert response["Location"].startswith("https://accounts.google.com/")
    assert conforms(response) is None  # 303 is the status the contract lists


def test_error_redirect_to_the_app_is_303(google_app, conforms):
    response = google_app.authorize(serviceType="Yahoo")
    assert response.status_code == 303 and response["Location"].startswith(RETURN_URL)
    assert query_of(response["Location"])["error"] == "servicetype.invalid"
    conforms(response)


def test_the_callback_redirects_to_the_app_with_303(google_app):
    state = google_app.start()
    back = google_app.complete(state)  # asserts the callback's 303 to the returnUrl
    assert back["status"] == "success"
