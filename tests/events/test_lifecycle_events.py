"""Token lifecycle events: refresh_failed (first failure of a streak), recovered, and
needs_reauth, emitted with the state change (signals and outbox)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import responses
from django.utils import timezone

from aurinko_auth.lifecycle import tokens
from aurinko_auth.models import Account, TokenStatus
from aurinko_auth.webhooks import events

GOOGLE_TOKEN = "https://oauth2.googleapis.com/token"


@pytest.fixture
def received():
    seen: list[tuple[str, dict]] = []
    handlers = []
    for event_type, signal in events.signals.items():

        def handler(sender, event_type=event_type, **kwargs):  # noqa: ANN001
            seen.append((event_type, (kwargs.get("payload") or {}).get("data", {})))

        signal.connect(handler, weak=False)
        handlers.append((signal, handler))
    yield seen
    for signal, handler in handlers:
        signal.disconnect(handler)


@pytest.fixture
def expiring(app_factory, provider_config_factory, account_factory):
    app, _ = app_factory()
    provider_config_factory(app, "Google")
    return account_factory(app, "Google", access_token_expires_at=timezone.now())


def due(account: Account) -> None:
    Account.objects.filter(pk=account.pk).update(
        access_token_expires_at=timezone.now(), refresh_retry_at=None
    )


@responses.activate
def test_failure_streak_then_recovery(expiring, received):
    responses.post(GOOGLE_TOKEN, status=503, body="busy")
    tokens.refresh_account(expiring.pk)
    due(expiring)
    tokens.refresh_account(expiring.pk)  # a second failure of the same streak: no new event
    assert [t for t, _ in received] == ["account.refresh_failed"]
    assert received[0][1]["failure"] == "transient"
    assert received[0][1]["accountId"] == expiring.pk
    responses.replace(
        responses.POST,
        GOOGLE_TOKEN,
        json={"access_token": "new", "expires_in": 3600, "token_type": "Bearer"},
    )
    due(expiring)
    assert tokens.refresh_account(expiring.pk).result == "refreshed"
    assert [t for t, _ in received] == ["account.refresh_failed", "account.recovered"]
    assert received[1][1]["previousTokenStatus"] == TokenStatus.RETRYING
    assert "new" not in str(received)  # no token in any payload


@responses.activate
def test_revoked_grant_needs_reauth_once(expiring, received):
    responses.post(GOOGLE_TOKEN, status=400, json={"error": "invalid_grant"})
    tokens.refresh_account(expiring.pk)
    assert [t for t, _ in received] == ["account.needs_reauth"]
    assert received[0][1]["tokenStatus"] == "dead"
    expiring.refresh_from_db()
    assert not expiring.active
    assert timezone.now() - expiring.updated_at < timedelta(minutes=1)
