"""The Account flow's API responses against Aurinko's contract (tests/contract)."""

from __future__ import annotations


def test_account_by_token_conforms(conforms, app_with_account, client):
    _, _, account, token, _ = app_with_account
    body = conforms(client.get("/v1/account", HTTP_AUTHORIZATION=f"Bearer {token}"))
    assert body["id"] == account.pk


def test_account_by_client_credentials_conforms(conforms, app_with_account, client):
    _, _, account, _, auth = app_with_account
    r = client.get("/v1/account", HTTP_AUTHORIZATION=auth, HTTP_X_AURINKO_ACCOUNTID=str(account.pk))
    assert conforms(r)["id"] == account.pk


def test_am_accounts_conform(conforms, app_with_account, client):
    _, _, account, _, auth = app_with_account
    body = conforms(client.get("/v1/am/accounts", HTTP_AUTHORIZATION=auth))
    assert [r["id"] for r in body["records"]] == [account.pk]
    assert conforms(client.get(f"/v1/am/accounts/{account.pk}", HTTP_AUTHORIZATION=auth))
