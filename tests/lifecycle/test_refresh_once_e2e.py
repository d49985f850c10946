"""Issue 19 item 7 end to end on PostgreSQL: provider tokens that live 3 s (far less than the
120 s ``REFRESH_LEEWAY``), rotating refresh tokens with reuse protection at a real
django-oauth-toolkit peer, the broker under gunicorn with 4 worker processes, and rounds of
12 concurrent Direct API calls after each expiry: exactly one refresh grant per expiry,
counted at the peer. Before the fix every waiter refreshed again (49 grants for 3 rounds).

A token is refreshed early once it is past half its lifetime (the leeway's cap): 3 s rather
than 2 s keeps the last of the callers (3 waves on 4 workers) inside that half on a loaded
2-core machine, where a 2 s token's straggler sometimes caused a legitimate early refresh."""

from __future__ import annotations

import os
import threading
import time
from unittest import mock

import pytest
import requests
from django.utils import timezone

from aurinko_auth.models import Account
from tests.lifecycle.test_lifecycle_e2e import (  # noqa: F401, F811  (fixtures)
    broker_factory,
    direct_me,
    linked,
    peer_tokens,
    pytestmark,
)
from tests.peers.oauth_server import OAuthPeer

ROUNDS, CALLERS = 3, 12


@pytest.fixture(scope="module")
def peer(tmp_path_factory):
    """The sandbox provider with 3-second access tokens and a slow token endpoint (so that
    the callers of a round overlap the refresh)."""
    with mock.patch.dict(os.environ, {"SANDBOX_TOKEN_DELAY_MS": "300"}):
        peer = OAuthPeer.start(tmp_path_factory.mktemp("short-peer"), access_token_seconds=3)
    peer.add_user("carol", "carol-pw", "carol@example.com", "Carol")
    yield peer
    peer.stop()


def concurrent_calls(broker, token: str) -> list:
    barrier = threading.Barrier(CALLERS)
    results: list = []

    def call() -> None:
        barrier.wait()
        try:
            results.append(direct_me(broker, token))
        except Exception as exc:  # noqa: BLE001
            results.append(exc)

    threads = [threading.Thread(target=call) for _ in range(CALLERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_three_second_tokens_are_refreshed_exactly_once_per_expiry(peer, broker_factory, linked):  # noqa: F811
    broker = broker_factory()
    carol = linked(broker, "carol")
    assert peer_tokens(peer, "carol")["refresh_tokens"] == 1
    versions = []
    for _ in range(ROUNDS):
        account = Account.objects.get(pk=carol["accountId"])
        # Wait for the provider token to expire (a 3 s lifetime), then call at once.
        wait = (account.access_token_expires_at - timezone.now()).total_seconds() + 0.2
        time.sleep(max(0.0, wait))
        results = concurrent_calls(broker, carol["accessToken"])
        assert len(results) == CALLERS
        for response in results:
            assert isinstance(response, requests.Response), response
            assert response.status_code == 200, response.text
            assert response.json()["username"] == "carol"
        versions.append(Account.objects.get(pk=carol["accountId"]).credential_version)
    # One refresh grant per round at the peer: each one revoked the refresh token it used.
    counts = peer_tokens(peer, "carol")
    assert counts["refresh_tokens"] == 1 + ROUNDS, counts
    assert counts["revoked_refresh_tokens"] == ROUNDS, counts
    assert versions == [versions[0] + i for i in range(ROUNDS)], versions
    assert broker.log().count("provider token refreshed") == ROUNDS
