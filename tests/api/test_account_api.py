"""/v1/account: read, delete, and revoke the provider grant."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs

import pytest
import responses as responses_lib
from django.utils import timezone

from aurinko_auth.conf import DEFAULTS
from aurinko_auth.models import Account, AccountToken, AppUser
from aurinko_auth.providers import registry
from aurinko_auth.providers.google import GoogleProvider

REVOKE_URL = "https://oauth2.googleapis.com/revoke"


@pytest.fixture
def mocked():
    with responses_lib.RequestsMock() as rsps:
        yield rsps


@pytest.fixture
def google_account(app_with_account, provider_config_factory):
    provider_config_factory(app_with_account[0], "Google")
    return app_with_account


ALWAYS_SENT = {
    "id",
    "serviceType",
    "serviceProvider",
    "type",
    "daemon",
    "active",
    "loginString",
    "email",
    "name",
    "authUserId",
    "scopes",
    "tokenStatus",
    # the scope ledger (docs/scopes.md)
    "requestedScopes",
    "grantedScopes",
    "missingScopes",
    # Aurinko's names of the granted scopes, and when the account was first linked
    "authScopes",
    "authNativeScopes",
    "createdAt",
    "updatedAt",
}
# Left out while unknown, never null (Aurinko's schema has non-nullable strings).
SENT_WHEN_KNOWN = {
    "serverUrl",
    "authOrgId",
    "clientOrgId",
    "authObtainedAt",
    "authExpiresAt",
    "tokenIssuedAt",
    "userId",
}


def test_account_json_shape(client, google_account):
    app, _, account, token, _ = google_account
    Account.objects.filter(pk=account.pk).update(
        server_url="",
        auth_org_id="",
        client_org_id="",
        auth_obtained_at=None,
        access_token_expires_at=None,
        access_token_issued_at=None,
    )
    body = client.get("/v1/account", HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert set(body) == ALWAYS_SENT
    assert body["serviceType"] == "Google" and body["scopes"] == ["Mail.Read"]
    assert body["type"] == "personal"
    assert "provider-rt" not in str(body) and "provider-at" not in str(body)
    assert body["serviceProvider"] == "Google" and body["authScopes"] == ["Mail.Read"]
    assert body["authNativeScopes"] == []
    user = AppUser.objects.create(app=app, email="alice@example.com")
    Account.objects.filter(pk=account.pk).update(
        server_url="https://mail.example.com",
        auth_org_id="example.com",
        client_org_id="tenant-a",
        auth_obtained_at=timezone.now(),
        access_token_expires_at=datetime(2026, 11, 24, 9, 4, 57, tzinfo=UTC),
        access_token_issued_at=datetime(2026, 11, 24, 8, 4, 58, 562000, tzinfo=UTC),
        daemon=True,
        user=user,
        native_scopes=["https://www.googleapis.com/auth/gmail.readonly"],
    )
    body = client.get("/v1/account", HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert set(body) == ALWAYS_SENT | SENT_WHEN_KNOWN
    assert body["type"] == "daemon" and body["clientOrgId"] == "tenant-a"
    assert body["userId"] == str(user.pk)
    assert body["authNativeScopes"] == ["https://www.googleapis.com/auth/gmail.readonly"]
    assert body["createdAt"].endswith("Z") and body["updatedAt"].endswith("Z")
    assert body["authExpiresAt"] == "2026-11-24T09:04:57.000Z"
    assert body["tokenIssuedAt"] == "2026-11-24T08:04:58.562Z"
    assert None not in body.values()


class AcmeProvider(GoogleProvider):
    """A provider of the host project's, outside Aurinko's ServiceProvider enum."""

    id = "AcmeCRM"
    service_provider = ""


def test_service_provider_left_out_for_a_provider_outside_aurinkos_enum(
    client, google_account, settings
):
    _, _, account, token, _ = google_account
    settings.AURINKO_AUTH = {
        **settings.AURINKO_AUTH,
        "PROVIDERS": [*DEFAULTS["PROVIDERS"], f"{__name__}.AcmeProvider"],
    }
    assert registry.get_provider("acmecrm").service_provider == ""
    Account.objects.filter(pk=account.pk).update(service_type="AcmeCRM")
    body = client.get("/v1/account", HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert body["serviceType"] == "AcmeCRM" and "serviceProvider" not in body
    # One no longer configured: left out too (never a 500).
    Account.objects.filter(pk=account.pk).update(service_type="Retired")
    body = client.get("/v1/account", HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert body["serviceType"] == "Retired" and "serviceProvider" not in body
    assert registry.get_provider("Google").service_provider == "Google"


def test_revoke_token(client, google_account, mocked):
    app, _, account, token, _ = google_account
    rt = account.credentials["refresh_token"]
    mocked.post(REVOKE_URL, status=200)
    r = client.delete("/v1/account/token", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert r.status_code == 200, r.content
    assert r.json() == {"revoked": True, "providerConfirmed": True}
    sent = parse_qs(mocked.calls[0].request.body)
    assert sent["token"] == [rt]
    account.refresh_from_db()
    assert account.active is False and account.credentials == {}
    assert account.public_token_status == "dead"
    assert not AccountToken.objects.filter(account=account).exists()


def test_revoke_provider_down_still_revokes_locally(client, google_account, mocked):
    _, _, account, _, auth = google_account
    mocked.post(REVOKE_URL, status=503)
    r = client.delete(
        "/v1/account/token", HTTP_AUTHORIZATION=auth, HTTP_X_AURINKO_ACCOUNTID=str(account.pk)
    )
    assert r.status_code == 200 and r.json()["providerConfirmed"] is False
    account.refresh_from_db()
    assert account.active is False and account.credentials == {}


def test_delete_account(client, google_account, mocked, conforms):
    _, _, account, token, _ = google_account
    mocked.post(REVOKE_URL, status=200)
    r = client.delete("/v1/account", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert r.status_code == 200 and conforms(r) == {"status": "Ok"}  # OkResponse, not a 204
    assert not Account.objects.filter(pk=account.pk).exists()
    assert not AccountToken.objects.exists()
    assert len(mocked.calls) == 1
    assert client.get("/v1/account", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401
