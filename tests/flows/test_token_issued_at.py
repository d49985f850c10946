"""``tokenIssuedAt`` (Aurinko's ApiAccountOutDto): when the provider issued the access token
the account holds now. Set by a sign-in and by every refresh; unknown (left out, never null)
for an imported token until its first refresh and for password accounts; cleared with the
grant."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from aurinko_auth import accounts
from aurinko_auth.lifecycle import tokens as lifecycle
from aurinko_auth.models import Account
from tests.flows.conftest import (
    GOOGLE_REVOKE,
    GOOGLE_TOKEN,
    GOOGLE_TOKEN_RESPONSE,
    GOOGLE_USERINFO,
    GOOGLE_USERINFO_RESPONSE,
    basic,
)

pytestmark = pytest.mark.django_db


def when(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def account_body(token: str) -> dict:
    response = Client().get("/v1/account", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200, response.content
    return response.json()


def signed_in(google_app) -> tuple[Account, str, datetime, datetime]:
    before = timezone.now()
    back = google_app.complete(google_app.start())
    redeemed = google_app.redeem(back["code"]).json()
    return Account.objects.get(), redeemed["accessToken"], before, timezone.now()


def test_a_sign_in_records_when_the_token_was_issued(google_app, conforms):
    account, token, before, after = signed_in(google_app)
    body = account_body(token)
    issued = when(body["tokenIssuedAt"])
    assert before - timedelta(milliseconds=1) <= issued <= after
    # The token response said expires_in=3599: the token expires that long after its issue.
    lifetime = when(body["authExpiresAt"]) - issued
    assert abs(lifetime - timedelta(seconds=3599)) < timedelta(seconds=1)
    listed = google_app.client.get(
        f"/v1/am/accounts/{account.pk}",
        HTTP_AUTHORIZATION=basic(google_app.app.client_id, google_app.secret),
    )
    assert listed.json()["tokenIssuedAt"] == body["tokenIssuedAt"]
    assert conforms(listed)["tokenIssuedAt"] == body["tokenIssuedAt"]  # Aurinko's date-time


def test_a_refresh_moves_it_to_the_new_token(google_app):
    account, token, _, _ = signed_in(google_app)
    first = Account.objects.get().access_token_issued_at
    Account.objects.filter(pk=account.pk).update(
        access_token_expires_at=timezone.now() - timedelta(seconds=5)
    )
    google_app.http.post(
        GOOGLE_TOKEN, json={"access_token": "ya29.fresh", "expires_in": 3599, "token_type": "x"}
    )
    before = timezone.now()
    assert lifecycle.refresh_account(account.pk).result == "refreshed"
    refreshed = Account.objects.get().access_token_issued_at
    assert refreshed >= before > first
    assert abs(
        Account.objects.get().access_token_expires_at - refreshed - timedelta(seconds=3599)
    ) < timedelta(seconds=1)
    assert when(account_body(token)["tokenIssuedAt"]) == refreshed.replace(
        microsecond=refreshed.microsecond // 1000 * 1000
    )


def test_revoking_the_grant_clears_it(google_app):
    account, token, _, _ = signed_in(google_app)
    google_app.http.post(GOOGLE_REVOKE, status=200)
    accounts.revoke_grant(Account.objects.get())
    assert Account.objects.get().access_token_issued_at is None


def post_import(google_app, body: dict, **query: str):
    url = "/v1/am/accounts" + (
        "?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else ""
    )
    return google_app.client.post(
        url,
        data=json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=basic(google_app.app.client_id, google_app.secret),
    )


IMPORTED = {
    "serviceType": "Google",
    "email": "alice@example.com",
    "authString1": "ya29.imported-access",
    "authString2": "1//imported-refresh",
    "authScopes": ["Mail.Read"],
}


def test_an_imported_token_was_issued_at_an_unknown_time(google_app):
    google_app.http.get(GOOGLE_USERINFO, json=GOOGLE_USERINFO_RESPONSE)
    imported = post_import(google_app, IMPORTED)
    assert imported.status_code == 200, imported.content
    body = account_body(imported.json()["accessToken"])
    assert "tokenIssuedAt" not in body and None not in body.values()
    unverified = post_import(
        google_app, {**IMPORTED, "authUserId": "other-1"}, pingProvider="false"
    )
    assert "tokenIssuedAt" not in account_body(unverified.json()["accessToken"])


def test_an_import_redeeming_its_refresh_token_knows(google_app):
    google_app.http.post(GOOGLE_TOKEN, json=GOOGLE_TOKEN_RESPONSE)
    google_app.http.get(GOOGLE_USERINFO, json=GOOGLE_USERINFO_RESPONSE)
    before = timezone.now()
    body = {k: v for k, v in IMPORTED.items() if k != "authString1"}
    imported = post_import(google_app, body)
    assert imported.status_code == 200, imported.content
    issued = when(account_body(imported.json()["accessToken"])["tokenIssuedAt"])
    assert before - timedelta(milliseconds=1) <= issued <= timezone.now()
