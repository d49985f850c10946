from urllib.parse import parse_qs, urlsplit

import responses

from aurinko_auth.models import Account, AuthState
from tests.conftest import RETURN_URL


@responses.activate
def test_account_flow_code_roundtrip(client, app_factory, provider_config_factory):
    app, secret = app_factory()
    provider_config_factory(app, "Google")
    r = client.get("/v1/auth/authorize", {
        "clientId": app.client_id, "serviceType": "google", "scopes": "Mail.Read",
        "returnUrl": RETURN_URL, "state": "xyz",
    })
    assert r.status_code == 302, r.content
    loc = urlsplit(r["Location"])
    q = parse_qs(loc.query)
    assert loc.netloc == "accounts.google.com"
    assert q["code_challenge_method"] == ["S256"]
    assert q["access_type"] == ["offline"]
    assert q["prompt"] == ["consent"]
    state = q["state"][0]
    responses.post("https://oauth2.googleapis.com/token", json={
        "access_token": "ya29.x", "refresh_token": "1//r", "expires_in": 3599,
        "scope": "openid https://www.googleapis.com/auth/gmail.readonly", "token_type": "Bearer",
    })
    responses.get("https://openidconnect.googleapis.com/v1/userinfo", json={
        "sub": "1234", "email": "a@example.com", "name": "A", "hd": "example.com"})
    r = client.get("/v1/auth/callback", {"state": state, "code": "4/abc"})
    assert r.status_code == 302, r.content
    back = parse_qs(urlsplit(r["Location"]).query)
    assert back["status"] == ["success"] and back["state"] == ["xyz"]
    code = back["code"][0]
    import base64
    basic = base64.b64encode(f"{app.client_id}:{secret}".encode()).decode()
    r = client.post(f"/v1/auth/token/{code}", HTTP_AUTHORIZATION=f"Basic {basic}")
    assert r.status_code == 200, r.content
    body = r.json()
    acc = Account.objects.get()
    assert body["accountId"] == acc.pk
    r = client.get("/v1/account", HTTP_AUTHORIZATION=f"Bearer {body['accessToken']}")
    assert r.status_code == 200, r.content
    assert r.json()["email"] == "a@example.com"
    assert r.json()["scopes"] == ["Mail.Read"]
    assert AuthState.objects.get().used_at is not None
    r = client.post(f"/v1/auth/token/{code}", HTTP_AUTHORIZATION=f"Basic {basic}")
    assert r.status_code == 400 and r.json()["code"] == "code.invalid"


# --- More of the Account flow -------------------------------------------------------------

import logging  # noqa: E402

from tests.flows.conftest import basic, query  # noqa: E402


def callback(client, state):
    return client.get("/v1/auth/callback", {"state": state, "code": "4/provider-code"})


def test_response_type_token(client, start, google_ok):
    google_ok()
    q = query(callback(client, start(responseType="token")))
    acc = Account.objects.get()
    assert q["status"] == "success" and q["accountId"] == str(acc.pk)
    r = client.get("/v1/account", HTTP_AUTHORIZATION=f"Bearer {q['accessToken']}")
    assert r.status_code == 200 and r.json()["id"] == acc.pk


def test_consent_retry_once_then_completes(client, start, google_ok, mocked):
    google_ok(refresh_token=None)
    state = start()
    r = callback(client, state)
    loc = urlsplit(r["Location"])
    q = parse_qs(loc.query)
    assert loc.netloc == "accounts.google.com"
    assert q["prompt"] == ["consent"]
    assert q["login_hint"] == ["a@example.com"]
    assert not Account.objects.exists()
    # The second time, still without a refresh token: complete rather than loop.
    back = query(callback(client, q["state"][0]))
    assert back["status"] == "success" and back["state"] == "app-state"
    assert Account.objects.get().credentials.get("refresh_token") in (None, "")


def test_no_consent_retry_when_refresh_token_held(client, start, google_ok):
    google_ok()
    assert query(callback(client, start()))["status"] == "success"
    google_ok(refresh_token=None, access_token="ya29.second")
    back = query(callback(client, start()))
    assert back["status"] == "success"
    acc = Account.objects.get()
    assert acc.credentials["refresh_token"] == "1//refresh-tok"
    assert acc.credentials["access_token"] == "ya29.second"


def test_same_identity_twice_same_account(client, start, google_ok):
    google_ok(access_token="ya29.first")
    query(callback(client, start()))
    acc = Account.objects.get()
    version = acc.credential_version
    google_ok(access_token="ya29.second", refresh_token="1//second")
    query(callback(client, start()))
    assert Account.objects.count() == 1
    again = Account.objects.get()
    assert again.pk == acc.pk
    assert again.credentials["access_token"] == "ya29.second"
    assert again.credentials["refresh_token"] == "1//second"
    assert again.credential_version == version + 1


def test_other_identity_new_account(client, start, google_ok):
    google_ok(sub="1")
    query(callback(client, start()))
    google_ok(sub="2", email="b@example.com")
    query(callback(client, start()))
    assert Account.objects.count() == 2


def test_no_secret_in_logs(client, start, google_ok, google_app, caplog):
    caplog.set_level(logging.DEBUG)
    app, secret = google_app
    google_ok()
    state = start()
    code = query(callback(client, state))["code"]
    token = client.post(f"/v1/auth/token/{code}",
                        HTTP_AUTHORIZATION=basic(app.client_id, secret)).json()["accessToken"]
    client.get("/v1/account", HTTP_AUTHORIZATION=f"Bearer {token}")
    client.get("/v1/account", HTTP_AUTHORIZATION="Bearer aat_garbage")
    text = "\n".join(r.getMessage() + repr(r.args) + repr(r.__dict__) for r in caplog.records)
    assert caplog.records
    for secret_value in ("ya29.access-tok", "1//refresh-tok", "4/provider-code", code, token,
                         secret, state, "provider-client-secret"):
        assert secret_value not in text, secret_value
