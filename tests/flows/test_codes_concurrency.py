"""A one-time code under concurrent redemption: exactly one of N parallel requests wins."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from aurinko_auth.exceptions import InvalidCode
from aurinko_auth.flows import codes
from aurinko_auth.models import AccountToken, AuthCode

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.skipif(
    "connection.vendor != 'postgresql'",
    reason="needs PostgreSQL: SQLite serialises writers with table locks",
)
def test_exactly_one_concurrent_redemption_wins(app_factory, account_factory):
    app, _ = app_factory()
    account = account_factory(app)
    code = AuthCode.issue(app, account, ttl=120)
    workers = 8
    barrier = threading.Barrier(workers)
    results: list[object] = []
    lock = threading.Lock()

    def redeem() -> None:
        try:
            barrier.wait()
            outcome: object = codes.redeem(app, code)
        except InvalidCode as exc:
            outcome = exc
        finally:
            connections.close_all()
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=redeem) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    winners = [r for r in results if isinstance(r, dict)]
    assert len(results) == workers
    assert len(winners) == 1, results
    assert winners[0]["accountId"] == account.pk
    assert all(isinstance(r, InvalidCode) for r in results if r is not winners[0])
    assert AccountToken.objects.filter(account=account).count() == 1
    assert connection.vendor == "postgresql"
