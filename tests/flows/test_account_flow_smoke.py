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
