"""fresh_access_token: refresh on use, the failure taxonomy and its states."""

from __future__ import annotations

import contextlib
import threading
from datetime import timedelta

import pytest
import responses
from django.db import connection
from django.utils import timezone

from aurinko_auth import accounts
from aurinko_auth.exceptions import AccountInactive, ProviderError, ProviderUnavailable
from aurinko_auth.lifecycle import tokens
from aurinko_auth.models import Account, ProviderConfig, TokenStatus
from aurinko_auth.providers.base import Profile, TokenSet
from aurinko_auth.providers.registry import get_provider
from tests.lifecycle.conftest import GOOGLE_TOKEN, MS_TOKEN

# Recorded shapes of real token endpoint answers.
GOOGLE_REFRESHED = {
    "access_token": "ya29.a0-new",
    "expires_in": 3599,
    "token_type": "Bearer",
    "scope": "openid https://www.googleapis.com/auth/gmail.readonly",
}
GOOGLE_INVALID_GRANT = {
    "error": "invalid_grant",
    "error_description": "Token has been expired or revoked.",
}
MS_INACTIVE = {
    "error": "invalid_grant",
    "error_description": "AADSTS700082: The refresh token has expired due to inactivity. The "
    "token was issued on 2026-01-01T00:00:00Z and was inactive for 90.00:00:00.",
    "error_codes": [700082],
    "timestamp": "2026-04-01 10:00:00Z",
    "trace_id": "0000",
    "correlation_id": "1111",
}
MS_SECRET_EXPIRED = {
    "error": "invalid_client",
    "error_description": "AADSTS7000222: The provided client secret keys for app '0000' are "
    "expired.",
    "error_codes": [7000222],
}


def test_valid_token_is_used_without_queries(linked_account, django_assert_num_queries):
    account, _ = linked_account(expires_in=3600)
    with django_assert_num_queries(0):
        assert tokens.fresh_access_token(account) == account.credentials["access_token"]


@responses.activate
def test_expired_token_is_refreshed_and_keeps_refresh_token(linked_account):
    account, _ = linked_account()
    old_refresh = account.credentials["refresh_token"]
    call = responses.post(GOOGLE_TOKEN, json=GOOGLE_REFRESHED)
    assert tokens.fresh_access_token(account) == "ya29.a0-new"
    assert call.call_count == 1
    body = call.calls[0].request.body
    assert "grant_type=refresh_token" in body and f"refresh_token={old_refresh}" in body
    stored = Account.objects.get(pk=account.pk)
    assert stored.credentials == {
        "access_token": "ya29.a0-new",
        "refresh_token": old_refresh,
        "token_type": "Bearer",
    }
    assert stored.credential_version == 2
    assert stored.access_token_expires_at > timezone.now() + timedelta(seconds=3000)
    assert stored.token_status == TokenStatus.HEALTHY
    assert stored.scopes == ["Mail.Read"]
    # In memory too, so the caller goes on with the new state.
    assert account.credential_version == 2
    # Fresh now: no second call.
    assert tokens.fresh_access_token(account) == "ya29.a0-new"
    assert call.call_count == 1


@responses.activate
def test_provider_keys_beside_the_tokens_survive_a_refresh(linked_account):
    account, _ = linked_account(
        credentials={
            "access_token": "old",
            "refresh_token": "rt",
            "instance_url": "https://eu1.example.com",
        }
    )
    responses.post(GOOGLE_TOKEN, json=GOOGLE_REFRESHED)
    tokens.fresh_access_token(account)
    assert Account.objects.get(pk=account.pk).credentials == {
        "access_token": "ya29.a0-new",
        "refresh_token": "rt",
        "token_type": "Bearer",
        "instance_url": "https://eu1.example.com",
    }


@responses.activate
def test_token_within_leeway_is_refreshed(linked_account, settings):
    account, _ = linked_account(expires_in=60)  # REFRESH_LEEWAY is 120
    responses.post(GOOGLE_TOKEN, json=GOOGLE_REFRESHED)
    assert tokens.fresh_access_token(account) == "ya29.a0-new"


@responses.activate
def test_rotated_refresh_token_is_stored(linked_account):
    account, _ = linked_account("Office365")
    responses.post(
        MS_TOKEN,
        json={
            "access_token": "eyJ-new",
            "refresh_token": "0.rotated",
            "expires_in": 3600,
            "token_type": "Bearer",
            "scope": "Mail.Read User.Read",
        },
    )
    tokens.fresh_access_token(account)
    assert Account.objects.get(pk=account.pk).credentials["refresh_token"] == "0.rotated"


@responses.activate
def test_stale_caller_reuses_the_token_another_worker_stored(linked_account):
    """The second caller re-reads the row after the lock and does not refresh again."""
    account, _ = linked_account()
    stale = Account.objects.get(pk=account.pk)  # loaded before the other worker refreshed
    call = responses.post(GOOGLE_TOKEN, json=GOOGLE_REFRESHED)
    assert tokens.fresh_access_token(account) == "ya29.a0-new"
    assert tokens.fresh_access_token(stale) == "ya29.a0-new"
    assert call.call_count == 1
    assert stale.credential_version == 2


@responses.activate
def test_invalid_grant_makes_the_account_inactive(linked_account, client):
    account, token = linked_account()
    responses.post(GOOGLE_TOKEN, json=GOOGLE_INVALID_GRANT, status=400)
    with pytest.raises(AccountInactive) as info:
        tokens.fresh_access_token(account)
    assert info.value.code == "token.dead" and info.value.status == 401
    stored = Account.objects.get(pk=account.pk)
    assert not stored.active
    assert stored.token_status == TokenStatus.NEEDS_REAUTH
    assert stored.last_error == "invalid_grant"
    me = client.get("/v1/account", HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert me["active"] is False and me["tokenStatus"] == "dead"
    # No further provider calls for a dead account.
    with pytest.raises(AccountInactive):
        tokens.fresh_access_token(Account.objects.get(pk=account.pk))
    assert len(responses.calls) == 1


@responses.activate
def test_microsoft_inactivity_is_terminal_for_the_user(linked_account):
    account, _ = linked_account("Office365")
    responses.post(MS_TOKEN, json=MS_INACTIVE, status=400)
    with pytest.raises(AccountInactive):
        tokens.fresh_access_token(account)
    assert Account.objects.get(pk=account.pk).token_status == TokenStatus.NEEDS_REAUTH


@responses.activate
def test_hubspot_style_bad_refresh_token_is_terminal_for_the_user(linked_account):
    # HubSpot's own error body (not RFC 6749's): the HubSpot provider classifies it.
    account, _ = linked_account("Hubspot")
    responses.post(
        "https://api.hubapi.com/oauth/v1/token",
        status=400,
        json={
            "status": "BAD_REFRESH_TOKEN",
            "message": "missing or unknown refresh token",
            "correlationId": "3c9e",
        },
    )
    with pytest.raises(AccountInactive):
        tokens.fresh_access_token(account)
    stored = Account.objects.get(pk=account.pk)
    assert stored.last_error == "BAD_REFRESH_TOKEN" and not stored.active


@responses.activate
def test_invalid_grant_after_a_concurrent_update_is_a_race_not_a_revocation(
    linked_account, monkeypatch
):
    """Another writer changed the credentials while our refresh was on the wire."""
    account, _ = linked_account()
    provider = get_provider("Google")
    real_refresh = type(provider).refresh

    def refresh_and_lose(self, config, refresh_token):
        # The winner stores new credentials, then our (old) refresh token is refused.
        Account.objects.filter(pk=account.pk).update(
            credentials={"access_token": "winner-at", "refresh_token": "winner-rt"},
            credential_version=7,
            access_token_expires_at=timezone.now() + timedelta(hours=1),
        )
        return real_refresh(self, config, refresh_token)

    monkeypatch.setattr(type(provider), "refresh", refresh_and_lose)
    responses.post(GOOGLE_TOKEN, json=GOOGLE_INVALID_GRANT, status=400)
    assert tokens.fresh_access_token(account) == "winner-at"
    stored = Account.objects.get(pk=account.pk)
    assert stored.active and stored.token_status == TokenStatus.HEALTHY


@responses.activate
def test_lost_version_race_keeps_the_winners_credentials(linked_account, monkeypatch):
    account, _ = linked_account()
    provider = get_provider("Google")
    real_refresh = type(provider).refresh

    def refresh_while_reauthorized(self, config, refresh_token):
        result = real_refresh(self, config, refresh_token)
        Account.objects.filter(pk=account.pk).update(
            credentials={"access_token": "reauth-at", "refresh_token": "reauth-rt"},
            credential_version=5,
            access_token_expires_at=timezone.now() + timedelta(hours=1),
        )
        return result

    monkeypatch.setattr(type(provider), "refresh", refresh_while_reauthorized)
    responses.post(GOOGLE_TOKEN, json=GOOGLE_REFRESHED)
    assert tokens.fresh_access_token(account) == "reauth-at"
    assert Account.objects.get(pk=account.pk).credentials["refresh_token"] == "reauth-rt"


@responses.activate
def test_transient_failure_backs_off_and_honours_retry_after(linked_account):
    account, _ = linked_account()
    responses.post(
        GOOGLE_TOKEN,
        status=429,
        headers={"Retry-After": "42"},
        json={"error": "rate_limit_exceeded"},
    )
    before = timezone.now()
    with pytest.raises(ProviderUnavailable) as info:
        tokens.fresh_access_token(account)
    after = timezone.now()
    assert info.value.retry_after == 42 and info.value.status == 503
    stored = Account.objects.get(pk=account.pk)
    assert stored.active and stored.token_status == TokenStatus.RETRYING
    assert stored.public_token_status == "invalid"
    assert stored.refresh_failures == 1
    wait = timedelta(seconds=42)
    assert before + wait <= stored.refresh_retry_at <= after + wait
    # While backing off the provider is not called again.
    with pytest.raises(ProviderUnavailable) as again:
        tokens.fresh_access_token(stored)
    assert 0 < again.value.retry_after <= 42
    assert len(responses.calls) == 1


@responses.activate
def test_transient_failures_back_off_exponentially_then_recover(linked_account, settings):
    account, _ = linked_account()
    responses.post(GOOGLE_TOKEN, status=503, body="<html>Service Unavailable</html>")
    waits = []
    for _ in range(3):
        with pytest.raises(ProviderUnavailable) as info:
            tokens.fresh_access_token(account)
        waits.append(info.value.retry_after)
        Account.objects.filter(pk=account.pk).update(refresh_retry_at=timezone.now())
        account = Account.objects.get(pk=account.pk)
    assert waits == [15, 30, 60]
    responses.replace(responses.POST, GOOGLE_TOKEN, json=GOOGLE_REFRESHED)
    assert tokens.fresh_access_token(account) == "ya29.a0-new"
    stored = Account.objects.get(pk=account.pk)
    assert stored.token_status == TokenStatus.HEALTHY and stored.refresh_failures == 0
    assert stored.refresh_retry_at is None


@responses.activate
def test_early_refresh_failure_keeps_using_the_valid_token(linked_account):
    account, _ = linked_account(expires_in=60)
    responses.post(GOOGLE_TOKEN, status=500, body="oops")
    assert tokens.fresh_access_token(account) == account.credentials["access_token"]
    assert Account.objects.get(pk=account.pk).token_status == TokenStatus.RETRYING


@responses.activate
def test_app_credentials_refused_is_one_app_level_record(
    app_factory, provider_config_factory, account_factory, caplog
):
    app, _ = app_factory()
    config = provider_config_factory(app, "Office365")
    past = timezone.now() - timedelta(seconds=5)
    first, second = (
        account_factory(app, "Office365", access_token_expires_at=past) for _ in range(2)
    )
    responses.post(MS_TOKEN, json=MS_SECRET_EXPIRED, status=401)
    with pytest.raises(ProviderError) as info:
        tokens.fresh_access_token(first)
    assert info.value.code == "provider.app_misconfigured"
    config.refresh_from_db()
    assert config.last_error == "invalid_client" and config.refresh_blocked
    # The second account does not call the provider again.
    with pytest.raises(ProviderError):
        tokens.fresh_access_token(second)
    assert len(responses.calls) == 1
    for acc in (first, second):
        stored = Account.objects.get(pk=acc.pk)
        assert stored.active and stored.token_status == TokenStatus.APP_MISCONFIGURED
        assert stored.public_token_status == "invalid"
    alerts = [r for r in caplog.records if r.levelname == "ERROR" and "paused" in r.message]
    assert len(alerts) == 1
    # Fixing the configuration (any save) resumes refreshes and clears the record.
    config = ProviderConfig.objects.get(pk=config.pk)
    config.client_secret = "new-secret"
    config.save()
    responses.replace(
        responses.POST,
        MS_TOKEN,
        json={
            "access_token": "eyJ-new",
            "refresh_token": "0.r2",
            "expires_in": 3600,
            "token_type": "Bearer",
        },
    )
    assert tokens.fresh_access_token(Account.objects.get(pk=second.pk)) == "eyJ-new"
    assert ProviderConfig.objects.get(pk=config.pk).last_error == ""
    assert Account.objects.get(pk=second.pk).token_status == TokenStatus.HEALTHY


@responses.activate
def test_wrong_tenant_is_a_configuration_failure(linked_account):
    account, _ = linked_account("Office365")
    responses.post(
        MS_TOKEN,
        status=400,
        json={
            "error": "invalid_request",
            "error_description": "AADSTS90002: Tenant 'contoso.example' not found.",
        },
    )
    with pytest.raises(ProviderError) as info:
        tokens.fresh_access_token(account)
    assert info.value.code == "provider.misconfigured"
    stored = Account.objects.get(pk=account.pk)
    assert stored.token_status == TokenStatus.APP_MISCONFIGURED and stored.active
    assert stored.refresh_retry_at > timezone.now()


def test_missing_refresh_token_needs_reauth(linked_account):
    account, _ = linked_account(credentials={"access_token": "only-at"})
    with pytest.raises(AccountInactive):
        tokens.fresh_access_token(account)
    stored = Account.objects.get(pk=account.pk)
    assert stored.token_status == TokenStatus.NEEDS_REAUTH
    assert stored.last_error == "token.no_refresh_token"


def test_inactive_account_is_refused_without_queries(linked_account, django_assert_num_queries):
    account, _ = linked_account(active=False, token_status=TokenStatus.REVOKED)
    with django_assert_num_queries(0), pytest.raises(AccountInactive):
        tokens.fresh_access_token(account)


@responses.activate
def test_reauthorizing_reactivates_the_same_account(linked_account):
    account, _ = linked_account()
    responses.post(GOOGLE_TOKEN, json=GOOGLE_INVALID_GRANT, status=400)
    with pytest.raises(AccountInactive):
        tokens.fresh_access_token(account)
    provider = get_provider("Google")
    relinked, created = accounts.link_account(
        app=account.app,
        provider=provider,
        profile=Profile(auth_user_id=account.auth_user_id, email=account.email),
        tokens=TokenSet(
            access_token="ya29.again",
            refresh_token="1//again",
            expires_at=timezone.now() + timedelta(hours=1),
        ),
        requested_scopes=["Mail.Read"],
        requested_native=[],
    )
    assert not created and relinked.pk == account.pk
    stored = Account.objects.get(pk=account.pk)
    assert stored.active and stored.token_status == TokenStatus.HEALTHY
    assert stored.last_error == "" and stored.refresh_retry_at is None
    assert tokens.fresh_access_token(stored) == "ya29.again"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("local_lock", [True, False], ids=["with-local-lock", "row-lock-only"])
@responses.activate
def test_threads_refresh_exactly_once(linked_account, local_lock, monkeypatch):
    """Single-flight between threads: the in-process lock, and on PostgreSQL the row lock on
    its own (as between processes and machines). Each thread holds its own stale copy."""
    if not local_lock:
        if connection.vendor != "postgresql":
            pytest.skip("row locks need PostgreSQL (SQLite ignores SELECT ... FOR UPDATE)")
        monkeypatch.setattr(tokens, "_local_lock", lambda pk: contextlib.nullcontext())
    account, _ = linked_account()
    call = responses.post(GOOGLE_TOKEN, json=GOOGLE_REFRESHED)
    copies = [Account.objects.get(pk=account.pk) for _ in range(8)]
    results, errors = [], []
    barrier = threading.Barrier(len(copies))

    def worker(copy):
        try:
            barrier.wait()
            results.append(tokens.fresh_access_token(copy))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(c,)) for c in copies]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert results == ["ya29.a0-new"] * len(copies)
    assert call.call_count == 1
    assert Account.objects.get(pk=account.pk).credential_version == 2
