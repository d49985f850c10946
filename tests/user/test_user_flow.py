"""The User flow through the browser-facing views, provider HTTP mocked (recorded shapes)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

import pytest
from django.test import Client

from aurinko_auth import crypto, usersessions
from aurinko_auth.models import Account, AppUser, AuthCode, UserSession
from tests.user.conftest import query_of


@pytest.fixture
def app_pair(app_factory, provider_config_factory):
    app, secret = app_factory(scopes="Mail.Read Mail.Send")
    provider_config_factory(app, "Google")
    provider_config_factory(app, "Office365")
    return app, secret


def cookie_of(response, app):
    return response.cookies.get(usersessions.cookie_name(app.pk))


def basic(app, secret):
    return "Basic " + base64.b64encode(f"{app.client_id}:{secret}".encode()).decode()


def test_primary_cookie_sign_in_sets_session_cookie(client, app_pair, sign_in):
    app, _ = app_pair
    start, final = sign_in(app)
    assert start.status_code == 303
    assert final.status_code == 303
    back = query_of(final["Location"])
    assert back == {"status": "success", "state": "st-1"}
    morsel = cookie_of(final, app)
    assert morsel is not None and morsel.key == f"AUR{app.pk}"
    assert morsel["httponly"] and morsel["secure"]
    assert morsel["samesite"] == "None" and morsel["path"] == "/"
    assert morsel.value.startswith("aus_")
    # Only the hash is stored.
    assert UserSession.objects.get().token_hash == crypto.hash_token(morsel.value)
    assert not UserSession.objects.filter(token_hash=morsel.value).exists()
    user = AppUser.objects.get()
    assert user.email == "alice@example.com" and user.trusted_identity
    account = Account.objects.get()
    assert account.user == user and account.account_type == "primary"

    me = client.get("/v1/user")
    assert me.status_code == 200, me.content
    body = me.json()
    assert body["id"] == str(user.pk) and body["appId"] == app.pk
    assert body["email"] == "alice@example.com" and body["trustedIdentity"] is True
    assert body["authOrgId"] == "example.com"
    assert [a["type"] for a in body["accounts"]] == ["primary"]


def test_primary_sign_in_again_same_user_new_session_old_one_ended(client, app_pair, sign_in):
    app, _ = app_pair
    _, first = sign_in(app)
    old = cookie_of(first, app).value
    _, second = sign_in(app)
    new = cookie_of(second, app).value
    assert new != old
    assert AppUser.objects.count() == 1 and Account.objects.count() == 1
    # The session the browser held when it signed in again is over (no fixation).
    assert UserSession.objects.get(token_hash=crypto.hash_token(old)).revoked_at is not None
    stale = Client()
    stale.cookies[usersessions.cookie_name(app.pk)] = old
    assert stale.get("/v1/user").status_code == 401


def test_another_identity_gets_another_user(app_pair, sign_in):
    app, _ = app_pair
    sign_in(app, sub="g-1", browser=Client())
    sign_in(app, sub="g-2", email="bob@example.com", browser=Client())
    assert AppUser.objects.count() == 2
    assert {a.user.email for a in Account.objects.select_related("user")} == {
        "alice@example.com",
        "bob@example.com",
    }


def test_same_email_at_another_identity_is_not_linked(app_pair, sign_in):
    """Never matched by email (account takeover through email linking)."""
    app, _ = app_pair
    sign_in(app, sub="g-1", email="same@example.com", browser=Client())
    sign_in(app, service_type="Office365", sub="o-9", email="same@example.com", browser=Client())
    assert AppUser.objects.count() == 2


def test_secondary_links_to_signed_in_user(client, app_pair, sign_in):
    app, _ = app_pair
    sign_in(app)
    start, final = sign_in(
        app, service_type="Office365", sub="o-1", email="a@corp.example", accountRole="secondary"
    )
    assert query_of(final["Location"])["status"] == "success", final["Location"]
    assert cookie_of(final, app) is None  # the session stays the same
    user = AppUser.objects.get()
    assert {(a.service_type, a.account_type) for a in user.accounts.all()} == {
        ("Google", "primary"),
        ("Office365", "secondary"),
    }
    body = client.get("/v1/user").json()
    assert [a["type"] for a in body["accounts"]] == ["primary", "secondary"]


def test_second_account_of_same_provider_asks_to_select_account(client, app_pair, sign_in):
    app, _ = app_pair
    sign_in(app)
    start, final = sign_in(
        app,
        sub="g-2",
        email="work@example.com",
        accountRole="secondary",
        loginHint="work@example.com",
    )
    provider_query = query_of(start["Location"])
    assert "select_account" in provider_query["prompt"].split()
    assert provider_query["login_hint"] == "work@example.com"
    assert query_of(final["Location"])["status"] == "success"
    assert Account.objects.filter(user__isnull=False).count() == 2


def test_first_secondary_of_a_provider_does_not_force_select_account(client, app_pair, sign_in):
    app, _ = app_pair
    sign_in(app)
    start, _ = sign_in(app, service_type="Office365", sub="o-1", accountRole="secondary")
    assert "prompt" not in query_of(start["Location"])


@pytest.mark.parametrize(
    "path,extra",
    [
        ("/v1/auth/authorizeUser", {"accountRole": "secondary"}),
        ("/v1/auth/authorize", {"userAccount": "secondary"}),
    ],
)
def test_secondary_without_session_redirects_not_signed_in(client, app_pair, sign_in, path, extra):
    app, _ = app_pair
    start, final = sign_in(app, path=path, **extra)
    assert final is None
    back = query_of(start["Location"])
    assert start["Location"].startswith("https://app.example.com/callback?")
    assert back["status"] == "error" and back["error"] == "session.required"
    assert back["state"] == "st-1"


def test_secondary_with_ended_session_redirects_not_signed_in(client, app_pair, sign_in):
    app, _ = app_pair
    sign_in(app)
    UserSession.objects.update(revoked_at="2020-01-01T00:00:00Z")
    start, final = sign_in(app, service_type="Office365", accountRole="secondary")
    assert final is None and query_of(start["Location"])["error"] == "session.required"


def test_secondary_fails_when_user_signed_out_meanwhile(client, app_pair, sign_in):
    """The session is checked again at the callback, inside the transaction."""
    app, _ = app_pair
    sign_in(app)
    start = client.get(
        "/v1/auth/authorizeUser",
        {
            "clientId": app.client_id,
            "serviceType": "Office365",
            "scopes": "Mail.Read",
            "returnUrl": "https://app.example.com/callback",
            "accountRole": "secondary",
        },
    )
    UserSession.objects.update(revoked_at="2020-01-01T00:00:00Z")
    import responses as r

    from tests.user.conftest import _record

    with r.RequestsMock() as mocked:
        _record(mocked, "Office365", "o-1", "o@example.com")
        final = client.get(
            "/v1/auth/callback", {"state": query_of(start["Location"])["state"], "code": "c"}
        )
    assert query_of(final["Location"])["error"] == "session.required"
    assert not Account.objects.filter(service_type="Office365").exists()


def test_account_linked_elsewhere_is_never_moved(app_pair, sign_in):
    app, _ = app_pair
    alice, bob = Client(), Client()
    sign_in(app, sub="g-alice", browser=alice)
    sign_in(app, service_type="Office365", sub="o-shared", accountRole="secondary", browser=alice)
    sign_in(app, sub="g-bob", email="bob@example.com", browser=bob)
    _, final = sign_in(
        app, service_type="Office365", sub="o-shared", accountRole="secondary", browser=bob
    )
    back = query_of(final["Location"])
    assert back["status"] == "error" and back["error"] == "account.linked_elsewhere"
    shared = Account.objects.get(auth_user_id="o-shared")
    assert shared.user.email == "alice@example.com"
    # Nothing half-written: the refused callback did not replace alice's provider tokens.
    assert shared.credentials["access_token"] == "eyJ.o-shared"
    assert shared.credential_version == 1


def test_secondary_identity_cannot_sign_in_as_primary(app_pair, sign_in):
    app, _ = app_pair
    alice = Client()
    sign_in(app, sub="g-alice", browser=alice)
    sign_in(app, service_type="Office365", sub="o-crm", accountRole="secondary", browser=alice)
    _, final = sign_in(app, service_type="Office365", sub="o-crm", browser=Client())
    assert query_of(final["Location"])["error"] == "account.linked_elsewhere"
    assert AppUser.objects.count() == 1


def test_account_flow_account_becomes_primary_of_new_user(client, app_pair, sign_in):
    app, _ = app_pair
    start = client.get(
        "/v1/auth/authorize",
        {
            "clientId": app.client_id,
            "serviceType": "Google",
            "scopes": "Mail.Read",
            "returnUrl": "https://app.example.com/callback",
        },
    )
    import responses as r

    from tests.user.conftest import _record

    with r.RequestsMock() as mocked:
        _record(mocked, "Google", "g-1", "alice@example.com")
        client.get(
            "/v1/auth/callback", {"state": query_of(start["Location"])["state"], "code": "c"}
        )
    account = Account.objects.get()
    assert account.user is None and account.account_type == ""
    sign_in(app, sub="g-1")
    account.refresh_from_db()
    assert account.user is not None and account.account_type == "primary"


def test_code_mode_returns_user_session_at_redemption(app_pair, sign_in):
    app, secret = app_pair
    _, final = sign_in(app, responseType="code", browser=Client(HTTP_USER_AGENT="Outlook/16"))
    back = query_of(final["Location"])
    assert back["status"] == "success"
    assert cookie_of(final, app) is None
    assert not UserSession.objects.exists()  # minted at redemption, not before
    code_row = AuthCode.objects.get()
    assert "aus_" not in str(code_row.payload)
    r = Client().post(f"/v1/auth/token/{back['code']}", HTTP_AUTHORIZATION=basic(app, secret))
    assert r.status_code == 200, r.content
    body = r.json()
    user = AppUser.objects.get()
    assert set(body) == {"accountId", "accessToken", "userId", "userSession"}
    assert body["userId"] == str(user.pk)
    assert body["accountId"] == Account.objects.get().pk
    session = UserSession.objects.get()
    assert session.token_hash == crypto.hash_token(body["userSession"])
    # The signing-in browser's, not the app backend's.
    assert session.user_agent == "Outlook/16" and session.ip == "127.0.0.1"
    me = Client().get("/v1/user", HTTP_X_AURINKO_SESSION=body["userSession"])
    assert me.status_code == 200 and me.json()["id"] == str(user.pk)
    again = Client().post(f"/v1/auth/token/{back['code']}", HTTP_AUTHORIZATION=basic(app, secret))
    assert again.status_code == 400 and again.json()["code"] == "code.invalid"
    assert UserSession.objects.count() == 1


def test_code_mode_secondary_returns_user_id_without_new_session(client, app_pair, sign_in):
    app, secret = app_pair
    sign_in(app)
    _, final = sign_in(
        app, service_type="Office365", sub="o-1", accountRole="secondary", responseType="code"
    )
    code = query_of(final["Location"])["code"]
    body = Client().post(f"/v1/auth/token/{code}", HTTP_AUTHORIZATION=basic(app, secret)).json()
    assert set(body) == {"accountId", "accessToken", "userId"}
    assert UserSession.objects.count() == 1


def test_addin_form_user_account_primary_sets_cookie(client, app_pair, sign_in):
    app, _ = app_pair
    _, final = sign_in(app, path="/v1/auth/authorize", userAccount="primary")
    assert cookie_of(final, app) is not None
    assert Account.objects.get().account_type == "primary"


def test_response_type_none_links_without_session(client, app_pair, sign_in):
    app, _ = app_pair
    sign_in(app)
    _, final = sign_in(
        app, service_type="Office365", sub="o-1", accountRole="secondary", responseType="none"
    )
    assert query_of(final["Location"]) == {"status": "success", "state": "st-1"}
    assert Account.objects.filter(account_type="secondary").count() == 1


@pytest.mark.parametrize(
    "params,error",
    [
        ({"accountRole": "owner"}, "request.invalid"),
        ({"accountRole": ""}, "request.invalid"),
        ({"responseType": "token"}, "request.invalid"),
        ({"scopes": "Mail.ReadWrite"}, "scope.invalid"),
    ],
)
def test_bad_parameters_redirect_with_error(client, app_pair, sign_in, params, error):
    app, _ = app_pair
    start, final = sign_in(app, **params)
    assert final is None
    assert query_of(start["Location"])["error"] == error


def test_unknown_return_url_is_a_page_not_a_redirect(client, app_pair, sign_in):
    app, _ = app_pair
    start, final = sign_in(app, returnUrl="https://evil.example.com/cb")
    assert start.status_code == 400 and final is None
    assert b"returnurl.invalid" in start.content


def _signed(app, user_id: str, secret: str, ts: str | None = None):
    ts = ts or str(int(time.time()))
    key = hmac.new(secret.encode(), b"aurinko_auth user signature v1", hashlib.sha256).hexdigest()
    sig = hmac.new(key.encode(), f"{user_id}{ts}".encode(), hashlib.sha256).hexdigest()
    return {"userId": user_id, "timestamp": ts, "userSignature": sig}


def test_secondary_by_user_signature_without_cookie(app_pair, sign_in):
    app, secret = app_pair
    sign_in(app, browser=Client())
    user = AppUser.objects.get()
    _, final = sign_in(
        app,
        service_type="Office365",
        sub="o-1",
        accountRole="secondary",
        browser=Client(),
        **_signed(app, str(user.pk), secret),
    )
    assert query_of(final["Location"])["status"] == "success", final["Location"]
    assert user.accounts.filter(account_type="secondary").count() == 1


def test_user_signature_accepts_milliseconds_and_base64(app_pair, sign_in):
    app, secret = app_pair
    sign_in(app, browser=Client())
    user = AppUser.objects.get()
    ts = str(int(time.time() * 1000))
    params = _signed(app, str(user.pk), secret, ts)
    params["userSignature"] = base64.b64encode(bytes.fromhex(params["userSignature"])).decode()
    _, final = sign_in(
        app,
        service_type="Office365",
        sub="o-1",
        accountRole="secondary",
        browser=Client(),
        **params,
    )
    assert query_of(final["Location"])["status"] == "success"


@pytest.mark.parametrize(
    "tamper,error",
    [
        (lambda p: {**p, "userSignature": "0" * 64}, "signature.invalid"),
        (lambda p: {**p, "timestamp": str(int(p["timestamp"]) + 1)}, "signature.invalid"),
        (lambda p: {**p, "userSignature": ""}, "signature.invalid"),
        (lambda p: {**p, "userId": "not-a-uuid"}, "signature.invalid"),
        # Issue 19 item 4: unicode digits were a 500 ("²".isdigit() is true, int() raises).
        (lambda p: {**p, "timestamp": "²"}, "signature.invalid"),
        (lambda p: {**p, "timestamp": "١٧٠٠٠٠٠٠٠٠"}, "signature.invalid"),
        (lambda p: {**p, "timestamp": "9" * 40}, "signature.invalid"),
    ],
)
def test_bad_user_signature_is_refused(app_pair, sign_in, tamper, error):
    app, secret = app_pair
    sign_in(app, browser=Client())
    user = AppUser.objects.get()
    start, final = sign_in(
        app,
        service_type="Office365",
        accountRole="secondary",
        browser=Client(),
        **tamper(_signed(app, str(user.pk), secret)),
    )
    assert final is None and query_of(start["Location"])["error"] == error


def test_old_user_signature_is_refused(app_pair, sign_in):
    app, secret = app_pair
    sign_in(app, browser=Client())
    user = AppUser.objects.get()
    old = str(int(time.time()) - 3600)
    start, _ = sign_in(
        app,
        service_type="Office365",
        accountRole="secondary",
        browser=Client(),
        **_signed(app, str(user.pk), secret, old),
    )
    assert query_of(start["Location"])["error"] == "signature.expired"


def test_user_signature_of_another_app_is_refused(app_pair, app_factory, sign_in):
    app, secret = app_pair
    _, other_secret = app_factory(name="Other")
    sign_in(app, browser=Client())
    user = AppUser.objects.get()
    start, _ = sign_in(
        app,
        service_type="Office365",
        accountRole="secondary",
        browser=Client(),
        **_signed(app, str(user.pk), other_secret),
    )
    assert query_of(start["Location"])["error"] == "signature.invalid"


def test_user_signature_key_follows_secret_rotation(app_pair, sign_in):
    from aurinko_auth import services

    app, secret = app_pair
    sign_in(app, browser=Client())
    user = AppUser.objects.get()
    new_secret = services.rotate_secret(app)
    start, _ = sign_in(
        app,
        service_type="Office365",
        accountRole="secondary",
        browser=Client(),
        **_signed(app, str(user.pk), secret),
    )
    assert query_of(start["Location"])["error"] == "signature.invalid"
    _, final = sign_in(
        app,
        service_type="Office365",
        sub="o-1",
        accountRole="secondary",
        browser=Client(),
        **_signed(app, str(user.pk), new_secret),
    )
    assert query_of(final["Location"])["status"] == "success"


def test_no_secret_in_logs(app_pair, sign_in, caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    app, secret = app_pair
    browser = Client()
    _, final = sign_in(app, browser=browser)
    token = cookie_of(final, app).value
    _, final = sign_in(
        app,
        service_type="Office365",
        sub="o-1",
        accountRole="secondary",
        responseType="code",
        browser=browser,
    )
    code = query_of(final["Location"])["code"]
    body = Client().post(f"/v1/auth/token/{code}", HTTP_AUTHORIZATION=basic(app, secret)).json()
    browser.get("/v1/user")
    browser.post("/v1/user/logout", HTTP_ORIGIN="https://evil.example.net")
    browser.post("/v1/user/logout", HTTP_ORIGIN="https://app.example.com")
    # Ours and Django's (request warnings). requests-oauthlib logs token responses at DEBUG
    # on its own logger: keep that logger above DEBUG in production.
    logged = "\n".join(
        r.getMessage() + str(r.args)
        for r in caplog.records
        if r.name.startswith(("aurinko_auth", "django"))
    )
    assert "/v1/user/logout" in logged  # the refused logout was logged, without secrets
    for value in (token, code, body["accessToken"], secret, "ya29.g-1", "1//g-1", "eyJ.o-1"):
        assert value not in logged


def test_public_client_user_flow_redeems_with_pkce(app_pair, sign_in):
    """issue 17 item 3: a public client's User flow in code mode, redeemed with the verifier
    and no secret, gets the user's session as a confidential app would."""
    from tests.flows.test_pkce import CHALLENGE, VERIFIER

    app, _ = app_pair
    app.public_client = True
    app.save()
    refused, _ = sign_in(app, responseType="code")
    assert query_of(refused["Location"])["error"] == "pkce.required"
    _, final = sign_in(
        app, responseType="code", code_challenge=CHALLENGE, code_challenge_method="S256"
    )
    back = query_of(final["Location"])
    r = Client().post(
        f"/v1/auth/token/{back['code']}", {"clientId": app.client_id, "code_verifier": VERIFIER}
    )
    assert r.status_code == 200, r.content
    body = r.json()
    assert set(body) == {"accountId", "accessToken", "userId", "userSession"}
    me = Client().get("/v1/user", HTTP_X_AURINKO_SESSION=body["userSession"])
    assert me.status_code == 200 and me.json()["id"] == body["userId"]


def test_user_flow_to_a_public_return_url_redeems_with_pkce(app_pair, sign_in):
    """A confidential app's public return URL (flows/test_public_return_urls.py) in the User
    flow's code mode: PKCE required, the code redeemed without the secret."""
    from aurinko_auth import services
    from tests.flows.test_pkce import CHALLENGE, VERIFIER

    app, _ = app_pair
    public_url = "https://app.example.com/extension"
    services.set_client_type(app, public_urls=[public_url])
    refused, _ = sign_in(app, responseType="code", returnUrl=public_url)
    assert query_of(refused["Location"])["error"] == "pkce.required"
    _, final = sign_in(
        app,
        responseType="code",
        returnUrl=public_url,
        code_challenge=CHALLENGE,
        code_challenge_method="S256",
    )
    back = query_of(final["Location"])
    r = Client().post(
        f"/v1/auth/token/{back['code']}", {"clientId": app.client_id, "code_verifier": VERIFIER}
    )
    assert r.status_code == 200, r.content
    assert set(r.json()) == {"accountId", "accessToken", "userId", "userSession"}
