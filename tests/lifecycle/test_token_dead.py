"""A call for an account whose provider grant is dead answers 401 ``token.dead`` (Aurinko's
OpenAPI examples); an account inactive for another reason answers ``account.inactive``;
``tokenStatus`` is unchanged (``dead``)."""

from __future__ import annotations

import pytest
import responses

from aurinko_auth.exceptions import AccountInactive, TokenDead
from aurinko_auth.lifecycle import tokens
from aurinko_auth.models import TokenStatus
from tests.lifecycle.conftest import GOOGLE_TOKEN

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("status", [TokenStatus.NEEDS_REAUTH, TokenStatus.REVOKED])
def test_dead_grant_is_token_dead(client, linked_account, status):
    account, token = linked_account(expires_in=3600, active=False, token_status=status)
    with pytest.raises(TokenDead) as raised:
        tokens.fresh_access_token(account)
    assert (raised.value.code, raised.value.status) == ("token.dead", 401)
    r = client.get("/v1/direct/gmail/v1/users/me/profile", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert r.status_code == 401
    assert set(r.json()) >= {"code", "message"} and r.json()["code"] == "token.dead"
    me = client.get("/v1/account", HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert (me["active"], me["tokenStatus"]) == (False, "dead")


@responses.activate
def test_a_refused_refresh_is_token_dead(client, linked_account):
    account, token = linked_account()
    responses.post(GOOGLE_TOKEN, status=400, json={"error": "invalid_grant"})
    r = client.get("/v1/direct/gmail/v1/users/me/profile", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert r.status_code == 401 and r.json()["code"] == "token.dead"
    # The next call is refused the same way, without a provider call.
    again = client.get("/v1/direct/x", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert again.json()["code"] == "token.dead" and len(responses.calls) == 1


def test_inactive_with_a_live_grant_stays_account_inactive(linked_account):
    account, _ = linked_account(expires_in=3600, active=False, token_status=TokenStatus.HEALTHY)
    with pytest.raises(AccountInactive) as raised:
        tokens.ensure_usable(account)
    assert not isinstance(raised.value, TokenDead)
    assert raised.value.code == "account.inactive"


def test_token_dead_is_catalogued():
    from aurinko_auth.errorcodes import Code

    assert (Code.TOKEN_DEAD.value, Code.TOKEN_DEAD.status) == ("token.dead", 401)
