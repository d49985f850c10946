"""Issue 19 items 1, 3 and 4: hostile bytes and digits in the flows and the API are clear
400s (never a 500, which PostgreSQL's refusal of NUL in text was), and responses that carry
secrets are never stored. Run on PostgreSQL as well (DATABASE_URL)."""

from __future__ import annotations

import base64

import pytest

from aurinko_auth.models import Account
from tests.conftest import RETURN_URL
from tests.flows.conftest import basic


def no_store(response) -> bool:
    directives = {d.strip() for d in response.get("Cache-Control", "").split(",")}
    return "no-store" in directives and response.get("Pragma") == "no-cache"


# --- item 3: NUL ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {"clientId": "\x00"},
        {"state": "a\x00b"},
        {"loginHint": "a\x00@x"},
        {"accountId": "1\x00"},
        {"returnUrl": RETURN_URL + "?x=\x00"},
        {"scopes\x00": "x"},
    ],
)
def test_nul_in_authorize_is_a_clear_page(google_app, params):
    response = google_app.authorize(**params)
    assert response.status_code == 400
    assert b"request.invalid" in response.content and b"NUL" in response.content
    assert no_store(response)


@pytest.mark.parametrize("path", ["/v1/auth/authorizeUser", "/v1/auth/authorizeDaemon"])
def test_nul_in_other_flows_is_a_clear_page(client, path):
    response = client.get(path, {"clientId": "\x00", "serviceType": "Office365"})
    assert response.status_code == 400 and b"request.invalid" in response.content


def test_nul_in_callback_is_a_clear_page(google_app):
    state = google_app.start()
    response = google_app.callback(state=state + "\x00", code="4/x")
    assert response.status_code == 400 and b"request.invalid" in response.content
    # The pending flow is intact: the real callback still completes it.
    assert google_app.complete(state)["status"] == "success"


def test_nul_in_password_form_body_is_refused(client):
    response = client.post("/v1/auth/password/st_x", {"username": "a\x00b", "password": "p"})
    assert response.status_code == 400 and b"request.invalid" in response.content


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(b"id\x00:secret").decode()},
        {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(b"id:sec\x00ret").decode()},
        {"HTTP_X_AURINKO_CLIENTID": "\x00", "HTTP_X_AURINKO_CLIENTSECRET": "x"},
        {"HTTP_AUTHORIZATION": "Bearer a\x00b"},
    ],
)
def test_nul_in_credentials_is_a_json_400(client, db, headers):
    for method, path in [("get", "/v1/am/accounts"), ("post", "/v1/auth/token/acd_x")]:
        response = getattr(client, method)(path, **headers)
        assert response.status_code == 400, (path, response.content)
        assert response.json()["code"] == "request.invalid"


def test_nul_in_api_query_path_and_cookie(client, google_app):
    auth = basic(google_app.app.client_id, google_app.secret)
    for path in ["/v1/am/accounts?serviceType=%00", "/v1/am/accounts/1%00", "/v1/user%00"]:
        response = client.get(path, HTTP_AUTHORIZATION=auth)
        assert response.status_code in (400, 404), path
        if response.status_code == 400:
            assert response.json()["code"] == "request.invalid"
    client.cookies[f"AUR{google_app.app.pk}"] = "a\x00b"
    assert client.get("/v1/user").status_code == 400


def test_nul_decoded_from_a_query_or_a_quoted_cookie(client, db):
    """The raw text is scanned first; what decodes to a NUL is still found: ``%00`` in a key or
    value, and a quoted cookie's octal escape (``"\\000"``, which Django's parser unquotes)."""
    for query in ["a%00=1", "a=%00", "a=1&b=x%00y"]:
        response = client.get(f"/v1/account?{query}")
        assert response.status_code == 400 and response.json()["code"] == "request.invalid"
    response = client.get("/v1/user", HTTP_COOKIE='AUR1="a\\000b"')
    assert response.status_code == 400 and response.json()["code"] == "request.invalid"
    response = client.get("/v1/user", HTTP_COOKIE='AUR1="a\\101b"')  # "aAb": no NUL
    assert response.status_code == 401


def test_no_store_headers_are_djangos(rf):
    """``no_store`` writes what ``add_never_cache_headers`` would (it sets the strings on the
    hot path), and merges with caching headers a view set itself."""
    from django.http import HttpResponse
    from django.utils.cache import add_never_cache_headers

    from aurinko_auth.guards import NEVER_CACHE, no_store

    ours, django = no_store(HttpResponse()), HttpResponse()
    add_never_cache_headers(django)
    assert ours["Cache-Control"] == django["Cache-Control"]
    assert ours["Expires"][-3:] == "GMT" and ours["Pragma"] == "no-cache"
    own = HttpResponse()
    own["Cache-Control"] = "public, max-age=600"
    merged = no_store(own)["Cache-Control"]
    assert set(merged.split(", ")) == set(NEVER_CACHE.split(", "))


# --- item 4: unicode digits in the flows ------------------------------------------------------


@pytest.mark.parametrize("value", ["²", "١", "9" * 40, "-1"])
def test_unicode_account_id_in_authorize_is_a_clear_error(google_app, value):
    response = google_app.authorize(accountId=value)
    assert response.status_code in (303, 400)
    assert b"accountId must be a number" in response.content or "accountId" in response.get(
        "Location", ""
    )
    assert "error=request.invalid" in response.get("Location", "") or response.status_code == 400


# --- item 1: no-store on secrets -------------------------------------------------------------


def test_token_exchange_and_flow_redirects_are_no_store(google_app):
    start = google_app.authorize()
    assert start.status_code == 303 and no_store(start)
    state = start["Location"].split("state=")[1].split("&")[0]
    google_app.http.post(
        "https://oauth2.googleapis.com/token",
        json={"access_token": "ya29.x", "expires_in": 3599, "refresh_token": "1//r"},
    )
    google_app.http.get(
        "https://openidconnect.googleapis.com/v1/userinfo",
        json={"sub": "1", "email": "alice@example.com", "email_verified": True},
    )
    back = google_app.callback(state=state, code="4/code")
    assert back.status_code == 303 and "code=" in back["Location"] and no_store(back)
    code = back["Location"].split("code=")[1].split("&")[0]
    redeemed = google_app.redeem(code)
    assert redeemed.status_code == 200 and "accessToken" in redeemed.json()
    assert no_store(redeemed)
    account = Account.objects.get()
    token = redeemed.json()["accessToken"]
    for path in ["/v1/account", "/v1/account/token", f"/v1/am/accounts/{account.pk}"]:
        auth = (
            f"Bearer {token}"
            if path.startswith("/v1/account")
            else basic(google_app.app.client_id, google_app.secret)
        )
        response = google_app.client.get(path, HTTP_AUTHORIZATION=auth)
        assert no_store(response), path
