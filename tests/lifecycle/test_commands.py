"""aurinko_refresh and aurinko_rotate_keys."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
import responses
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from aurinko_auth import crypto
from aurinko_auth.management.commands.aurinko_rotate_keys import encrypted_fields
from aurinko_auth.models import Account, AuthState, ProviderConfig, TokenStatus
from aurinko_auth.security.ratelimit import parse_rate
from tests.lifecycle.conftest import GOOGLE_TOKEN

NEW_KEY = "r5Z1n0Yf0wq3h1kJ8Jk2w3cY6v1iY0yqgk0a8nqZ9bE="


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=out)
    return out.getvalue()


def run_failing(*args: str) -> str:
    """Run a command that must fail with exit status 1 (after printing its report)."""
    out = StringIO()
    with pytest.raises(CommandError) as failure:
        call_command(*args, stdout=out, stderr=out)
    assert failure.value.returncode == 1
    return out.getvalue()


@responses.activate
def test_refresh_command_refreshes_due_accounts_only(
    app_factory, provider_config_factory, account_factory
):
    app, _ = app_factory()
    provider_config_factory(app, "Google")
    now = timezone.now()
    due = [
        account_factory(app, access_token_expires_at=now + timedelta(seconds=s))
        for s in (-30, 60, 500)
    ]
    later = account_factory(app, access_token_expires_at=now + timedelta(hours=2))
    dead = account_factory(
        app, access_token_expires_at=now, active=False, token_status=TokenStatus.NEEDS_REAUTH
    )
    backing_off = account_factory(
        app,
        access_token_expires_at=now,
        token_status=TokenStatus.RETRYING,
        refresh_retry_at=now + timedelta(minutes=5),
    )
    call = responses.post(
        GOOGLE_TOKEN, json={"access_token": "ya29.cron", "expires_in": 3599, "token_type": "Bearer"}
    )
    out = run("aurinko_refresh", "--window", "600", "--batch-size", "2")
    assert "3 account(s)" in out
    assert "progress 2/3" in out and "progress 3/3" in out
    assert "done: 3 refreshed" in out
    assert call.call_count == 3
    for account in due:
        assert Account.objects.get(pk=account.pk).credentials["access_token"] == "ya29.cron"
    for account in (later, dead, backing_off):
        stored = Account.objects.get(pk=account.pk)
        assert stored.credentials == account.credentials
    # Nothing is due any more.
    assert "done: 0 refreshed" in run("aurinko_refresh", "--window", "600")
    assert call.call_count == 3


@responses.activate
def test_refresh_command_reports_failures_and_continues(
    app_factory, provider_config_factory, account_factory
):
    app, _ = app_factory()
    provider_config_factory(app, "Google")
    now = timezone.now()
    first = account_factory(app, access_token_expires_at=now)
    second = account_factory(app, access_token_expires_at=now)
    responses.post(GOOGLE_TOKEN, status=400, json={"error": "invalid_grant"})
    responses.post(GOOGLE_TOKEN, json={"access_token": "ok", "expires_in": 60})
    out = StringIO()
    # A failed refresh is a failed run (exit status 1 from manage.py), after the summary.
    with pytest.raises(CommandError, match="1 refresh\\(es\\) failed") as failure:
        call_command("aurinko_refresh", stdout=out, stderr=out)
    assert failure.value.returncode == 1
    out = out.getvalue()
    assert f"account {first.pk}: token.dead" in out
    assert "1 refreshed" in out and "1 failed" in out
    assert not Account.objects.get(pk=first.pk).active
    assert Account.objects.get(pk=second.pk).credentials["access_token"] == "ok"


@pytest.mark.django_db(transaction=True)
@responses.activate
def test_refresh_command_skips_rows_locked_elsewhere(
    app_factory, provider_config_factory, account_factory
):
    """SKIP LOCKED: an account another machine is refreshing right now is skipped."""
    if connection.vendor != "postgresql":
        pytest.skip("SELECT ... FOR UPDATE SKIP LOCKED needs PostgreSQL")
    import psycopg
    from django.conf import settings as dj

    app, _ = app_factory()
    provider_config_factory(app, "Google")
    locked = account_factory(app, access_token_expires_at=timezone.now())
    free = account_factory(app, access_token_expires_at=timezone.now())
    db = dj.DATABASES["default"]
    other = psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"],
        dbname=connection.settings_dict["NAME"],
    )
    try:
        other.execute("BEGIN")
        other.execute("SELECT id FROM aurinko_auth_account WHERE id = %s FOR UPDATE", [locked.pk])
        responses.post(GOOGLE_TOKEN, json={"access_token": "ok", "expires_in": 3600})
        out = run("aurinko_refresh")
        assert "1 refreshed" in out and "1 skipped" in out
        assert Account.objects.get(pk=free.pk).credentials["access_token"] == "ok"
        assert Account.objects.get(pk=locked.pk).credentials == locked.credentials
    finally:
        other.rollback()
        other.close()


def raw_values(model, column):
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} ORDER BY id")  # noqa: S608
        return [row[0] for row in cursor.fetchall()]


def test_encrypted_fields_are_discovered_generically():
    found = {
        model._meta.label: sorted(f.name for f in fields) for model, fields in encrypted_fields()
    }
    assert found["aurinko_auth.Account"] == ["credentials"]
    assert found["aurinko_auth.ProviderConfig"] == ["client_secret", "service_account_key"]
    assert found["aurinko_auth.AuthState"] == ["secrets"]


def test_rotate_keys_round_trip(app_factory, provider_config_factory, account_factory, settings):
    old_key = crypto.configured_keys()[0]
    app, _ = app_factory()
    provider_config_factory(
        app, "Google", client_secret="s3cret", service_account_key='{"private_key": "k"}'
    )
    accounts = [account_factory(app) for _ in range(5)]
    empty = account_factory(app, credentials={})
    AuthState.objects.create(
        state_hash="h",
        app=app,
        kind="account",
        service_type="Google",
        secrets={"code_verifier": "v"},
        browser_hash="b",
        expires_at=timezone.now(),
    )
    before = raw_values(Account, "credentials")

    settings.AURINKO_AUTH = {**settings.AURINKO_AUTH, "ENCRYPTION_KEYS": [NEW_KEY, old_key]}
    with pytest.raises(CommandError):
        run("aurinko_rotate_keys", "--check")
    out = run("aurinko_rotate_keys", "--batch-size", "2")
    assert "aurinko_auth.Account: through aurinko_auth.Account:" in out
    # 5 accounts, 2 provider-config fields, 1 pending state, 1 app user-signing key
    assert "9 value(s) re-encrypted" in out
    after = raw_values(Account, "credentials")
    assert all(a != b for a, b in zip(after, before, strict=True) if b)
    assert raw_values(Account, "credentials")[-1] == ""  # empty stays empty
    new = Fernet(NEW_KEY.encode())
    for value in after:
        if value:
            new.decrypt(value.encode())
    assert "check: 0 value(s)" in run("aurinko_rotate_keys", "--check")
    # Run again: nothing left to do (resumable by detection).
    assert "0 value(s) re-encrypted" in run("aurinko_rotate_keys")

    # The old key is gone: everything still decrypts.
    settings.AURINKO_AUTH = {**settings.AURINKO_AUTH, "ENCRYPTION_KEYS": [NEW_KEY]}
    for account in accounts:
        assert Account.objects.get(pk=account.pk).credentials == account.credentials
    assert Account.objects.get(pk=empty.pk).credentials == {}
    config = ProviderConfig.objects.get(app=app)
    assert config.client_secret == "s3cret" and config.service_account_key.startswith("{")
    assert AuthState.objects.get().secrets == {"code_verifier": "v"}


def test_rotate_keys_resumes_after_a_given_row(app_factory, account_factory, settings):
    old_key = crypto.configured_keys()[0]
    app, _ = app_factory()
    first, second = account_factory(app), account_factory(app)
    settings.AURINKO_AUTH = {**settings.AURINKO_AUTH, "ENCRYPTION_KEYS": [NEW_KEY, old_key]}
    out = run("aurinko_rotate_keys", "--start-after", f"aurinko_auth.Account:{first.pk}")
    assert "1 value(s) re-encrypted" in out
    new = Fernet(NEW_KEY.encode())
    raw = dict(zip([first.pk, second.pk], raw_values(Account, "credentials"), strict=True))
    new.decrypt(raw[second.pk].encode())
    with pytest.raises(Exception):
        new.decrypt(raw[first.pk].encode())


def test_rotate_keys_reports_values_no_key_decrypts(app_factory, account_factory, settings):
    app, _ = app_factory()
    account_factory(app)
    settings.AURINKO_AUTH = {**settings.AURINKO_AUTH, "ENCRYPTION_KEYS": [NEW_KEY]}
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("aurinko_rotate_keys", stdout=out, stderr=out)
    assert "no configured key decrypts it" in out.getvalue()


def test_parse_rate():
    assert parse_rate("120/m") == (120, 60)
    assert parse_rate("10/30s") == (10, 30)
    assert parse_rate("5/h") == (5, 3600)
    assert parse_rate(None) is None and parse_rate("") is None
    with pytest.raises(ValueError):
        parse_rate("ten/m")
    with pytest.raises(ValueError):
        parse_rate("10/w")


@responses.activate
def test_refresh_command_pauses_apps_with_an_app_level_failure(
    app_factory, provider_config_factory, account_factory
):
    app, _ = app_factory()
    config = provider_config_factory(app, "Google")
    now = timezone.now()
    accounts = [account_factory(app, access_token_expires_at=now) for _ in range(3)]
    responses.post(
        GOOGLE_TOKEN,
        status=401,
        json={"error": "invalid_client", "error_description": "Unauthorized"},
    )
    out = run_failing("aurinko_refresh", "--batch-size", "1")
    # The first account discovers it; the others are not even touched.
    assert len(responses.calls) == 1
    assert "0 refreshed" in out and "1 failed" in out
    assert out.count("provider.app_misconfigured") == 1
    assert [Account.objects.get(pk=a.pk).token_status for a in accounts] == [
        TokenStatus.APP_MISCONFIGURED,
        TokenStatus.HEALTHY,
        TokenStatus.HEALTHY,
    ]
    out = run_failing("aurinko_refresh")
    assert f"app {app.client_id} Google: refreshes paused (invalid_client)" in out
    assert "3 account(s) waiting" in out and "0 account(s) with tokens" in out
    assert len(responses.calls) == 1
    # A changed configuration resumes them.
    config.refresh_from_db()
    config.client_secret = "rotated"
    config.save()
    responses.replace(responses.POST, GOOGLE_TOKEN, json={"access_token": "ok", "expires_in": 3600})
    out = run("aurinko_refresh")
    assert "done: 3 refreshed" in out
    assert all(Account.objects.get(pk=a.pk).token_status == TokenStatus.HEALTHY for a in accounts)


@pytest.mark.django_db(transaction=True)
def test_waiting_for_a_stuck_refresh_is_bounded(linked_account, settings):
    """REFRESH_LOCK_TIMEOUT: a caller gives up waiting for another worker's refresh with a
    503 refresh_busy instead of hanging."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    import psycopg
    from django.conf import settings as dj

    from aurinko_auth.exceptions import ProviderUnavailable
    from aurinko_auth.lifecycle import tokens

    settings.AURINKO_AUTH = {**settings.AURINKO_AUTH, "REFRESH_LOCK_TIMEOUT": 0.3}
    account, _ = linked_account()
    db = dj.DATABASES["default"]
    other = psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"],
        dbname=connection.settings_dict["NAME"],
    )
    try:
        other.execute("BEGIN")
        other.execute("SELECT id FROM aurinko_auth_account WHERE id = %s FOR UPDATE", [account.pk])
        with pytest.raises(ProviderUnavailable) as info:
            tokens.fresh_access_token(account)
        assert info.value.code == "refresh.busy" and info.value.retry_after == 5
    finally:
        other.rollback()
        other.close()
    assert Account.objects.get(pk=account.pk).token_status == TokenStatus.HEALTHY
