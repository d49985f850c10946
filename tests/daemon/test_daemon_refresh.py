"""Daemon accounts and the refresh job (``aurinko_refresh``): an organisation-wide app-only
token is fetched again with the service-account grant, never refreshed as a user token."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from urllib.parse import parse_qs

import responses
from django.core.management import call_command
from django.utils import timezone

from aurinko_auth.lifecycle import tokens
from aurinko_auth.models import Account, TokenStatus

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
MS_TOKEN = f"https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/token"


def _office_daemon(daemon_app, account_factory, **kw):
    app, _, _ = daemon_app("Office365")
    return account_factory(
        app,
        "Office365",
        daemon=True,
        auth_user_id=TENANT,
        auth_org_id=TENANT,
        credentials={"access_token": "app-token-1", "token_type": "Bearer", "tenant": TENANT},
        access_token_expires_at=timezone.now() + timedelta(minutes=2),
        **kw,
    )


@responses.activate
def test_refresh_job_fetches_an_expiring_app_only_token_again(daemon_app, account_factory):
    account = _office_daemon(daemon_app, account_factory)
    responses.post(
        MS_TOKEN, json={"token_type": "Bearer", "expires_in": 3599, "access_token": "app-token-2"}
    )
    call_command("aurinko_refresh", "--window", "900", stdout=StringIO(), stderr=StringIO())
    body = parse_qs(responses.calls[0].request.body)
    assert body["grant_type"] == ["client_credentials"]
    fresh = Account.objects.get(pk=account.pk)
    assert fresh.active and fresh.token_status == TokenStatus.HEALTHY
    assert fresh.credentials == {
        "access_token": "app-token-2",
        "token_type": "Bearer",
        "tenant": TENANT,
    }
    assert fresh.access_token_expires_at > timezone.now() + timedelta(minutes=50)


def test_per_mailbox_daemon_accounts_are_not_refreshed(daemon_app, account_factory):
    app, _, _ = daemon_app("Google")
    account = account_factory(
        app,
        "Google",
        daemon=True,
        auth_user_id="example.com",
        auth_org_id="example.com",
        credentials={"domain": "example.com", "default_mailbox": "admin@example.com"},
    )
    outcome = tokens.refresh_account(account.pk)
    assert outcome.result == "skipped"
    fresh = Account.objects.get(pk=account.pk)
    assert fresh.active and fresh.token_status == TokenStatus.HEALTHY
