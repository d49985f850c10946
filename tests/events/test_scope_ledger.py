"""The granted-scope ledger: requested, granted and missing scopes on /v1/account."""

from __future__ import annotations

import base64

import pytest

from aurinko_auth.accounts import link_account
from aurinko_auth.models import OutboxEvent, WebhookEndpoint
from aurinko_auth.providers.base import Profile, TokenSet
from aurinko_auth.providers.registry import get_provider

GMAIL = "https://www.googleapis.com/auth/gmail.readonly"
CALENDAR = "https://www.googleapis.com/auth/calendar.readonly"


@pytest.fixture
def link(app_factory):
    app, secret = app_factory()

    def make(requested: list[str], granted_native: list[str]):
        return link_account(
            app=app,
            provider=get_provider("Google"),
            profile=Profile(auth_user_id="g-7", email="ann@example.com"),
            tokens=TokenSet(access_token="at", refresh_token="rt", scope=granted_native),
            requested_scopes=requested,
            requested_native=[],
        )

    make.app, make.secret = app, secret
    return make


def test_account_shows_requested_granted_and_missing(
    link, account_token_factory, client, django_assert_num_queries
):
    # Google's granular consent: the user unticked Calendar.
    account, _ = link(["Mail.Read", "Calendar.Read"], [GMAIL])
    token = account_token_factory(account)
    with django_assert_num_queries(1):
        body = client.get("/v1/account", HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert body["requestedScopes"] == ["Mail.Read", "Calendar.Read"]
    assert body["grantedScopes"] == body["scopes"] == ["Mail.Read"]
    assert body["missingScopes"] == ["Calendar.Read"]
    # The app now requires Mail.Send too: measured against that instead.
    link.app.required_scopes = ["Mail.Read", "Mail.Send"]
    link.app.save()
    body = client.get("/v1/account", HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert body["missingScopes"] == ["Mail.Send"]


def test_reauthorizing_with_more_scopes_keeps_the_id_and_emits_scopes_changed(link):
    WebhookEndpoint.objects.create(app=link.app, url="https://hooks.example/h")
    first, created = link(["Mail.Read"], [GMAIL])
    again, created_again = link(["Mail.Read", "Calendar.Read"], [GMAIL, CALENDAR])
    assert created and not created_again and again.pk == first.pk
    assert again.scopes == ["Mail.Read", "Calendar.Read"]
    changed = OutboxEvent.objects.get(event_type="account.scopes_changed")
    assert changed.account_id == first.pk
    assert changed.payload["data"]["previousScopes"] == ["Mail.Read"]
    assert changed.payload["data"]["grantedScopes"] == ["Mail.Read", "Calendar.Read"]
    # The same grant again: re-authorized, scopes unchanged, no scopes_changed event.
    link(["Mail.Read", "Calendar.Read"], [GMAIL, CALENDAR])
    assert OutboxEvent.objects.filter(event_type="account.scopes_changed").count() == 1
    assert OutboxEvent.objects.filter(event_type="account.reauthorized").count() == 2


def test_am_accounts_list_has_missing_scopes_without_n_plus_one(
    link, account_factory, client, django_assert_max_num_queries
):
    link(["Mail.Read", "Calendar.Read"], [GMAIL])
    for _ in range(5):
        account_factory(link.app, requested_scopes=["Mail.Read"], scopes=["Mail.Read"])
    basic = base64.b64encode(f"{link.app.client_id}:{link.secret}".encode()).decode()
    with django_assert_max_num_queries(3):
        body = client.get("/v1/am/accounts", HTTP_AUTHORIZATION=f"Basic {basic}").json()
    assert [r["missingScopes"] for r in body["records"]] == [["Calendar.Read"]] + [[]] * 5
