"""Public clients with PKCE and responseType=token as an opt-in (issue 17 item 3): the flow
starts with code_challenge (S256), the code is redeemed with code_verifier and no secret;
Google played by `responses` (tests/flows/conftest.py)."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest

from aurinko_auth.models import AccountToken, AuthCode, AuthState
from tests.flows.conftest import query_of

VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"  # RFC 7636 appendix B
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
PKCE = {"code_challenge": CHALLENGE, "code_challenge_method": "S256"}
ORIGIN = "https://app.example.com"  # the origin of RETURN_URL


@pytest.fixture
def public_app(google_app):
    google_app.app.public_client = True
    google_app.app.save()
    return google_app


def public_redeem(google_app, code: str, **body: str):
    """What a page does: POST clientId + code_verifier as a form, no secret, from its origin."""
    return google_app.client.post(
        f"/v1/auth/token/{code}",
        {"clientId": google_app.app.client_id, **body},
        HTTP_ORIGIN=ORIGIN,
    )


def test_the_rfc_example_challenge_is_what_sha256_gives():
    digest = hashlib.sha256(VERIFIER.encode()).digest()
    assert base64.urlsafe_b64encode(digest).rstrip(b"=").decode() == CHALLENGE


def test_public_client_redeems_with_the_verifier_and_no_secret(public_app):
    back = public_app.complete(public_app.start(**PKCE))
    assert back["status"] == "success" and "accessToken" not in back
    response = public_redeem(public_app, back["code"], code_verifier=VERIFIER)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["accessToken"].startswith("aat_")
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    assert "Access-Control-Allow-Credentials" not in response
    me = public_app.client.get("/v1/account", HTTP_AUTHORIZATION=f"Bearer {body['accessToken']}")
    assert me.status_code == 200 and me.json()["id"] == body["accountId"]


def test_verifier_in_a_json_body_and_the_client_id_header(public_app):
    back = public_app.complete(public_app.start(**PKCE))
    response = public_app.client.post(
        f"/v1/auth/token/{back['code']}",
        json.dumps({"code_verifier": VERIFIER}),
        content_type="application/json",
        HTTP_X_AURINKO_CLIENTID=public_app.app.client_id,
    )
    assert response.status_code == 200, response.content


def test_the_challenge_is_stored_with_the_flow_and_the_code(public_app):
    state = public_app.start(**PKCE)
    assert AuthState.objects.get().params["codeChallenge"] == CHALLENGE
    public_app.complete(state)
    assert AuthCode.objects.get().payload["codeChallenge"] == CHALLENGE


@pytest.mark.parametrize(
    "verifier", ["", "x" * 43, VERIFIER[:-1] + "Y", VERIFIER + "?", "a" * 200], ids=repr
)
def test_a_wrong_or_missing_verifier_is_refused_and_burns_the_code(public_app, verifier):
    back = public_app.complete(public_app.start(**PKCE))
    response = public_redeem(public_app, back["code"], code_verifier=verifier)
    assert response.status_code == 400
    assert response.json()["code"] == "pkce.verifier_invalid"
    assert response["Access-Control-Allow-Origin"] == ORIGIN  # the page can read why
    assert not AccountToken.objects.exists()
    # Single use: the right verifier afterwards finds the code used up.
    again = public_redeem(public_app, back["code"], code_verifier=VERIFIER)
    assert again.status_code == 400 and again.json()["code"] == "code.invalid"


def test_public_client_without_a_challenge_is_refused(public_app):
    response = public_app.authorize()
    back = query_of(response["Location"])
    assert back["status"] == "error" and back["error"] == "pkce.required"
    assert not AuthState.objects.exists()


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"code_challenge": VERIFIER, "code_challenge_method": "plain"}, "pkce.method_unsupported"),
        ({"code_challenge": CHALLENGE}, "pkce.method_unsupported"),  # would default to plain
        ({"code_challenge": "short", "code_challenge_method": "S256"}, "pkce.challenge_invalid"),
        (
            {"code_challenge": CHALLENGE + "=", "code_challenge_method": "S256"},
            "pkce.challenge_invalid",
        ),
        ({"code_challenge_method": "S256"}, "pkce.challenge_invalid"),
    ],
)
def test_bad_challenges_are_refused(public_app, params, error):
    back = query_of(public_app.authorize(**params)["Location"])
    assert back["status"] == "error" and back["error"] == error
    assert not AuthState.objects.exists()


def test_confidential_app_needs_its_secret(google_app):
    back = google_app.complete(google_app.start(**PKCE))
    response = public_redeem(google_app, back["code"], code_verifier=VERIFIER)
    assert response.status_code == 401
    assert response.json()["code"] == "client.secret_required"
    assert "Access-Control-Allow-Origin" not in response  # not a public client's origin
    # Not claimed: the app's server may still redeem it (with the secret and the verifier).
    assert AuthCode.objects.get().used_at is None
    ok = google_app.client.post(
        f"/v1/auth/token/{back['code']}?code_verifier={VERIFIER}",
        HTTP_AUTHORIZATION=_basic(google_app),
    )
    assert ok.status_code == 200, ok.content


def _basic(google_app) -> str:
    pair = f"{google_app.app.client_id}:{google_app.secret}".encode()
    return "Basic " + base64.b64encode(pair).decode()


def test_confidential_code_with_a_challenge_needs_the_verifier_too(google_app):
    back = google_app.complete(google_app.start(**PKCE))
    response = google_app.redeem(back["code"])
    assert response.status_code == 400 and response.json()["code"] == "pkce.verifier_invalid"


def test_a_verifier_for_a_code_without_challenge_is_refused(google_app):
    back = google_app.complete(google_app.start())
    response = google_app.client.post(
        f"/v1/auth/token/{back['code']}",
        {"code_verifier": VERIFIER},
        HTTP_AUTHORIZATION=_basic(google_app),
    )
    assert response.status_code == 400 and response.json()["code"] == "pkce.verifier_invalid"


def test_confidential_code_flow_unchanged(google_app):
    back = google_app.complete(google_app.start())
    assert google_app.redeem(back["code"]).status_code == 200


def test_unknown_client_id_is_a_401(public_app):
    back = public_app.complete(public_app.start(**PKCE))
    response = public_app.client.post(
        f"/v1/auth/token/{back['code']}", {"clientId": "nobody", "code_verifier": VERIFIER}
    )
    assert response.status_code == 401 and response.json()["code"] == "client.invalid"


def test_another_public_apps_code_is_invalid(public_app, app_factory):
    other, _ = app_factory(name="Other", public_client=True)
    back = public_app.complete(public_app.start(**PKCE))
    response = public_app.client.post(
        f"/v1/auth/token/{back['code']}", {"clientId": other.client_id, "code_verifier": VERIFIER}
    )
    assert response.status_code == 400 and response.json()["code"] == "code.invalid"


def test_preflight_is_answered_for_public_client_origins_only(public_app, app_factory):
    app_factory(name="Confidential", return_urls=["https://secret.example.org/cb"])
    preflight = {"HTTP_ACCESS_CONTROL_REQUEST_METHOD": "POST"}
    ok = public_app.client.options("/v1/auth/token/x", HTTP_ORIGIN=ORIGIN, **preflight)
    assert ok.status_code == 204 and ok["Access-Control-Allow-Origin"] == ORIGIN
    assert "POST" in ok["Access-Control-Allow-Methods"]
    assert "Access-Control-Allow-Credentials" not in ok
    other = public_app.client.options(
        "/v1/auth/token/x", HTTP_ORIGIN="https://secret.example.org", **preflight
    )
    assert "Access-Control-Allow-Origin" not in other


def test_token_response_is_an_opt_in(google_app):
    back = query_of(google_app.authorize(responseType="token")["Location"])
    assert back["status"] == "error" and back["error"] == "responsetype.token_disabled"
    assert "responseType=code" in back["message"]
    google_app.app.token_response = True
    google_app.app.trusted_domains = ["https://app.example.com"]
    google_app.app.save()
    assert "accessToken" in google_app.complete(google_app.start(responseType="token"))


def test_public_client_never_gets_a_token_in_the_url(public_app):
    public_app.app.token_response = True
    public_app.app.save()
    back = query_of(public_app.authorize(responseType="token", **PKCE)["Location"])
    assert back["error"] == "responsetype.token_disabled"


def test_new_apps_have_token_response_off(app_factory):
    app, _ = app_factory()
    assert app.token_response is False and app.public_client is False
