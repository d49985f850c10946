"""Unauthenticated requests are told which form of credentials the endpoint expects (issue 18
item 9), in the API's error shape, without repeating the credential."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    "path, header, says, expects",
    [
        # A bare token: no scheme.
        ("/v1/account", "{token}", "without a scheme", "Bearer aat_"),
        # DRF's (and others') "Token" scheme.
        ("/v1/account", "Token {token}", "scheme 'Token'", "Bearer aat_"),
        ("/v1/account", "", "No credentials arrived", "Bearer aat_"),
        # An account token where only the app's credentials are taken.
        ("/v1/am/accounts", "Bearer {token}", "account token (Bearer) is not accepted", "Basic"),
        ("/v1/am/accounts", "", "No credentials arrived", "X-Aurinko-ClientSecret"),
        # Client credentials where only a user session is taken.
        ("/v1/user", "{basic}", "Basic client credentials is not accepted", "X-Aurinko-Session"),
        ("/v1/user", "Bearer {token}", "(Bearer) is not accepted", "user session"),
    ],
)
def test_the_message_says_which_form_is_expected(
    client, app_with_account, path, header, says, expects
):
    _, _, _, token, basic_header = app_with_account
    value = header.format(token=token, basic=basic_header)
    extra = {"HTTP_AUTHORIZATION": value} if value else {}
    response = client.get(path, **extra)
    assert response.status_code == 401
    body = response.json()
    assert body["code"] == "auth.required"
    assert says in body["message"], body["message"]
    assert expects in body["message"], body["message"]
    assert token not in body["message"] and basic_header.split()[-1] not in body["message"]
    assert response.headers["WWW-Authenticate"]


def test_a_client_id_header_without_its_secret_is_named(client, app_with_account):
    app = app_with_account[0]
    response = client.get("/v1/am/accounts", HTTP_X_AURINKO_CLIENTID=app.client_id)
    assert response.status_code == 401
    assert "without X-Aurinko-ClientSecret" in response.json()["message"]


def test_an_unknown_scheme_is_not_echoed_when_it_is_not_a_word(client):
    response = client.get("/v1/account", HTTP_AUTHORIZATION="<script>x</script> abc")
    assert response.status_code == 401
    assert "<script>" not in response.json()["message"]
