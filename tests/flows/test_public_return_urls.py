"""Public return URLs (issue 17: "an app (or a return URL) may be declared public"): a
confidential app with one public return URL (an extension's page beside its server) needs
PKCE for the flows to that URL, and redeems only their codes without its secret; every other
code still needs the secret. Google played by `responses` (tests/flows/conftest.py)."""

from __future__ import annotations

import pytest

from aurinko_auth import services
from aurinko_auth.models import AccountToken, AuthCode, AuthState
from aurinko_auth.security import origins
from tests.conftest import RETURN_URL
from tests.flows.conftest import query_of
from tests.flows.test_pkce import CHALLENGE, ORIGIN, PKCE, VERIFIER, public_redeem

# On the app's origin, and starting with RETURN_URL (GoogleApp.complete checks the prefix).
PUBLIC_URL = RETURN_URL + "-extension"


@pytest.fixture
def mixed_app(google_app):
    """A confidential app (its server at RETURN_URL) with one public return URL."""
    services.set_client_type(google_app.app, public_urls=[PUBLIC_URL])
    google_app.app.refresh_from_db()
    assert google_app.app.return_urls == [RETURN_URL, PUBLIC_URL]
    assert not google_app.app.public_client
    return google_app


def test_a_code_issued_to_the_public_url_is_redeemed_without_the_secret(mixed_app):
    back = mixed_app.complete(mixed_app.start(returnUrl=PUBLIC_URL, **PKCE))
    assert back["status"] == "success"
    code = AuthCode.objects.get()
    assert code.payload == {"codeChallenge": CHALLENGE, "publicClient": True}
    response = public_redeem(mixed_app, back["code"], code_verifier=VERIFIER)
    assert response.status_code == 200, response.content
    assert response["Access-Control-Allow-Origin"] == ORIGIN  # the page may read it
    assert response.json()["accessToken"].startswith("aat_")


def test_the_public_url_needs_a_challenge(mixed_app):
    back = query_of(mixed_app.authorize(returnUrl=PUBLIC_URL)["Location"])
    assert back["status"] == "error" and back["error"] == "pkce.required"
    assert not AuthState.objects.exists()


def test_a_wrong_verifier_burns_a_public_urls_code(mixed_app):
    back = mixed_app.complete(mixed_app.start(returnUrl=PUBLIC_URL, **PKCE))
    response = public_redeem(mixed_app, back["code"], code_verifier="x" * 43)
    assert response.status_code == 400 and response.json()["code"] == "pkce.verifier_invalid"
    assert AuthCode.objects.get().used_at is not None
    assert not AccountToken.objects.exists()


def test_the_apps_server_url_still_needs_no_challenge_and_its_code_the_secret(mixed_app):
    back = mixed_app.complete(mixed_app.start())  # RETURN_URL, no PKCE: allowed as before
    assert AuthCode.objects.get().payload == {}
    refused = public_redeem(mixed_app, back["code"])
    assert refused.status_code == 401 and refused.json()["code"] == "client.secret_required"
    refused = public_redeem(mixed_app, back["code"], code_verifier=VERIFIER)
    assert refused.status_code == 401 and refused.json()["code"] == "client.secret_required"
    # Still usable: the app's server redeems it with the secret.
    assert AuthCode.objects.get().used_at is None
    assert mixed_app.redeem(back["code"]).status_code == 200


def test_a_confidential_urls_code_with_a_challenge_still_needs_the_secret(mixed_app):
    """PKCE on the server's URL (RFC 9700 recommends it) does not make its code public."""
    back = mixed_app.complete(mixed_app.start(**PKCE))
    assert AuthCode.objects.get().payload == {"codeChallenge": CHALLENGE}
    refused = public_redeem(mixed_app, back["code"], code_verifier=VERIFIER)
    assert refused.status_code == 401 and refused.json()["code"] == "client.secret_required"
    assert AuthCode.objects.get().used_at is None


def test_the_server_may_redeem_a_public_urls_code_with_secret_and_verifier(mixed_app):
    back = mixed_app.complete(mixed_app.start(returnUrl=PUBLIC_URL, **PKCE))
    response = mixed_app.client.post(
        f"/v1/auth/token/{back['code']}?code_verifier={VERIFIER}",
        HTTP_X_AURINKO_CLIENTID=mixed_app.app.client_id,
        HTTP_X_AURINKO_CLIENTSECRET=mixed_app.secret,
    )
    assert response.status_code == 200, response.content


def test_no_token_response_to_a_public_url(mixed_app):
    mixed_app.app.token_response = True
    mixed_app.app.save()
    back = query_of(mixed_app.authorize(returnUrl=PUBLIC_URL, responseType="token")["Location"])
    assert back["error"] == "responsetype.token_disabled"
    # The app's server URL keeps its opt-in.
    assert mixed_app.authorize(responseType="token").status_code == 303


def test_an_unknown_or_used_code_is_refused_as_before(mixed_app):
    refused = public_redeem(mixed_app, "acd_" + "x" * 40, code_verifier=VERIFIER)
    assert refused.status_code == 401 and refused.json()["code"] == "client.secret_required"


def test_an_app_without_public_urls_pays_no_query_for_the_check(
    google_app, django_assert_num_queries
):
    back = google_app.complete(google_app.start(**PKCE))
    origins.public_client_origins()  # CORS's origins, cached
    with django_assert_num_queries(1):  # the app, named by its clientId; not the code
        refused = public_redeem(google_app, back["code"], code_verifier=VERIFIER)
    assert refused.json()["code"] == "client.secret_required"
