"""App-only tokens of daemon accounts, the service-account key check and the mailbox header."""

from __future__ import annotations

import base64
import json
import pickle
from datetime import timedelta
from io import StringIO
from urllib.parse import parse_qs

import jwt
import pytest
import responses
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from aurinko_auth.exceptions import InvalidRequest
from aurinko_auth.lifecycle.daemon_tokens import MailboxError, daemon_access_token
from aurinko_auth.models import Account, ProviderConfig, TokenStatus
from aurinko_auth.providers.base import ProviderCallError
from aurinko_auth.providers.google_daemon import parse_service_account_key

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
MS_TOKEN = f"https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/token"
GOOGLE_TOKEN = "https://oauth2.googleapis.com/token"
GMAIL = "https://www.googleapis.com/auth/gmail.readonly"


@pytest.fixture
def office_account(daemon_app, account_factory):
    def make(**kw):
        app, secret, _ = daemon_app("Office365")
        kw.setdefault(
            "credentials", {"access_token": "app-token-1", "token_type": "Bearer", "tenant": TENANT}
        )
        kw.setdefault("access_token_expires_at", timezone.now() + timedelta(minutes=30))
        return account_factory(
            app, "Office365", daemon=True, auth_user_id=TENANT, auth_org_id=TENANT, **kw
        )

    return make


@pytest.fixture
def google_account(daemon_app, account_factory):
    def make(**kw):
        app, secret, key = daemon_app("Google")
        account = account_factory(
            app,
            "Google",
            daemon=True,
            auth_user_id="example.com",
            auth_org_id="example.com",
            email="admin@example.com",
            native_scopes=[GMAIL],
            scopes=["Mail.Read"],
            credentials={"domain": "example.com", "default_mailbox": "admin@example.com"},
            **kw,
        )
        return account, key, secret

    return make


# --- Office 365 -------------------------------------------------------------------------------


def test_office365_valid_token_needs_no_query(office_account, django_assert_num_queries):
    account = office_account()
    with django_assert_num_queries(0):
        assert daemon_access_token(account, "anyone@contoso.com") == "app-token-1"


@responses.activate
def test_office365_expired_token_is_fetched_again(office_account):
    account = office_account(access_token_expires_at=timezone.now() - timedelta(seconds=5))
    responses.post(
        MS_TOKEN, json={"token_type": "Bearer", "expires_in": 3599, "access_token": "app-token-2"}
    )
    before = timezone.now()
    assert daemon_access_token(account) == "app-token-2"
    assert before <= account.access_token_issued_at <= timezone.now()  # tokenIssuedAt
    body = parse_qs(responses.calls[0].request.body)
    assert body["grant_type"] == ["client_credentials"]
    fresh = Account.objects.get(pk=account.pk)
    assert fresh.credentials["access_token"] == "app-token-2"
    assert fresh.access_token_expires_at > timezone.now() + timedelta(minutes=50)
    assert fresh.access_token_issued_at == account.access_token_issued_at
    assert fresh.credential_version == account.credential_version + 1
    # Now cached in the account row: no second call.
    assert daemon_access_token(fresh) == "app-token-2"
    assert len(responses.calls) == 1


@pytest.mark.parametrize(
    "status, body, token_status",
    [
        (
            401,
            {"error": "invalid_client", "error_description": "AADSTS7000222: secret expired"},
            TokenStatus.APP_MISCONFIGURED,
        ),
        (
            400,
            {"error": "invalid_grant", "error_description": "AADSTS65001: consent revoked"},
            TokenStatus.NEEDS_REAUTH,
        ),
        (503, {"error": "temporarily_unavailable"}, TokenStatus.RETRYING),
    ],
)
@responses.activate
def test_office365_failure_sets_token_status(office_account, status, body, token_status):
    account = office_account(access_token_expires_at=timezone.now() - timedelta(seconds=5))
    responses.post(MS_TOKEN, status=status, json=body)
    with pytest.raises(ProviderCallError):
        daemon_access_token(account)
    fresh = Account.objects.get(pk=account.pk)
    assert fresh.token_status == token_status
    assert fresh.credentials["access_token"] == "app-token-1"  # nothing half-written


@responses.activate
def test_recovery_sets_account_healthy_again(office_account):
    account = office_account(access_token_expires_at=None, token_status=TokenStatus.RETRYING)
    responses.post(
        MS_TOKEN, json={"token_type": "Bearer", "expires_in": 3599, "access_token": "app-token-3"}
    )
    assert daemon_access_token(account) == "app-token-3"
    assert Account.objects.get(pk=account.pk).token_status == TokenStatus.HEALTHY


def test_not_a_daemon_account(account_factory, app_factory):
    app, _ = app_factory()
    with pytest.raises(InvalidRequest):
        daemon_access_token(account_factory(app, "Google"))


# --- Google -----------------------------------------------------------------------------------


def jwt_checker(key, seen, error=None):
    def handle(request):
        body = {k: v[0] for k, v in parse_qs(request.body).items()}
        assert body["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
        claims = jwt.decode(
            body["assertion"],
            key.public_pem,
            algorithms=["RS256"],
            audience=GOOGLE_TOKEN,
            issuer=key.client_email,
        )
        seen.append(claims)
        if error:
            return 400, {}, json.dumps(error)
        return (
            200,
            {},
            json.dumps(
                {
                    "access_token": f"ya29.{claims['sub']}.{len(seen)}",
                    "expires_in": 3599,
                    "token_type": "Bearer",
                }
            ),
        )

    return handle


@responses.activate
def test_google_token_per_mailbox_cached_encrypted(google_account, django_assert_num_queries):
    from django.core.cache import cache

    account, key, _ = google_account()
    seen: list = []
    responses.add_callback(responses.POST, GOOGLE_TOKEN, callback=jwt_checker(key, seen))
    bob = daemon_access_token(account, "bob@example.com")
    assert bob == "ya29.bob@example.com.1"
    assert seen[0]["sub"] == "bob@example.com" and seen[0]["scope"] == GMAIL
    with django_assert_num_queries(0):
        assert daemon_access_token(account, "Bob@example.com".lower()) == bob
    assert daemon_access_token(account) == "ya29.admin@example.com.2"  # default mailbox
    assert len(seen) == 2
    stored = [pickle.loads(v) for v in cache._cache.values()]  # locmem: all values are ours
    assert len(stored) == 2
    assert all(v.startswith("gAAAAA") and "ya29" not in v for v in stored)  # Fernet tokens


@responses.activate
def test_google_token_fetched_again_when_cache_expires(google_account):
    from django.core.cache import cache

    account, key, _ = google_account()
    seen: list = []
    responses.add_callback(responses.POST, GOOGLE_TOKEN, callback=jwt_checker(key, seen))
    first = daemon_access_token(account, "bob@example.com")
    cache.clear()  # what the cache does at expiry (ttl = expires_in - leeway)
    assert daemon_access_token(account, "bob@example.com") != first
    assert len(seen) == 2


@pytest.mark.parametrize(
    "mailbox, code",
    [
        ("eve@other.org", "mailbox.outside_domain"),
        ("bob@example.com.evil.org", "mailbox.outside_domain"),
        ("not-an-address", "mailbox.invalid"),
    ],
)
@responses.activate
def test_google_mailbox_outside_domain(google_account, mailbox, code):
    account, _, _ = google_account()
    with pytest.raises(MailboxError) as info:
        daemon_access_token(account, mailbox)
    assert info.value.code == code and info.value.status == 400
    assert len(responses.calls) == 0


@responses.activate
def test_google_unknown_mailbox_does_not_kill_account(google_account):
    account, key, _ = google_account()
    responses.add_callback(
        responses.POST,
        GOOGLE_TOKEN,
        callback=jwt_checker(
            key,
            [],
            error={"error": "invalid_grant", "error_description": "Invalid email or User ID"},
        ),
    )
    with pytest.raises(MailboxError) as info:
        daemon_access_token(account, "gone@example.com")
    assert info.value.code == "mailbox.unknown"
    assert Account.objects.get(pk=account.pk).token_status == TokenStatus.HEALTHY


@pytest.mark.parametrize(
    "error, status",
    [
        (
            {"error": "unauthorized_client", "error_description": "Client is unauthorized"},
            TokenStatus.APP_MISCONFIGURED,
        ),
        (
            {"error": "invalid_grant", "error_description": "Invalid JWT Signature."},
            TokenStatus.APP_MISCONFIGURED,
        ),
    ],
)
@responses.activate
def test_google_app_failures_set_token_status(google_account, error, status):
    account, key, _ = google_account()
    responses.add_callback(responses.POST, GOOGLE_TOKEN, callback=jwt_checker(key, [], error=error))
    with pytest.raises(ProviderCallError):
        daemon_access_token(account, "bob@example.com")
    fresh = Account.objects.get(pk=account.pk)
    assert fresh.token_status == status and fresh.last_error == error["error"]


# --- the service-account key --------------------------------------------------------------


def bad_keys(good: str) -> list[tuple[str, str]]:
    data = json.loads(good)
    return [
        ("{not json", "not JSON"),
        ("[1, 2]", "not a JSON object"),
        (json.dumps({**data, "type": "authorized_user"}), "service_account"),
        (json.dumps({k: v for k, v in data.items() if k != "client_email"}), "client_email"),
        (json.dumps({**data, "private_key": ""}), "private_key"),
        (
            json.dumps(
                {
                    **data,
                    "private_key": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
                }
            ),
            "PEM",
        ),
    ]


def test_malformed_keys_are_rejected_when_saved(app_factory, configure, sa_key):
    app, _ = app_factory()
    good = sa_key().json_text
    for text, words in bad_keys(good):
        with pytest.raises(InvalidRequest) as info:
            configure(app, "Google", client_id="cid", service_account_key=text)
        assert info.value.code == "service_account_key.invalid"
        assert words in info.value.message
        assert "PRIVATE KEY" not in info.value.message
    assert not ProviderConfig.objects.filter(service_account_key__gt="").exists()


def test_each_provider_checks_its_own_kind_of_key(app_factory, configure, sa_key):
    app, _ = app_factory()
    # Office 365 takes a certificate credential (PEM), not Google's JSON key; Zoho takes none.
    with pytest.raises(InvalidRequest) as info:
        configure(app, "Office365", client_id="cid", service_account_key=sa_key().json_text)
    assert "PEM private key" in info.value.message
    with pytest.raises(InvalidRequest) as info:
        configure(app, "Zoho", client_id="cid", service_account_key=sa_key().json_text)
    assert "takes no service-account key" in info.value.message
    assert not ProviderConfig.objects.filter(service_account_key__gt="").exists()


def test_good_key_is_stored_encrypted(app_factory, configure, sa_key):
    app, _ = app_factory()
    key = sa_key()
    config = configure(app, "Google", client_id="cid", service_account_key=key.json_text)
    assert parse_service_account_key(config.service_account_key).client_email == key.client_email
    with connection.cursor() as cursor:
        cursor.execute("SELECT service_account_key FROM aurinko_auth_providerconfig")
        raw = cursor.fetchone()[0]
    assert "PRIVATE" not in raw and key.client_email not in raw


def test_command_rejects_malformed_key_file(app_factory, tmp_path, sa_key):
    app, _ = app_factory()
    bad = tmp_path / "key.json"
    bad.write_text('{"type": "service_account"}')
    with pytest.raises(CommandError, match="client_email"):
        call_command(
            "aurinko_app",
            "provider",
            app.client_id,
            "Google",
            "--oauth-client-id",
            "cid",
            "--service-account-key",
            str(bad),
        )
    good = tmp_path / "good.json"
    good.write_text(sa_key().json_text)
    out = StringIO()
    call_command(
        "aurinko_app",
        "provider",
        app.client_id,
        "Google",
        "--oauth-client-id",
        "cid",
        "--service-account-key",
        str(good),
        stdout=out,
    )
    assert "PRIVATE" not in out.getvalue()
    assert ProviderConfig.objects.get(app=app).service_account_key


# --- X-Aurinko-Mailbox --------------------------------------------------------------------


def test_mailbox_header_is_checked_on_api_calls(client, google_account, account_token_factory):
    account, _, secret = google_account()
    token = account_token_factory(account)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    r = client.get("/v1/account", HTTP_X_AURINKO_MAILBOX="eve@other.org", **auth)
    assert r.status_code == 400
    assert r.json()["code"] == "mailbox.outside_domain"
    r = client.get("/v1/account", HTTP_X_AURINKO_MAILBOX="bob@example.com", **auth)
    assert r.status_code == 200 and r.json()["daemon"] is True
    basic = base64.b64encode(f"{account.app.client_id}:{secret}".encode()).decode()
    r = client.get(
        "/v1/account",
        HTTP_AUTHORIZATION=f"Basic {basic}",
        HTTP_X_AURINKO_ACCOUNTID=str(account.pk),
        HTTP_X_AURINKO_MAILBOX="x@other.org",
    )
    assert r.status_code == 400 and r.json()["code"] == "mailbox.outside_domain"


def test_mailbox_header_on_ordinary_account(
    client, app_factory, account_factory, account_token_factory
):
    app, _ = app_factory()
    token = account_token_factory(account_factory(app, "Google"))
    r = client.get(
        "/v1/account",
        HTTP_AUTHORIZATION=f"Bearer {token}",
        HTTP_X_AURINKO_MAILBOX="bob@example.com",
    )
    assert r.status_code == 400 and r.json()["code"] == "mailbox.not_daemon"


def test_admin_form_rejects_malformed_key(app_factory, sa_key):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from aurinko_auth.admin.forms import ProviderConfigForm

    app, _ = app_factory()

    def errors(key_text: str):
        form = ProviderConfigForm(
            data={"service_type": "Google", "client_id": "cid", "endpoints": ""},
            files={"key_file": SimpleUploadedFile("key.json", key_text.encode())},
            instance=ProviderConfig(app=app),
        )
        assert not form.is_valid()
        return str(form.errors.get("key_file"))

    assert "client_email" in errors('{"type": "service_account"}')
    bad_key = json.loads(sa_key().json_text)
    bad_key["private_key"] = "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n"
    assert errors(json.dumps(bad_key)) != "None"  # a key that does not load is refused too


# --- the Direct API with daemon accounts ------------------------------------------------------


@responses.activate
def test_direct_api_uses_the_mailbox_token_of_a_google_daemon(google_account, client):
    from tests.flows.conftest import basic

    account, key, secret = google_account()
    seen: list = []
    responses.add_callback(responses.POST, GOOGLE_TOKEN, callback=jwt_checker(key, seen))
    profile = "https://www.googleapis.com/gmail/v1/users/me/profile"
    responses.get(profile, json={"emailAddress": "bob@example.com"})
    response = client.get(
        "/v1/direct/gmail/v1/users/me/profile",
        HTTP_AUTHORIZATION=basic(account.app.client_id, secret),
        HTTP_X_AURINKO_ACCOUNTID=str(account.pk),
        HTTP_X_AURINKO_MAILBOX="bob@example.com",
    )
    assert response.status_code == 200
    assert json.loads(b"".join(response.streaming_content)) == {"emailAddress": "bob@example.com"}
    assert seen[0]["sub"] == "bob@example.com"
    forwarded = [c.request for c in responses.calls if c.request.url == profile][0]
    assert forwarded.headers["Authorization"] == "Bearer ya29.bob@example.com.1"
    assert "X-Aurinko-Mailbox" not in forwarded.headers
    outside = client.get(
        "/v1/direct/gmail/v1/users/me/profile",
        HTTP_AUTHORIZATION=basic(account.app.client_id, secret),
        HTTP_X_AURINKO_ACCOUNTID=str(account.pk),
        HTTP_X_AURINKO_MAILBOX="eve@evil.example",
    )
    assert outside.status_code == 400


def test_revoked_daemon_account_answers_like_every_inactive_account(office_account):
    from aurinko_auth.exceptions import AccountInactive

    account = office_account(active=False, token_status=TokenStatus.REVOKED)
    with pytest.raises(AccountInactive) as raised:
        daemon_access_token(account)
    assert raised.value.code == "token.dead" and raised.value.status == 401
