"""The Service Account flow through the broker's views; Microsoft and Google HTTP mocked with
``responses`` in the shapes they answer (the real peers are in tests/e2e)."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import responses
from django.utils import timezone

from aurinko_auth.models import Account, AuthState
from tests.conftest import RETURN_URL
from tests.daemon.graph import ms_app_token_response

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
OTHER_TENANT = "0c3b1a7e-1111-4222-8333-444455556666"
MS_TOKEN = f"https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/token"
GOOGLE_TOKEN = "https://oauth2.googleapis.com/token"
GOOGLE_USERINFO = "https://openidconnect.googleapis.com/v1/userinfo"
# Microsoft's client credentials answer for TENANT (no refresh token, no scope).
MS_APP_TOKEN = ms_app_token_response(TENANT)


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def start(client, app, service_type="Office365", **extra):
    params = {
        "clientId": app.client_id,
        "serviceType": service_type,
        "scopes": "Mail.Read",
        "returnUrl": RETURN_URL,
        "state": "app-state",
        **extra,
    }
    return client.get("/v1/auth/authorizeDaemon", params)


def basic(app, secret):
    return "Basic " + base64.b64encode(f"{app.client_id}:{secret}".encode()).decode()


# --- Office 365 ---------------------------------------------------------------------------


def test_office365_redirects_admin_to_adminconsent(client, daemon_app):
    # A tenant named: straight to its consent (organizations signs the admin in first,
    # tests/daemon/test_office365_admin_sign_in.py).
    app, _, _ = daemon_app("Office365")
    r = start(client, app, tenant=TENANT)
    assert r.status_code == 303, r.content
    loc = urlsplit(r["Location"])
    assert (loc.netloc, loc.path) == ("login.microsoftonline.com", f"/{TENANT}/v2.0/adminconsent")
    q = query_of(r["Location"])
    assert q["client_id"] == "provider-client-id"
    assert q["scope"] == "https://graph.microsoft.com/.default"
    assert q["redirect_uri"] == "http://127.0.0.1:8000/v1/auth/callback"
    assert q["state"].startswith("ast_")
    assert "prompt" not in q and "client_secret" not in r["Location"]
    pending = AuthState.objects.get()
    assert pending.kind == "daemon" and pending.params["tenant"] == TENANT


def test_office365_tenant_from_request(client, daemon_app):
    app, _, _ = daemon_app("Office365")
    r = start(client, app, tenant=TENANT.upper())
    assert urlsplit(r["Location"]).path == f"/{TENANT}/v2.0/adminconsent"


@pytest.mark.parametrize("tenant", ["common", "consumers", "not a tenant", "x" * 300])
def test_office365_refuses_tenants_that_cannot_consent(client, daemon_app, tenant):
    app, _, _ = daemon_app("Office365")
    r = start(client, app, tenant=tenant)
    q = query_of(r["Location"])
    assert r["Location"].startswith(RETURN_URL)
    assert q["status"] == "error" and q["error"] == "tenant.invalid"
    assert q["state"] == "app-state"
    assert not AuthState.objects.exists()


def test_office365_without_client_secret_fails_before_redirect(client, daemon_app):
    app, _, _ = daemon_app("Office365", client_secret="")
    r = start(client, app)
    q = query_of(r["Location"])
    assert r["Location"].startswith(RETURN_URL)
    assert q["error"] == "daemon.not_configured"
    assert "client secret" in q["message"]
    assert not AuthState.objects.exists()


def test_unknown_return_url_is_a_page_not_a_redirect(client, daemon_app):
    app, _, _ = daemon_app("Office365")
    r = start(client, app, returnUrl="https://evil.example.net/cb")
    assert r.status_code == 400
    assert b"returnurl.invalid" in r.content


def consent(client, app, **extra):
    """A consent for TENANT (the specific-tenant flow: no sign-in before the consent)."""
    r = start(client, app, **{"tenant": TENANT, **extra})
    return query_of(r["Location"])["state"]


@responses.activate
def test_office365_consent_creates_daemon_account_code(client, daemon_app):
    app, secret, _ = daemon_app("Office365")
    state = consent(client, app)
    responses.post(MS_TOKEN, json=MS_APP_TOKEN)
    r = client.get(
        "/v1/auth/callback",
        {"tenant": TENANT, "admin_consent": "True", "state": state, "scope": ".default"},
    )
    assert r.status_code == 303, r.content
    q = query_of(r["Location"])
    assert q["status"] == "success" and q["state"] == "app-state", q
    body = parse_qs(responses.calls[0].request.body)
    assert body["grant_type"] == ["client_credentials"]
    assert body["scope"] == ["https://graph.microsoft.com/.default"]
    assert body["client_id"] == ["provider-client-id"]
    assert body["client_secret"] == ["provider-client-secret"]

    r = client.post(f"/v1/auth/token/{q['code']}", HTTP_AUTHORIZATION=basic(app, secret))
    token = r.json()["accessToken"]
    me = client.get("/v1/account", HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert me["daemon"] is True
    assert me["authOrgId"] == TENANT and me["authUserId"] == TENANT
    assert me["serviceType"] == "Office365" and me["tokenStatus"] == "active"
    assert me["scopes"] == ["Mail.Read"]
    account = Account.objects.get()
    assert account.credentials["access_token"] == MS_APP_TOKEN["access_token"]
    assert "refresh_token" not in account.credentials
    assert account.access_token_expires_at > timezone.now() + timedelta(minutes=50)


@responses.activate
def test_office365_consent_again_updates_same_account_token_response(client, daemon_app):
    app, _, _ = daemon_app("Office365")
    app.token_response = True  # an opt-in (issue 17 item 3)
    app.trusted_domains = ["https://app.example.com"]  # the return URL's origin
    app.save()
    responses.post(MS_TOKEN, json=MS_APP_TOKEN)
    first = client.get(
        "/v1/auth/callback",
        {"tenant": TENANT, "admin_consent": "True", "state": consent(client, app)},
    )
    second = client.get(
        "/v1/auth/callback",
        {
            "tenant": TENANT,
            "admin_consent": "True",
            "state": consent(client, app, responseType="token"),
        },
    )
    q = query_of(second["Location"])
    assert q["status"] == "success" and q["accessToken"].startswith("aat_")
    assert Account.objects.count() == 1
    assert q["accountId"] == str(Account.objects.get().pk)
    assert query_of(first["Location"])["status"] == "success"


@pytest.mark.parametrize(
    "callback, code",
    [
        ({"admin_consent": "False", "tenant": TENANT}, "admin_consent.missing"),
        ({"tenant": TENANT}, "admin_consent.missing"),
        (
            {
                "error": "access_denied",
                "error_description": "AADSTS65004: User declined to consent",
            },
            "access.denied",
        ),
        (
            {"error": "invalid_request", "error_description": "AADSTS90002: Tenant not found"},
            "invalid_request",
        ),
        ({"admin_consent": "True"}, "tenant.invalid"),
        ({"admin_consent": "True", "tenant": "contoso.com"}, "tenant.invalid"),
    ],
)
@responses.activate
def test_office365_refused_consent_makes_no_account(client, daemon_app, callback, code):
    app, _, _ = daemon_app("Office365")
    state = consent(client, app)
    r = client.get("/v1/auth/callback", {**callback, "state": state})
    q = query_of(r["Location"])
    assert r["Location"].startswith(RETURN_URL)
    assert q["status"] == "error" and q["error"] == code and q["state"] == "app-state"
    assert "AADSTS" not in q["message"]
    assert not Account.objects.exists()
    assert len(responses.calls) == 0


@responses.activate
def test_office365_consent_for_another_tenant_is_refused(client, daemon_app):
    app, _, _ = daemon_app("Office365")
    state = consent(client, app, tenant=TENANT)
    r = client.get(
        "/v1/auth/callback", {"tenant": OTHER_TENANT, "admin_consent": "True", "state": state}
    )
    assert query_of(r["Location"])["error"] == "tenant.mismatch"
    assert not Account.objects.exists() and len(responses.calls) == 0


@responses.activate
def test_office365_client_credentials_refused(client, daemon_app):
    app, _, _ = daemon_app("Office365")
    state = consent(client, app)
    responses.post(
        MS_TOKEN,
        status=401,
        json={
            "error": "invalid_client",
            "error_description": "AADSTS7000215: Invalid client secret",
            "error_codes": [7000215],
        },
    )
    r = client.get("/v1/auth/callback", {"tenant": TENANT, "admin_consent": "True", "state": state})
    q = query_of(r["Location"])
    assert q["status"] == "error" and q["error"] == "invalid_client"
    assert not Account.objects.exists()


def test_forged_state_is_a_page(client, daemon_app):
    app, _, _ = daemon_app("Office365")
    consent(client, app)
    r = client.get(
        "/v1/auth/callback",
        {"tenant": TENANT, "admin_consent": "True", "state": "ast_forged-value-0123456789"},
    )
    assert r.status_code == 400 and b"state.invalid" in r.content
    assert not Account.objects.exists()


def test_expired_state_is_a_page(client, daemon_app):
    app, _, _ = daemon_app("Office365")
    state = consent(client, app)
    AuthState.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    r = client.get("/v1/auth/callback", {"tenant": TENANT, "admin_consent": "True", "state": state})
    assert r.status_code == 400 and b"state.expired" in r.content
    assert not Account.objects.exists()


def test_state_from_another_browser_is_refused(client, daemon_app):
    from django.test import Client

    app, _, _ = daemon_app("Office365")
    state = consent(client, app)
    r = Client().get(
        "/v1/auth/callback", {"tenant": TENANT, "admin_consent": "True", "state": state}
    )
    assert r.status_code == 400 and b"state.browser_mismatch" in r.content


# --- Google Workspace -----------------------------------------------------------------------


def google(
    key,
    *,
    hd: str | None = "example.com",
    email: str = "admin@example.com",
    error: dict | None = None,
) -> list[dict]:
    """Google's token endpoint (authorization code for the admin's sign-in; JWT bearer
    assertions checked with the service account's public key) and userinfo. Returns the
    list of verified assertion claims."""
    seen: list[dict] = []

    def token(request):
        body = {k: v[0] for k, v in parse_qs(request.body).items()}
        if body.get("grant_type") == "authorization_code":
            return (
                200,
                {},
                json.dumps(
                    {
                        "access_token": "ya29.admin",
                        "expires_in": 3599,
                        "token_type": "Bearer",
                        "scope": "openid https://www.googleapis.com/auth/userinfo.email",
                    }
                ),
            )
        assert body["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
        header = jwt.get_unverified_header(body["assertion"])
        claims = jwt.decode(
            body["assertion"],
            key.public_pem,
            algorithms=["RS256"],
            audience=GOOGLE_TOKEN,
            issuer=key.client_email,
        )
        assert header["kid"] == key.key_id
        assert claims["exp"] - claims["iat"] <= 3600
        seen.append(claims)
        if error:
            return 400, {}, json.dumps(error)
        return (
            200,
            {},
            json.dumps(
                {"access_token": f"ya29.sa-{len(seen)}", "expires_in": 3599, "token_type": "Bearer"}
            ),
        )

    responses.add_callback(responses.POST, GOOGLE_TOKEN, callback=token)
    info = {"sub": "1100220033", "email": email, "email_verified": True, "name": "Ada Admin"}
    if hd:
        info["hd"] = hd
    responses.get(GOOGLE_USERINFO, json=info)
    return seen


def start_google(client, app, **extra):
    r = start(client, app, "Google", scopes="Mail.Read Calendar.Read", **extra)
    assert r.status_code == 303, r.content
    return r


@responses.activate
def test_google_admin_signs_in_then_daemon_account_for_domain(client, daemon_app):
    app, secret, key = daemon_app("Google")
    r = start_google(client, app)
    q = query_of(r["Location"])
    assert urlsplit(r["Location"]).netloc == "accounts.google.com"
    assert q["scope"] == "openid email profile"  # identity only; daemon scopes go to the JWT
    seen = google(key)
    r = client.get("/v1/auth/callback", {"state": q["state"], "code": "4/admin-code"})
    back = query_of(r["Location"])
    assert back["status"] == "success", back
    assert len(seen) == 1
    assert seen[0]["sub"] == "admin@example.com"
    assert seen[0]["scope"] == (
        "https://www.googleapis.com/auth/gmail.readonly "
        "https://www.googleapis.com/auth/calendar.readonly"
    )
    r = client.post(f"/v1/auth/token/{back['code']}", HTTP_AUTHORIZATION=basic(app, secret))
    me = client.get("/v1/account", HTTP_AUTHORIZATION=f"Bearer {r.json()['accessToken']}").json()
    assert me["daemon"] is True and me["authOrgId"] == "example.com"
    assert me["email"] == "admin@example.com"
    assert sorted(me["scopes"]) == ["Calendar.Read", "Mail.Read"]
    account = Account.objects.get()
    assert "access_token" not in account.credentials  # the admin's own token is not kept


@responses.activate
def test_google_consumer_account_cannot_authorize(client, daemon_app):
    app, _, key = daemon_app("Google")
    q = query_of(start_google(client, app)["Location"])
    google(key, hd=None, email="someone@gmail.com")
    r = client.get("/v1/auth/callback", {"state": q["state"], "code": "4/x"})
    back = query_of(r["Location"])
    assert back["status"] == "error" and back["error"] == "daemon.not_workspace"
    assert not Account.objects.exists()


@responses.activate
def test_google_without_delegation_makes_no_account(client, daemon_app):
    app, _, key = daemon_app("Google")
    q = query_of(start_google(client, app)["Location"])
    google(
        key,
        error={
            "error": "unauthorized_client",
            "error_description": "Client is unauthorized to retrieve access tokens using this "
            "method, or client not authorized for any of the scopes requested.",
        },
    )
    r = client.get("/v1/auth/callback", {"state": q["state"], "code": "4/x"})
    back = query_of(r["Location"])
    assert back["error"] == "daemon.delegation_failed", back
    assert "unauthorized_client" in back["message"]
    assert not Account.objects.exists()


def test_google_without_key_fails_before_redirect(client, daemon_app):
    app, _, _ = daemon_app("Google", service_account_key="")
    r = start(client, app, "Google")
    q = query_of(r["Location"])
    assert r["Location"].startswith(RETURN_URL)
    assert q["error"] == "daemon.not_configured" and "service-account key" in q["message"]
    assert not AuthState.objects.exists()


def test_scope_outside_app_is_refused(client, daemon_app):
    app, _, _ = daemon_app("Office365")
    r = start(client, app, scopes="Mail.ReadWrite")
    assert query_of(r["Location"])["error"] == "scope.invalid"


def test_office365_configured_tenant_is_the_default(client, daemon_app):
    app, _, _ = daemon_app("Office365", tenant=TENANT)
    assert urlsplit(start(client, app)["Location"]).path == f"/{TENANT}/v2.0/adminconsent"
    app, _, _ = daemon_app("Office365", tenant="common")  # multi-tenant Account-flow setting
    # organizations: the admin's OpenID sign-in comes first.
    assert urlsplit(start(client, app)["Location"]).path == "/organizations/oauth2/v2.0/authorize"


def test_response_type_cookie_is_refused(client, daemon_app):
    app, _, _ = daemon_app("Office365")
    q = query_of(start(client, app, responseType="cookie")["Location"])
    assert q["status"] == "error" and q["error"] == "request.invalid"
